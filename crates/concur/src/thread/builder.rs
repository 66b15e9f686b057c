//! Configuring and starting a thread: [`Builder`], [`spawn`], the [`Run`]
//! trait for thread objects, and what a new thread does before and after the
//! user's function.

use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::handle::{JoinHandle, Panicked};
use super::ident;
use super::registry::{self, Kind, Thread};

/// The smallest stack size, in bytes, that [`Builder::stack_size`] accepts:
/// 32 KiB, the floor CPython's `threading.stack_size` enforces.
const MIN_STACK_SIZE: usize = 32 * 1024;

/// The settings of a thread about to be spawned: its name, daemon flag and
/// stack size.
///
/// # Examples
///
/// ```
/// use concur::thread::Builder;
///
/// let handle = Builder::new()
///     .name("cruncher")
///     .daemon(false)
///     .stack_size(256 * 1024)
///     .spawn(|| (1..=10).sum::<u32>())
///     .unwrap();
/// assert_eq!(handle.name(), "cruncher");
/// assert_eq!(handle.join().unwrap(), 55);
/// ```
///
/// # Python
///
/// `threading.Thread(target=f, name=..., daemon=...)` followed by `start()`.
/// The stack size is per thread here; Python sets it for all threads created
/// afterwards with `threading.stack_size(n)`.
#[derive(Debug, Clone, Default)]
#[must_use = "a Builder does nothing until `spawn` or `spawn_run` is called"]
pub struct Builder {
    name: Option<String>,
    daemon: Option<bool>,
    stack_size: Option<usize>,
}

/// Why a thread could not be spawned.
///
/// # Examples
///
/// ```
/// use concur::thread::{Builder, SpawnError};
///
/// let refused = Builder::new().name("tiny").stack_size(4096).spawn(|| ());
/// assert!(matches!(refused, Err(SpawnError::StackTooSmall { .. })));
/// ```
#[derive(Debug)]
pub enum SpawnError {
    /// The requested stack size is below 32 KiB.
    ///
    /// # Python
    ///
    /// `threading.stack_size(n)` raises `ValueError` for such sizes.
    StackTooSmall {
        /// The name the thread would have had.
        name: String,
        /// The stack size that was asked for, in bytes.
        requested: usize,
    },
    /// The operating system refused to create the thread (too many threads,
    /// not enough memory for its stack, …).
    ///
    /// # Python
    ///
    /// `Thread.start()` raises `RuntimeError("can't start new thread")`.
    Os {
        /// The name the thread would have had.
        name: String,
        /// What the operating system said.
        error: io::Error,
    },
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::StackTooSmall { name, requested } => write!(
                f,
                "Builder::spawn refused to start thread '{name}' with a stack of {requested} bytes: \
                 a thread's stack must be at least 32768 bytes (32 KiB), or 0 for the platform default"
            ),
            SpawnError::Os { name, error } => {
                write!(
                    f,
                    "Builder::spawn could not start thread '{name}' because the operating system refused: {error}"
                )
            }
        }
    }
}

impl std::error::Error for SpawnError {}

impl Builder {
    /// Settings with a default name (`Thread-N`), the daemon flag of the
    /// calling thread, and the platform's stack size.
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = concur::thread::Builder::new().spawn(|| 7).unwrap();
    /// assert!(handle.name().starts_with("Thread-"));
    /// assert_eq!(handle.join().unwrap(), 7);
    /// ```
    ///
    /// # Python
    ///
    /// `threading.Thread()` with no arguments.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the thread. The operating system sees the name too (cut to what
    /// it allows, 15 bytes on Linux), so a panic message shows it.
    ///
    /// Without a name, or with an empty one, the thread is called
    /// `Thread-N`, with `N` from a process-wide counter that starts at 1 and
    /// that dummy threads' names share; only unnamed threads take a number.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread::{self, Builder};
    ///
    /// let handle = Builder::new()
    ///     .name("logger")
    ///     .spawn(|| thread::current().name().to_owned())
    ///     .unwrap();
    /// assert_eq!(handle.join().unwrap(), "logger");
    /// ```
    ///
    /// # Python
    ///
    /// `Thread(name=...)`. Python's default names also carry the target's
    /// name (`Thread-3 (work)`); Rust closures have none, so concur's are
    /// plain `Thread-3`.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Makes the thread a daemon (`true`) or not (`false`). A daemon thread
    /// is not waited for by [`concur::run`](crate::run).
    ///
    /// Without this call the thread inherits the flag of the thread that
    /// spawns it: the main thread and threads spawned from it are not
    /// daemons; threads not made by concur (such as the test harness's) count
    /// as daemons, so threads they spawn are daemons too.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread::{self, Builder};
    ///
    /// let parent = Builder::new()
    ///     .daemon(true)
    ///     .spawn(|| thread::spawn(|| thread::current().is_daemon()).join().unwrap())
    ///     .unwrap();
    /// // The child inherited its parent's flag.
    /// assert!(parent.join().unwrap());
    /// ```
    ///
    /// # Python
    ///
    /// `Thread(daemon=...)`, with the same inheritance rule.
    pub fn daemon(mut self, daemon: bool) -> Builder {
        self.daemon = Some(daemon);
        self
    }

