//! `concur bench`: its arguments, and what the binary does that the lab
//! leaves to it — showing the run's events on standard error (above a
//! progress bar on a terminal), turning Ctrl-C, `SIGTERM` and `SIGHUP` into
//! a stop that keeps a partial report, naming the files written, and
//! choosing the exit code.
//!
//! ```text
//! concur bench [--workloads cpu,disk,net,sleep] [--models serial,threads,processes,async]
//!              [-n 10] [--scale F] [--repeat K] [--sweep] [--python] [--out DIR]
//!              [--format table|md|json] [--net-delay-ms MS] [--no-progress]
//! ```
//!
//! Standard output holds the report alone (in `--format`), so it can be
//! piped; everything else goes to standard error. Exit codes: 0 when the
//! run succeeded; 2 for bad input (an unknown name, `-n 0`, a scale that
//! is not a finite number above 0, an `--out` that cannot be written, a
//! disk that fills up); 1 for any other failure; 128 + the signal's number
//! when stopped by one (130 for Ctrl-C), after writing the partial report.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use concur_lab::{BenchConfig, BenchError, Event, Format, Model, Observer, Stop, Workload};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The arguments of `concur bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Workloads to run, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "cpu,disk,net,sleep", value_name = "LIST")]
    workloads: Vec<Workload>,
    /// Models to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "serial,threads,processes,async",
        value_name = "LIST"
    )]
    models: Vec<Model>,
    /// Tasks per cell.
    #[arg(short = 'n', default_value_t = 10, value_name = "N")]
    n: usize,
    /// Multiplies the size of every workload (1 = the full experiment, 0.01 = a quick run).
    #[arg(long, default_value_t = 1.0, value_name = "F", allow_negative_numbers = true)]
    scale: f64,
    /// Runs of each cell; the report keeps the median and the spread [default: 3, or 2 for a cell
    /// whose first run takes over 10 s].
    #[arg(long, value_name = "K")]
    repeat: Option<usize>,
    /// Also run sleep and net with N = 1, 10, 100, 1000, 10000 and chart the growth.
    #[arg(long)]
    sweep: bool,
    /// Also run bench/python/bench.py and show Python beside concur.
    #[arg(long)]
    python: bool,
    /// Folder for report.md, report.json and report.svg.
    #[arg(long, default_value = concur_lab::DEFAULT_OUT, value_name = "DIR")]
    out: PathBuf,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table, value_name = "FORMAT")]
    format: Format,
    /// The page server's delay per response, in milliseconds [default: 100 × scale].
    #[arg(long, value_name = "MS")]
    net_delay_ms: Option<u64>,
    /// Do not draw the progress bar (it is never drawn when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
}

/// Each name once, in the order first given.
fn once<T: PartialEq + Copy>(items: &[T]) -> Vec<T> {
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        if !kept.contains(item) {
            kept.push(*item);
        }
    }
    kept
}

impl BenchArgs {
    fn config(&self) -> BenchConfig {
        BenchConfig {
            workloads: once(&self.workloads),
            models: once(&self.models),
            n: self.n,
            scale: self.scale,
            repeat: self.repeat,
            sweep: self.sweep,
            python: self.python,
            out: self.out.clone(),
            net_delay_ms: self.net_delay_ms,
        }
    }
}

/// A run at least this long gets a line of its own when there is no bar.
const LONG_ENOUGH_TO_SAY: f64 = 1.0;

/// Shows a run's events on standard error: each line as it comes, above a
/// progress bar when standard error is a terminal.
struct Screen {
    bar: Option<ProgressBar>,
}

