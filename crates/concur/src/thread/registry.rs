//! Every live thread the program knows about, and the [`Thread`] handle that
//! names one.
//!
//! Python keeps a dictionary from `ident` to `Thread` object (`threading._active`)
//! that `enumerate()` and `active_count()` read and interpreter shutdown walks
//! to find the threads it must wait for. This module is that dictionary. Three
//! kinds of thread enter it:
//!
//! - the process's main thread, always there (`MainThread`, not a daemon);
//! - a thread spawned by concur, from the moment `spawn` is called until its
//!   function has returned or panicked;
//! - a "dummy" thread, made by someone else (`std::thread::spawn`, a C
//!   library, the test harness), the first time it calls [`current`]; it stays
//!   until the OS thread exits, which a thread-local destructor notices.
//!
//! The map is ordered by identifier, so `enumerate()` lists threads in the
//! order they were first known, the main thread first.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use crate::deadline::Deadline;
// The finish flag goes through the loom facade only because `Deadline::wait`
// takes the facade's condition variable; outside loom these are parking_lot's.
use crate::loom::sync::{Condvar, Mutex};

use super::current_ident;
use super::ident::MAIN_IDENT;

/// A handle to one thread known to concur: its name, identifier, daemon flag
/// and whether it is still alive.
///
/// Handles are cheap to clone and compare equal when they name the same
/// thread. Get one from [`current`], [`main_thread`], [`enumerate`] or
/// [`JoinHandle::thread`](super::JoinHandle::thread).
///
/// # Examples
///
/// ```
/// use concur::thread;
///
/// let handle = thread::Builder::new()
///     .name("worker")
///     .spawn(|| thread::current())
///     .unwrap();
/// let seen_from_inside = handle.join().unwrap();
/// assert_eq!(seen_from_inside.name(), "worker");
/// assert!(!seen_from_inside.is_alive());
/// ```
///
/// # Python
///
/// `threading.Thread` seen from outside after `start()`: `name`, `ident`,
/// `daemon`, `is_alive()`. The name and daemon flag are fixed at spawn time
/// here; Python lets them be reassigned (the daemon flag only before
/// `start()`). `Debug` plays the part of `repr()`.
#[derive(Clone)]
pub struct Thread {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    ident: u64,
    daemon: bool,
    kind: Kind,
    finished: Mutex<bool>,
    finished_changed: Condvar,
}

/// Where a registered thread came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Main,
    Spawned,
    Dummy,
}

impl Thread {
    pub(super) fn new(name: String, ident: u64, daemon: bool, kind: Kind) -> Thread {
        Thread {
            inner: Arc::new(Inner {
                name,
                ident,
                daemon,
                kind,
                finished: Mutex::new(false),
                finished_changed: Condvar::new(),
            }),
        }
    }

    /// The thread's name: the one given to
    /// [`Builder::name`](super::Builder::name), or `Thread-N`, `Dummy-N` or
    /// `MainThread`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::thread::main_thread().name(), "MainThread");
    /// ```
    ///
    /// # Python
    ///
    /// `Thread.name`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The thread's identifier: non-zero, and never given to another thread
    /// of this process, even after this one has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread;
    ///
    /// let handle = thread::spawn(|| thread::current().ident());
    /// let expected = handle.ident();
    /// assert_eq!(handle.join().unwrap(), expected);
    /// assert_ne!(expected, thread::current().ident());
    /// ```
    ///
    /// # Python
    ///
    /// `Thread.ident` and `threading.get_ident()`. Python may reuse an
    /// identifier once its thread has exited; concur never does. Unlike
    /// Python's, it is known as soon as `spawn` returns.
    pub fn ident(&self) -> u64 {
        self.inner.ident
    }

    /// Whether the thread is a daemon: one that [`concur::run`](crate::run)
    /// does not wait for.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread;
    ///
    /// assert!(!thread::main_thread().is_daemon());
    /// let handle = thread::Builder::new().daemon(true).spawn(|| ()).unwrap();
    /// assert!(handle.thread().is_daemon());
    /// handle.join().unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `Thread.daemon`. Dummy threads are daemons, as in Python.
    #[doc(alias = "daemon")]
    pub fn is_daemon(&self) -> bool {
        self.inner.daemon
    }

