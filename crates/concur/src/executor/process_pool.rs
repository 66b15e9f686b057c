//! `ProcessPool`: Python's `ProcessPoolExecutor`, with workers that are
//! replaced when they die.
//!
//! # Why not a crate
//!
//! `procspawn` runs serde closures in re-executed processes and has a pool,
//! and was weighed first. It was not taken because its pooled calls must be
//! `Copy` function values passed through `ipc-channel` (a large dependency
//! tree), it has no initializer or tasks-per-child limit, and a worker killed
//! mid-call surfaces as a generic remote error, where this pool must name
//! the signal or exit code. What is needed on top of `std::process` and a
//! Unix socket is small: the framing in `registry.rs` and the manager loop
//! here.
//!
//! # How it works
//!
//! Each worker slot has a manager thread in the parent. The manager starts
//! the program's executable again with [`WORKER_ENV`](super::WORKER_ENV) set
//! to a fresh Unix socket, accepts the worker's connection, sends the
//! initializer if there is one, then takes calls from the pool's queue one at
//! a time: send, wait for the answer, complete the future. If the socket
//! closes mid-call, the worker died: the manager reaps it, fails that one
//! future with the exit code or signal, and starts a new worker for the next
//! call. Python instead breaks the whole pool.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::error::{BuildError, SubmitError};
use super::registry::{encode, read_frame, send, write_frame, CallError, Function, Request, Response, WORKER_ENV};
use super::shutdown::Shutdown;
use super::workers::{Job, Workers};
use crate::deadline::Deadline;
use crate::futures::{ConcurrentFuture, FutureError};

/// How long a new worker has to connect before it counts as failed to start.
const START_LIMIT: Duration = Duration::from_secs(30);

/// The future of one call, seen from the manager: typed on the submit side,
/// fed raw JSON here.
trait Reply: Send {
    /// Marks the future running; `false` if it was cancelled.
    fn start(&self) -> bool;
    fn finish(self: Box<Self>, outcome: Result<Value, FutureError>);
    /// Ends the call without running it.
    fn abandon(self: Box<Self>, why: FutureError);
}

struct Typed<R> {
    future: ConcurrentFuture<R>,
    function: Arc<str>,
}

impl<R: DeserializeOwned + Send> Reply for Typed<R> {
    fn start(&self) -> bool {
        self.future.set_running_or_notify_cancel()
    }

    fn finish(self: Box<Self>, outcome: Result<Value, FutureError>) {
        let function = &self.function;
        let outcome = outcome.and_then(|value| {
            serde_json::from_value(value).map_err(|e| {
                FutureError::Failed(format!("the result of {function:?} could not be read as the expected type: {e}"))
            })
        });
        // Only the manager that started the call finishes it, once: the
        // `set_` calls cannot find the future done, so their `Err` cannot
        // happen.
        match outcome {
            Ok(value) => {
                let _ = self.future.set_result(value);
            }
            Err(error) => {
                let _ = self.future.set_failure(error);
            }
        }
    }

    fn abandon(self: Box<Self>, why: FutureError) {
        if why == FutureError::Cancelled {
            self.future.cancel();
        } else {
            let _ = self.future.set_failure(why);
        }
    }
}

/// A call waiting for a worker.
struct Call {
    function: Arc<str>,
    /// The arguments, or why they could not be written.
    args: Result<Value, String>,
    reply: Box<dyn Reply>,
}

impl Job for Call {
    fn abandon(self: Box<Self>, why: FutureError) {
        self.reply.abandon(why);
    }
}

type Init = (Arc<str>, Value);

/// What every manager of a pool needs besides the jobs.
struct Settings {
    max_tasks_per_child: Option<usize>,
    initializer: Option<Init>,
    /// Which pool this is, for socket names.
    id: usize,
    /// Process ids of the live workers, by slot.
    pids: Mutex<Vec<Option<u32>>>,
}

impl Settings {
    fn set_pid(&self, slot: usize, pid: Option<u32>) {
        if let Some(entry) = self.pids.lock().get_mut(slot) {
            *entry = pid;
        }
    }
}

