//! concur: Python's concurrency toolkit with Rust's guarantees.

mod deadline;
mod loom;
pub mod thread;
pub mod sync;
