//! [`RemotePool`]: a process pool whose workers are `concur worker`s fed
//! through Redis.
//!
//! [`concur::executor::ProcessPool`] runs the functions of a
//! [`Registry`](concur::executor::Registry) in processes of this machine;
//! [`WorkerBuilder::registry`](crate::WorkerBuilder::registry) serves the
//! same functions from workers anywhere. A `RemotePool` is the caller's side
//! of that: [`submit`](RemotePool::submit) enqueues the call and hands back
//! a [`ConcurrentFuture`], the same type every pool of `concur` hands back,
//! so [`futures::wait`](concur::futures::wait),
//! [`as_completed`](concur::futures::as_completed), `result_timeout` and
//! `.await` work on calls that run on other machines as they do on calls
//! that run on other threads.
//!
//! # How results come back
//!
//! No result key is polled. Each task's envelope names a reply list of this
//! pool in the queue's own hash tag (`{NAME}:reply:CLIENT`, see
//! [`Keys::reply`](crate::protocol::Keys::reply)); the script that
//! acknowledges the task, and the ones that dead-letter it, push its id
//! there in the same atomic step. One thread per queue (per shard of a
//! sharded queue, since on a cluster each shard's list lives on its own
//! node) blocks on that list (`BLPOP`) on a connection of its own, takes
//! whatever else has arrived (`LPOP` with a count), reads those tasks'
//! result records in one `MGET`, and completes their futures.
//!
//! A pushed id can be lost: popped by a `BLPOP` whose connection dropped
//! before the reply came, or with the list itself when Redis restarts
//! without persistence. So whenever a listener reconnects it reads the
//! result keys of every task it still waits for, before it blocks again:
//! a task that ended while it was away is found there. This is why the
//! workers must keep results ([`QueueConfig::results_cap`] and
//! [`QueueConfig::result_ttl`] above zero, the defaults): the notification
//! says *that* a task ended, the result record says how.
//!
//! The listeners block every signal but the fault signals, as the worker's
//! Redis threads do: their sockets wait with a timeout, and a signal handler
//! run on one of them would cut its `BLPOP` short (`EINTR`) and cost a
//! reconnect. A signal aimed at the process goes to one of the program's
//! own threads instead.
//!
//! # Delivery
//!
//! Delivery is the worker's: at least once. A worker killed mid-call loses
//! nothing — a reaper returns the task, another worker runs it, and its
//! acknowledgement resolves the future. A future resolves once, with the
//! first outcome; a late duplicate is ignored.
//!
//! [`QueueConfig::results_cap`]: crate::QueueConfig::results_cap
//! [`QueueConfig::result_ttl`]: crate::QueueConfig::result_ttl

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use concur::executor::{Function, Shutdown, SubmitError};
use concur::futures::{ConcurrentFuture, FutureError};
use parking_lot::{Condvar, Mutex};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::client::Client;
use crate::config::QueueConfig;
use crate::error::Error;
use crate::keys::Keys;
use crate::record::{ResultStatus, TaskResult};
use crate::EnqueueOptions;

/// How long one `BLPOP` of a listener waits: the most a listener takes to
/// notice that its pool has shut down.
const BLOCK: Duration = Duration::from_secs(1);
/// The most ids a listener takes, and result keys it reads, in one go.
const BATCH: usize = 500;
/// The longest pause between two attempts to reach a lost Redis.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Completes one future from a task's outcome (a JSON value or why there is
/// none), reading the value as the future's type.
type Complete = Box<dyn FnOnce(Result<Value, FutureError>) + Send>;

/// A task this pool waits on.
struct Waiter {
    /// Which of the pool's targets (the queue, or one of its shards) it went to.
    target: usize,
    /// Its payload, to take it back from the pending list on a cancelling shutdown.
    payload: String,
    complete: Complete,
}

struct Shared {
    client_id: String,
    /// Where tasks go and replies come from: the queue itself, or its shards.
    targets: Vec<Keys>,
    producer: Mutex<Client>,
    options: EnqueueOptions,
    waiting: Mutex<HashMap<String, Waiter>>,
    /// Signalled whenever the last waiter is removed.
    settled: Condvar,
    /// No more submits.
    shut: AtomicBool,
    /// Listeners leave once nothing is waited on.
    stopping: AtomicBool,
}