/// How to build a [`ProcessPool`].
///
/// # Examples
///
/// ```
/// use concur::executor::ProcessPool;
///
/// let pool = ProcessPool::builder().max_workers(2).max_tasks_per_child(100).build().unwrap();
/// assert_eq!(pool.max_workers(), 2);
/// ```
#[derive(Default)]
#[must_use]
pub struct ProcessPoolBuilder {
    max_workers: Option<usize>,
    max_tasks_per_child: Option<usize>,
    initializer: Option<Init>,
    initializer_error: Option<String>,
}

impl ProcessPoolBuilder {
    /// The most worker processes; by default the number of cores, as in
    /// Python.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = concur::executor::ProcessPool::builder().max_workers(3).build().unwrap();
    /// assert_eq!(pool.max_workers(), 3);
    /// ```
    pub fn max_workers(mut self, max_workers: usize) -> ProcessPoolBuilder {
        self.max_workers = Some(max_workers);
        self
    }

    /// Replaces each worker after it has run `tasks` calls (Python's
    /// `max_tasks_per_child`), to bound what a leaky call can hold.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = concur::executor::ProcessPool::builder().max_tasks_per_child(1).build().unwrap();
    /// # drop(pool);
    /// ```
    pub fn max_tasks_per_child(mut self, tasks: usize) -> ProcessPoolBuilder {
        self.max_tasks_per_child = Some(tasks);
        self
    }

    /// Runs the registered `function` with `args` in every worker before its
    /// first call. If it fails, the pool is broken: queued calls fail, new
    /// ones are refused.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut registry = concur::executor::Registry::new();
    /// let warm_up = registry.register("warm_up", |level: u8| assert!(level < 10));
    /// registry.serve_if_worker();
    /// let pool = concur::executor::ProcessPool::builder().initializer(&warm_up, 3).build().unwrap();
    /// # drop(pool);
    /// ```
    pub fn initializer<A: Serialize>(mut self, function: &Function<A, ()>, args: A) -> ProcessPoolBuilder {
        match serde_json::to_value(args) {
            Ok(args) => self.initializer = Some((function.shared_name(), args)),
            Err(e) => {
                self.initializer_error =
                    Some(format!("the arguments of the initializer {:?} could not be written: {e}", function.name()))
            }
        }
        self
    }

    /// Builds the pool. Worker processes start as calls arrive.
    ///
    /// # Errors
    ///
    /// [`BuildError::ZeroWorkers`] if `max_workers` was set to 0, and
    /// [`BuildError::ZeroTasksPerChild`] if `max_tasks_per_child` was.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::executor::{BuildError, ProcessPool};
    ///
    /// let pool = ProcessPool::builder().build().unwrap();
    /// assert!(pool.max_workers() >= 1);
    /// assert_eq!(ProcessPool::builder().max_workers(0).build().unwrap_err(), BuildError::ZeroWorkers);
    /// assert_eq!(ProcessPool::builder().max_tasks_per_child(0).build().unwrap_err(), BuildError::ZeroTasksPerChild);
    /// ```
    ///
    /// # Python
    ///
    /// `ProcessPoolExecutor(...)`, which raises `ValueError` for
    /// `max_workers <= 0` and for `max_tasks_per_child <= 0`.
    pub fn build(self) -> Result<ProcessPool, BuildError> {
        static POOLS: AtomicUsize = AtomicUsize::new(0);
        let max_workers =
            self.max_workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if max_workers == 0 {
            return Err(BuildError::ZeroWorkers);
        }
        if self.max_tasks_per_child == Some(0) {
            return Err(BuildError::ZeroTasksPerChild);
        }
        let pool = ProcessPool {
            workers: Arc::new(Workers::new(max_workers)),
            settings: Arc::new(Settings {
                max_tasks_per_child: self.max_tasks_per_child,
                initializer: self.initializer,
                id: POOLS.fetch_add(1, Ordering::Relaxed),
                pids: Mutex::new(vec![None; max_workers]),
            }),
        };
        if let Some(reason) = self.initializer_error {
            pool.workers.break_with(reason);
        }
        Ok(pool)
    }
}

impl fmt::Debug for ProcessPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessPoolBuilder")
            .field("max_workers", &self.max_workers)
            .field("max_tasks_per_child", &self.max_tasks_per_child)
            .field("initializer", &self.initializer.as_ref().map(|(name, _)| name))
            .finish()
    }
}

