//! What the `aio_*` suites share: a loop of its own per test, on a thread
//! of its own and bounded in time, and small waits for the test's own task.

use std::future::Future;
use std::time::{Duration, Instant};

use concur::aio::{self, ReturnWhen, Task};

use super::LONG;

/// Runs `test` on a thread of its own; fails if it has not finished within
/// [`LONG`].
pub(crate) fn bounded<T: Send + 'static>(test: impl FnOnce() -> T + Send + 'static) -> T {
    super::spawn(test).join()
}

/// Runs `main` as the main task of a new loop on a thread of its own and
/// returns its output; fails the test if it has not finished within
/// [`LONG`].
pub(crate) fn run<F>(main: impl FnOnce() -> F + Send + 'static) -> F::Output
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    bounded(move || aio::run(main()).expect("a new loop runs"))
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sleeps without expecting a cancellation (for the test's own task).
pub(crate) async fn nap(n: u64) {
    aio::sleep(ms(n)).await.expect("the test's own task is not cancelled");
}

/// Gives the loop a turn, in which every task that is ready runs:
/// `await asyncio.sleep(0)` (from the main task a task may take several
/// steps in that turn; see `test_cancel_yield`).
pub(crate) async fn yield_now() {
    aio::sleep(Duration::ZERO).await.expect("the test's own task is not cancelled");
}

/// Waits on the loop until `condition` holds; panics well before the
/// thread's own deadline.
pub(crate) async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + LONG / 2;
    while !condition() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        nap(2).await;
    }
}

/// Waits for `task` to finish without taking its value, and hands it back.
pub(crate) async fn finished<T: 'static>(task: Task<T>) -> Task<T> {
    let (mut done, pending) = aio::wait([task], ReturnWhen::AllCompleted, None).await.expect("not cancelled");
    assert!(pending.is_empty());
    done.pop().expect("the one task is done")
}
