//! `Barrier`: Python's `threading.Barrier`, a meeting point for a fixed
//! number of threads.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use super::error::{BrokenBarrier, ZeroParties};
use super::name::{self, Name};
use crate::deadline::Deadline;
use crate::loom::sync::{Condvar, Mutex};

/// Where a barrier is in its cycle (CPython's `_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Threads are arriving.
    Filling,
    /// Everyone arrived; the waiters are leaving.
    Draining,
    /// `reset` was called while threads waited; they are leaving with an error.
    Resetting,
    /// Broken until `reset`: every wait fails.
    Broken,
}

type Action = Box<dyn FnMut() + Send>;

struct State {
    phase: Phase,
    /// Threads inside `wait` (arrived and not yet left).
    count: usize,
    action: Option<Action>,
}

/// Makes `parties` threads wait until all of them have arrived, then lets
/// them all go, and is ready for the next round.
///
/// Each [`wait`](Self::wait) returns the caller's arrival index, `0` for the
/// first and `parties - 1` for the last, so exactly one thread can be picked
/// for a one-off job. An optional action runs in the last arriving thread
/// before anyone is released.
///
/// A barrier *breaks* when a waiter times out, when [`abort`](Self::abort) is
/// called, when [`reset`](Self::reset) is called while threads wait, or when
/// the action panics. Every thread waiting then, and every later `wait` until
/// `reset`, returns [`BrokenBarrier`] — nobody is left waiting for a party
/// that will never come.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use concur::sync::Barrier;
///
/// let start = Arc::new(Barrier::new(3).unwrap());
/// let runners: Vec<_> = (0..3)
///     .map(|_| {
///         let start = start.clone();
///         std::thread::spawn(move || start.wait().unwrap())
///     })
///     .collect();
/// let mut indexes: Vec<usize> = runners.into_iter().map(|r| r.join().unwrap()).collect();
/// indexes.sort();
/// assert_eq!(indexes, [0, 1, 2]);
/// ```
///
/// # Python
///
/// `threading.Barrier(parties, action, timeout)`: [`with_action`](Self::with_action),
/// [`with_timeout`](Self::with_timeout), `wait(timeout)` as
/// [`wait_timeout`](Self::wait_timeout), `reset`, `abort`, `parties`,
/// `n_waiting`, `broken` as [`is_broken`](Self::is_broken). Where Python
/// raises `BrokenBarrierError`, the call returns [`BrokenBarrier`]. A
/// panicking action breaks the barrier and the panic continues in the thread
/// that ran it, as the exception does in Python.
pub struct Barrier {
    parties: usize,
    timeout: Option<Duration>,
    state: Mutex<State>,
    changed: Condvar,
    id: u64,
    name: Name,
}

impl Barrier {
    /// Creates a barrier for `parties` threads.
    ///
    /// # Errors
    ///
    /// [`ZeroParties`] if `parties` is 0: nobody could ever pass such a
    /// barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = concur::sync::Barrier::new(1).unwrap();
    /// assert_eq!(barrier.wait(), Ok(0)); // one party: never waits
    /// assert!(concur::sync::Barrier::new(0).is_err());
    /// ```
    ///
    /// # Python
    ///
    /// `threading.Barrier(parties)`, which raises `ValueError` for
    /// `parties < 1`. (`std::sync::Barrier` and tokio's treat 0 as 1.)
    pub fn new(parties: usize) -> Result<Barrier, ZeroParties> {
        if parties == 0 {
            return Err(ZeroParties);
        }
        Ok(Barrier {
            parties,
            timeout: None,
            state: Mutex::new(State { phase: Phase::Filling, count: 0, action: None }),
            changed: Condvar::new(),
            id: name::next_id(),
            name: Name::default(),
        })
    }

    /// Runs `action` in the last thread to arrive, each round, before the
    /// others are released.
    ///
    /// The action runs under the barrier's internal lock: it must not call
    /// this barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let rounds = Arc::new(AtomicUsize::new(0));
    /// let r = rounds.clone();
    /// let barrier = concur::sync::Barrier::new(1).unwrap().with_action(move || {
    ///     r.fetch_add(1, Ordering::Relaxed);
    /// });
    /// barrier.wait().unwrap();
    /// barrier.wait().unwrap();
    /// assert_eq!(rounds.load(Ordering::Relaxed), 2);
    /// ```
    pub fn with_action(self, action: impl FnMut() + Send + 'static) -> Barrier {
        self.state.lock().action = Some(Box::new(action));
        self
    }

    /// Sets the timeout [`wait`](Self::wait) uses.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let barrier = concur::sync::Barrier::new(2).unwrap().with_timeout(Duration::from_millis(5));
    /// assert!(barrier.wait().is_err()); // the second party never came
    /// assert!(barrier.is_broken());
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Barrier {
        self.timeout = Some(timeout);
        self
    }

    /// Gives the barrier a name for error messages.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = concur::sync::Barrier::new(2).unwrap().with_name("round");
    /// barrier.abort();
    /// assert!(barrier.wait().unwrap_err().to_string().contains("\"round\""));
    /// ```
    pub fn with_name(mut self, name: &str) -> Barrier {
        self.name = Name::new(name);
        self
    }