/// A pool of worker processes that run registered functions: CPU-bound work
/// on every core, with each call isolated in its own address space.
///
/// The workers are this program's own executable started again: its `main`
/// must register the functions in a [`Registry`](super::Registry) and call
/// [`serve_if_worker`](super::Registry::serve_if_worker) first thing.
/// Arguments and results cross as JSON through serde.
///
/// A worker that dies — a crash, an `abort`, a `kill -9` — fails only the
/// call it was running, with an error naming the exit code or signal, and is
/// replaced; the pool goes on. A call handed to a worker that died before it
/// began the call (a worker tells the pool when it begins) runs on a fresh
/// worker instead. A call that panics fails its own future.
///
/// # Examples
///
/// ```
/// use concur::executor::{ProcessPool, Registry};
///
/// fn count_primes(limit: u64) -> usize {
///     (2..limit).filter(|n| (2..*n).take_while(|d| d * d <= *n).all(|d| n % d != 0)).count()
/// }
///
/// fn main() {
///     let mut registry = Registry::new();
///     let count_primes = registry.register("count_primes", count_primes);
///     registry.serve_if_worker();
///
///     let pool = ProcessPool::new(4).unwrap();
///     let futures: Vec<_> = [10_000, 20_000, 30_000]
///         .into_iter()
///         .map(|limit| pool.submit(&count_primes, limit).unwrap())
///         .collect();
///     for future in futures {
///         println!("{}", future.result().unwrap());
///     }
/// }
/// ```
///
/// # Python
///
/// `concurrent.futures.ProcessPoolExecutor(max_workers, initializer,
/// initargs, max_tasks_per_child)`: `submit`, `map`, `shutdown`. Functions
/// go by registered name instead of by pickling, and a dead worker is
/// replaced instead of breaking the pool (`BrokenProcessPool`).
pub struct ProcessPool {
    workers: Arc<Workers<Call>>,
    settings: Arc<Settings>,
}

impl ProcessPool {
    /// A pool of at most `max_workers` processes.
    ///
    /// # Errors
    ///
    /// [`BuildError::ZeroWorkers`] if `max_workers` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = concur::executor::ProcessPool::new(2).unwrap();
    /// assert_eq!(pool.max_workers(), 2);
    /// assert!(concur::executor::ProcessPool::new(0).is_err());
    /// ```
    ///
    /// # Python
    ///
    /// `ProcessPoolExecutor(max_workers)`, which raises `ValueError` for 0.
    pub fn new(max_workers: usize) -> Result<ProcessPool, BuildError> {
        ProcessPoolBuilder::default().max_workers(max_workers).build()
    }

    /// A builder for the pool's settings.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = concur::executor::ProcessPool::builder().max_workers(1).build().unwrap();
    /// assert_eq!(pool.max_workers(), 1);
    /// ```
    pub fn builder() -> ProcessPoolBuilder {
        ProcessPoolBuilder::default()
    }

    /// The most worker processes the pool runs.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur::executor::ProcessPool::new(3).unwrap().max_workers(), 3);
    /// ```
    pub fn max_workers(&self) -> usize {
        self.workers.max()
    }

    /// The process ids of the workers running now.
    ///
    /// # Examples
    ///
    /// ```
    /// // No call yet, so no worker yet.
    /// assert!(concur::executor::ProcessPool::new(2).unwrap().pids().is_empty());
    /// ```
    pub fn pids(&self) -> Vec<u32> {
        self.settings.pids.lock().iter().flatten().copied().collect()
    }