    /// Whether the thread is still running: `false` once a spawned thread's
    /// function has returned or panicked, or once a dummy thread's OS thread
    /// has exited. The main thread is always alive.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread;
    ///
    /// let handle = thread::spawn(|| ());
    /// let seen = handle.thread().clone();
    /// handle.join().unwrap();
    /// assert!(!seen.is_alive());
    /// ```
    ///
    /// # Python
    ///
    /// `Thread.is_alive()`.
    pub fn is_alive(&self) -> bool {
        !*self.inner.finished.lock()
    }

    pub(super) fn kind(&self) -> Kind {
        self.inner.kind
    }

    /// Takes the thread out of the registry and wakes everyone waiting for it.
    pub(super) fn finish(&self) {
        // Out of the registry first, so that whoever sees the thread finished
        // also no longer finds it in `enumerate()`.
        REGISTRY.lock().remove(&self.inner.ident);
        *self.inner.finished.lock() = true;
        self.inner.finished_changed.notify_all();
    }

    /// Blocks until the thread has finished or `deadline` passes; says whether
    /// it finished.
    pub(super) fn wait_finished(&self, deadline: Deadline) -> bool {
        let mut finished = self.inner.finished.lock();
        while !*finished {
            if !deadline.wait(&self.inner.finished_changed, &mut finished) && !*finished {
                return false;
            }
        }
        true
    }
}

impl PartialEq for Thread {
    fn eq(&self, other: &Thread) -> bool {
        self.inner.ident == other.inner.ident
    }
}

impl Eq for Thread {}

impl Hash for Thread {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.ident.hash(state);
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thread")
            .field("name", &self.inner.name)
            .field("ident", &self.inner.ident)
            .field("daemon", &self.inner.daemon)
            .field("alive", &self.is_alive())
            .finish()
    }
}

/// Live threads by identifier. A parking_lot mutex outside the loom facade:
/// it is a process-wide static, which loom's types cannot be.
static REGISTRY: LazyLock<parking_lot::Mutex<BTreeMap<u64, Thread>>> = LazyLock::new(|| {
    let main = Thread::new("MainThread".to_owned(), MAIN_IDENT, false, Kind::Main);
    parking_lot::Mutex::new(BTreeMap::from([(MAIN_IDENT, main)]))
});

/// Python's `threading._counter`: one sequence shared by `Thread-N` and
/// `Dummy-N`, starting at 1.
static NAME_COUNTER: AtomicU64 = AtomicU64::new(1);

/// The next default name with the given prefix: `Thread-3`, `Dummy-4`, …
pub(super) fn next_name(prefix: &str) -> String {
    // Relaxed: the counter only has to hand out distinct numbers.
    let number = NAME_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{number}")
}

pub(super) fn register(thread: Thread) {
    REGISTRY.lock().insert(thread.ident(), thread);
}

/// The calling thread's handle, set the first time it is asked for (or at
/// start for a spawned thread). Dropping it is how a dummy thread leaves the
/// registry when its OS thread exits.
struct CurrentSlot(OnceCell<Thread>);

impl Drop for CurrentSlot {
    fn drop(&mut self) {
        if let Some(thread) = self.0.get() {
            if thread.kind() == Kind::Dummy {
                thread.finish();
            }
        }
    }
}

std::thread_local! {
    static CURRENT: CurrentSlot = const { CurrentSlot(OnceCell::new()) };
}

/// Records `thread` as the calling thread's handle; called first thing on a
/// thread spawned by concur.
pub(super) fn set_current(thread: Thread) {
    CURRENT.with(|slot| {
        debug_assert!(slot.0.get().is_none(), "a thread was given two handles");
        // A spawned thread sets its slot before running any user code, so
        // the slot is empty here and `set` cannot fail.
        let _ = slot.0.set(thread);
    });
}

/// Whether a thread spawned now from the calling thread is a daemon unless
/// told otherwise: Python's rule, "the daemon flag of the creating thread".
/// Unlike [`current`], this does not register the caller as a dummy thread.
pub(super) fn current_is_daemon() -> bool {
    let known = CURRENT.try_with(|slot| slot.0.get().map(Thread::is_daemon));
    match known {
        Ok(Some(daemon)) => daemon,
        _ => current_ident() != MAIN_IDENT,
    }
}

