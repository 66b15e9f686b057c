//! The four ways of running N tasks.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The most worker processes the `processes` model starts for one cell. A
/// cell with more tasks queues them on this many processes, and the report
/// says so: thousands of processes would measure the machine's process
/// table, not the model.
pub const PROCESS_CAP: usize = 64;

/// How a cell runs its N tasks.
///
/// | model | runs the N tasks | with concur's |
/// |---|---|---|
/// | `serial` | one after another on the calling thread | — |
/// | `threads` | one thread each, all started, then all joined | [`concur::thread::Builder`] |
/// | `processes` | one worker process each (at most [`PROCESS_CAP`]), then the pool shut down | [`concur::executor::ProcessPool`] |
/// | `async` | one task each on a single event loop, gathered | `concur::aio` |
///
/// # Examples
///
/// ```
/// use concur_lab::Model;
///
/// assert_eq!(Model::ALL.map(Model::name), ["serial", "threads", "processes", "async"]);
/// ```
///
/// # Python
///
/// `threading.Thread`, `multiprocessing.Process` and `asyncio.gather` in
/// `bench/python/bench.py`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Model {
    /// One task after another.
    Serial,
    /// A thread per task.
    Threads,
    /// A worker process per task.
    Processes,
    /// A task per unit of work on one event loop.
    Async,
}

impl Model {
    /// Every model, in report order.
    pub const ALL: [Model; 4] = [Model::Serial, Model::Threads, Model::Processes, Model::Async];

    /// The name used on the command line and in the report.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_lab::Model::Processes.name(), "processes");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Model::Serial => "serial",
            Model::Threads => "threads",
            Model::Processes => "processes",
            Model::Async => "async",
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