    /// Schedules `function(args)` on a worker process and returns its future
    /// at once.
    ///
    /// Arguments that cannot be written as JSON, a function the worker does
    /// not know, arguments it cannot read, a result it cannot write or this
    /// side cannot read, and a worker that dies running it: each fails the
    /// future with a [`FutureError::Failed`] naming the cause.
    ///
    /// # Errors
    ///
    /// [`SubmitError::ShutDown`] after [`shutdown`](Self::shutdown);
    /// [`SubmitError::Broken`] if the initializer failed, or no manager thread
    /// could start.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut registry = concur::executor::Registry::new();
    /// let double = registry.register("double", |n: i64| n * 2);
    /// registry.serve_if_worker();
    /// let pool = concur::executor::ProcessPool::new(1).unwrap();
    /// pool.shutdown(concur::executor::Shutdown::wait());
    /// assert!(pool.submit(&double, 21).is_err());
    /// ```
    pub fn submit<A, R>(&self, function: &Function<A, R>, args: A) -> Result<ConcurrentFuture<R>, SubmitError>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        let future = ConcurrentFuture::new();
        let name = function.shared_name();
        let args = serde_json::to_value(args)
            .map_err(|e| format!("the arguments of {:?} could not be written: {e}", function.name()));
        let call = Call {
            function: Arc::clone(&name),
            args,
            reply: Box::new(Typed { future: future.twin(), function: name }),
        };
        let settings = Arc::clone(&self.settings);
        self.workers.submit(
            Box::new(call),
            |slot| format!("ProcessPool-{}_{slot}", self.settings.id),
            move |workers, slot| manage(workers, &settings, slot),
        )?;
        Ok(future)
    }

    /// Calls `function` on every item, in worker processes, and yields the
    /// results in the order of the items.
    ///
    /// # Errors
    ///
    /// A [`SubmitError`] if the pool refuses the calls.
    ///
    /// # Examples
    ///
    /// ```
    /// # let mut registry = concur::executor::Registry::new();
    /// # let square = registry.register("square", |n: u64| n * n);
    /// # registry.serve_if_worker();
    /// let pool = concur::executor::ProcessPool::new(2).unwrap();
    /// let squares: Vec<u64> = pool.map(&square, 1..=4).unwrap().map(Result::unwrap).collect();
    /// assert_eq!(squares, [1, 4, 9, 16]);
    /// ```
    pub fn map<A, R>(
        &self,
        function: &Function<A, R>,
        items: impl IntoIterator<Item = A>,
    ) -> Result<impl Iterator<Item = Result<R, FutureError>>, SubmitError>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        let mut futures = VecDeque::new();
        for item in items {
            match self.submit(function, item) {
                Ok(future) => futures.push_back(future),
                Err(refused) => {
                    for future in &futures {
                        future.cancel();
                    }
                    return Err(refused);
                }
            }
        }
        Ok(futures.into_iter().map(ConcurrentFuture::into_result))
    }

    /// Stops the pool taking calls, as `how` says: queued calls still run
    /// unless [`Shutdown::cancel_futures`]; [`Shutdown::wait`] returns once
    /// every worker has exited.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::executor::{ProcessPool, Shutdown};
    ///
    /// let pool = ProcessPool::new(1).unwrap();
    /// pool.shutdown(Shutdown::wait().cancel_futures());
    /// ```
    pub fn shutdown(&self, how: Shutdown) {
        self.workers.shutdown(how);
    }
}

impl Drop for ProcessPool {
    fn drop(&mut self) {
        self.shutdown(Shutdown::wait());
    }
}

impl fmt::Debug for ProcessPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("ProcessPool");
        self.workers.describe(&mut out);
        out.field("pids", &self.pids()).finish()
    }
}

/// A live worker process and its connection.
struct Worker {
    child: Child,
    stream: UnixStream,
    calls: usize,
}

impl Worker {
    /// Whether the process has exited (reaping it if so); `None` if that
    /// could not be learnt.
    fn child_exited(&mut self) -> Option<bool> {
        self.child.try_wait().ok().map(|status| status.is_some())
    }

    /// Kills a worker that broke the protocol, and reaps it.
    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the worker to exit (by closing its connection) and reaps it.
    fn retire(self) {
        let Worker { mut child, stream, .. } = self;
        drop(stream);
        if child.wait().is_err() {
            let _ = child.kill();
        }
    }
}

/// One worker slot: keeps a worker process alive and feeds it calls.
fn manage(workers: &Workers<Call>, settings: &Settings, slot: usize) {
    let mut worker: Option<Worker> = None;
    while let Some(call) = workers.next_job() {
        if call.reply.start() {
            if let Err(Broken) = run_call(workers, settings, slot, &mut worker, *call) {
                break;
            }
        }
        workers.job_done();
    }
    if let Some(live) = worker {
        settings.set_pid(slot, None);
        live.retire();
    }
}

/// The pool is broken: the manager stops.
struct Broken;

