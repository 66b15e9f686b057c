//! `concur dead` (list, retry, purge the dead-letter list) and `concur
//! result`.

use std::io::{BufWriter, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use concur_worker::DeadEntry;

use super::{numbers, span, Failure, RedisArgs};

/// `concur dead`.
#[derive(Debug, Clone, Args)]
pub(crate) struct DeadArgs {
    #[command(subcommand)]
    command: DeadCommand,
}

/// The `concur dead` subcommands.
#[derive(Debug, Clone, Subcommand)]
enum DeadCommand {
    /// List dead-letter entries, newest first.
    #[command(allow_negative_numbers = true)]
    List {
        #[command(flatten)]
        redis: RedisArgs,
        /// Show at most this many (1 or more).
        #[arg(long, default_value = "20", value_name = "N", value_parser = numbers::count)]
        limit: usize,
        /// Print one JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Queue dead tasks again, with their attempts reset.
    Retry {
        #[command(flatten)]
        redis: RedisArgs,
        /// The ids of the entries to retry.
        ids: Vec<String>,
        /// Retry every entry that can be retried.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
    /// Delete every dead-letter entry.
    Purge {
        #[command(flatten)]
        redis: RedisArgs,
        /// Confirm: the entries and their payloads are gone for good.
        #[arg(long)]
        yes: bool,
    },
}

/// `concur result`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ResultArgs {
    #[command(flatten)]
    redis: RedisArgs,
    /// The task's id, as `concur enqueue` printed it.
    id: String,
}

/// Runs `concur dead list`, `retry` or `purge`.
pub(super) fn run(args: &DeadArgs) -> Result<(), Failure> {
    match &args.command {
        DeadCommand::List { redis, limit, json } => {
            let mut queue = redis.connect()?;
            let entries = queue.dead_list(0, *limit)?;
            let total = queue.status()?.dead;
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            for entry in &entries {
                let text = if *json { serde_json::to_string(entry).unwrap_or_default() } else { line(entry) };
                writeln!(out, "{text}").map_err(Failure::print)?;
            }
            out.flush().map_err(Failure::print)?;
            if !*json {
                eprintln!("{} of {total} dead-letter entries shown, newest first", entries.len());
            }
            Ok(())
        }
        DeadCommand::Retry { redis, ids, all } => {
            if ids.is_empty() && !*all {
                return Err(Failure::bad_input("name the entries to retry by id, or pass --all"));
            }
            let mut queue = redis.connect()?;
            let outcome = if *all {
                queue.dead_retry_all()?
            } else {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                queue.dead_retry(&ids)?
            };
            println!("{} tasks queued again", outcome.retried);
            if outcome.not_retriable > 0 {
                eprintln!(
                    "{} entries stay: their payloads were too large to keep, so they cannot be retried",
                    outcome.not_retriable
                );
            }
            if !*all && outcome.retried + outcome.not_retriable < ids.len() {
                return Err(Failure::failed(
                    "some ids matched no dead-letter entry; list them with `concur dead list`",
                ));
            }
            Ok(())
        }
        DeadCommand::Purge { redis, yes } => {
            if !*yes {
                return Err(Failure::bad_input(
                    "purging deletes every dead-letter entry and its payload for good; add --yes to confirm",
                ));
            }
            let mut queue = redis.connect()?;
            println!("{} dead-letter entries deleted", queue.dead_purge()?);
            Ok(())
        }
    }
}

/// Prints a task's result record as JSON; fails (exit status 1) if none is
/// stored.
pub(super) fn run_result(args: &ResultArgs) -> Result<(), Failure> {
    let mut queue = args.redis.connect()?;
    match queue.result(&args.id)? {
        Some(record) => {
            let text = serde_json::to_string_pretty(&record)
                .map_err(|e| Failure::failed(format!("could not write the record as JSON: {e}")))?;
            println!("{text}");
            Ok(())
        }
        None => Err(Failure::failed(format!(
            "no result is stored for the task {:?}: it has not finished, its result expired or was evicted, or the \
             id is wrong",
            args.id
        ))),
    }
}

fn line(entry: &DeadEntry) -> String {
    let kind = serde_json::to_value(entry.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let ago = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|now| format!("{} ago", span(now.as_secs_f64() - entry.died_at)))
        .unwrap_or_default();
    format!(
        "{}  {kind}  {}  attempts {}  {ago}  {} bytes\n    {}",
        entry.id,
        entry.task.as_deref().unwrap_or("-"),
        entry.attempts,
        entry.payload_size,
        entry.error
    )
}
