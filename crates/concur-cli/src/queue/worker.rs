//! `concur worker`: the worker library's `Worker`, set up from the command
//! line, logging to standard error.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use concur_dashboard::WorkerMetrics;
use concur_worker::{QueueConfig, QueueSet, Worker, WorkerError, DEFAULT_CONCURRENCY};

use super::{log_to_stderr, numbers, Failure, RedisArgs, BAD_INPUT, FAILED};

/// `concur worker`.
#[derive(Debug, Clone, Args)]
#[command(allow_negative_numbers = true)]
pub(crate) struct WorkerArgs {
    #[command(flatten)]
    redis: RedisArgs,
    /// How many tasks run at once (1 to 1000000).
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_name = "N", value_parser = numbers::concurrency)]
    concurrency: usize,
    /// Tasks fetched ahead of those running, to wait on this worker for a free slot (0 to 100000). It lets a
    /// worker of low concurrency fetch and acknowledge in batches; a task fetched ahead waits here even when
    /// another worker is idle, and goes back to pending unstarted when this worker stops.
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = numbers::prefetch)]
    prefetch: usize,
    /// A JSON file mapping task names to programs, e.g.
    /// {"tasks": {"resize": {"program": "/usr/bin/convert", "args": ["-resize", "50%"]}}}.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Seconds running tasks may take to finish after SIGINT/SIGTERM before they are returned to the queue (0 or more).
    #[arg(long, default_value = "30", value_name = "SECONDS", value_parser = numbers::seconds_from_zero)]
    grace: Duration,
    /// Seconds the worker's heartbeat lasts (0.3 or more); it is renewed every third of that, and a worker whose
    /// heartbeat stays missing this long after a reaper first misses it is taken for dead.
    #[arg(long, default_value = "30", value_name = "SECONDS", value_parser = numbers::heartbeat_ttl)]
    heartbeat_ttl: Duration,
    /// Seconds to wait at start for a Redis that is still loading its data (0 or more; 0: fail at once).
    #[arg(long, default_value = "60", value_name = "SECONDS", value_parser = numbers::seconds_from_zero)]
    loading_wait: Duration,
    /// With several queues: seconds between looks (LLEN) at the queues an idle worker is not blocked on (0.001 or
    /// more); a task pushed there waits up to this long. Longer means fewer commands from an idle fleet.
    #[arg(long, default_value = "0.02", value_name = "SECONDS", value_parser = numbers::idle_watch)]
    idle_watch: Duration,
    /// Dead-letter entries kept (1 or more); past it the oldest are dropped, counted, and a warning is logged.
    #[arg(long, default_value = "10000", value_name = "N", value_parser = numbers::count)]
    dead_cap: usize,
    /// Serve this worker's own metrics for Prometheus at http://ADDR/metrics (its tasks in flight, heartbeat and
    /// concurrency on each queue). Any but a loopback address needs --metrics-token.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<SocketAddr>,
    /// The token a scrape of --metrics must carry (bearer token, or the password of basic auth).
    #[arg(long, env = "CONCUR_METRICS_TOKEN", value_name = "TOKEN", hide_env_values = true, requires = "metrics")]
    metrics_token: Option<String>,
    /// Log only warnings and errors (RUST_LOG, when set, decides instead).
    #[arg(long)]
    quiet: bool,
}

/// Runs the worker until SIGINT or SIGTERM (or an operator's stop).
pub(super) fn run(args: &WorkerArgs) -> Result<(), Failure> {
    log_to_stderr(args.quiet);
    let queues: QueueSet = args.redis.queue.parse()?;
    let names: Vec<String> = queues.names().map(str::to_owned).collect();
    let mut builder = Worker::builder()
        .redis(&args.redis.redis)
        .queue_config(QueueConfig { dead_cap: args.dead_cap, ..args.redis.config() })
        .queues(queues)
        .concurrency(args.concurrency)
        .prefetch(args.prefetch)
        .grace_period(args.grace)
        .heartbeat_ttl(args.heartbeat_ttl)
        .loading_wait(args.loading_wait)
        .idle_watch(args.idle_watch);
    if let Some(config) = &args.config {
        builder = builder.config_file(config);
    }
    let worker = builder.build().map_err(failure)?;
    let metrics = match args.metrics {
        Some(addr) => Some(serve_metrics(args, addr, &names, worker.id())?),
        None => None,
    };
    stop_on_signals(&worker, args.grace)?;
    let outcome = worker.run();
    if let Some((stop, serving)) = metrics {
        stop.stop();
        let _ = serving.join();
    }
    match outcome {
        Ok(_) => Ok(()),
        Err(error) => Err(failure(error)),
    }
}