/// Runs one started call on the slot's worker, starting or replacing the
/// worker as needed, and finishes the call's future.
fn run_call(
    workers: &Workers<Call>,
    settings: &Settings,
    slot: usize,
    worker: &mut Option<Worker>,
    call: Call,
) -> Result<(), Broken> {
    let args = match call.args {
        Ok(args) => args,
        Err(reason) => {
            call.reply.finish(Err(FutureError::Failed(reason)));
            return Ok(());
        }
    };
    let request = Request::Call { function: call.function.to_string(), args };
    let mut resent = 0;
    let (mut live, response) = loop {
        // A worker that died while idle (killed, say) is replaced before it
        // is given the call, so the call does not fail for it.
        let alive = worker.take().and_then(|mut live| (live.child_exited() != Some(true)).then_some(live));
        let mut live = match alive {
            Some(live) => live,
            None => match start_worker(workers, settings, slot) {
                Ok(live) => live,
                Err(reason) => {
                    // No worker for this call: it fails with the cause, and
                    // the next call tries a new worker. A fault that lasts
                    // fails every call, each with its cause; one that passes
                    // (too many processes for a moment) costs only the calls
                    // it met.
                    call.reply.finish(Err(FutureError::Failed(reason)));
                    return if workers.is_broken() { Err(Broken) } else { Ok(()) };
                }
            },
        };
        match send_call(&mut live.stream, &request) {
            Sent::Answered(response) => break (live, response),
            Sent::Lost { began } => {
                // The connection broke: the worker died. Reap it to learn how.
                let pid = live.child.id();
                let how = reap(&mut live.child);
                settings.set_pid(slot, None);
                if !began && resent < RESEND_LIMIT {
                    // It died before it took the call on (killed while
                    // idle, a moment too late to be seen): nothing of the
                    // call ran, so a fresh worker gets it.
                    resent += 1;
                    continue;
                }
                let when = if began { "while running" } else { "before it began" };
                let message = format!("worker process {pid} died {when} {:?}: it {how}", call.function);
                call.reply.finish(Err(FutureError::Failed(message)));
                return Ok(());
            }
            Sent::Refused(why) => {
                let message = format!("the arguments of {:?} cannot be sent to a worker: {why}", call.function);
                call.reply.finish(Err(FutureError::Failed(message)));
                *worker = Some(live);
                return Ok(());
            }
            Sent::Garbled(why) => {
                let pid = live.child.id();
                settings.set_pid(slot, None);
                live.stop();
                let message = format!(
                    "worker process {pid} answered {:?} with a message the pool cannot read ({why}); it was stopped",
                    call.function
                );
                call.reply.finish(Err(FutureError::Failed(message)));
                return Ok(());
            }
        }
    };
    match response {
        Response::Done(value) => call.reply.finish(Ok(value)),
        Response::Failed(failure) => {
            let message = failure.describe(&call.function);
            let error = match failure {
                CallError::Panicked(_) => FutureError::Panicked(message),
                _ => FutureError::Failed(message),
            };
            call.reply.finish(Err(error));
        }
        Response::Started => {
            // Only a worker of another build could answer so; it is not kept.
            let message = format!("worker process {} answered {:?} out of turn", live.child.id(), call.function);
            call.reply.finish(Err(FutureError::Failed(message)));
            settings.set_pid(slot, None);
            live.retire();
            return Ok(());
        }
    }
    live.calls += 1;
    if settings.max_tasks_per_child.is_some_and(|limit| live.calls >= limit) {
        settings.set_pid(slot, None);
        live.retire();
    } else {
        *worker = Some(live);
    }
    Ok(())
}

/// How many fresh workers a call is handed to when each dies before it
/// takes the call on, before the call fails.
const RESEND_LIMIT: u32 = 2;

/// What became of a call sent to a worker.
enum Sent {
    Answered(Response),
    /// The connection broke; `began` says whether the worker had said it
    /// was starting the call.
    Lost {
        began: bool,
    },
    /// The call could not be sent (its arguments are too long); the worker
    /// never saw it and stays.
    Refused(String),
    /// The worker sent what the pool cannot read (a length over the limit,
    /// bytes that are not the protocol's JSON): it cannot be trusted with
    /// another call.
    Garbled(String),
}

