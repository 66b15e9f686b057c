//! Locks, events, conditions, semaphores and barriers: Python's `threading`
//! synchronization primitives.
//!
//! Threads share memory, and two threads updating the same thing at once can
//! lose an update: both read 5, both write 6. The primitives here let threads
//! take turns ([`Lock`], [`RLock`]), signal each other ([`Event`],
//! [`Condition`]), limit how many run a section at once ([`Semaphore`],
//! [`BoundedSemaphore`]) and meet at a point ([`Barrier`]).
//!
//! | need | primitive |
//! |---|---|
//! | one thread at a time in a section | [`Lock`] |
//! | the same, where a holder calls code that takes the lock again | [`RLock`] |
//! | several locks at once, without deadlock | [`acquire_all`] |
//! | "go" from one thread to many | [`Event`] |
//! | sleep until shared state changes | [`Condition`] |
//! | at most N threads inside | [`Semaphore`], [`BoundedSemaphore`] |
//! | N threads start a phase together | [`Barrier`] |
//!
//! # Example
//!
//! Ten threads add to a total with a separate read and write. Without the lock
//! some additions are lost; with it the count is exact.
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//! use concur::sync::Lock;
//!
//! let lock = Arc::new(Lock::new().with_name("total"));
//! let total = Arc::new(AtomicU64::new(0));
//! let threads: Vec<_> = (0..10)
//!     .map(|_| {
//!         let (lock, total) = (lock.clone(), total.clone());
//!         concur::thread::spawn(move || {
//!             for _ in 0..10_000 {
//!                 let _turn = lock.guard();
//!                 let seen = total.load(Ordering::Relaxed);
//!                 total.store(seen + 1, Ordering::Relaxed);
//!             }
//!         })
//!     })
//!     .collect();
//! for t in threads {
//!     t.join().unwrap();
//! }
//! assert_eq!(total.load(Ordering::Relaxed), 100_000);
//! ```
//!
//! # Misuse is an error
//!
//! Python raises where a primitive is misused; each call here returns a typed
//! error instead, whose message names the call and the object: releasing an
//! unlocked [`Lock`] ([`ReleaseError::NotLocked`]), releasing an [`RLock`]
//! the caller does not own ([`ReleaseError::NotOwner`]), waiting on or
//! notifying a [`Condition`] without its lock ([`NotOwner`]), releasing a
//! [`BoundedSemaphore`] too often ([`ReleaseError::OverRelease`]), waiting on
//! a broken [`Barrier`] ([`BrokenBarrier`]). Nothing changes when an error is
//! returned. Making a [`Barrier`] for 0 parties is refused too
//! ([`ZeroParties`]), where Python raises `ValueError`.
//!
//! # Which `release` returns a `Result`: one rule
//!
//! A `release` returns `Result` exactly when the primitive can refuse it,
//! and `()` when no call can go wrong:
//!
//! | primitive | `release` | refused when |
//! |---|---|---|
//! | [`Lock`] | `Result<(), ReleaseError>` | it is not locked |
//! | [`RLock`] | `Result<(), ReleaseError>` | the caller does not hold it |
//! | [`Condition`] | `Result<(), ReleaseError>` | as its lock's `release` |
//! | [`BoundedSemaphore`] | `Result<(), ReleaseError>` | it would pass its initial value |
//! | [`Semaphore`] | `()` | never: any thread may release, any number of times, as in Python |
//!
//! A `Result` nobody looks at is a warning (`#[must_use]`), so switching a
//! `Semaphore` to a `BoundedSemaphore` — the one change that turns a release
//! that cannot fail into one that can — makes the compiler point at every
//! release whose error would be lost:
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! let sem = concur::sync::BoundedSemaphore::new(1);
//! sem.release(); // error: unused `Result` that must be used
//! ```
//!
//! while the same line on a plain [`Semaphore`] is fine, since there is
//! nothing to report:
//!
//! ```
//! #![deny(unused_must_use)]
//! let sem = concur::sync::Semaphore::new(1);
//! sem.release();
//! assert_eq!(sem.value(), 2);
//! ```
//!
//! The async primitives of [`aio`](crate::aio) follow the same rule.
//!
//! # Deadlocks found early
//!
//! In debug builds, every blocking acquisition of a [`Lock`] or [`RLock`]
//! feeds the [`lock_order`] graph, which reports two code paths that take the
//! same locks in opposite orders the first time the second order runs —
//! without waiting for the unlucky timing that turns it into a hang.
//!
//! # Python
//!
//! | Python `threading` | concur |
//! |---|---|
//! | `Lock()` | [`Lock::new`] |
//! | `RLock()` | [`RLock::new`] |
//! | `acquire(*locks)` recipe | [`acquire_all`] |
//! | `Event()` | [`Event::new`] |
//! | `Condition(lock)` | [`Condition::new`], [`Condition::with_lock`]; `wait_for` returns the predicate's last value ([`Truthy`]) |
//! | `Semaphore(n)`, `BoundedSemaphore(n)` | [`Semaphore::new`], [`BoundedSemaphore::new`] |
//! | `Barrier(n, action, timeout)` | [`Barrier::new`] + `with_action`, `with_timeout` |
//! | `RuntimeError`, `ValueError`, `BrokenBarrierError` | [`ReleaseError`], [`NotOwner`], [`BrokenBarrier`], [`ZeroParties`] |
//! | `locked()`, `broken` | `is_locked`, `is_broken` (Python's names are search aliases) |
//!
//! Everything here works across threads without a global interpreter lock:
//! two threads really do run at once, which is why the counter above needs its
//! lock in Rust exactly as it does in Python.

mod acquire_all;
mod barrier;
mod condition;
mod error;
mod event;
mod lock;
pub mod lock_order;
mod name;
mod raw;
mod rlock;
mod semaphore;

pub use acquire_all::{acquire_all, AllGuard};
pub use barrier::Barrier;
pub use condition::{Condition, ConditionGuard, ConditionLock, Truthy};
pub use error::{BrokenBarrier, NotOwner, ReleaseError, ZeroParties};
pub use event::Event;
pub use lock::{Lock, LockGuard};
pub use lock_order::LockOrderViolation;
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphoreGuard};