/// A pool whose calls run on `concur worker`s through Redis: the shape of
/// [`ProcessPool`](concur::executor::ProcessPool) — `submit`, `map`,
/// `shutdown` with the same [`Function`] handles and [`Shutdown`] — with
/// the workers on any machine that reaches the queue.
///
/// The workers serve the same [`Registry`](concur::executor::Registry)
/// ([`WorkerBuilder::registry`](crate::WorkerBuilder::registry), or a
/// `concur worker` built into the program); results come back as each task
/// is acknowledged, without polling: each envelope names a reply list of
/// this pool (`{NAME}:reply:CLIENT`), the script that acknowledges or
/// dead-letters the task pushes its id there, and a listener thread per
/// queue (per shard of a sharded queue) blocks on it and reads the result
/// records of the ids that arrive. After losing Redis a listener reconnects
/// and reads the result of every call it still waits for, so a call that
/// ended meanwhile is not missed; the workers must keep results
/// ([`QueueConfig::results_cap`], [`QueueConfig::result_ttl`], on by
/// default). `docs/PROTOCOL.md` ("Result notification") has the keys and
/// steps.
///
/// Delivery is the workers': at least once. A worker killed mid-call loses
/// nothing — a reaper returns the task, another worker runs it — and a
/// future resolves once, with the first outcome.
///
/// # Examples
///
/// ```no_run
/// use concur::executor::Registry;
/// use concur::futures::{wait, ReturnWhen};
/// use concur_worker::{QueueConfig, RemotePool};
///
/// let mut registry = Registry::new();
/// let square = registry.register("square", |n: u64| n * n);
///
/// let pool = RemotePool::connect("redis://127.0.0.1:6379", QueueConfig::default())?;
/// let futures: Vec<_> = (1..=3).map(|n| pool.submit(&square, n).unwrap()).collect();
/// let (done, _) = wait(&futures, ReturnWhen::AllCompleted, Some(std::time::Duration::from_secs(30)));
/// assert_eq!(done.len(), 3);
/// assert_eq!(futures[2].result(), Ok(9));
/// # Ok::<(), concur_worker::Error>(())
/// ```
///
/// # Python
///
/// `concurrent.futures.ProcessPoolExecutor` with the processes elsewhere,
/// as Dask's `distributed.Client` (which also returns futures that
/// `wait`/`as_completed` accept) and `Client.submit`/`map` do.
pub struct RemotePool {
    shared: Arc<Shared>,
    listeners: Mutex<Vec<JoinHandle<()>>>,
}

