//! `Event`: Python's `threading.Event`, a flag threads can wait for.

use std::fmt;
use std::time::Duration;

use crate::deadline::Deadline;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::{Condvar, Mutex};

/// A flag that starts cleared; threads wait until some thread sets it.
///
/// One thread calls [`set`](Self::set) and every waiter wakes; the flag stays
/// set, so later waiters return at once, until [`clear`](Self::clear). The
/// simplest way for one thread to tell many "go".
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use concur::sync::Event;
///
/// let start = Arc::new(Event::new());
/// let runners: Vec<_> = (0..3)
///     .map(|i| {
///         let start = start.clone();
///         std::thread::spawn(move || {
///             start.wait(); // parked until the signal
///             i * 10
///         })
///     })
///     .collect();
/// start.set();
/// let total: i32 = runners.into_iter().map(|r| r.join().unwrap()).sum();
/// assert_eq!(total, 30);
/// ```
///
/// # Python
///
/// `threading.Event`: `set`, `clear`, `is_set`, and `wait(timeout)` as
/// [`wait`](Self::wait) and [`wait_timeout`](Self::wait_timeout). As in
/// Python, a waiter woken by `set` reports success even if the flag was
/// cleared again before it ran.
pub struct Event {
    /// The flag. Set only while `generation` is locked; read and cleared
    /// without the lock.
    flag: AtomicBool,
    /// Counts the times the flag went from cleared to set, so a waiter can
    /// tell a `set` happened even when a `clear` followed it.
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Event {
    /// Creates a cleared event.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur::sync::Event::new().is_set());
    /// ```
    pub fn new() -> Event {
        Event { flag: AtomicBool::new(false), generation: Mutex::new(0), changed: Condvar::new() }
    }

    /// Sets the flag and wakes every waiting thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = concur::sync::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// event.wait(); // returns at once
    /// ```
    pub fn set(&self) {
        if self.is_set() {
            return;
        }
        let mut generation = self.generation.lock();
        if self.flag.load(Ordering::Relaxed) {
            return;
        }
        self.flag.store(true, Ordering::Release);
        *generation += 1;
        drop(generation);
        // Notified after the unlock, so parking_lot wakes the waiters at once
        // instead of moving them to the mutex's queue for the unlock to wake:
        // one hand-off less on a wake-up's path. Nothing is missed — a
        // waiter that has not parked yet holds the lock, so it reads the new
        // generation first.
        self.changed.notify_all();
    }

    /// Clears the flag; later waiters block until the next `set`.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = concur::sync::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        // No lock needed: a waiter learns of a `set` from the generation, which
        // only `set` changes, so a racing `clear` can at worst be ordered
        // before or after that `set`, both of which are correct outcomes.
        self.flag.store(false, Ordering::Release);
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = concur::sync::Event::new();
    /// assert!(!event.is_set());
    /// ```
    #[inline]
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Blocks until the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let ready = Arc::new(concur::sync::Event::new());
    /// let setter = ready.clone();
    /// std::thread::spawn(move || setter.set());
    /// ready.wait();
    /// assert!(ready.is_set());
    /// ```
    pub fn wait(&self) {
        self.wait_until(Deadline::NEVER);
    }

    /// Blocks until the flag is set or `timeout` passes. Returns `true` if the
    /// flag was set (now, or by a `set` during the wait), `false` on timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let event = concur::sync::Event::new();
    /// assert!(!event.wait_timeout(Duration::from_millis(5)));
    /// event.set();
    /// assert!(event.wait_timeout(Duration::from_millis(5)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(Deadline::after(timeout))
    }

    fn wait_until(&self, deadline: Deadline) -> bool {
        if self.is_set() {
            return true;
        }
        let mut generation = self.generation.lock();
        let start = *generation;
        loop {
            if self.flag.load(Ordering::Relaxed) || *generation != start {
                return true;
            }
            if deadline.has_passed() {
                return false;
            }
            deadline.wait(&self.changed, &mut generation);
        }
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("set", &self.is_set()).finish()
    }
}
