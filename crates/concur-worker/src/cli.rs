//! The queue commands of the `concur` binary — `worker`, `enqueue`,
//! `status`, `dead` and `result` — as clap types and `run_*` functions that
//! return the process's exit status, so the binary stays a few lines and the
//! commands are tested here.
//!
//! ```text
//! concur worker  [--redis URL] [--queue NAME] [--concurrency N] [--config FILE] [--grace SECONDS]
//! concur enqueue [--queue NAME] [--delay 10s] [--count N] TASK [ARGS..]
//! concur status  [--json]
//! concur dead list [--limit N] [--json] | dead retry (ID.. | --all) | dead purge --yes
//! concur result ID
//! ```
//!
//! Every command takes `--redis URL` (or the environment variable
//! `CONCUR_REDIS_URL`, which keeps a password out of the process list),
//! `--queue NAME` and `--tls-ca-file FILE`.
//!
//! Exit status: 0 on success; 2 for bad input — an unreachable server, a
//! wrong password, a bad URL or name, a missing or invalid configuration
//! file, an unknown task or command (clap's own usage errors are 2 as well);
//! 1 for anything else, such as a connection lost midway or no stored result.
//! A command that fails to start has not written to Redis.
//!
//! # Examples
//!
//! The binary embeds the commands by flattening [`Command`] into its own:
//!
//! ```
//! use clap::{Parser, Subcommand};
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(subcommand)]
//!     command: Commands,
//! }
//!
//! #[derive(Subcommand)]
//! enum Commands {
//!     #[command(flatten)]
//!     Queue(concur_worker::cli::Command),
//! }
//!
//! let cli = Cli::try_parse_from(["concur", "enqueue", "--count", "3", "sleep", "5"]).unwrap();
//! let Commands::Queue(command) = cli.command;
//! assert!(matches!(command, concur_worker::cli::Command::Enqueue(_)));
//! // std::process::exit(concur_worker::cli::run(&command).into());
//! ```

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::{
    DeadEntry, EnqueueOptions, Error, ProgramConfig, Queue, QueueConfig, Status, Worker, DEFAULT_CONCURRENCY,
    DEFAULT_REDIS_URL, SLEEP_TASK,
};

/// Exit status for success.
const OK: u8 = 0;
/// Exit status for a failure along the way.
const FAILED: u8 = 1;
/// Exit status for bad input.
const BAD_INPUT: u8 = 2;
/// Tasks per round trip, and the count from which `enqueue` shows progress.
const ENQUEUE_CHUNK: usize = 1000;

/// Where the queue is: the options every command shares.
///
/// # Examples
///
/// See [`Command`].
#[derive(Debug, Clone, Args)]
pub struct RedisArgs {
    /// The Redis server: `redis://[:password@]host[:port][/db]`, or `rediss://…` for TLS.
    #[arg(
        long,
        env = "CONCUR_REDIS_URL",
        default_value = DEFAULT_REDIS_URL,
        value_name = "URL",
        hide_env_values = true,
        help = "The Redis server: redis://[:password@]host[:port][/db], or rediss://… for TLS"
    )]
    pub redis: String,
    /// The queue's name.
    #[arg(long, default_value = "queue", value_name = "NAME")]
    pub queue: String,
    /// A PEM file of CA certificates to trust for rediss://, instead of the system's.
    #[arg(long, value_name = "FILE")]
    pub tls_ca_file: Option<PathBuf>,
}

impl RedisArgs {
    fn config(&self) -> QueueConfig {
        QueueConfig { tls_ca_file: self.tls_ca_file.clone(), ..QueueConfig::named(&self.queue) }
    }

    fn connect(&self) -> Result<Queue, Error> {
        Queue::connect(&self.redis, self.config())
    }
}