impl RemotePool {
    /// Connects to the queue `config.name` on the Redis server or cluster
    /// at `url` (as [`Client::connect`] reads it) and starts listening for
    /// results: one thread and connection per target (the queue, or each
    /// of its shards).
    ///
    /// # Errors
    ///
    /// As [`Client::connect`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let pool = concur_worker::RemotePool::connect("redis://127.0.0.1:6379", Default::default())?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn connect(url: &str, config: QueueConfig) -> Result<RemotePool, Error> {
        RemotePool::with_options(url, config, EnqueueOptions::default())
    }

    /// As [`connect`](Self::connect), with every task enqueued with
    /// `options` (attempts, time limit, a delay).
    ///
    /// # Errors
    ///
    /// As [`Client::connect`]; [`Error::InvalidOption`] for options
    /// [`Client::enqueue`] would refuse.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use concur_worker::{EnqueueOptions, RemotePool};
    ///
    /// let once = EnqueueOptions { max_attempts: Some(1), ..Default::default() };
    /// let pool = RemotePool::with_options("redis://127.0.0.1:6379", Default::default(), once)?;
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn with_options(url: &str, config: QueueConfig, options: EnqueueOptions) -> Result<RemotePool, Error> {
        if options.max_attempts == Some(0) || options.timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::InvalidOption("max_attempts and the timeout must be more than zero".into()));
        }
        let producer = Client::connect(url, config)?;
        let targets = if producer.shards.is_empty() { vec![producer.keys.clone()] } else { producer.shards.clone() };
        let mut connections = Vec::with_capacity(targets.len());
        for target in &targets {
            connections.push(producer.for_keys(target.clone())?);
        }
        let shared = Arc::new(Shared {
            client_id: crate::envelope::new_id(),
            targets,
            producer: Mutex::new(producer),
            options,
            waiting: Mutex::new(HashMap::new()),
            settled: Condvar::new(),
            shut: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
        });
        let mut listeners = Vec::with_capacity(connections.len());
        for (target, connection) in connections.into_iter().enumerate() {
            let shared = Arc::clone(&shared);
            let listener = std::thread::Builder::new()
                .name(format!("RemotePool-{target}"))
                .spawn(move || {
                    // A signal handler run on this thread would end its
                    // `BLPOP` with `EINTR` (the socket has a read timeout),
                    // which reads as a lost connection; the caller's threads
                    // take the signals instead.
                    let _blocked = crate::signal_mask::block_on_this_thread();
                    listen(&shared, target, connection)
                })
                .map_err(|e| Error::InvalidOption(format!("no thread could be started for a listener: {e}")))?;
            listeners.push(listener);
        }
        Ok(RemotePool { shared, listeners: Mutex::new(listeners) })
    }

    /// This pool's client id: its reply lists are `{NAME}:reply:` and this.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let pool = concur_worker::RemotePool::connect("redis://127.0.0.1:6379", Default::default())?;
    /// assert!(!pool.client_id().is_empty());
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn client_id(&self) -> &str {
        &self.shared.client_id
    }

    /// How many calls are enqueued whose futures have not resolved yet.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let pool = concur_worker::RemotePool::connect("redis://127.0.0.1:6379", Default::default())?;
    /// assert_eq!(pool.outstanding(), 0);
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn outstanding(&self) -> usize {
        self.shared.waiting.lock().len()
    }

    /// Enqueues `function(args)` and returns its future at once.
    ///
    /// The future is already running (a worker may take the task at any
    /// moment), so `cancel` returns `false`; a cancelling
    /// [`shutdown`](Self::shutdown) takes back the tasks no worker has
    /// taken. A call that cannot be enqueued (Redis unreachable, arguments
    /// that are not JSON or over the queue's size limit), a task that ends
    /// in the dead-letter list, and a result this side cannot read as `R`
    /// fail the future with [`FutureError::Failed`] naming the cause — for
    /// a dead task, the reason it died.
    ///
    /// # Errors
    ///
    /// [`SubmitError::ShutDown`] after [`shutdown`](Self::shutdown).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut registry = concur::executor::Registry::new();
    /// let double = registry.register("double", |n: i64| n * 2);
    /// let pool = concur_worker::RemotePool::connect("redis://127.0.0.1:6379", Default::default())?;
    /// assert_eq!(pool.submit(&double, 21).unwrap().result(), Ok(42));
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    ///
    /// # Python
    ///
    /// `executor.submit(fn, *args)`.
    pub fn submit<A, R>(&self, function: &Function<A, R>, args: A) -> Result<ConcurrentFuture<R>, SubmitError>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        Ok(self.submit_all(function, std::iter::once(args))?.pop().expect("one call in, one future out"))
    }

    /// Enqueues the task `name` with `args` as they are — what
    /// `concur enqueue --wait` does for any handler, registered function or
    /// not — and returns the future of its result as JSON.
    ///
    /// # Errors
    ///
    /// [`SubmitError::ShutDown`] after [`shutdown`](Self::shutdown).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use serde_json::json;
    ///
    /// let pool = concur_worker::RemotePool::connect("redis://127.0.0.1:6379", Default::default())?;
    /// let echoed = pool.submit_task("echo", vec![json!("hi")]).unwrap();
    /// assert_eq!(echoed.result(), Ok(json!(["hi"])));
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn submit_task(&self, name: &str, args: Vec<Value>) -> Result<ConcurrentFuture<Value>, SubmitError> {
        let future = running();
        let complete = completer(future.twin(), name);
        self.enqueue(name, vec![(Ok(args), complete)])?;
        Ok(future)
    }

    /// Calls `function` on every item, through the workers, and yields the
    /// results in the order of the items. The tasks are enqueued a thousand
    /// to a round trip.
    ///
    /// # Errors
    ///
    /// [`SubmitError::ShutDown`] after [`shutdown`](Self::shutdown).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let mut registry = concur::executor::Registry::new();
    /// # let square = registry.register("square", |n: u64| n * n);
    /// let pool = concur_worker::RemotePool::connect("redis://127.0.0.1:6379", Default::default())?;
    /// let squares: Vec<u64> = pool.map(&square, 1..=4).unwrap().map(Result::unwrap).collect();
    /// assert_eq!(squares, [1, 4, 9, 16]);
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    ///
    /// # Python
    ///
    /// `executor.map(fn, iterable)`.
    pub fn map<A, R>(
        &self,
        function: &Function<A, R>,
        items: impl IntoIterator<Item = A>,
    ) -> Result<impl Iterator<Item = Result<R, FutureError>>, SubmitError>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        let futures: VecDeque<_> = self.submit_all(function, items)?.into();
        Ok(futures.into_iter().map(ConcurrentFuture::into_result))
    }

    /// Stops the pool taking calls, as `how` says. [`Shutdown::wait`]
    /// returns once every future it handed out has resolved;
    /// [`Shutdown::cancel_futures`] first takes back from Redis every task
    /// no worker has taken yet and fails its future with
    /// [`FutureError::Cancelled`]. Either way the listeners stop once
    /// nothing is left to wait for.
    ///
    /// Dropping the pool is [`Shutdown::no_wait`]: the calls live in Redis,
    /// not in this process, so nothing holds the program back; the futures
    /// still resolve.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use concur::executor::Shutdown;
    ///
    /// let pool = concur_worker::RemotePool::connect("redis://127.0.0.1:6379", Default::default())?;
    /// pool.shutdown(Shutdown::wait().cancel_futures());
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    ///
    /// # Python
    ///
    /// `executor.shutdown(wait, cancel_futures)`.
    pub fn shutdown(&self, how: Shutdown) {
        self.shared.shut.store(true, Ordering::SeqCst);
        if how == Shutdown::wait().cancel_futures() || how == Shutdown::no_wait().cancel_futures() {
            self.take_back();
        }
        self.shared.stopping.store(true, Ordering::SeqCst);
        if how == Shutdown::wait() || how == Shutdown::wait().cancel_futures() {
            let mut waiting = self.shared.waiting.lock();
            while !waiting.is_empty() {
                self.shared.settled.wait(&mut waiting);
            }
            drop(waiting);
            for listener in self.listeners.lock().drain(..) {
                let _ = listener.join();
            }
        }
    }

    /// Removes from the pending lists the tasks still waiting there, and
    /// cancels their futures.
    fn take_back(&self) {
        let waiting: Vec<(String, usize, String)> = {
            let waiting = self.shared.waiting.lock();
            waiting.iter().map(|(id, waiter)| (id.clone(), waiter.target, waiter.payload.clone())).collect()
        };
        let mut taken = Vec::new();
        let mut producer = self.shared.producer.lock();
        for (id, target, payload) in waiting {
            let pending = self.shared.targets[target].pending().to_owned();
            let removed: Result<i64, Error> =
                producer.with_conn(|c| redis::cmd("LREM").arg(&pending).arg(-1).arg(&payload).query(c));
            match removed {
                Ok(1) => taken.push(id),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "a cancelling shutdown could not take a task back"),
            }
        }
        drop(producer);
        // Outside the lock: a done callback may call back into the pool.
        for id in taken {
            resolve(&self.shared, &id, Err(FutureError::Cancelled));
        }
    }

    fn submit_all<A, R>(
        &self,
        function: &Function<A, R>,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Vec<ConcurrentFuture<R>>, SubmitError>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        let name = function.name();
        let mut futures = Vec::new();
        let mut calls = Vec::new();
        for item in items {
            let future = running();
            // A registered function takes one argument: the task's only one.
            let args = serde_json::to_value(item)
                .map(|arg| vec![arg])
                .map_err(|e| format!("the arguments of {name:?} could not be written as JSON: {e}"));
            calls.push((args, completer(future.twin(), name)));
            futures.push(future);
        }
        self.enqueue(name, calls)?;
        Ok(futures)
    }

    /// Enqueues the calls, each waited on from before its push; a call that
    /// could not be enqueued fails its future.
    fn enqueue(&self, name: &str, calls: Vec<(Result<Vec<Value>, String>, Complete)>) -> Result<(), SubmitError> {
        if self.shared.shut.load(Ordering::SeqCst) {
            return Err(SubmitError::ShutDown);
        }
        let mut args = Vec::with_capacity(calls.len());
        let mut completes = VecDeque::with_capacity(calls.len());
        for (call_args, complete) in calls {
            match call_args {
                Ok(call_args) => {
                    args.push(call_args);
                    completes.push_back(complete);
                }
                Err(why) => complete(Err(FutureError::Failed(why))),
            }
        }
        if args.is_empty() {
            return Ok(());
        }
        let shared = &self.shared;
        let mut registered = Vec::with_capacity(args.len());
        let mut producer = shared.producer.lock();
        let enqueued = producer.enqueue_replying(
            name,
            args,
            &shared.options,
            Some(&shared.client_id),
            &mut |target, id, payload| {
                let target = shared.targets.iter().position(|t| t == target).unwrap_or(0);
                if let Some(complete) = completes.pop_front() {
                    shared
                        .waiting
                        .lock()
                        .insert(id.to_owned(), Waiter { target, payload: payload.to_owned(), complete });
                    registered.push(id.to_owned());
                }
            },
        );
        drop(producer);
        if let Err(err) = enqueued {
            let why = format!("the task {name:?} could not be enqueued (it may or may not be in the queue): {err}");
            for id in registered {
                resolve(shared, &id, Err(FutureError::Failed(why.clone())));
            }
            // Calls refused before their envelope was made (bad options, a payload too large).
            for complete in completes {
                complete(Err(FutureError::Failed(why.clone())));
            }
        }
        Ok(())
    }
}

