//! Waiting for a spawned thread: [`JoinHandle`], and how a join can fail.

use std::any::Any;
use std::fmt;
use std::time::Duration;

use crate::deadline::Deadline;

use super::current_ident;
use super::registry::Thread;

/// The owner's handle to a spawned thread: wait for it, with or without a
/// timeout, and collect what its function returned.
///
/// Dropping the handle does not stop the thread; it runs on, detached, and
/// its result is dropped when it finishes.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::thread;
///
/// let handle = thread::spawn(|| 6 * 7);
/// assert_eq!(handle.join_timeout(Duration::from_secs(10)).unwrap(), thread::JoinStatus::Finished);
/// assert!(!handle.is_alive());
/// assert_eq!(handle.join().unwrap(), 42);
/// ```
///
/// # Python
///
/// A started `threading.Thread`: `join()`, `join(timeout)`, `is_alive()`,
/// `name`, `ident`, `daemon`. Python's `join()` returns `None` and loses an
/// exception raised by the target (it only goes to `threading.excepthook`);
/// here `join` returns the function's value, or the panic.
pub struct JoinHandle<T> {
    thread: Thread,
    native: std::thread::JoinHandle<Result<T, Panicked>>,
}

/// What a bounded wait for a thread saw: [`JoinHandle::join_timeout`]'s
/// answer.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use concur::thread::{self, JoinStatus};
///
/// let handle = thread::spawn(|| std::thread::sleep(Duration::from_millis(50)));
/// match handle.join_timeout(Duration::from_secs(10)).unwrap() {
///     JoinStatus::Finished => handle.join().unwrap(),
///     JoinStatus::TimedOut => unreachable!("50 ms is well within 10 s"),
/// }
/// ```
///
/// It is not a `bool`, whose `true` could mean either "finished" or "timed
/// out":
///
/// ```compile_fail
/// let handle = concur::thread::spawn(|| ());
/// if handle.join_timeout(std::time::Duration::from_secs(1)).unwrap() {} // error: not a `bool`
/// ```
///
/// # Python
///
/// Python's `join(timeout)` returns `None` either way, and the caller asks
/// `is_alive()` afterwards; here the answer is the return value.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "without looking at it, `join_timeout` is only a sleep"]
pub enum JoinStatus {
    /// The thread has finished: [`JoinHandle::join`] returns at once.
    Finished,
    /// The timeout passed first; the thread is still running.
    TimedOut,
}

/// Why [`JoinHandle::join`] or [`JoinHandle::join_timeout`] did not give a
/// result.
///
/// # Examples
///
/// ```
/// use concur::thread::{self, JoinError};
///
/// let handle = thread::spawn(|| -> u8 { panic!("out of coffee") });
/// match handle.join() {
///     Err(JoinError::Panicked(panicked)) => assert_eq!(panicked.message(), "out of coffee"),
///     other => panic!("expected a panic, got {other:?}"),
/// }
/// ```
#[derive(Debug)]
pub enum JoinError {
    /// The thread's function panicked.
    Panicked(Panicked),
    /// The thread tried to wait for itself, which could never end.
    ///
    /// # Python
    ///
    /// `RuntimeError("cannot join current thread")`.
    CurrentThread(Thread),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked(panicked) => fmt::Display::fmt(panicked, f),
            JoinError::CurrentThread(thread) => write!(
                f,
                "JoinHandle::join was called on thread '{}' from that thread itself, \
                 and a thread cannot wait for its own end",
                thread.name()
            ),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<Panicked> for JoinError {
    fn from(panicked: Panicked) -> JoinError {
        JoinError::Panicked(panicked)
    }
}

/// A panic that ended a spawned thread: the thread's name and the panic's
/// message.
///
/// # Examples
///
/// ```
/// use concur::thread::{Builder, JoinError};
///
/// let handle = Builder::new()
///     .name("fragile")
///     .spawn(|| -> u8 { panic!("broken at step {}", 3) })
///     .unwrap();
/// let Err(JoinError::Panicked(panicked)) = handle.join() else { unreachable!() };
/// assert_eq!(panicked.thread_name(), "fragile");
/// assert_eq!(panicked.message(), "broken at step 3");
/// assert_eq!(panicked.to_string(), "thread 'fragile' panicked: broken at step 3");
/// ```
///
/// # Python
///
/// The exception a target raises, which Python hands to
/// `threading.excepthook` (`ExceptHookArgs.exc_value` and `.thread`). Only
/// the message is kept, not the payload, so that the error is `Send + Sync`.
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked {
    thread_name: String,
    message: String,
}

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "thread '{}' panicked: {}", self.thread_name, self.message)
    }
}

impl std::error::Error for Panicked {}

impl Panicked {
    /// Reads the message of a panic payload: `panic!` with a literal gives a
    /// `&str`, with a format string a `String`; anything else has none.
    pub(super) fn new(thread_name: &str, payload: Box<dyn Any + Send>) -> Panicked {
        let message = super::panic_message(&*payload);
        Panicked { thread_name: thread_name.to_owned(), message }
    }

    /// The name of the thread that panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread::{Builder, JoinError};
    ///
    /// let handle = Builder::new().name("doomed").spawn(|| -> u8 { panic!("no") }).unwrap();
    /// let Err(JoinError::Panicked(panicked)) = handle.join() else { unreachable!() };
    /// assert_eq!(panicked.thread_name(), "doomed");
    /// ```
    pub fn thread_name(&self) -> &str {
        &self.thread_name
    }