/// The queue commands.
///
/// # Examples
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(subcommand)]
///     command: concur_worker::cli::Command,
/// }
///
/// let cli = Cli::try_parse_from(["concur", "status", "--queue", "emails"]).unwrap();
/// assert!(matches!(cli.command, concur_worker::cli::Command::Status(_)));
/// let unknown = Cli::try_parse_from(["concur", "frobnicate"]).err().expect("an unknown command is refused");
/// assert_eq!(unknown.exit_code(), 2);
/// ```
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run tasks from a Redis queue until SIGINT or SIGTERM (a second signal stops at once).
    Worker(WorkerArgs),
    /// Add tasks to a queue.
    Enqueue(EnqueueArgs),
    /// Show a queue: pending, processing per worker, delayed, dead, recent throughput.
    Status(StatusArgs),
    /// List, retry or purge the tasks in the dead-letter list.
    Dead(DeadArgs),
    /// Show the stored result of a task.
    Result(ResultArgs),
}

/// `concur worker`.
///
/// # Examples
///
/// See [`Command`].
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub redis: RedisArgs,
    /// How many tasks run at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_name = "N")]
    pub concurrency: usize,
    /// A JSON file mapping task names to programs, e.g.
    /// {"tasks": {"resize": {"program": "/usr/bin/convert", "args": ["-resize", "50%"]}}}.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seconds running tasks may take to finish after SIGINT/SIGTERM before they are returned to the queue.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub grace: f64,
    /// Seconds the worker's heartbeat lasts; a worker silent this long is taken for dead.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub heartbeat_ttl: f64,
    /// Seconds to wait at start for a Redis that is still loading its data (0: fail at once).
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub loading_wait: f64,
    /// Log only warnings and errors.
    #[arg(long)]
    pub quiet: bool,
}

/// `concur enqueue`.
///
/// # Examples
///
/// See [`Command`].
#[derive(Debug, Clone, Args)]
#[command(allow_negative_numbers = true)]
pub struct EnqueueArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub redis: RedisArgs,
    /// The task's name: a built-in (sleep, echo) or one of the --config file.
    pub task: String,
    /// Its arguments; each is read as JSON if it is JSON (5, true, "5", a list), else taken as a string.
    pub args: Vec<String>,
    /// Run no earlier than this from now: seconds, or a number with ms, s, m or h (500ms, 10s, 2m).
    #[arg(long, value_name = "DURATION")]
    pub delay: Option<String>,
    /// Enqueue this many copies, each with its own id.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub count: usize,
    /// Attempts before the task is dead-lettered [default: the worker's, 5].
    #[arg(long, value_name = "N")]
    pub max_attempts: Option<u32>,
    /// Seconds one attempt may take [default: the worker's, 300].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// The workers' config file, whose task names are then accepted too.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Accept any task name (for workers that register handlers in Rust).
    #[arg(long)]
    pub no_check: bool,
}

/// `concur status`.
///
/// # Examples
///
/// See [`Command`].
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub redis: RedisArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `concur dead`.
///
/// # Examples
///
/// See [`Command`].
#[derive(Debug, Clone, Args)]
pub struct DeadArgs {
    #[command(subcommand)]
    #[allow(missing_docs)]
    pub command: DeadCommand,
}

/// The `concur dead` subcommands.
///
/// # Examples
///
/// See [`Command`].
#[derive(Debug, Clone, Subcommand)]
pub enum DeadCommand {
    /// List dead-letter entries, newest first.
    List {
        #[command(flatten)]
        #[allow(missing_docs)]
        redis: RedisArgs,
        /// Show at most this many.
        #[arg(long, default_value_t = 20, value_name = "N")]
        limit: usize,
        /// Print one JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Queue dead tasks again, with their attempts reset.
    Retry {
        #[command(flatten)]
        #[allow(missing_docs)]
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
        #[allow(missing_docs)]
        redis: RedisArgs,
        /// Confirm: the entries and their payloads are gone for good.
        #[arg(long)]
        yes: bool,
    },
}

/// `concur result`.
///
/// # Examples
///
/// See [`Command`].
#[derive(Debug, Clone, Args)]
pub struct ResultArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub redis: RedisArgs,
    /// The task's id, as `concur enqueue` printed it.
    pub id: String,
}