impl Drop for RemotePool {
    fn drop(&mut self) {
        self.shutdown(Shutdown::no_wait());
    }
}

impl fmt::Debug for RemotePool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemotePool")
            .field("client_id", &self.shared.client_id)
            .field("targets", &self.shared.targets.iter().map(Keys::name).collect::<Vec<_>>())
            .field("outstanding", &self.outstanding())
            .field("shut", &self.shared.shut.load(Ordering::Relaxed))
            .finish()
    }
}

/// A new future, marked running: once in Redis a call may be taken by a
/// worker at any moment, so `cancel` cannot promise it will not run.
fn running<R>() -> ConcurrentFuture<R> {
    let future = ConcurrentFuture::new();
    future.set_running_or_notify_cancel();
    future
}

/// The completion of `future`: its outcome read as `R`.
fn completer<R: DeserializeOwned + Send + 'static>(future: ConcurrentFuture<R>, name: &str) -> Complete {
    let name = name.to_owned();
    Box::new(move |outcome: Result<Value, FutureError>| {
        let outcome = outcome.and_then(|value| {
            serde_json::from_value(value).map_err(|e| {
                FutureError::Failed(format!("the result of {name:?} could not be read as the expected type: {e}"))
            })
        });
        // Only the waiter taken out of the table completes the future, once:
        // it cannot be done already, so the `Err` cannot happen.
        let _ = match outcome {
            Ok(value) => future.set_result(value).map_err(drop),
            Err(err) => future.set_failure(err).map_err(drop),
        };
    })
}

