//! The engine under `Lock` and `RLock`: a mutex that is not tied to a thread.
//!
//! parking_lot's `RawMutex` cannot be the engine, for two reasons: unlocking a
//! mutex that is not locked is undefined behaviour there, while Python's
//! `Lock.release()` must detect it and raise; and loom cannot model it. So this
//! is the classic three-state futex mutex (unlocked, locked, locked with
//! sleepers), parking sleepers on a Mutex + Condvar pair from the `loom`
//! facade. The uncontended path is one compare-exchange to acquire and one swap
//! to release, the same work parking_lot does.
//!
//! # Where the time goes
//!
//! With the lock-order checker off, `Lock::guard` compiles to the same loop
//! as `parking_lot::Mutex::lock` (read from `objdump -d` of the `sync`
//! bench): a `lock cmpxchg` to take the lock, a locked `xchg` to release it
//! (parking_lot's is a locked `xadd`), one test each for the slow paths, and
//! nothing else — no call, no load of the name or order. The two cost the
//! same, and the bench's ratio between them wanders either side of 1.0 with
//! the machine's load (0.98–1.03× of parking_lot's time over three
//! alternating runs for issue 19). The checker, when on, adds a
//! thread-local list of held locks and a store of the holder (see
//! `lock_order.rs`): 1.3–1.5× parking_lot's time in the same runs.

use crate::deadline::Deadline;
use crate::loom::sync::atomic::{AtomicU8, Ordering};
use crate::loom::sync::{Condvar, Mutex};

const UNLOCKED: u8 = 0;
const LOCKED: u8 = 1;
/// Locked, and a thread may be asleep waiting for it: release must wake one.
const CONTENDED: u8 = 2;

/// How many times a blocked acquirer re-reads the state before it sleeps.
#[cfg(not(loom))]
const SPINS: u32 = 100;

#[derive(Debug)]
pub(crate) struct RawLock {
    state: AtomicU8,
    sleepers: Mutex<()>,
    wakeup: Condvar,
}

impl RawLock {
    pub(crate) fn new() -> RawLock {
        RawLock { state: AtomicU8::new(UNLOCKED), sleepers: Mutex::new(()), wakeup: Condvar::new() }
    }

    #[inline]
    pub(crate) fn try_acquire(&self) -> bool {
        self.state.compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    #[inline]
    pub(crate) fn acquire(&self) {
        if !self.try_acquire() {
            self.acquire_slow(Deadline::NEVER);
        }
    }

    /// Returns whether the lock was taken before the deadline.
    #[inline]
    pub(crate) fn acquire_until(&self, deadline: Deadline) -> bool {
        self.try_acquire() || self.acquire_slow(deadline)
    }

    #[cold]
    fn acquire_slow(&self, deadline: Deadline) -> bool {
        // A holder usually lets go within a few hundred nanoseconds; re-reading
        // the state for that long is cheaper than a sleep and a wake-up. Only
        // spin while nobody sleeps, so sleepers are not overtaken for ever.
        #[cfg(not(loom))]
        for _ in 0..SPINS {
            match self.state.load(Ordering::Relaxed) {
                UNLOCKED if self.try_acquire() => return true,
                CONTENDED => break,
                _ => std::hint::spin_loop(),
            }
        }
        let mut sleepers = self.sleepers.lock();
        loop {
            // Marking the lock contended before sleeping, while holding
            // `sleepers`, is what makes a wake-up impossible to miss: a releaser
            // that sees CONTENDED must take `sleepers` to notify, and cannot get
            // it before this thread is inside `wait`.
            if self.state.swap(CONTENDED, Ordering::Acquire) == UNLOCKED {
                return true;
            }
            if deadline.has_passed() {
                return false;
            }
            deadline.wait(&self.wakeup, &mut sleepers);
        }
    }

    /// Unlocks. Returns `false`, changing nothing, when the lock was not locked.
    #[inline]
    pub(crate) fn release(&self) -> bool {
        match self.state.swap(UNLOCKED, Ordering::Release) {
            UNLOCKED => false,
            LOCKED => true,
            _ => {
                self.wake_one();
                true
            }
        }
    }

    #[cold]
    fn wake_one(&self) {
        let _sleepers = self.sleepers.lock();
        self.wakeup.notify_one();
    }

    #[inline]
    pub(crate) fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) != UNLOCKED
    }
}
