//! The lab behind `concur bench`: the classic experiment — the same N tasks
//! run serially, in threads, in processes and on an event loop, for work
//! that computes, writes, fetches and sleeps — measured on the machine at
//! hand, with the physical limit beside every figure.
//!
//! | part | what it is |
//! |---|---|
//! | [`Workload`] | `cpu`, `disk`, `net`, `sleep`: one task of each, the sizes of the reference experiment |
//! | [`Model`] | `serial`, `threads`, `processes`, `async`, each run with concur's own tool |
//! | [`BenchConfig`] | what to run, checked by [`BenchConfig::validate`] |
//! | [`run`] | the whole run: server, probes, cells, Python, sweep, report files |
//! | [`report`] | the [`Report`](report::Report), its JSON schema, table, Markdown and SVG |
//! | [`limits`] | the arithmetic of medians, speedups and physical limits |
//!
//! # What to expect
//!
//! Without a global interpreter lock, Rust threads compute in parallel: on
//! `cpu` the `threads` and `processes` models approach min(N, cores) times
//! `serial`, while Python's threads do not. On `sleep` and `net` every
//! model but `serial` overlaps the waits. `async` runs `cpu` and `disk` one
//! task after another, because a task that never awaits holds the loop.
//!
//! # Example
//!
//! A program that runs the bench must let its own executable serve as a
//! worker process and as the page server, by calling [`serve_if_child`]
//! first in `main`:
//!
//! ```no_run
//! use concur_lab::{BenchConfig, Format};
//!
//! fn main() {
//!     concur_lab::serve_if_child();
//!     let config = BenchConfig { scale: 0.01, ..BenchConfig::default() };
//!     match concur_lab::run(&config) {
//!         Ok(report) => print!("{}", report.render(Format::Table)),
//!         Err(error) => {
//!             eprintln!("concur bench: {error}");
//!             std::process::exit(error.exit_code());
//!         }
//!     }
//! }
//! ```
//!
//! # Python
//!
//! `bench/python/bench.py` runs the same grid with `threading`,
//! `multiprocessing` and `asyncio`; `--python` ([`BenchConfig::python`])
//! shows it beside concur, cell by cell.

mod bench;
mod config;
mod error;
mod model;
mod probe;
mod progress;
mod python;
pub mod report;
mod runner;
mod scratch;
mod server;
mod sweep;
mod workload;

pub use bench::run;
pub use config::{parse_list, BenchConfig, ConfigError, Format, DEFAULT_NET_DELAY, DEFAULT_OUT, PROCESS_CAP};
pub use error::BenchError;
pub use model::Model;
pub use report::limits;
pub use workload::{TaskError, Workload};

/// Serves as a bench child process, if this process is one, and exits;
/// otherwise returns at once. Call it first thing in `main`, before parsing
/// arguments: the `processes` model's workers and the `net` workload's page
/// server are this executable started again with an environment variable
/// that says which.
///
/// # Examples
///
/// ```
/// // Not a child: returns at once.
/// concur_lab::serve_if_child();
/// ```
pub fn serve_if_child() {
    server::serve_if_server();
    runner::worker_registry().0.serve_if_worker();
}
