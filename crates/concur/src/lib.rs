//! concur: Python's concurrency toolkit with Rust's guarantees.

mod deadline;
mod loom;
pub mod sync;
pub mod thread;