    /// Waits until `parties` threads are waiting, or the timeout set by
    /// [`with_timeout`](Self::with_timeout) passes. Returns the caller's
    /// arrival index.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] if the barrier is broken, or breaks while waiting.
    /// A timeout breaks it.
    ///
    /// # Panics
    ///
    /// If the action panics, in the thread that ran it, after breaking the
    /// barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let barrier = Arc::new(concur::sync::Barrier::new(2).unwrap());
    /// let other = barrier.clone();
    /// let t = std::thread::spawn(move || other.wait().unwrap());
    /// let mine = barrier.wait().unwrap();
    /// assert_eq!(mine + t.join().unwrap(), 1); // indexes 0 and 1
    /// ```
    pub fn wait(&self) -> Result<usize, BrokenBarrier> {
        self.wait_until(Deadline::from_timeout(self.timeout), "Barrier::wait")
    }

    /// As [`wait`](Self::wait) with this call's own timeout.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`], as for [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let barrier = concur::sync::Barrier::new(2).unwrap();
    /// assert!(barrier.wait_timeout(Duration::from_millis(5)).is_err());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrier> {
        self.wait_until(Deadline::after(timeout), "Barrier::wait_timeout")
    }

    fn wait_until(&self, deadline: Deadline, call: &'static str) -> Result<usize, BrokenBarrier> {
        let mut state = self.state.lock();
        // A round still draining (or resetting) must empty before a new one
        // starts filling.
        while matches!(state.phase, Phase::Draining | Phase::Resetting) {
            self.changed.wait(&mut state);
        }
        if state.phase == Phase::Broken {
            return Err(self.broken(call));
        }
        let index = state.count;
        state.count += 1;
        let passed = if index + 1 == self.parties {
            let outcome = match state.action.as_mut() {
                Some(action) => panic::catch_unwind(AssertUnwindSafe(action)),
                None => Ok(()),
            };
            if let Err(panic) = outcome {
                self.break_now(&mut state);
                self.leave(&mut state);
                drop(state);
                panic::resume_unwind(panic);
            }
            state.phase = Phase::Draining;
            self.changed.notify_all();
            true
        } else {
            while state.phase == Phase::Filling {
                if deadline.has_passed() {
                    self.break_now(&mut state);
                    break;
                }
                deadline.wait(&self.changed, &mut state);
            }
            state.phase == Phase::Draining
        };
        self.leave(&mut state);
        if passed {
            Ok(index)
        } else {
            Err(self.broken(call))
        }
    }

    /// The last thread out of a draining or resetting round opens the next.
    fn leave(&self, state: &mut State) {
        state.count -= 1;
        if state.count == 0 && matches!(state.phase, Phase::Draining | Phase::Resetting) {
            state.phase = Phase::Filling;
            self.changed.notify_all();
        }
    }

    fn break_now(&self, state: &mut State) {
        state.phase = Phase::Broken;
        self.changed.notify_all();
    }

    fn broken(&self, call: &'static str) -> BrokenBarrier {
        BrokenBarrier { call, object: self.name.describe_id("Barrier", self.id) }
    }

    /// Returns the barrier to its empty, unbroken state. Threads waiting now
    /// get [`BrokenBarrier`].
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = concur::sync::Barrier::new(2).unwrap();
    /// barrier.abort();
    /// assert!(barrier.is_broken());
    /// barrier.reset();
    /// assert!(!barrier.is_broken());
    /// ```
    pub fn reset(&self) {
        let mut state = self.state.lock();
        state.phase = if state.count > 0 {
            match state.phase {
                // Waiters still leave with an error; the last one out reopens.
                Phase::Filling | Phase::Broken => Phase::Resetting,
                draining_or_resetting => draining_or_resetting,
            }
        } else {
            Phase::Filling
        };
        self.changed.notify_all();
    }

    /// Breaks the barrier: every waiter, now and until [`reset`](Self::reset),
    /// gets [`BrokenBarrier`]. Use it when a party will not come, so the
    /// others do not wait for ever.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = concur::sync::Barrier::new(3).unwrap();
    /// barrier.abort();
    /// assert!(barrier.wait().is_err());
    /// ```
    pub fn abort(&self) {
        let mut state = self.state.lock();
        self.break_now(&mut state);
    }

    /// How many threads must call `wait` for the barrier to open.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::sync::Barrier::new(4).unwrap().parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many threads are waiting in the round that is filling now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::sync::Barrier::new(2).unwrap().n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        let state = self.state.lock();
        if state.phase == Phase::Filling {
            state.count
        } else {
            0
        }
    }

    /// Whether the barrier is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = concur::sync::Barrier::new(2).unwrap();
    /// assert!(!barrier.is_broken());
    /// ```
    #[doc(alias = "broken")]
    pub fn is_broken(&self) -> bool {
        self.state.lock().phase == Phase::Broken
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Barrier")
            .field("name", &self.name)
            .field("parties", &self.parties)
            .field("phase", &state.phase)
            .field("count", &state.count)
            .finish()
    }
}
