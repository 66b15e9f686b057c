//! The queue commands — `worker`, `enqueue`, `status`, `dead`, `result`,
//! `shards`, `pause`, `resume`, `control` and `dashboard` —
//! as clap types and functions that return the process's exit status.
//!
//! ```text
//! concur worker  [--redis URL] [--queue NAME] [--concurrency N] [--config FILE] [--grace SECONDS]
//! concur enqueue [--queue NAME] [--delay 10s] [--count N] TASK [ARGS..]
//! concur status  [--json]
//! concur dead list [--limit N] [--json] | dead retry (ID.. | --all) | dead purge --yes
//! concur result ID
//! concur pause | resume
//! concur control WORKER quiet|stop
//! concur dashboard [--bind 127.0.0.1:7878] [--token T] [--metrics-token T] [--read-only] [--refresh S] [--origin URL]
//! ```
//!
//! Every command takes `--redis URL` (or the environment variable
//! `CONCUR_REDIS_URL`, which keeps a password out of the process list),
//! `--queue NAME`, `--connect-timeout SECONDS` and `--tls-ca-file FILE`.
//!
//! Exit status: 0 on success; 2 for bad input — an unreachable or silent
//! server, a wrong password, a bad URL or name, a number out of range, a
//! missing or invalid configuration file, an unknown task or command (clap's
//! own usage errors are 2 as well); 1 for anything else, such as a
//! connection lost midway or no stored result. A command that fails to start
//! has not written to Redis.
//!
//! The logic is `concur_worker`'s; what lives here is what only a program
//! decides: the arguments, what is printed and how, the exit status, and the
//! global logging subscriber of `concur worker`.

mod dashboard;
mod dead;
mod enqueue;
mod numbers;
mod shards;
mod status;
mod steer;
mod worker;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use concur_worker::{Client, Error, QueueConfig, DEFAULT_REDIS_URL};

/// Exit status for success.
const OK: u8 = 0;
/// Exit status for a failure along the way.
const FAILED: u8 = 1;
/// Exit status for bad input.
const BAD_INPUT: u8 = 2;

/// Where the queue is: the options every command shares.
#[derive(Debug, Clone, Args)]
pub(crate) struct RedisArgs {
    /// The Redis server: redis://host:port/db (port and db optional; a password as redis://:PASSWORD@host), or rediss://… for TLS.
    #[arg(long, env = "CONCUR_REDIS_URL", default_value = DEFAULT_REDIS_URL, value_name = "URL", hide_env_values = true)]
    redis: String,
    /// The queue's name. `worker` and `status` take several: in strict order (critical,default,low) or
    /// weighted (critical:5,default:2,low:1).
    #[arg(long, default_value = "queue", value_name = "NAME")]
    queue: String,
    /// Seconds to wait for Redis to accept a connection and answer it (more than 0).
    #[arg(long, default_value = "5", value_name = "SECONDS", value_parser = numbers::seconds_above_zero)]
    connect_timeout: Duration,
    /// A PEM file of CA certificates to trust for rediss://, instead of the system's.
    #[arg(long, value_name = "FILE")]
    tls_ca_file: Option<PathBuf>,
    /// Durability: after each enqueue and acknowledgement, wait until this many replicas have it (0 to 100; 0:
    /// do not wait). Without it a master that fails right after a write can take the write along.
    #[arg(long, default_value = "0", value_name = "N", value_parser = numbers::replicas)]
    min_replicas: u32,
    /// Seconds a write waits for --min-replicas before it fails (above 0).
    #[arg(long, default_value = "1", value_name = "SECONDS", value_parser = numbers::seconds_above_zero)]
    replica_timeout: Duration,
}

impl RedisArgs {
    fn config(&self) -> QueueConfig {
        QueueConfig {
            tls_ca_file: self.tls_ca_file.clone(),
            connect_timeout: self.connect_timeout,
            min_replicas: self.min_replicas,
            replica_timeout: self.replica_timeout,
            ..QueueConfig::named(&self.queue)
        }
    }

    fn connect(&self) -> Result<Client, Error> {
        Client::connect(&self.redis, self.config())
    }

    /// A client of the queue `name`, with these settings otherwise.
    fn connect_to(&self, name: &str) -> Result<Client, Error> {
        Client::connect(&self.redis, QueueConfig { name: name.to_owned(), ..self.config() })
    }
}

/// The queue commands, flattened into the binary's own.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run tasks from a Redis queue until SIGINT or SIGTERM (a second signal stops at once).
    Worker(worker::WorkerArgs),
    /// Add tasks to a queue.
    Enqueue(enqueue::EnqueueArgs),
    /// Show a queue: pending, processing per worker, delayed, dead, recent throughput.
    Status(status::StatusArgs),
    /// List, retry or purge the tasks in the dead-letter list.
    Dead(dead::DeadArgs),
    /// Show the stored result of a task.
    Result(dead::ResultArgs),
    /// Show a queue's shards, or declare how many it has (one queue over several Redis Cluster masters).
    Shards(shards::ShardsArgs),
    /// Pause a queue: workers take nothing from it until it is resumed (producers still enqueue).
    Pause(steer::PauseArgs),
    /// Resume a paused queue.
    Resume(steer::PauseArgs),
    /// Ask a running worker to quiet down (take no new tasks) or to stop.
    Control(steer::ControlArgs),
    /// Serve a web page and JSON API to watch and steer the queues, with /metrics for Prometheus.
    Dashboard(dashboard::DashboardArgs),
}

/// Runs a queue command; returns the exit status.
pub(crate) fn run(command: &Command) -> u8 {
    let (name, outcome) = match command {
        Command::Worker(args) => ("worker", worker::run(args)),
        Command::Enqueue(args) => ("enqueue", enqueue::run(args)),
        Command::Status(args) => ("status", status::run(args)),
        Command::Dead(args) => ("dead", dead::run(args)),
        Command::Result(args) => ("result", dead::run_result(args)),
        Command::Shards(args) => ("shards", shards::run(args)),
        Command::Pause(args) => ("pause", steer::pause(args, true)),
        Command::Resume(args) => ("resume", steer::pause(args, false)),
        Command::Control(args) => ("control", steer::control(args)),
        Command::Dashboard(args) => ("dashboard", dashboard::run(args)),
    };
    match outcome {
        Ok(()) => OK,
        Err(failure) => {
            eprintln!("concur {name}: {}", failure.message);
            failure.code
        }
    }
}

/// Sends `tracing`'s events to standard error: info and above, or warnings
/// and above when `quiet`; `RUST_LOG`, when set, decides instead.
pub(super) fn log_to_stderr(quiet: bool) {
    let level = if quiet { "warn" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Fails only if a subscriber is already installed, which then serves.
    let _ =
        tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).with_target(false).try_init();
}

/// A failed command: what to print and the exit status.
#[derive(Debug)]
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn bad_input(message: impl Into<String>) -> Failure {
        Failure { code: BAD_INPUT, message: message.into() }
    }

    fn failed(message: impl Into<String>) -> Failure {
        Failure { code: FAILED, message: message.into() }
    }

    /// Output that could not be written (a closed pipe, a full disk).
    fn print(error: std::io::Error) -> Failure {
        Failure::failed(format!("could not print: {error}"))
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        let code = if error.is_bad_input() { BAD_INPUT } else { FAILED };
        Failure { code, message: error.to_string() }
    }
}

/// A span of seconds as an operator reads it: `3 s`, `12 min`, `5 h`, `2 days`.
pub(super) fn span(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 172_800.0 {
        format!("{:.0} h", s / 3600.0)
    } else {
        format!("{:.0} days", s / 86_400.0)
    }
}
