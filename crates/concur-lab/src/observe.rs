//! What a running bench tells as it goes, to an [`Observer`] the program
//! supplies: the library prints nothing, and the program chooses how to
//! show it (the `concur` binary prints each line on standard error above a
//! progress bar).
//!
//! Every [`Event`] reads as one line through `Display`, so an observer
//! that only prints needs no more than `eprintln!("{event}")`.

use std::fmt;
use std::time::Duration;

use crate::estimate::human;
use crate::report::{cell_line, Cell};

/// Receives a bench's [`Event`]s as they happen. A closure taking
/// `&Event` is one.
///
/// # Examples
///
/// ```
/// use concur_lab::{Event, Observer};
///
/// let mut lines = Vec::new();
/// let mut observer = |event: &Event<'_>| lines.push(event.to_string());
/// observer.event(&Event::Warning("the machine is busy"));
/// assert_eq!(lines, ["warning: the machine is busy"]);
/// ```
pub trait Observer {
    /// Called for each event, on the thread that called
    /// [`run`](crate::run).
    fn event(&mut self, event: &Event<'_>);
}

impl<F: FnMut(&Event<'_>)> Observer for F {
    fn event(&mut self, event: &Event<'_>) {
        self(event);
    }
}

/// How far a run has come: runs ended, runs planned, and the time the rest
/// should take, from the runs measured so far.
///
/// # Examples
///
/// ```
/// use concur_lab::Progress;
/// use std::time::Duration;
///
/// let progress = Progress { done: 12, total: 45, left: Duration::from_secs(95) };
/// assert_eq!(progress.to_string(), "12/45 runs, about 1 min 35 s left");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Timed runs that have ended.
    pub done: u64,
    /// Timed runs planned in all; it can change as cells choose their
    /// number of runs.
    pub total: u64,
    /// The estimate of the time left.
    pub left: Duration,
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} runs, {} left", self.done, self.total, human(self.left))
    }
}

/// One thing that happened in a running bench.
///
/// # Examples
///
/// ```
/// use concur_lab::{Event, Progress};
/// use std::time::Duration;
///
/// let progress = Progress { done: 3, total: 45, left: Duration::from_secs(250) };
/// let event = Event::Ran { what: "cpu × serial, run 1 of 2", seconds: 22.7, progress };
/// assert_eq!(event.to_string(), "cpu × serial, run 1 of 2: 22.700 s (3/45 runs, about 4 min 10 s left)");
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The probes are done: what will run, and about how long it will take.
    Planned {
        /// Cells to time, Python's and the sweep's points included.
        cells: usize,
        /// The plan's progress: nothing done, and the estimate of it all.
        progress: Progress,
    },
    /// Something the reader should know now; the report says it again.
    Warning(&'a str),
    /// A step begins: a probe, a run of a cell, the Python side.
    Started {
        /// What runs.
        what: &'a str,
        /// Where the run is; `None` before it is planned (the probes).
        progress: Option<Progress>,
    },
    /// A timed run ended.
    Ran {
        /// Which run.
        what: &'a str,
        /// Its wall time.
        seconds: f64,
        /// Where the run is, this run counted.
        progress: Progress,
    },
    /// A cell has all its runs: its row, as far as known now (a `cpu`
    /// cell's limit can still move if `serial` has runs to come).
    Row(&'a Cell),
    /// Python has all its runs of a cell; the cell holds them.
    PythonRow(&'a Cell),
}

impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Planned { cells, progress } => write!(
                f,
                "planned: {} timed runs of {cells} cells; they should take {}",
                progress.total,
                human(progress.left)
            ),
            Event::Warning(text) => write!(f, "warning: {text}"),
            Event::Started { what, progress: Some(progress) } => write!(f, "{what} ({progress})"),
            Event::Started { what, progress: None } => f.write_str(what),
            Event::Ran { what, seconds, progress } => write!(f, "{what}: {seconds:.3} s ({progress})"),
            Event::Row(cell) => f.write_str(&cell_line(cell, None)),
            Event::PythonRow(cell) => match &cell.python {
                Some(python) => f.write_str(&cell_line(cell, Some(python))),
                None => f.write_str(&cell_line(cell, None)),
            },
        }
    }
}
