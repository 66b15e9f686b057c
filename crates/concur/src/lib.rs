//! concur: Python's concurrency toolkit with Rust's guarantees.

// Parts of these two are used only by `sync`, which lives on another branch
// until merged; without it they would warn as unused.
#[allow(dead_code)]
mod deadline;
pub mod local;
#[allow(unused_imports)]
mod loom;
pub mod thread;

pub use thread::run;
