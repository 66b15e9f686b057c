//! `concur status`: a queue at a glance, as a table or as JSON.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;

use concur_worker::{Client, QueueSet, ScheduleStatus, Status};
use serde::Serialize;

use super::{span, Failure, RedisArgs};

/// `concur status`.
#[derive(Debug, Clone, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    redis: RedisArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// The JSON form: the status as the library serializes it, with the total
/// in processing beside it.
#[derive(Serialize)]
struct StatusJson<'a> {
    queue: &'a str,
    processing: u64,
    #[serde(flatten)]
    status: &'a Status,
    schedules: &'a [ScheduleStatus],
}

/// Prints the status of each queue named: a table each, or JSON (an
/// object for one queue, an array for several).
pub(super) fn run(args: &StatusArgs) -> Result<(), Failure> {
    let names: QueueSet = args.redis.queue.parse()?;
    let first = args.redis.connect_to(names.names().next().unwrap_or_default())?;
    let mut tables = Vec::new();
    let mut objects = Vec::new();
    for name in names.names() {
        let mut queue = first.for_queue(name)?;
        let status = queue.status()?;
        let schedules = queue.schedules()?;
        if args.json {
            let json = StatusJson {
                queue: queue.name(),
                processing: status.processing(),
                status: &status,
                schedules: &schedules,
            };
            objects
                .push(serde_json::to_value(&json).map_err(|e| Failure::failed(format!("could not write JSON: {e}")))?);
        } else {
            tables.push(table(&queue, &status, &schedules));
        }
    }
    let text = if !args.json {
        tables.join("\n\n")
    } else if objects.len() == 1 {
        objects.remove(0).to_string()
    } else {
        serde_json::Value::Array(objects).to_string()
    };
    println!("{text}");
    Ok(())
}

fn table(queue: &Client, status: &Status, schedules: &[ScheduleStatus]) -> String {
    let oldest =
        status.oldest_pending_age.map_or(String::new(), |age| format!(" (oldest {} old)", span(age.as_secs_f64())));
    let mut lines = vec![
        format!("queue {:?} at {}{}", queue.name(), queue.url(), if status.paused { "  PAUSED" } else { "" }),
        format!("  pending     {}{oldest}", status.pending),
        format!("  processing  {} ({} workers)", status.processing(), status.workers.len()),
    ];
    for worker in &status.workers {
        let heartbeat = match worker.heartbeat {
            Some(left) => format!("heartbeat {:.1} s left", left.as_secs_f64()),
            None => "heartbeat missing: taken for dead if it stays missing".to_owned(),
        };
        let serves = match (&worker.serves, worker.concurrency) {
            (Some(serves), Some(concurrency)) => format!("  serves {serves} ({concurrency} at once)"),
            (Some(serves), None) => format!("  serves {serves}"),
            _ => String::new(),
        };
        let state = match (&worker.state, worker.control) {
            (Some(state), Some(control)) if state != "stopping" => format!("  {state}, asked to {control}"),
            (Some(state), _) if state != "running" => format!("  {state}"),
            _ => String::new(),
        };
        lines.push(format!("    {:<30} {:>6}  {heartbeat}{serves}{state}", worker.id, worker.processing));
    }
    lines.extend([
        format!("  delayed     {}", status.delayed),
        format!("  dead        {}", status.dead),
        format!("  results     {} kept", status.results),
        format!(
            "  throughput  {} done in the last minute ({:.1}/s)",
            status.done_last_minute,
            status.done_last_minute as f64 / 60.0
        ),
        format!(
            "  totals      done {}, retried {}, dead {}, reaped {}",
            status.done, status.retried, status.dead_total, status.reaped
        ),
    ]);
    if status.dead_trimmed > 0 {
        lines.push(format!(
            "  trimmed     {} dead-letter entries dropped at the list's cap (the oldest first)",
            status.dead_trimmed
        ));
    }
    if !schedules.is_empty() {
        lines.push(format!("  schedules   {}", schedules.len()));
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        for schedule in schedules {
            let last = schedule.last.map_or("never".to_owned(), |t| format!("{} ago", span(now - t)));
            let next = schedule.next.map_or("none".to_owned(), |t| format!("in {}", span(t - now)));
            lines.push(format!(
                "    {:<24} {:<28} task {:<16} last {last}, next {next}",
                schedule.name, schedule.spec, schedule.task
            ));
        }
    }
    lines.join("\n")
}