/// Runs a queue command; returns the exit status.
///
/// # Examples
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(subcommand)]
///     command: concur_worker::cli::Command,
/// }
///
/// // An unknown task is refused before Redis is contacted.
/// let cli = Cli::try_parse_from(["concur", "enqueue", "no-such-task"]).unwrap();
/// assert_eq!(concur_worker::cli::run(&cli.command), 2);
/// ```
pub fn run(command: &Command) -> u8 {
    match command {
        Command::Worker(args) => run_worker(args),
        Command::Enqueue(args) => run_enqueue(args),
        Command::Status(args) => run_status(args),
        Command::Dead(args) => run_dead(args),
        Command::Result(args) => run_result(args),
    }
}

/// A failed command: what to print and the exit status.
struct Failure {
    code: u8,
    message: String,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        let code = if error.is_bad_input() { BAD_INPUT } else { FAILED };
        Failure { code, message: error.to_string() }
    }
}

fn bad_input(message: impl Into<String>) -> Failure {
    Failure { code: BAD_INPUT, message: message.into() }
}

fn finish(command: &str, outcome: Result<u8, Failure>) -> u8 {
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("concur {command}: {}", failure.message);
            failure.code
        }
    }
}

fn seconds(what: &str, value: f64) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| bad_input(format!("{what} must be a number of seconds ≥ 0, not {value}")))
}

/// Runs `concur worker`: logs to standard error, stops on SIGINT/SIGTERM.
///
/// # Examples
///
/// ```
/// use concur_worker::cli::{run_worker, RedisArgs, WorkerArgs};
///
/// let args = WorkerArgs {
///     redis: RedisArgs { redis: "redis://127.0.0.1:1".into(), queue: "queue".into(), tls_ca_file: None },
///     concurrency: 8,
///     config: None,
///     grace: 30.0,
///     heartbeat_ttl: 30.0,
///     loading_wait: 60.0,
///     quiet: true,
/// };
/// assert_eq!(run_worker(&args), 2); // nothing listens on port 1
/// ```
pub fn run_worker(args: &WorkerArgs) -> u8 {
    let level = if args.quiet { tracing::Level::WARN } else { tracing::Level::INFO };
    // Fails only if the program installed its own subscriber, which then serves.
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(level).with_target(false).try_init();
    finish("worker", worker(args))
}

fn worker(args: &WorkerArgs) -> Result<u8, Failure> {
    let mut builder = Worker::builder()
        .redis(&args.redis.redis)
        .queue_config(args.redis.config())
        .concurrency(args.concurrency)
        .grace_period(seconds("--grace", args.grace)?)
        .heartbeat_ttl(seconds("--heartbeat-ttl", args.heartbeat_ttl)?)
        .loading_wait(seconds("--loading-wait", args.loading_wait)?);
    if let Some(config) = &args.config {
        builder = builder.config_file(config);
    }
    let outcome = builder.build().and_then(Worker::run);
    match outcome {
        Ok(_) => Ok(OK),
        Err(error) => {
            Err(Failure { code: if error.is_bad_input() { BAD_INPUT } else { FAILED }, message: error.to_string() })
        }
    }
}

/// Runs `concur enqueue`: prints each new task's id on standard output, one
/// per line, with a progress bar on standard error for large counts (hidden
/// when it is not a terminal).
///
/// # Examples
///
/// ```
/// use concur_worker::cli::{run_enqueue, EnqueueArgs, RedisArgs};
///
/// let args = EnqueueArgs {
///     redis: RedisArgs { redis: "redis://127.0.0.1:1".into(), queue: "queue".into(), tls_ca_file: None },
///     task: "sleep".into(),
///     args: vec!["5".into()],
///     delay: None,
///     count: 1,
///     max_attempts: None,
///     timeout: None,
///     config: None,
///     no_check: false,
/// };
/// assert_eq!(run_enqueue(&args), 2); // nothing listens on port 1
/// ```
pub fn run_enqueue(args: &EnqueueArgs) -> u8 {
    finish("enqueue", enqueue(args))
}