    /// Sets the size of the thread's stack, in bytes. `0` means the
    /// platform's default; other sizes below 32 KiB are refused by
    /// [`spawn`](Builder::spawn). The operating system may round the size up.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread::Builder;
    ///
    /// let handle = Builder::new().stack_size(512 * 1024).spawn(|| "deep").unwrap();
    /// assert_eq!(handle.join().unwrap(), "deep");
    /// ```
    ///
    /// # Python
    ///
    /// `threading.stack_size(size)`, which is global in Python and applies to
    /// threads created after the call.
    pub fn stack_size(mut self, size: usize) -> Builder {
        self.stack_size = Some(size);
        self
    }

    /// Starts a thread that runs `f` and returns a handle to wait for its
    /// result, once the new thread is running.
    ///
    /// The thread is listed by [`enumerate`](super::enumerate) from the
    /// moment this returns until `f` has returned or panicked. A panic in `f`
    /// does not reach the caller: [`JoinHandle::join`] reports it.
    ///
    /// # Errors
    ///
    /// [`SpawnError::StackTooSmall`] for a stack size from 1 to 32767 bytes,
    /// [`SpawnError::Os`] if the operating system cannot create the thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread::Builder;
    ///
    /// let words = vec!["no", "gil", "here"];
    /// let handle = Builder::new()
    ///     .name("counter")
    ///     .spawn(move || words.iter().map(|w| w.len()).sum::<usize>())
    ///     .unwrap();
    /// assert_eq!(handle.join().unwrap(), 9);
    /// ```
    ///
    /// # Python
    ///
    /// `Thread(target=f, ...).start()`. As Python's `start()` does, this
    /// waits until the new thread is running — about to call `f` — so that
    /// whatever the caller does next (a pool's `shutdown`, say) finds the
    /// thread started, not merely created.
    pub fn spawn<F, T>(self, f: F) -> Result<JoinHandle<T>, SpawnError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // An empty name counts as none, as in Python's `Thread(name="")`.
        let name = self.name.filter(|name| !name.is_empty()).unwrap_or_else(|| registry::next_name("Thread"));
        let stack_size = match self.stack_size {
            Some(requested) if requested != 0 && requested < MIN_STACK_SIZE => {
                return Err(SpawnError::StackTooSmall { name, requested });
            }
            Some(0) | None => None,
            Some(size) => Some(size),
        };
        let daemon = self.daemon.unwrap_or_else(registry::current_is_daemon);

        let thread = Thread::new(name, ident::next_ident(), daemon, Kind::Spawned);
        // Registered before the OS thread exists, so that `enumerate()` and
        // `concur::run` see it from the moment `spawn` returns, as Python's
        // `start()` guarantees.
        registry::register(thread.clone());

        // The standard library refuses names with a NUL byte, which Python
        // allows; the OS-level name only helps panic messages and debuggers.
        let mut native = std::thread::Builder::new().name(thread.name().replace('\0', ""));
        if let Some(size) = stack_size {
            native = native.stack_size(size);
        }
        let theirs = thread.clone();
        let started = Arc::new(Started { running: AtomicBool::new(false), spawner: std::thread::current() });
        let tell = Arc::clone(&started);
        match native.spawn(move || run_spawned(theirs, &tell, f)) {
            Ok(native) => {
                started.wait();
                Ok(JoinHandle::new(thread, native))
            }
            Err(error) => {
                thread.finish();
                Err(SpawnError::Os { name: thread.name().to_owned(), error })
            }
        }
    }

    /// Starts a thread that calls `object.run()`, and hands the object back
    /// from [`JoinHandle::join`] so that what `run` stored in it can be read.
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Builder::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread::{Builder, Run};
    ///
    /// struct Squares {
    ///     up_to: u64,
    ///     total: u64,
    /// }
    ///
    /// impl Run for Squares {
    ///     fn run(&mut self) {
    ///         self.total = (1..=self.up_to).map(|n| n * n).sum();
    ///     }
    /// }
    ///
    /// let handle = Builder::new().spawn_run(Squares { up_to: 3, total: 0 }).unwrap();
    /// assert_eq!(handle.join().unwrap().total, 14);
    /// ```
    ///
    /// # Python
    ///
    /// Subclassing `threading.Thread`, overriding `run()`, then `start()`;
    /// after `join()` the subclass's attributes hold what `run` set.
    pub fn spawn_run<R>(self, object: R) -> Result<JoinHandle<R>, SpawnError>
    where
        R: Run + Send + 'static,
    {
        self.spawn(move || {
            let mut object = object;
            object.run();
            object
        })
    }
}

