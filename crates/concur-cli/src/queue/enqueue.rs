//! `concur enqueue`: tasks onto a queue, their ids on standard output.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use concur_worker::{EnqueueOptions, ProgramConfig, RemotePool, SLEEP_TASK};
use serde_json::Value;

use super::{numbers, Failure, RedisArgs};

/// Tasks per round trip, and the count from which a progress bar shows.
const CHUNK: usize = 1000;

/// `concur enqueue`.
#[derive(Debug, Clone, Args)]
#[command(allow_negative_numbers = true)]
pub(crate) struct EnqueueArgs {
    #[command(flatten)]
    redis: RedisArgs,
    /// The task's name: a built-in (sleep, echo) or one of the --config file.
    task: String,
    /// Its arguments; each is read as JSON if it is JSON (5, true, "5", a list), else taken as a string.
    args: Vec<String>,
    /// Run no earlier than this from now (0 or more): seconds, or a number with ms, s, m or h (500ms, 10s, 2m).
    #[arg(long, value_name = "DURATION", value_parser = numbers::delay, allow_hyphen_values = true)]
    delay: Option<Duration>,
    /// Enqueue this many copies, each with its own id (1 or more).
    #[arg(long, default_value = "1", value_name = "N", value_parser = numbers::count)]
    count: usize,
    /// Attempts before the task is dead-lettered (1 or more) [default: the worker's, 5].
    #[arg(long, value_name = "N", value_parser = numbers::attempts)]
    max_attempts: Option<u32>,
    /// Seconds one attempt may take (above 0) [default: the worker's, 300].
    #[arg(long, value_name = "SECONDS", value_parser = numbers::seconds_above_zero)]
    timeout: Option<Duration>,
    /// The workers' config file, whose task names are then accepted too.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Accept any task name (for workers that register handlers in Rust).
    #[arg(long)]
    no_check: bool,
    /// Wait for each task to end and print its result as JSON instead of its id; exit 1 if one was
    /// dead-lettered (its reason on standard error).
    #[arg(long)]
    wait: bool,
    /// With --wait, give up after this many seconds (above 0) and exit 1; the tasks stay queued [default: wait
    /// as long as it takes].
    #[arg(long, value_name = "SECONDS", value_parser = numbers::seconds_above_zero, requires = "wait")]
    wait_timeout: Option<Duration>,
}

/// Enqueues the tasks, printing each new id on a line of its own, with a
/// progress bar on standard error for large counts (drawn only on a
/// terminal).
pub(super) fn run(args: &EnqueueArgs) -> Result<(), Failure> {
    if !args.no_check {
        check_task_name(args)?;
    }
    let task_args: Vec<Value> =
        args.args.iter().map(|arg| serde_json::from_str(arg).unwrap_or_else(|_| Value::String(arg.clone()))).collect();
    let options = EnqueueOptions {
        delay: args.delay.unwrap_or_default(),
        eta: None,
        max_attempts: args.max_attempts,
        timeout: args.timeout,
    };
    if args.wait {
        return wait_for_results(args, task_args, options);
    }
    let mut queue = args.redis.connect()?;
    let progress = (args.count >= CHUNK).then(|| {
        let bar = indicatif::ProgressBar::new(args.count as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} tasks ({percent}%), {eta} left")
        {
            bar.set_style(style);
        }
        bar
    });
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut left = args.count;
    while left > 0 {
        let n = left.min(CHUNK);
        let ids = queue.enqueue_many(&args.task, std::iter::repeat_n(task_args.clone(), n), &options)?;
        for id in ids {
            writeln!(out, "{id}").map_err(Failure::print)?;
        }
        left -= n;
        if let Some(bar) = &progress {
            bar.inc(n as u64);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    out.flush().map_err(Failure::print)?;
    if args.count > 1 {
        eprintln!("enqueued {} tasks {:?} to the queue {:?}", args.count, args.task, args.redis.queue);
    }
    Ok(())
}

/// `--wait`: enqueues through a remote pool, which hears of each task's end
/// from the acknowledgement itself, and prints each result as JSON, in the
/// order enqueued. Exit status 1 if a task died or the wait timed out.
fn wait_for_results(args: &EnqueueArgs, task_args: Vec<Value>, options: EnqueueOptions) -> Result<(), Failure> {
    let pool = RemotePool::with_options(&args.redis.redis, args.redis.config(), options)?;
    let mut futures = Vec::with_capacity(args.count);
    for _ in 0..args.count {
        let future = pool.submit_task(&args.task, task_args.clone()).map_err(|e| Failure::failed(e.to_string()))?;
        futures.push(future);
    }
    let deadline = args.wait_timeout.map(|timeout| Instant::now() + timeout);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut died = Vec::new();
    for future in futures {
        let outcome = match deadline {
            Some(deadline) => future.result_timeout(deadline.saturating_duration_since(Instant::now())),
            None => future.result(),
        };
        match outcome {
            Ok(value) => writeln!(out, "{value}").map_err(Failure::print)?,
            Err(_) if !future.is_done() => {
                let timeout = args.wait_timeout.unwrap_or_default();
                return Err(Failure::failed(format!(
                    "no result within {} s; the tasks not done stay queued",
                    timeout.as_secs_f64()
                )));
            }
            Err(error) => died.push(error.to_string()),
        }
    }
    out.flush().map_err(Failure::print)?;
    match died.as_slice() {
        [] => Ok(()),
        [one] => Err(Failure::failed(one.clone())),
        [first, ..] => Err(Failure::failed(format!("{} of {} tasks died; the first: {first}", died.len(), args.count))),
    }
}

/// Refuses a task name no worker of this setup runs, before Redis is
/// contacted.
fn check_task_name(args: &EnqueueArgs) -> Result<(), Failure> {
    let mut known = vec![SLEEP_TASK.to_owned(), "echo".to_owned()];
    if let Some(path) = &args.config {
        let config = ProgramConfig::load(path).map_err(|e| Failure::bad_input(e.to_string()))?;
        known.extend(config.task_names().map(str::to_owned));
    }
    if known.contains(&args.task) {
        return Ok(());
    }
    let hint = if args.config.is_some() {
        "nor in the config file given"
    } else {
        "; name the workers' config file with --config to use its tasks"
    };
    Err(Failure::bad_input(format!(
        "unknown task {:?}: it is not a built-in task (sleep, echo){hint}, or pass --no-check for tasks of workers \
         that register handlers in Rust",
        args.task
    )))
}
