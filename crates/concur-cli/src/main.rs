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
//! ```text
//! concur worker  [--redis URL] [--queue NAME] [--concurrency N] [--config FILE]
//! concur enqueue [--queue NAME] TASK [ARGS..] [--delay SECONDS] [--count N]
//! concur status | concur dead list|retry|purge | concur result ID
//! concur dashboard [--redis URL] [--queue a,b] [--bind 127.0.0.1:7878] [--token T] [--read-only]
//! ```
//!
//! Exit codes: 0 when the run succeeded; 2 for bad input (an unknown name,
//! `-n 0`, a scale that is not above 0, an `--out` that cannot be written,
//! a disk that fills up, an unreachable Redis, a wrong password, a bad
//! config file); 1 for any other failure; 130 when interrupted.

mod queue;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use concur_lab::{parse_list, BenchConfig, Format, Model, Workload};

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
    Bench(BenchArgs),
    /// The Redis task worker and its tools: worker, enqueue, status, dead,
    /// result.
    #[command(flatten)]
    Queue(queue::Command),
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Workloads to run, comma-separated: cpu, disk, net, sleep.
    #[arg(long, default_value = "cpu,disk,net,sleep", value_name = "LIST")]
    workloads: String,
    /// Models to run, comma-separated: serial, threads, processes, async.
    #[arg(long, default_value = "serial,threads,processes,async", value_name = "LIST")]
    models: String,
    /// Tasks per cell.
    #[arg(short = 'n', default_value_t = 10, value_name = "N")]
    n: usize,
    /// Multiplies the size of every workload (1 = the full experiment, 0.01 = a quick run).
    #[arg(long, default_value_t = 1.0, value_name = "F", allow_negative_numbers = true)]
    scale: f64,
    /// Times each cell is run; the report keeps the median.
    #[arg(long, default_value_t = 1, value_name = "K")]
    repeat: usize,
    /// Also run sleep and net with N = 1, 10, 100, 1000, 10000 and chart the growth.
    #[arg(long)]
    sweep: bool,
    /// Also run bench/python/bench.py and show Python beside concur.
    #[arg(long)]
    python: bool,
    /// Folder for report.md, report.json and report.svg.
    #[arg(long, default_value = concur_lab::DEFAULT_OUT, value_name = "DIR")]
    out: PathBuf,
    /// What to print on standard output: table, md or json.
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    format: String,
    /// The page server's delay per response, in milliseconds [default: 100 × scale].
    #[arg(long, value_name = "MS")]
    net_delay_ms: Option<u64>,
    /// Do not draw progress bars (they are never drawn when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
}

impl BenchArgs {
    fn config(&self) -> Result<(BenchConfig, Format), concur_lab::ConfigError> {
        let config = BenchConfig {
            workloads: parse_list::<Workload>(&self.workloads, "workloads")?,
            models: parse_list::<Model>(&self.models, "models")?,
            n: self.n,
            scale: self.scale,
            repeat: self.repeat,
            sweep: self.sweep,
            python: self.python,
            out: self.out.clone(),
            net_delay_ms: self.net_delay_ms,
            progress: !self.no_progress,
        };
        config.validate()?;
        Ok((config, self.format.parse()?))
    }
}

fn bench(args: &BenchArgs) -> ExitCode {
    let (config, format) = match args.config() {
        Ok(parsed) => parsed,
        Err(error) => {
            eprintln!("concur bench: {error}");
            return ExitCode::from(2);
        }
    };
    match concur_lab::run(&config) {
        Ok(report) => match print(&report.render(format)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("concur bench: {error:#}");
                ExitCode::FAILURE
            }
        },
        Err(error) => {
            eprintln!("concur bench: {error}");
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(1))
        }
    }
}

fn print(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).context("could not write the report to standard output")?;
    stdout.flush().context("could not write the report to standard output")
}

fn main() -> ExitCode {
    // First: this executable is also the bench's worker processes and page
    // server, which must not parse the command line.
    concur_lab::serve_if_child();
    let cli = Cli::parse();
    match &cli.command {
        Command::Bench(args) => bench(args),
        Command::Queue(command) => ExitCode::from(queue::run(command)),
    }
}
