//! [`run`]: the end of a Python program, where the interpreter waits for the
//! threads that are not daemons.

use std::panic::{self, AssertUnwindSafe};

use crate::deadline::Deadline;

use super::current_ident;
use super::registry;

/// Runs `main` on the calling thread, then waits for every thread spawned by
/// concur that is still alive and not a daemon, and returns `main`'s result.
/// Daemon threads are left running.
///
/// Threads spawned while waiting (by the threads being waited for) are waited
/// for too: `run` returns only when no non-daemon thread other than the
/// caller is alive.
///
/// # Panics
///
/// If `main` panics, `run` still waits for the non-daemon threads, then
/// resumes the panic. If a non-daemon thread never finishes, neither does
/// `run`, as a Python program with such a thread never exits.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let wrote = Arc::new(AtomicBool::new(false));
/// let flag = Arc::clone(&wrote);
/// let answer = concur::run(move || {
///     // Not joined: `run` waits for it anyway.
///     concur::thread::Builder::new()
///         .daemon(false)
///         .spawn(move || {
///             std::thread::sleep(Duration::from_millis(20));
///             flag.store(true, Ordering::SeqCst);
///         })
///         .unwrap();
///     42
/// });
/// assert_eq!(answer, 42);
/// assert!(wrote.load(Ordering::SeqCst));
/// ```
///
/// # Python
///
/// What the interpreter does when the main module ends (`threading._shutdown`):
/// join every non-daemon thread, leave the daemons. A Rust program's process
/// ends when `main` returns, killing every other thread; wrap `main`'s body
/// in `concur::run` to get Python's behaviour.
pub fn run<T>(main: impl FnOnce() -> T) -> T {
    // AssertUnwindSafe: the panic is resumed unchanged once the threads are
    // done, so nothing observes state `main` may have left half-updated.
    let outcome = panic::catch_unwind(AssertUnwindSafe(main));
    let me = current_ident();
    loop {
        let pending = registry::non_daemon_threads_except(me);
        if pending.is_empty() {
            break;
        }
        for thread in pending {
            thread.wait_finished(Deadline::NEVER);
        }
    }
    match outcome {
        Ok(value) => value,
        Err(payload) => panic::resume_unwind(payload),
    }
}
