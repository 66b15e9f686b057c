//! concur: Python's concurrency toolkit with Rust's guarantees.

mod deadline;
pub mod local;
mod loom;
pub mod queue;
pub mod sync;
pub mod thread;

pub use thread::run;
