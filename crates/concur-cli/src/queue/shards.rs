//! `concur shards`: shows a queue's shards, or declares how many it has.

use clap::Args;

use super::{numbers, Failure, RedisArgs};

/// `concur shards`.
#[derive(Debug, Clone, Args)]
#[command(allow_negative_numbers = true)]
pub(crate) struct ShardsArgs {
    #[command(flatten)]
    redis: RedisArgs,
    /// Declare this many shards (0 to 1024; 0: not sharded). Without it, show the shards.
    #[arg(value_name = "COUNT", value_parser = numbers::shard_count)]
    count: Option<u32>,
}

/// Declares the number of shards when given, then lists each shard with
/// its pending and running tasks.
pub(super) fn run(args: &ShardsArgs) -> Result<(), Failure> {
    let mut client = args.redis.connect()?;
    if let Some(count) = args.count {
        client.set_shards(count)?;
        println!("the queue {:?} has {count} shards", client.name());
    }
    let shards: Vec<String> = client.shards().map(str::to_owned).collect();
    if shards.is_empty() {
        println!("the queue {:?} is not sharded", client.name());
        return Ok(());
    }
    for shard in std::iter::once(client.name().to_owned()).chain(shards) {
        let status = client.for_queue(&shard)?.status()?;
        println!("{shard:<40} pending {:>8}  processing {:>6}", status.pending, status.processing());
    }
    Ok(())
}