    /// The panic's message, or `"a panic without a message"` for a panic
    /// that carried something other than a string (`std::panic::panic_any`).
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread::{self, JoinError};
    ///
    /// let handle = thread::spawn(|| -> u8 { std::panic::panic_any(17_u32) });
    /// let Err(JoinError::Panicked(panicked)) = handle.join() else { unreachable!() };
    /// assert_eq!(panicked.message(), "a panic without a message");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl<T> JoinHandle<T> {
    pub(super) fn new(thread: Thread, native: std::thread::JoinHandle<Result<T, Panicked>>) -> JoinHandle<T> {
        JoinHandle { thread, native }
    }

    /// Waits for the thread to finish and returns what its function
    /// returned.
    ///
    /// # Errors
    ///
    /// [`JoinError::Panicked`] if the function panicked;
    /// [`JoinError::CurrentThread`] if called from the very thread this
    /// handle names (which got its own handle, say through a channel). In the
    /// latter case the handle is consumed and the thread runs on, detached.
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = concur::thread::spawn(|| vec![1, 2, 3]);
    /// assert_eq!(handle.join().unwrap(), [1, 2, 3]);
    /// ```
    ///
    /// # Python
    ///
    /// `Thread.join()`, which returns `None` where this returns the value.
    pub fn join(self) -> Result<T, JoinError> {
        if self.thread.ident() == current_ident() {
            return Err(JoinError::CurrentThread(self.thread));
        }
        let name = self.thread.name().to_owned();
        // The body catches the user's panics itself; an Err from the
        // standard library means a panic escaped even that (a panic payload
        // whose drop panicked), and is reported the same way.
        match self.native.join() {
            Ok(outcome) => outcome.map_err(JoinError::Panicked),
            Err(payload) => Err(JoinError::Panicked(Panicked::new(&name, payload))),
        }
    }

    /// Waits at most `timeout` for the thread to finish, and says which came
    /// first: [`JoinStatus::Finished`] or [`JoinStatus::TimedOut`]. The
    /// result, or the panic, stays in the handle for
    /// [`join`](JoinHandle::join).
    ///
    /// # Errors
    ///
    /// [`JoinError::CurrentThread`] if called from the very thread this
    /// handle names. A panic in the thread is not an error here; `join`
    /// reports it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    /// use concur::thread::{self, JoinStatus};
    ///
    /// let (go_tx, go_rx) = mpsc::channel::<()>();
    /// let handle = thread::spawn(move || go_rx.recv().is_ok());
    /// // Still waiting for the signal: the timeout passes.
    /// assert_eq!(handle.join_timeout(Duration::from_millis(10)).unwrap(), JoinStatus::TimedOut);
    /// go_tx.send(()).unwrap();
    /// assert_eq!(handle.join_timeout(Duration::from_secs(10)).unwrap(), JoinStatus::Finished);
    /// assert!(handle.join().unwrap());
    /// ```
    ///
    /// # Python
    ///
    /// `t.join(timeout)` followed by `t.is_alive()`: Python's `join` returns
    /// `None` either way, so the answer comes in one call here.
    pub fn join_timeout(&self, timeout: Duration) -> Result<JoinStatus, JoinError> {
        if self.thread.ident() == current_ident() {
            return Err(JoinError::CurrentThread(self.thread.clone()));
        }
        if self.thread.wait_finished(Deadline::after(timeout)) {
            Ok(JoinStatus::Finished)
        } else {
            Ok(JoinStatus::TimedOut)
        }
    }

    /// Whether the thread is still running its function.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use concur::thread;
    ///
    /// let (stop_tx, stop_rx) = mpsc::channel::<()>();
    /// let handle = thread::spawn(move || stop_rx.recv().ok());
    /// assert!(handle.is_alive());
    /// drop(stop_tx);
    /// handle.join().unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `Thread.is_alive()`.
    pub fn is_alive(&self) -> bool {
        self.thread.is_alive()
    }

    /// The thread's name.
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = concur::thread::Builder::new().name("io").spawn(|| ()).unwrap();
    /// assert_eq!(handle.name(), "io");
    /// handle.join().unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `Thread.name`.
    pub fn name(&self) -> &str {
        self.thread.name()
    }

    /// The thread's identifier, the value
    /// [`current().ident()`](super::current) returns on that thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread;
    ///
    /// let handle = thread::spawn(|| thread::current().ident());
    /// let ident = handle.ident();
    /// assert_eq!(handle.join().unwrap(), ident);
    /// ```
    ///
    /// # Python
    ///
    /// `Thread.ident`, which Python only knows once the thread has started.
    pub fn ident(&self) -> u64 {
        self.thread.ident()
    }

    /// Whether the thread is a daemon, which [`concur::run`](crate::run)
    /// does not wait for.
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = concur::thread::Builder::new().daemon(true).spawn(|| ()).unwrap();
    /// assert!(handle.is_daemon());
    /// handle.join().unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `Thread.daemon`.
    #[doc(alias = "daemon")]
    pub fn is_daemon(&self) -> bool {
        self.thread.is_daemon()
    }

    /// A [`Thread`] handle to the same thread, which can be cloned and
    /// compared with those from [`current`](super::current) and
    /// [`enumerate`](super::enumerate).
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread;
    ///
    /// let handle = thread::spawn(thread::current);
    /// let named = handle.thread().clone();
    /// assert_eq!(handle.join().unwrap(), named);
    /// ```
    pub fn thread(&self) -> &Thread {
        &self.thread
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("thread", &self.thread).finish_non_exhaustive()
    }
}