/// Sends a call and waits for the worker's answer. The worker says
/// [`Response::Started`] before it runs the call, so a worker lost before
/// that is known to have run nothing of it.
fn send_call(stream: &mut UnixStream, request: &Request) -> Sent {
    let bytes = match encode(request) {
        Ok(bytes) => bytes,
        Err(err) => return Sent::Refused(err.to_string()),
    };
    if send(stream, &bytes).is_err() {
        return Sent::Lost { began: false };
    }
    match read_frame(stream) {
        Ok(Response::Started) => {}
        Ok(response) => return Sent::Answered(response),
        Err(err) if err.kind() == io::ErrorKind::InvalidData => return Sent::Garbled(err.to_string()),
        Err(_) => return Sent::Lost { began: false },
    }
    match read_frame(stream) {
        Ok(response) => Sent::Answered(response),
        Err(err) if err.kind() == io::ErrorKind::InvalidData => Sent::Garbled(err.to_string()),
        Err(_) => Sent::Lost { began: true },
    }
}

fn exchange(stream: &mut UnixStream, request: &Request) -> io::Result<Response> {
    write_frame(stream, request)?;
    read_frame(stream)
}

/// Starts a worker process for `slot` and runs the initializer in it.
fn start_worker(workers: &Workers<Call>, settings: &Settings, slot: usize) -> Result<Worker, String> {
    let socket = socket_path(settings.id, slot);
    let _ = std::fs::remove_file(&socket);
    let listener = UnixListener::bind(&socket).map_err(|e| format!("cannot listen on {socket:?}: {e}"))?;
    let result = launch(workers, settings, slot, &listener, &socket);
    let _ = std::fs::remove_file(&socket);
    result
}

fn socket_path(pool: usize, slot: usize) -> PathBuf {
    std::env::temp_dir().join(format!("concur-{}-{pool}-{slot}.sock", std::process::id()))
}

fn launch(
    workers: &Workers<Call>,
    settings: &Settings,
    slot: usize,
    listener: &UnixListener,
    socket: &PathBuf,
) -> Result<Worker, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program's executable: {e}"))?;
    let mut child = Command::new(&exe)
        .env(WORKER_ENV, socket)
        .spawn()
        .map_err(|e| format!("cannot start a worker process from {exe:?}: {e}"))?;
    let stream = match accept(listener, &mut child) {
        Ok(stream) => stream,
        Err(reason) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(reason);
        }
    };
    let mut worker = Worker { child, stream, calls: 0 };
    if let Some((function, args)) = &settings.initializer {
        let request = Request::Init { function: function.to_string(), args: args.clone() };
        let failure = match exchange(&mut worker.stream, &request) {
            Ok(Response::Done(_)) => None,
            Ok(Response::Failed(failure)) => Some(failure.describe(function)),
            Ok(Response::Started) => Some("the worker answered out of turn".to_string()),
            Err(_) => Some(format!("the worker {}", reap(&mut worker.child))),
        };
        if let Some(failure) = failure {
            worker.retire();
            let reason = format!("the initializer {function:?} failed: {failure}");
            workers.break_with(reason.clone());
            return Err(reason);
        }
    }
    settings.set_pid(slot, Some(worker.child.id()));
    Ok(worker)
}

/// Waits for the new worker to connect; fails if it exits first or takes
/// longer than [`START_LIMIT`].
fn accept(listener: &UnixListener, child: &mut Child) -> Result<UnixStream, String> {
    listener.set_nonblocking(true).map_err(|e| format!("cannot poll the worker socket: {e}"))?;
    let deadline = Deadline::after(START_LIMIT);
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).map_err(|e| format!("cannot use the worker connection: {e}"))?;
                return Ok(stream);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(format!("cannot accept the worker's connection: {e}")),
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the worker process {} {} before connecting: does `main` call `Registry::serve_if_worker` first?",
                child.id(),
                describe_exit(status)
            ));
        }
        if deadline.has_passed() {
            return Err(format!("the worker process {} did not connect within {START_LIMIT:?}", child.id()));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits for a worker that broke its connection, and says how it ended.
fn reap(child: &mut Child) -> String {
    // The socket closes as the process dies; the exit follows at once.
    let give_up = Instant::now() + Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return describe_exit(status),
            Ok(None) if Instant::now() < give_up => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return "closed its connection and was killed".to_string();
            }
            Err(e) => return format!("ended, how could not be read: {e}"),
        }
    }
}

fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    match status.signal() {
        Some(signal) => format!("was killed by signal {signal} ({})", signal_name(signal)),
        None => format!("ended: {status}"),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        libc::SIGPIPE => "SIGPIPE",
        _ => "another signal",
    }
}
