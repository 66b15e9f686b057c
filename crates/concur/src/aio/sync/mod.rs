//! Locks, events, semaphores and conditions for tasks: Python's
//! `asyncio.Lock`, `Event`, `Semaphore`, `BoundedSemaphore` and `Condition`.
//!
//! Tasks of one loop take turns on one thread, so two of them never run at
//! the same instant — but a task that pauses at an `.await` in the middle of
//! an update lets the others run before it finishes. Whenever shared state is
//! read, awaited over, then written, the tasks need the same tools threads
//! do, built to *pause the task* instead of blocking the thread:
//!
//! | need | primitive |
//! |---|---|
//! | one task at a time through a section that awaits | [`Lock`] |
//! | "go" from one task to many | [`Event`] |
//! | at most N tasks inside (N connections, N downloads) | [`Semaphore`] |
//! | the same, refusing a release that was never acquired | [`BoundedSemaphore`] |
//! | sleep until shared state changes, with a lock held around the check | [`Condition`] |
//!
//! Never use [`crate::sync`]'s thread primitives in a task: they block the
//! thread, and with it every task of the loop — the holder of the lock
//! included.
//!
//! # Example
//!
//! Ten tasks add to a total with a read, a pause and a write. Without the
//! lock every task reads 0 and the total ends at 1; with it the total is 10.
//!
//! ```
//! use std::cell::Cell;
//! use std::rc::Rc;
//! use std::time::Duration;
//! use concur::aio::{self, Lock};
//!
//! let total = aio::run(async {
//!     let lock = Rc::new(Lock::new());
//!     let total = Rc::new(Cell::new(0));
//!     let tasks = (0..10).map(|_| {
//!         let (lock, total) = (lock.clone(), total.clone());
//!         aio::create_task(async move {
//!             let _turn = lock.acquire().await?; // `async with lock:`
//!             let seen = total.get();
//!             aio::sleep(Duration::from_millis(1)).await?; // others run here
//!             total.set(seen + 1);
//!             Ok::<_, aio::Cancelled>(())
//!         })
//!     });
//!     aio::gather(tasks).await.unwrap();
//!     total.get()
//! })
//! .unwrap();
//! assert_eq!(total, 10);
//! ```
//!
//! # Python
//!
//! | Python `asyncio` | concur |
//! |---|---|
//! | `Lock()`; `async with lock:` | [`Lock::new`]; `let _guard = lock.acquire().await?;` |
//! | `await lock.acquire()` … `lock.release()` | `lock.acquire().await?.forget();` … [`Lock::release`] |
//! | `lock.locked()` | [`Lock::is_locked`] |
//! | `Event()`: `set`, `clear`, `is_set`, `await wait()` | [`Event`]: the same names |
//! | `Semaphore(n)`, `BoundedSemaphore(n)`: `acquire`, `release`, `locked`, `async with` | [`Semaphore`], [`BoundedSemaphore`]: [`acquire`](Semaphore::acquire) gives a [`SemaphoreGuard`] |
//! | `Condition(lock)`: `wait`, `wait_for`, `notify(n)`, `notify_all` | [`Condition`]: the same, each given the [`LockGuard`] that proves the lock is held |
//! | `RuntimeError: Lock is not acquired.` | [`ReleaseError::NotLocked`] |
//! | `ValueError: BoundedSemaphore released too many times` | [`ReleaseError::OverRelease`] |
//! | `CancelledError` at an `await` | [`Cancelled`] |
//!
//! The primitives are not bound to a loop, as Python's are since 3.10: they
//! hold no loop and work under any loop of their thread. They are not
//! `Send`; share one among tasks with an [`Rc`].
//!
//! # Fairness and cancellation
//!
//! Waiters are served first come, first served, as in Python. A release
//! *wakes* the first waiter; the waiter takes the lock (or the permit) when
//! it runs, and until it has, tasks that come later queue behind it.
//!
//! Every wait is a cancellation point: a task cancelled with
//! [`Task::cancel`](super::Task::cancel) gets [`Cancelled`] from the
//! `acquire` or `wait` it is paused on (or is about to start). A waiter that
//! leaves the queue — cancelled, or its future dropped — never takes a
//! wake-up with it: if the lock or a permit had already been passed to it,
//! it passes it on to the next waiter, as CPython's `locks.py` does. A
//! [`Condition::wait`] that is cancelled still takes its lock back before it
//! returns, and passes on a notification it may have consumed.
//!
//! A waiter whose task was cancelled and has not run yet counts as gone,
//! as a cancelled waiter future does in Python: a release, a permit or a
//! `notify(n)` goes past it to the next waiter in the same turn, and a
//! newcomer takes a free lock or permit whose only waiters are such tasks.
//! If the cancellation is withdrawn ([`Task::uncancel`](super::Task::uncancel))
//! before the task runs, the waiter is still in line: it takes the lock or
//! permit if it is free when it runs, and an event's or condition's waiter
//! returns as woken. (In Python its future stays cancelled and the task
//! gets `CancelledError` regardless.)
//!
//! # Why not `tokio::sync`
//!
//! tokio's `Semaphore` is fair and first-in first-out too, and its acquire
//! gives back a permit it was handed when it is dropped. But it hands a
//! released permit straight to the first waiter, where Python only wakes the
//! waiter and keeps later tasks behind it until it has run. The difference
//! shows: in Python `lock.locked()` is false between a release and the woken
//! task's turn, and a task that releases a semaphore and at once acquires it
//! again goes behind the tasks already woken, where with tokio it would take
//! a spare permit first (CPython's `test_acquire_fifo_order_2` and `_4`
//! check that order; so do this crate's tests). The queue here is therefore
//! written out, and small: the tasks of a loop share one thread, so it is a
//! `VecDeque` in a `RefCell`, with no atomics and no mutex, and a waiter
//! leaves it when its future is dropped. [`Event`] and [`Condition`] use the
//! same queue rather than `tokio::sync::Notify`, so that the four share one
//! wake-up rule.

mod condition;
mod event;
mod lock;
mod semaphore;
mod wait_queue;

pub use condition::Condition;
pub use event::Event;
pub use lock::{Lock, LockGuard};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphoreGuard};