impl Screen {
    fn new(wanted: bool) -> Screen {
        if !(wanted && std::io::stderr().is_terminal()) {
            return Screen { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        // A constant template: parsing it cannot fail.
        if let Ok(style) = ProgressStyle::with_template("{elapsed:>4} [{bar:28.cyan/blue}] {pos}/{len} {wide_msg}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Screen { bar: Some(bar) }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Screen {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::Started { progress, .. } => {
                if let Some(bar) = &self.bar {
                    if let Some(progress) = progress {
                        bar.set_length(progress.total);
                        bar.set_position(progress.done);
                    }
                    bar.set_message(event.to_string());
                }
            }
            Event::Ran { seconds, progress, .. } => match &self.bar {
                Some(bar) => {
                    bar.set_length(progress.total);
                    bar.set_position(progress.done);
                }
                // Without a bar, a run long enough to be waited for says it
                // ended; short ones would bury the rows.
                None if *seconds >= LONG_ENOUGH_TO_SAY => self.line(&event.to_string()),
                None => {}
            },
            Event::Planned { progress, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(progress.total);
                }
                self.line(&event.to_string());
            }
            _ => self.line(&event.to_string()),
        }
    }
}

/// Turns the first `SIGINT`, `SIGTERM` or `SIGHUP` into `stop`, and
/// remembers which it was; a second one ends the process at once.
fn on_signals(stop: Stop) -> anyhow::Result<Arc<AtomicI32>> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let received = Arc::new(AtomicI32::new(0));
    let mut signals =
        signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]).context("could not watch for Ctrl-C")?;
    let seen = Arc::clone(&received);
    std::thread::Builder::new()
        .name("concur-bench-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if stop.is_requested() {
                    eprintln!("concur bench: stopped again; exiting without cleaning up");
                    std::process::exit(128 + signal);
                }
                seen.store(signal, Ordering::SeqCst);
                eprintln!("concur bench: stopping; writing the partial report (again to quit at once)");
                stop.request();
            }
        })
        .context("could not start the signal thread")?;
    Ok(received)
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).context("could not write the report to standard output")?;
    stdout.flush().context("could not write the report to standard output")
}

fn name_files(files: &[PathBuf]) {
    eprintln!("report files:");
    for file in files {
        eprintln!("  {}", shown(file));
    }
}

/// A path as the user should type it: relative ones as they are, with `./`
/// dropped.
fn shown(path: &Path) -> String {
    path.strip_prefix(".").unwrap_or(path).display().to_string()
}

/// Runs `concur bench`; returns the exit code.
pub(crate) fn run(args: &BenchArgs) -> ExitCode {
    let config = args.config();
    if let Err(error) = config.validate() {
        eprintln!("concur bench: {error}");
        return ExitCode::from(2);
    }
    let stop = Stop::new();
    let received = match on_signals(stop.clone()) {
        Ok(received) => received,
        Err(error) => {
            eprintln!("concur bench: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let mut screen = Screen::new(!args.no_progress);
    let outcome = concur_lab::run(&config, &mut screen, &stop);
    screen.clear();
    let (report, files, code) = match outcome {
        Ok(outcome) => (outcome.report, outcome.files, 0),
        Err(BenchError::Interrupted { report, files }) => {
            let signal = received.load(Ordering::SeqCst);
            (*report, files, if signal > 0 { 128 + signal } else { 130 })
        }
        Err(error) => {
            eprintln!("concur bench: {error}");
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(1));
        }
    };
    let printed = print(&report.render(args.format));
    name_files(&files);
    if report.partial {
        eprintln!("concur bench: stopped after {:.1} s; the report above and its files are partial", report.total_s);
    }
    if let Err(error) = printed {
        eprintln!("concur bench: {error:#}");
        return ExitCode::FAILURE;
    }
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_once_in_order() {
        assert_eq!(once(&[Workload::Sleep, Workload::Cpu, Workload::Sleep]), [Workload::Sleep, Workload::Cpu]);
    }

    #[test]
    fn paths_are_shown_as_typed() {
        assert_eq!(shown(Path::new("./bench-out/report.md")), "bench-out/report.md");
        assert_eq!(shown(Path::new("/tmp/x/report.md")), "/tmp/x/report.md");
    }
}
