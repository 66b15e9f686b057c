//! `concur pause`, `concur resume` and `concur control`: what an operator
//! changes on a running fleet.

use clap::Args;
use concur_worker::{QueueSet, WorkerControl};

use super::{Failure, RedisArgs};

/// `concur pause` and `concur resume`.
#[derive(Debug, Clone, Args)]
pub(crate) struct PauseArgs {
    #[command(flatten)]
    redis: RedisArgs,
}

/// `concur control`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ControlArgs {
    #[command(flatten)]
    redis: RedisArgs,
    /// The worker's id, as `concur status` lists it.
    worker: String,
    /// quiet (take no new tasks; the running ones finish) or stop (as SIGTERM does).
    #[arg(value_parser = parse_control)]
    action: WorkerControl,
}

fn parse_control(text: &str) -> Result<WorkerControl, String> {
    text.parse().map_err(|e: concur_worker::UnknownControl| e.to_string())
}

/// Pauses (`pause` true) or resumes each queue named.
pub(super) fn pause(args: &PauseArgs, pause: bool) -> Result<(), Failure> {
    let names: QueueSet = args.redis.queue.parse()?;
    let first = args.redis.connect_to(names.names().next().unwrap_or_default())?;
    for name in names.names() {
        let mut queue = first.for_queue(name)?;
        let changed = if pause { queue.pause()? } else { queue.resume()? };
        let message = match (pause, changed) {
            (true, true) => "paused: workers take nothing from it until `concur resume`",
            (true, false) => "was already paused",
            (false, true) => "resumed",
            (false, false) => "was not paused",
        };
        println!("queue {name:?} {message}");
    }
    Ok(())
}

/// Leaves the request for the worker on each queue named that it serves.
pub(super) fn control(args: &ControlArgs) -> Result<(), Failure> {
    let names: QueueSet = args.redis.queue.parse()?;
    let first = args.redis.connect_to(names.names().next().unwrap_or_default())?;
    let mut asked = false;
    let mut last_error = None;
    for name in names.names() {
        match first.for_queue(name)?.control_worker(&args.worker, args.action) {
            Ok(()) => asked = true,
            Err(error @ concur_worker::Error::NoSuchWorker { .. }) => last_error = Some(error),
            Err(error) => return Err(error.into()),
        }
    }
    match (asked, last_error) {
        (true, _) => {
            println!("asked worker {:?} to {}; it looks every second", args.worker, args.action);
            Ok(())
        }
        (false, Some(error)) => Err(Failure::bad_input(error.to_string())),
        (false, None) => Err(Failure::bad_input("no queue named")),
    }
}