/// The handle of the calling thread.
///
/// A thread that concur did not spawn, other than the main thread, is
/// registered the first time it calls `current()` as a dummy thread: named
/// `Dummy-N`, a daemon, and listed by [`enumerate`] until it exits.
///
/// # Examples
///
/// ```
/// use concur::thread;
///
/// let handle = thread::Builder::new()
///     .name("reporter")
///     .spawn(|| thread::current().name().to_owned())
///     .unwrap();
/// assert_eq!(handle.join().unwrap(), "reporter");
///
/// // A thread from the standard library becomes a dummy thread.
/// let name = std::thread::spawn(|| thread::current().name().to_owned())
///     .join()
///     .unwrap();
/// assert!(name.starts_with("Dummy-"));
/// ```
///
/// # Python
///
/// `threading.current_thread()`, dummy threads included.
pub fn current() -> Thread {
    let found = CURRENT.try_with(|slot| slot.0.get_or_init(|| identify_caller(true)).clone());
    // The slot is gone only while this thread's thread-locals are being
    // destroyed. A dummy registered then would never be taken out again, so
    // the handle given is left out of the registry.
    found.unwrap_or_else(|_| identify_caller(false))
}

/// The handle of a thread that has none yet: the main thread, or a new dummy.
fn identify_caller(register_dummy: bool) -> Thread {
    let ident = current_ident();
    if ident == MAIN_IDENT {
        return main_thread();
    }
    let dummy = Thread::new(next_name("Dummy"), ident, true, Kind::Dummy);
    if register_dummy {
        register(dummy.clone());
    }
    dummy
}

/// The handle of the process's main thread, from whichever thread asks.
///
/// # Examples
///
/// ```
/// use concur::thread;
///
/// let main = thread::main_thread();
/// assert_eq!(main.name(), "MainThread");
/// assert!(main.is_alive());
/// let seen_from_worker = thread::spawn(thread::main_thread).join().unwrap();
/// assert_eq!(seen_from_worker, main);
/// ```
///
/// # Python
///
/// `threading.main_thread()`. The main thread is the one the operating
/// system started the process with (on Linux, the thread whose id is the
/// process id), whoever asks first. After `fork()` the child's forking thread
/// becomes the main thread in Python; concur does not handle `fork()`.
pub fn main_thread() -> Thread {
    REGISTRY
        .lock()
        .get(&MAIN_IDENT)
        .cloned()
        // The main thread is put in the registry when it is created and
        // never taken out, since it never finishes.
        .expect("the main thread is always registered")
}

/// The threads alive now: the main thread, threads spawned by concur that
/// have not finished, and dummy threads that have called [`current`] and not
/// exited, in the order they became known.
///
/// # Examples
///
/// ```
/// use concur::thread;
///
/// let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
/// let handle = thread::spawn(move || stop_rx.recv().ok());
/// assert!(thread::enumerate().contains(handle.thread()));
/// assert!(thread::enumerate().contains(&thread::main_thread()));
/// drop(stop_tx);
/// let finished = handle.thread().clone();
/// handle.join().unwrap();
/// assert!(!thread::enumerate().contains(&finished));
/// ```
///
/// # Python
///
/// `threading.enumerate()`.
pub fn enumerate() -> Vec<Thread> {
    REGISTRY.lock().values().cloned().collect()
}

/// How many threads [`enumerate`] would list.
///
/// # Examples
///
/// ```
/// use concur::thread;
///
/// // At least the main thread and the caller's own dummy entry.
/// let _ = thread::current();
/// assert!(thread::active_count() >= 1);
/// ```
///
/// # Python
///
/// `threading.active_count()`.
pub fn active_count() -> usize {
    REGISTRY.lock().len()
}

/// Spawned threads, other than the caller, that are alive and not daemons.
pub(super) fn non_daemon_threads_except(ident: u64) -> Vec<Thread> {
    REGISTRY
        .lock()
        .values()
        .filter(|thread| thread.kind() == Kind::Spawned && !thread.is_daemon() && thread.ident() != ident)
        .cloned()
        .collect()
}
