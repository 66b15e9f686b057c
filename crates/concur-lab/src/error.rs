//! Why a bench run stopped.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::model::Model;
use crate::workload::Workload;

/// Why [`run`](crate::run) stopped. Whatever the reason, the run has
/// removed its temporary files, stopped its server and worker processes,
/// and removed any output folder it created.
///
/// # Examples
///
/// ```
/// use concur_lab::{BenchConfig, BenchError};
///
/// let error = concur_lab::run(&BenchConfig { n: 0, ..BenchConfig::default() }).unwrap_err();
/// assert!(matches!(error, BenchError::Config(_)));
/// assert_eq!(error.exit_code(), 2);
/// ```
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The settings cannot work; nothing ran.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The output folder cannot be created or written.
    #[error("cannot write the report to {}: {source}; choose another --out", path.display())]
    OutDir {
        /// The folder asked for.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// No temporary folder for the `disk` files.
    #[error("could not create a temporary folder for the disk workload: {0}; check that TMPDIR is writable")]
    Scratch(std::io::Error),
    /// The page server of `net` did not start.
    #[error("{0}")]
    Server(String),
    /// The disk filled up during `disk`.
    #[error("the {model} cell of the disk workload stopped: {detail}")]
    DiskFull {
        /// The model that was running.
        model: Model,
        /// What the system said, and where.
        detail: String,
    },
    /// A cell failed for another reason.
    #[error("the {model} cell of the {workload} workload failed: {detail}")]
    Cell {
        /// The workload.
        workload: Workload,
        /// The model.
        model: Model,
        /// What went wrong.
        detail: String,
    },
    /// A report file could not be made or written.
    #[error("could not write the report file {}: {detail}", path.display())]
    Report {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
}

impl BenchError {
    /// The process exit code for this error: 2 for what the user can fix —
    /// bad settings, an output folder that cannot be written, a full disk —
    /// and 1 for the rest.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_lab::BenchError;
    ///
    /// assert_eq!(BenchError::Server("no port".into()).exit_code(), 1);
    /// ```
    pub fn exit_code(&self) -> i32 {
        match self {
            BenchError::Config(_) | BenchError::OutDir { .. } | BenchError::DiskFull { .. } => 2,
            _ => 1,
        }
    }
}
