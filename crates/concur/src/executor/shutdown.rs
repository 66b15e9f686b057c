//! [`Shutdown`]: how a pool stops, named at the call instead of given as two
//! booleans.

/// How `shutdown` stops a pool: whether it waits for the workers to finish,
/// and whether it cancels the calls no worker has started.
///
/// Python's `shutdown(wait=True, cancel_futures=False)` takes two keyword
/// booleans; a Rust call cannot name its arguments, and
/// `shutdown(false, true)` does not say which is which. So the choice is
/// spelled out: start from [`wait`](Self::wait) or
/// [`no_wait`](Self::no_wait), and add
/// [`cancel_futures`](Self::cancel_futures) to cancel what is queued.
///
/// | Python | concur |
/// |---|---|
/// | `shutdown()`, `shutdown(wait=True)` | `shutdown(Shutdown::wait())` |
/// | `shutdown(wait=False)` | `shutdown(Shutdown::no_wait())` |
/// | `shutdown(cancel_futures=True)` | `shutdown(Shutdown::wait().cancel_futures())` |
/// | `shutdown(wait=False, cancel_futures=True)` | `shutdown(Shutdown::no_wait().cancel_futures())` |
///
/// The two booleans are gone from the signature, so a call that guesses
/// their order does not compile:
///
/// ```compile_fail
/// let pool = concur::executor::ThreadPool::new(1).unwrap();
/// pool.shutdown(true, false); // error: `shutdown` takes one `Shutdown`
/// ```
///
/// # Examples
///
/// ```
/// use concur::executor::{Shutdown, ThreadPool};
///
/// let pool = ThreadPool::new(1).unwrap();
/// let first = pool.submit(|| std::thread::sleep(std::time::Duration::from_millis(50))).unwrap();
/// let queued = pool.submit(|| ()).unwrap();
/// pool.shutdown(Shutdown::wait().cancel_futures());
/// assert!(first.is_done() && !first.is_cancelled()); // its worker had taken it
/// assert!(queued.is_cancelled()); // nobody had
/// ```
///
/// # Python
///
/// The arguments of `Executor.shutdown(wait=True, *, cancel_futures=False)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a Shutdown does nothing until it is given to a pool's `shutdown`"]
pub struct Shutdown {
    pub(crate) wait: bool,
    pub(crate) cancel_futures: bool,
}

impl Shutdown {
    /// Shut down and wait until every worker has finished: the calls queued
    /// still run first. What dropping a pool does.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::executor::{Shutdown, ThreadPool};
    ///
    /// let pool = ThreadPool::new(2).unwrap();
    /// let fut = pool.submit(|| 1).unwrap();
    /// pool.shutdown(Shutdown::wait());
    /// assert_eq!(fut.result(), Ok(1)); // queued work still ran
    /// ```
    ///
    /// # Python
    ///
    /// `shutdown()` or `shutdown(wait=True)`.
    pub const fn wait() -> Shutdown {
        Shutdown { wait: true, cancel_futures: false }
    }

    /// Shut down and return at once; the workers finish the queued calls on
    /// their own.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::executor::{Shutdown, ThreadPool};
    ///
    /// let pool = ThreadPool::new(1).unwrap();
    /// let fut = pool.submit(|| 2).unwrap();
    /// pool.shutdown(Shutdown::no_wait());
    /// assert_eq!(fut.result(), Ok(2));
    /// ```
    ///
    /// # Python
    ///
    /// `shutdown(wait=False)`.
    pub const fn no_wait() -> Shutdown {
        Shutdown { wait: false, cancel_futures: false }
    }

    /// Also cancel every call no worker has taken yet; the calls running
    /// finish.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::executor::Shutdown;
    ///
    /// assert_ne!(Shutdown::wait().cancel_futures(), Shutdown::wait());
    /// ```
    ///
    /// # Python
    ///
    /// `cancel_futures=True`.
    pub const fn cancel_futures(self) -> Shutdown {
        Shutdown { cancel_futures: true, ..self }
    }
}

impl Default for Shutdown {
    /// [`Shutdown::wait`], Python's default.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::executor::Shutdown::default(), concur::executor::Shutdown::wait());
    /// ```
    fn default() -> Shutdown {
        Shutdown::wait()
    }
}
