//! `concur dashboard`: the dashboard crate's `Dashboard`, set up from the
//! command line, logging to standard error, stopped by SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use concur_dashboard::{Dashboard, StartError, DEFAULT_BIND};
use concur_worker::QueueSet;

use super::{log_to_stderr, numbers, Failure, RedisArgs, BAD_INPUT, FAILED};

/// `concur dashboard`.
#[derive(Debug, Clone, Args)]
pub(crate) struct DashboardArgs {
    #[command(flatten)]
    redis: RedisArgs,
    /// The address to serve on. Any but a loopback address needs --token.
    #[arg(long, default_value_t = DEFAULT_BIND, value_name = "ADDR")]
    bind: SocketAddr,
    /// The token every request must carry (bearer token, or the password of basic auth); at least 16 characters.
    #[arg(long, env = "CONCUR_DASHBOARD_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A token that opens /metrics only (for Prometheus); the main token opens it too.
    #[arg(long, env = "CONCUR_METRICS_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Refuse every change (retry, delete, …), in the API as on the page.
    #[arg(long)]
    read_only: bool,
    /// Seconds between live reads of Redis (1 to 60), shared by every open page.
    #[arg(long, default_value = "2", value_name = "SECONDS", value_parser = numbers::seconds_above_zero)]
    refresh: Duration,
    /// The public origin behind a reverse proxy that rewrites Host (scheme and host, such as `https://ops.example.com`); may be repeated.
    #[arg(long, value_name = "URL")]
    origin: Vec<String>,
    /// Log only warnings and errors (RUST_LOG, when set, decides instead).
    #[arg(long)]
    quiet: bool,
}

/// Serves the dashboard until SIGINT or SIGTERM.
pub(super) fn run(args: &DashboardArgs) -> Result<(), Failure> {
    log_to_stderr(args.quiet);
    let queues: QueueSet = args.redis.queue.parse()?;
    let mut builder = Dashboard::builder()
        .redis(&args.redis.redis)
        .queue_config(args.redis.config())
        .queues(queues.names())
        .bind(args.bind)
        .refresh(args.refresh);
    if let Some(token) = &args.token {
        builder = builder.token(token);
    }
    if let Some(token) = &args.metrics_token {
        builder = builder.metrics_token(token);
    }
    if args.read_only {
        builder = builder.read_only();
    }
    for origin in &args.origin {
        builder = builder.origin(origin);
    }
    let dashboard = builder.build().map_err(failure)?;
    let stop = dashboard.stop_handle();
    let cannot = |e: std::io::Error| Failure::failed(format!("could not install the SIGINT/SIGTERM handler: {e}"));
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])
        .map_err(cannot)?;
    std::thread::Builder::new()
        .name("concur-signals".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                tracing::info!("stopping the dashboard");
                stop.stop();
            }
        })
        .map_err(cannot)?;
    dashboard.run().map_err(failure)
}

fn failure(error: StartError) -> Failure {
    Failure { code: if error.is_bad_input() { BAD_INPUT } else { FAILED }, message: error.to_string() }
}
