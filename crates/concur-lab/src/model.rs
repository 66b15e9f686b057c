//! The four ways of running N tasks.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::config::{names, ConfigError};

/// How a cell runs its N tasks.
///
/// | model | runs the N tasks | with concur's |
/// |---|---|---|
/// | `serial` | one after another on the calling thread | — |
/// | `threads` | one thread each, all started, then all joined | [`concur::thread::Builder`] |
/// | `processes` | one worker process each (at most [`PROCESS_CAP`](crate::PROCESS_CAP)), then the pool shut down | [`concur::executor::ProcessPool`] |
/// | `async` | one task each on a single event loop, gathered | `concur::aio` |
///
/// # Examples
///
/// ```
/// use concur_lab::Model;
///
/// assert_eq!("async".parse::<Model>().unwrap(), Model::Async);
/// let error = "fibers".parse::<Model>().unwrap_err().to_string();
/// assert!(error.contains("serial, threads, processes, async"), "{error}");
/// ```
///
/// # Python
///
/// `threading.Thread`, `multiprocessing.Process` and `asyncio.gather` in
/// `bench/python/bench.py`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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

impl FromStr for Model {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Model, ConfigError> {
        Model::ALL.into_iter().find(|model| model.name() == text.trim()).ok_or_else(|| ConfigError::UnknownName {
            kind: "model",
            name: text.to_string(),
            valid: names(Model::ALL.map(Model::name)),
        })
    }
}