/// Completes the future of task `id`, if it is still waited on.
fn resolve(shared: &Shared, id: &str, outcome: Result<Value, FutureError>) {
    let waiter = {
        let mut waiting = shared.waiting.lock();
        let waiter = waiting.remove(id);
        if waiting.is_empty() {
            shared.settled.notify_all();
        }
        waiter
    };
    if let Some(waiter) = waiter {
        (waiter.complete)(outcome);
    }
}

/// A result record as the outcome of a call.
fn outcome(record: TaskResult) -> Result<Value, FutureError> {
    match record.status {
        ResultStatus::Succeeded => Ok(record.result.unwrap_or(Value::Null)),
        ResultStatus::Dead => Err(FutureError::Failed(format!(
            "the task {:?} ({}) was dead-lettered after {} attempt(s): {}",
            record.task,
            record.id,
            record.attempts,
            record.error.unwrap_or_default()
        ))),
    }
}

/// A listener: blocks on the reply list of one target and resolves the
/// futures whose ids arrive, until the pool stops and nothing is waited on.
fn listen(shared: &Shared, target: usize, mut connection: Client) {
    let keys = &shared.targets[target];
    let reply = keys.reply(&shared.client_id);
    let mut backoff = Duration::from_millis(50);
    let mut lost = false;
    loop {
        if shared.stopping.load(Ordering::SeqCst) && shared.waiting.lock().is_empty() {
            return;
        }
        let step = if lost {
            sweep(shared, target, &mut connection).map(|()| {
                tracing::info!(
                    queue = keys.name(),
                    "a remote pool's listener is back and has read the results it missed"
                );
            })
        } else {
            next_ids(&mut connection, &reply).and_then(|ids| settle(shared, target, &mut connection, &ids, true))
        };
        match step {
            Ok(()) => {
                lost = false;
                backoff = Duration::from_millis(50);
            }
            Err(err) => {
                if !lost {
                    tracing::warn!(queue = keys.name(), error = %err, "a remote pool's listener lost Redis; it will reconnect and read the results it waits for");
                }
                lost = true;
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// The ids on the reply list: waits up to [`BLOCK`] for the first, then
/// takes up to [`BATCH`] without waiting.
fn next_ids(connection: &mut Client, reply: &str) -> Result<Vec<String>, Error> {
    let first: Option<(String, String)> =
        connection.with_conn(|c| redis::cmd("BLPOP").arg(reply).arg(BLOCK.as_secs_f64()).query(c))?;
    let Some((_, first)) = first else { return Ok(Vec::new()) };
    let more: Option<Vec<String>> = connection.with_conn(|c| redis::cmd("LPOP").arg(reply).arg(BATCH - 1).query(c))?;
    let mut ids = vec![first];
    ids.extend(more.unwrap_or_default());
    Ok(ids)
}

/// Reads the result records of `ids` (those still waited on) and resolves
/// their futures. `notified`: the ids came from the reply list, so a
/// missing record means the task ended without one (a poison task, or
/// results not kept); otherwise a missing record means not done yet.
fn settle(
    shared: &Shared,
    target: usize,
    connection: &mut Client,
    ids: &[String],
    notified: bool,
) -> Result<(), Error> {
    let ids: Vec<&String> = {
        let waiting = shared.waiting.lock();
        ids.iter().filter(|id| waiting.contains_key(id.as_str())).collect()
    };
    if ids.is_empty() {
        return Ok(());
    }
    let keys = &shared.targets[target];
    let result_keys: Vec<String> = ids.iter().map(|id| keys.result(id)).collect();
    let records: Vec<Option<String>> = connection.with_conn(|c| redis::cmd("MGET").arg(&result_keys).query(c))?;
    for (id, record) in ids.into_iter().zip(records) {
        let outcome = match record {
            Some(raw) => match serde_json::from_str::<TaskResult>(&raw) {
                Ok(record) => outcome(record),
                Err(e) => Err(FutureError::Failed(format!("the result record of the task {id} cannot be read: {e}"))),
            },
            None if notified => ended_without_record(connection, id)?,
            None => continue,
        };
        resolve(shared, id, outcome);
    }
    Ok(())
}

/// Why a task that was reported ended has no result record: its entry in
/// the dead-letter list (a poison task, buried by a reaper) if it is among
/// the newest, else that its record was not kept.
fn ended_without_record(connection: &mut Client, id: &str) -> Result<Result<Value, FutureError>, Error> {
    let dead = connection.dead_list(0, crate::MAX_PAGE)?;
    Ok(Err(FutureError::Failed(match dead.into_iter().find(|entry| entry.id == id) {
        Some(entry) => format!("the task {id} was dead-lettered ({:?}): {}", entry.kind, entry.error),
        None => format!(
            "the task {id} ended, but its result record is not kept: the workers' result_ttl or results_cap dropped it"
        ),
    })))
}

/// Reads the result keys of every task of `target` still waited on: what
/// a listener does after reconnecting, for the notifications it may have
/// missed.
fn sweep(shared: &Shared, target: usize, connection: &mut Client) -> Result<(), Error> {
    let ids: Vec<String> = {
        let waiting = shared.waiting.lock();
        waiting.iter().filter(|(_, waiter)| waiter.target == target).map(|(id, _)| id.clone()).collect()
    };
    connection.ping()?;
    for chunk in ids.chunks(BATCH) {
        settle(shared, target, connection, chunk, false)?;
    }
    Ok(())
}
