//! Callbacks on the loop: the [`Handle`] that cancels one before it runs,
//! and how the loop runs one (a panic logged, a slow one reported).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::exception::report_panic;

/// A scheduled callback, which can be cancelled until it runs.
///
/// # Examples
///
/// ```
/// let lp = concur::aio::EventLoop::new().unwrap();
/// let handle = lp.call_soon(|| unreachable!("cancelled first"));
/// handle.cancel();
/// lp.run_until_complete(async {}).unwrap();
/// ```
///
/// # Python
///
/// `asyncio.Handle`: `cancel()`, `cancelled()`.
#[derive(Debug, Clone)]
pub struct Handle {
    cancelled: Arc<AtomicBool>,
}

impl Handle {
    pub(crate) fn new() -> Handle {
        Handle { cancelled: Arc::new(AtomicBool::new(false)) }
    }

    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.cancelled.clone()
    }

    /// Keeps the callback from running, if it has not run yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// lp.call_soon(|| {}).cancel();
    /// ```
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// assert!(!lp.call_soon(|| {}).is_cancelled());
    /// ```
    ///
    /// # Python
    ///
    /// `handle.cancelled()`.
    #[doc(alias = "cancelled")]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// Runs a callback; a panic in it goes to the loop's exception handler
/// and the loop goes on, as Python's loop reports a callback's exception.
/// In debug mode (`slow` set) it runs inside a `callback` span, warned
/// about when slower than `slow`.
pub(crate) fn run_callback(callback: impl FnOnce(), slow: Option<Duration>) {
    let run = || {
        if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(callback)) {
            report_panic("Exception in callback", &*panic);
        }
    };
    match slow {
        None => run(),
        Some(slow) => timed(tracing::warn_span!(target: "concur::aio", "callback"), slow, "a callback", run),
    }
}

/// Debug mode: runs one step of the loop's work (a callback, a task's poll)
/// inside `span`, and warns inside it when the step held the loop longer
/// than `slow`, so that the warning names what was slow and any event the
/// step logged sits under the same span.
///
/// The span is at warn level, the level of the warning, so that a filter
/// that lets the warning through (`RUST_LOG=concur::aio=warn`) shows the
/// span with it.
pub(super) fn timed<R>(span: tracing::Span, slow: Duration, what: &str, step: impl FnOnce() -> R) -> R {
    let _entered = span.enter();
    let started = Instant::now();
    let output = step();
    let took = started.elapsed();
    if took > slow {
        tracing::warn!(
            target: "concur::aio",
            took_ms = took.as_millis() as u64,
            threshold_ms = slow.as_millis() as u64,
            "{what} blocked the event loop"
        );
    }
    output
}