/// Starts the worker's `/metrics` on a thread of its own.
fn serve_metrics(
    args: &WorkerArgs,
    addr: SocketAddr,
    queues: &[String],
    id: &str,
) -> Result<(concur_dashboard::Stop, std::thread::JoinHandle<()>), Failure> {
    let mut builder = WorkerMetrics::builder()
        .redis(&args.redis.redis)
        .queue_config(args.redis.config())
        .queues(queues)
        .worker(id)
        .bind(addr);
    if let Some(token) = &args.metrics_token {
        builder = builder.token(token);
    }
    let metrics = builder.build().map_err(|error| Failure {
        code: if error.is_bad_input() { BAD_INPUT } else { FAILED },
        message: format!("--metrics: {error}"),
    })?;
    let stop = metrics.stop_handle();
    let serving = std::thread::Builder::new()
        .name("concur-metrics".into())
        .spawn(move || {
            if let Err(error) = metrics.run() {
                tracing::error!("the worker's metrics stopped: {error}");
            }
        })
        .map_err(|e| Failure::failed(format!("could not start the metrics thread: {e}")))?;
    Ok((stop, serving))
}

fn failure(error: WorkerError) -> Failure {
    Failure { code: if error.is_bad_input() { BAD_INPUT } else { FAILED }, message: error.to_string() }
}

/// SIGINT and SIGTERM stop the worker: the first gracefully, the second at
/// once. SIGTSTP quiets it (no new tasks; the running ones finish; it waits
/// for a stop), as it does Sidekiq: so Ctrl-Z quiets rather than suspends
/// a worker in a terminal. SIGINT is left alone when the process started with it ignored: a
/// shell does that for a job started in the background, so that Ctrl-C at
/// the terminal does not reach it (Python leaves an ignored SIGINT ignored
/// too).
fn stop_on_signals(worker: &Worker, grace: Duration) -> Result<(), Failure> {
    use signal_hook::consts::{SIGINT, SIGTERM, SIGTSTP};
    let mut wanted = vec![SIGTERM, SIGTSTP];
    if !ignored(SIGINT) {
        wanted.push(SIGINT);
    }
    let cannot = |e: std::io::Error| Failure::failed(format!("could not install the signal handlers: {e}"));
    let mut signals = signal_hook::iterator::Signals::new(&wanted).map_err(cannot)?;
    let stop = worker.shutdown_handle();
    let id = worker.id().to_owned();
    std::thread::Builder::new()
        .name("concur-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if signal == SIGTSTP {
                    if stop.quiet() {
                        tracing::info!(worker = id, "quiet: taking no new tasks; stop it with SIGTERM when idle");
                    }
                } else if stop.escalate() {
                    tracing::info!(
                        worker = id,
                        "stopping: no new tasks; running tasks may finish within {grace:?} (signal again to stop at \
                         once)"
                    );
                } else {
                    tracing::warn!(worker = id, "stopping at once: cancelling running tasks");
                }
            }
        })
        .map_err(cannot)?;
    Ok(())
}

/// Whether `signal` was set to be ignored when the process started.
fn ignored(signal: libc::c_int) -> bool {
    // SAFETY: sigaction(2) with a null new action only reads the current
    // one into `current`, a zeroed plain C struct.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut current) == 0 && current.sa_sigaction == libc::SIG_IGN
    }
}