/// A thread object: something with a `run` method to call on a new thread.
///
/// Implement it for a struct that carries the thread's inputs and collects
/// its outputs, then start it with [`Builder::spawn_run`] (or [`spawn_run`]);
/// [`JoinHandle::join`] gives the struct back.
///
/// # Examples
///
/// ```
/// use concur::thread::{spawn_run, Run};
///
/// struct Greeter {
///     who: String,
///     greeting: Option<String>,
/// }
///
/// impl Run for Greeter {
///     fn run(&mut self) {
///         let me = concur::thread::current();
///         self.greeting = Some(format!("{} greets {}", me.name(), self.who));
///     }
/// }
///
/// let done = spawn_run(Greeter { who: "Ada".into(), greeting: None }).join().unwrap();
/// assert!(done.greeting.unwrap().ends_with("greets Ada"));
/// ```
///
/// # Python
///
/// The `run()` method of a `threading.Thread` subclass. The name, daemon
/// flag and so on live in the [`Builder`], not in the object.
pub trait Run {
    /// The thread's work, called once on the new thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::thread::{spawn_run, Run};
    ///
    /// struct Tick(u32);
    ///
    /// impl Run for Tick {
    ///     fn run(&mut self) {
    ///         self.0 += 1;
    ///     }
    /// }
    ///
    /// assert_eq!(spawn_run(Tick(41)).join().unwrap().0, 42);
    /// ```
    fn run(&mut self);
}

/// Starts a thread running `f` with default settings.
///
/// # Panics
///
/// If the operating system cannot create a thread, as
/// [`std::thread::spawn`] does. Use [`Builder::spawn`] to get the error
/// instead.
///
/// # Examples
///
/// ```
/// let handle = concur::thread::spawn(|| "hello from a thread");
/// assert_eq!(handle.join().unwrap(), "hello from a thread");
/// ```
///
/// # Python
///
/// `threading.Thread(target=f).start()`.
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).unwrap_or_else(|error| panic!("{error}"))
}

/// Starts a thread calling `object.run()` with default settings.
///
/// # Panics
///
/// If the operating system cannot create a thread. Use
/// [`Builder::spawn_run`] to get the error instead.
///
/// # Examples
///
/// ```
/// use concur::thread::{spawn_run, Run};
///
/// struct Doubler(Vec<i32>);
///
/// impl Run for Doubler {
///     fn run(&mut self) {
///         self.0.iter_mut().for_each(|n| *n *= 2);
///     }
/// }
///
/// assert_eq!(spawn_run(Doubler(vec![1, 2])).join().unwrap().0, [2, 4]);
/// ```
///
/// # Python
///
/// `MyThread().start()` for a `threading.Thread` subclass.
pub fn spawn_run<R>(object: R) -> JoinHandle<R>
where
    R: Run + Send + 'static,
{
    Builder::new().spawn_run(object).unwrap_or_else(|error| panic!("{error}"))
}

/// How a new thread tells its spawner that it runs: Python's
/// `Thread._started` event, on the standard library's park and unpark, which
/// cost nothing until used and need no lock.
struct Started {
    running: AtomicBool,
    spawner: std::thread::Thread,
}

impl Started {
    fn signal(&self) {
        self.running.store(true, Ordering::Release);
        // An unpark that comes after the spawner stopped waiting leaves a
        // token that makes one later `park` of that thread return early,
        // which `park`'s contract allows for.
        self.spawner.unpark();
    }

    fn wait(&self) {
        // `park` may return spuriously: the flag is what counts.
        while !self.running.load(Ordering::Acquire) {
            std::thread::park();
        }
    }
}

/// Marks the thread finished however its body ends, a panic in dropping a
/// panic payload included, so that waiters are never left waiting.
struct FinishOnDrop<'a>(&'a Thread);

impl Drop for FinishOnDrop<'_> {
    fn drop(&mut self) {
        // The thread's `ThreadLocal` values go first, so that whoever sees
        // the thread finished (`join_timeout`, `is_alive`, `concur::run`)
        // sees them dropped too, as Python does.
        // A value's `Drop` may panic: the thread is marked finished all the
        // same, then the panic goes on, for `join` to report.
        let released = panic::catch_unwind(crate::local::release_thread);
        self.0.finish();
        if let Err(payload) = released {
            panic::resume_unwind(payload);
        }
    }
}

/// The body of every thread concur spawns.
fn run_spawned<F, T>(thread: Thread, started: &Started, f: F) -> Result<T, Panicked>
where
    F: FnOnce() -> T,
{
    // Before any user code: the thread must see the identifier its
    // JoinHandle already reports.
    ident::adopt(thread.ident());
    registry::set_current(thread.clone());
    let _finish = FinishOnDrop(&thread);
    started.signal();
    // AssertUnwindSafe: after a panic nothing of `f` is observed but the
    // panic message, so no broken invariant of its captures can leak; this
    // is what std::thread::spawn itself does without asking for UnwindSafe.
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| Panicked::new(thread.name(), payload))
}
