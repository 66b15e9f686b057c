//! `concur`: the command line of concur. Thin by design: it parses the
//! arguments and calls the library crates, where the logic lives and is
//! tested.
//!
//! ```text
//! concur bench [--workloads cpu,disk,net,sleep] [--models serial,threads,processes,async]
//!              [-n 10] [--scale F] [--repeat K] [--sweep] [--python] [--out DIR]
//!              [--format table|md|json] [--net-delay-ms MS] [--no-progress]
//! ```
//!
//! (`bench.rs` says what `concur bench` prints where, and its exit codes.)
//!
//! ```text
//! concur worker  [--redis URL] [--queue NAME] [--concurrency N] [--config FILE]
//! concur enqueue [--queue NAME] TASK [ARGS..] [--delay SECONDS] [--count N]
//! concur status | concur dead list|retry|purge | concur result ID
//! concur dashboard [--redis URL] [--queue a,b] [--bind 127.0.0.1:7878] [--token T] [--read-only]
//! ```
//!
//! Exit codes: 0 when the run succeeded; 2 for bad input (an unknown name,
//! `-n 0`, a scale that is not a finite number above 0, an `--out` that
//! cannot be written, a disk that fills up, an unreachable Redis, a wrong
//! password, a bad config file); 1 for any other failure; 130 when
//! interrupted by Ctrl-C (128 + the signal's number for another).

// The crate is built on Unix process groups and signals; say so at
// build time rather than with a page of unresolved imports.
#[cfg(not(unix))]
compile_error!(
    "the concur binary runs on Unix only: `concur worker` and `concur bench` use signals and process groups"
);

mod bench;

mod queue;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Python's concurrency toolkit, rebuilt in Rust.
#[derive(Debug, Parser)]
#[command(name = "concur", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the same N tasks serially, in threads, in processes and on an
    /// event loop, for CPU, disk, network and sleep work, and compare the
    /// times with the machine's physical limits.
    Bench(bench::BenchArgs),
    /// The Redis task worker and its tools: worker, enqueue, status, dead,
    /// result.
    #[command(flatten)]
    Queue(queue::Command),
}

fn main() -> ExitCode {
    // First: this executable is also the bench's worker processes and page
    // server, which must not parse the command line.
    if let Some(served) = concur_lab::serve_if_child() {
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        };
    }
    let cli = Cli::parse();
    match &cli.command {
        Command::Bench(args) => bench::run(args),
        Command::Queue(command) => ExitCode::from(queue::run(command)),
    }
}