fn enqueue(args: &EnqueueArgs) -> Result<u8, Failure> {
    if !args.no_check {
        let mut known = vec![SLEEP_TASK.to_owned(), "echo".to_owned()];
        if let Some(path) = &args.config {
            let config = ProgramConfig::load(path).map_err(|e| bad_input(e.to_string()))?;
            known.extend(config.task_names().map(str::to_owned));
        }
        if !known.contains(&args.task) {
            let hint = if args.config.is_some() {
                "nor in the config file given"
            } else {
                "; name the workers' config file with --config to use its tasks"
            };
            return Err(bad_input(format!(
                "unknown task {:?}: it is not a built-in task (sleep, echo){hint}, or pass --no-check for tasks of \
                 workers that register handlers in Rust",
                args.task
            )));
        }
    }
    if args.count == 0 {
        return Err(bad_input("--count must be at least 1"));
    }
    let task_args: Vec<Value> =
        args.args.iter().map(|arg| serde_json::from_str(arg).unwrap_or_else(|_| Value::String(arg.clone()))).collect();
    let options = EnqueueOptions {
        delay: match &args.delay {
            Some(text) => parse_duration(text).ok_or_else(|| {
                bad_input(format!("--delay {text:?} is not a duration; write seconds, or e.g. 500ms, 10s, 2m, 1h"))
            })?,
            None => Duration::ZERO,
        },
        eta: None,
        max_attempts: args.max_attempts,
        timeout: args.timeout.map(|t| seconds("--timeout", t)).transpose()?,
    };
    let mut queue = args.redis.connect()?;
    let progress = (args.count >= ENQUEUE_CHUNK).then(|| {
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
        let n = left.min(ENQUEUE_CHUNK);
        let ids = queue.enqueue_many(&args.task, std::iter::repeat_n(task_args.clone(), n), &options)?;
        for id in ids {
            writeln!(out, "{id}")
                .map_err(|e| Failure { code: FAILED, message: format!("could not print the ids: {e}") })?;
        }
        left -= n;
        if let Some(bar) = &progress {
            bar.inc(n as u64);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    out.flush().map_err(|e| Failure { code: FAILED, message: format!("could not print the ids: {e}") })?;
    if args.count > 1 {
        eprintln!("enqueued {} tasks {:?} to the queue {:?}", args.count, args.task, args.redis.queue);
    }
    Ok(OK)
}

/// Reads `10`, `1.5`, `500ms`, `10s`, `2m` or `1h`.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let number: f64 = number.trim().parse().ok()?;
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(number * scale).ok()
}

/// Runs `concur status`.
///
/// # Examples
///
/// ```
/// use concur_worker::cli::{run_status, RedisArgs, StatusArgs};
///
/// let redis = RedisArgs { redis: "redis://127.0.0.1:1".into(), queue: "queue".into(), tls_ca_file: None };
/// assert_eq!(run_status(&StatusArgs { redis, json: false }), 2);
/// ```
pub fn run_status(args: &StatusArgs) -> u8 {
    finish("status", status(args))
}

fn status(args: &StatusArgs) -> Result<u8, Failure> {
    let mut queue = args.redis.connect()?;
    let status = queue.status()?;
    let text = if args.json { status_json(&status).to_string() } else { status_table(&queue, &status) };
    println!("{text}");
    Ok(OK)
}

fn status_json(status: &Status) -> Value {
    let workers: Vec<Value> = status
        .workers
        .iter()
        .map(|w| json!({"id": w.id, "processing": w.processing, "heartbeat_ms": w.heartbeat.map(|h| h.as_millis() as u64)}))
        .collect();
    json!({
        "pending": status.pending,
        "processing": status.processing(),
        "workers": workers,
        "delayed": status.delayed,
        "dead": status.dead,
        "results": status.results,
        "done_last_minute": status.done_last_minute,
        "totals": {"done": status.done, "retried": status.retried, "dead": status.dead_total, "reaped": status.reaped},
    })
}

fn status_table(queue: &Queue, status: &Status) -> String {
    let mut lines = vec![
        format!("queue {:?} at {}", queue.keys().name(), queue.url()),
        format!("  pending     {}", status.pending),
        format!("  processing  {} ({} workers)", status.processing(), status.workers.len()),
    ];
    for worker in &status.workers {
        let heartbeat = match worker.heartbeat {
            Some(left) => format!("heartbeat {:.1} s left", left.as_secs_f64()),
            None => "heartbeat expired: the next reap returns its tasks".to_owned(),
        };
        lines.push(format!("    {:<30} {:>6}  {heartbeat}", worker.id, worker.processing));
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
    lines.join("\n")
}

/// Runs `concur dead list`, `retry` or `purge`.
///
/// # Examples
///
/// ```
/// use concur_worker::cli::{run_dead, DeadArgs, DeadCommand, RedisArgs};
///
/// let redis = RedisArgs { redis: "redis://127.0.0.1:1".into(), queue: "queue".into(), tls_ca_file: None };
/// // Purging needs --yes; without it nothing is contacted.
/// assert_eq!(run_dead(&DeadArgs { command: DeadCommand::Purge { redis, yes: false } }), 2);
/// ```
pub fn run_dead(args: &DeadArgs) -> u8 {
    finish("dead", dead(args))
}

fn dead(args: &DeadArgs) -> Result<u8, Failure> {
    match &args.command {
        DeadCommand::List { redis, limit, json } => {
            let mut queue = redis.connect()?;
            let entries = queue.dead_list(0, *limit)?;
            let total = queue.status()?.dead;
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let print_error = |e: std::io::Error| Failure { code: FAILED, message: format!("could not print: {e}") };
            for entry in &entries {
                let text = if *json { serde_json::to_string(entry).unwrap_or_default() } else { dead_line(entry) };
                writeln!(out, "{text}").map_err(print_error)?;
            }
            out.flush().map_err(print_error)?;
            if !*json {
                eprintln!("{} of {total} dead-letter entries shown, newest first", entries.len());
            }
            Ok(OK)
        }
        DeadCommand::Retry { redis, ids, all } => {
            if ids.is_empty() && !*all {
                return Err(bad_input("name the entries to retry by id, or pass --all"));
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
            let missing = !*all && outcome.retried + outcome.not_retriable < ids.len();
            if missing {
                return Err(Failure {
                    code: FAILED,
                    message: "some ids matched no dead-letter entry; list them with `concur dead list`".into(),
                });
            }
            Ok(OK)
        }
        DeadCommand::Purge { redis, yes } => {
            if !*yes {
                return Err(bad_input(
                    "purging deletes every dead-letter entry and its payload for good; add --yes to confirm",
                ));
            }
            let mut queue = redis.connect()?;
            println!("{} dead-letter entries deleted", queue.dead_purge()?);
            Ok(OK)
        }
    }
}

fn dead_line(entry: &DeadEntry) -> String {
    let kind = serde_json::to_value(entry.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let ago = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|now| ago(now.as_secs_f64() - entry.died_at))
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

fn ago(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 120.0 {
        format!("{s:.0} s ago")
    } else if s < 7200.0 {
        format!("{:.0} min ago", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.0} h ago", s / 3600.0)
    } else {
        format!("{:.0} days ago", s / 86_400.0)
    }
}

/// Runs `concur result`: prints the result record as JSON; exit status 1 if
/// none is stored.
///
/// # Examples
///
/// ```
/// use concur_worker::cli::{run_result, RedisArgs, ResultArgs};
///
/// let redis = RedisArgs { redis: "redis://127.0.0.1:1".into(), queue: "queue".into(), tls_ca_file: None };
/// assert_eq!(run_result(&ResultArgs { redis, id: "4f0c6a1e".into() }), 2);
/// ```
pub fn run_result(args: &ResultArgs) -> u8 {
    finish("result", result(args))
}

fn result(args: &ResultArgs) -> Result<u8, Failure> {
    let mut queue = args.redis.connect()?;
    match queue.result(&args.id)? {
        Some(record) => {
            println!("{}", serde_json::to_string_pretty(&record).unwrap_or_default());
            Ok(OK)
        }
        None => Err(Failure {
            code: FAILED,
            message: format!(
                "no result is stored for the task {:?}: it has not finished, its result expired or was evicted, or \
                 the id is wrong",
                args.id
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_read_with_and_without_units() {
        assert_eq!(parse_duration("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("-1"), None);
        assert_eq!(parse_duration("5 parsecs"), None);
        assert_eq!(parse_duration("soon"), None);
    }
}
