//! The lab behind `concur bench`: the classic experiment — the same N tasks
//! run serially, in threads, in processes and on an event loop, for work
//! that computes, writes, fetches and sleeps — measured on the machine at
//! hand, with the physical limit beside every figure and a word on every
//! figure not to trust.
//!
//! | part | what it is |
//! |---|---|
//! | [`Workload`] | `cpu`, `disk`, `net`, `sleep`: one task of each, the sizes of the reference experiment |
//! | [`Model`] | `serial`, `threads`, `processes`, `async`, each run with concur's own tool |
//! | [`BenchConfig`] | what to run, checked by [`BenchConfig::validate`] |
//! | [`run`] | the whole run: server, probes, cells, Python, sweep, report files |
//! | [`Observer`], [`Event`] | what a run tells as it goes: each run, each finished row, warnings, the time left |
//! | [`Stop`] | how the program asks a run to stop early and keep a partial report |
//! | [`report`] | the [`Report`](report::Report), its JSON schema, table, Markdown, SVG and [flags](report::flags) |
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
//! Those are the figures of a quiet machine. The run watches what else uses
//! the processors (`/proc`; see [`report::flags`]) and marks the cells it
//! disturbed, flags any figure faster than its limit as a measurement
//! problem, and runs every cell several times to show how far its runs
//! agree.
//!
//! # The program's part
//!
//! A library prints nothing, installs no signal handler and never exits the
//! process: the program does. It calls [`serve_if_child`] first in `main`,
//! since the `processes` model's workers and the `net` workload's page
//! server are its own executable started again; it shows the [`Event`]s as
//! it likes; it turns Ctrl-C into [`Stop::request`]; and it picks the exit
//! code — [`BenchError::exit_code`] suggests one.
//!
//! ```no_run
//! use concur_lab::{BenchConfig, BenchError, Event, Format, Stop};
//!
//! fn main() {
//!     if let Some(served) = concur_lab::serve_if_child() {
//!         std::process::exit(i32::from(served.is_err()));
//!     }
//!     let config = BenchConfig { scale: 0.01, ..BenchConfig::default() };
//!     let stop = Stop::new(); // a signal handler would call stop.request()
//!     let mut show = |event: &Event<'_>| eprintln!("{event}");
//!     match concur_lab::run(&config, &mut show, &stop) {
//!         Ok(outcome) => print!("{}", outcome.report.render(Format::Table)),
//!         Err(BenchError::Interrupted { files, .. }) => {
//!             eprintln!("stopped; partial report in {}", files[0].display());
//!             std::process::exit(130);
//!         }
//!         Err(error) => {
//!             eprintln!("concur bench: {error}");
//!             std::process::exit(error.exit_code());
//!         }
//!     }
//! }
//! ```
//!
//! # The `clap` feature
//!
//! With the `clap` feature (which the `concur` binary turns on),
//! [`Workload`], [`Model`] and [`Format`] derive `clap::ValueEnum`, so a
//! command line takes their names, lists them in its help and refuses an
//! unknown one with the valid ones — from the one derive on each enum,
//! beside serde's names for the same variants. Without the feature a
//! program that builds a [`BenchConfig`] in code does not compile clap; the
//! parsing is not moved into the binary because three copies of the names
//! (the enum, serde's, the binary's) would have to be kept in step by hand.
//!
//! # How the files depend on each other
//!
//! No two files import each other, directly or through others: shared
//! types sit low (`error`, `model`, `workload`, `stop`, `report/schema`),
//! and what calls back up — a run telling its progress — takes a callback
//! or an [`Observer`]. `lib.rs` only declares and re-exports. (Checked by
//! listing each file's `crate::` and `super::` paths and searching the
//! graph for a cycle.)
//!
//! # Python
//!
//! `bench/python/bench.py` runs the same grid with `threading`,
//! `multiprocessing` and `asyncio`; `--python` ([`BenchConfig::python`])
//! shows it beside concur, cell by cell.

// The crate is built on Unix process groups and signals; say so at
// build time rather than with a page of unresolved imports.
#[cfg(not(unix))]
compile_error!("concur-lab runs on Unix only: its workloads start process groups and read /proc");

mod bench;
mod children;
mod config;
mod error;
mod estimate;
mod load;
mod model;
mod observe;
mod probe;
mod python;
pub mod report;
mod runner;
mod scratch;
mod server;
mod stop;
mod sweep;
mod workload;

pub use bench::{run, Outcome};
pub use config::{BenchConfig, AUTO_RUNS, AUTO_RUNS_LONG, DEFAULT_NET_DELAY, DEFAULT_OUT, LONG_RUN};
pub use error::{BenchError, ConfigError};
pub use model::{Model, PROCESS_CAP};
pub use observe::{Event, Observer, Progress};
pub use report::{limits, Format};
pub use server::ServeError;
pub use stop::Stop;
pub use workload::{TaskError, Workload};

/// Serves as one of a bench's child processes, if this process is one:
/// the page server, or a `processes` worker. Returns how the serving went
/// when it has (the program should then exit, with status 1 on an error),
/// or `None` at once in any other process. Call it first thing in `main`,
/// before parsing arguments: the children are this executable started
/// again with an environment variable that says which.
///
/// A worker process ends inside this call (concur's
/// [`Registry::serve_if_worker`](concur::executor::Registry::serve_if_worker)
/// exits when its pool closes the connection).
///
/// # Errors
///
/// The page server's [`ServeError`]: a malformed delay, a socket that
/// could not be opened.
///
/// # Examples
///
/// ```
/// // Not a child: returns at once.
/// assert!(concur_lab::serve_if_child().is_none());
/// ```
pub fn serve_if_child() -> Option<Result<(), ServeError>> {
    if let Some(served) = server::serve_if_server() {
        return Some(served);
    }
    runner::worker_functions().registry.serve_if_worker();
    None
}
