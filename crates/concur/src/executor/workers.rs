//! What the thread pool and the process pool share: a queue of jobs, worker
//! threads started as jobs arrive, and the rules for shutting down and for
//! breaking.
//!
//! The order of a few steps matters, and is kept here once:
//! - the job queue's own shutdown is the gate for new jobs, so `submit`
//!   takes no lock on its fast path: a put lands before the shutdown or is
//!   refused;
//! - a pool is marked broken *before* its queue shuts, so a refused submit
//!   finds the reason; the queue is shut *before* it is drained, so no job
//!   can slip in after the drain and wait for ever;
//! - jobs taken out are ended (cancelled or failed) only once no lock is
//!   held, since ending a job runs its future's callbacks, which may use the
//!   pool;
//! - every `shutdown` that waits, waits for the count of running workers to
//!   reach zero, not only the caller that happened to take the handles — and
//!   a worker shutting down its own pool does not wait for itself;
//! - a worker started for a job is handed that job with the thread, not
//!   through the queue: it is the worker's from the moment `submit` returns
//!   (which, like Python's `Thread.start()`, is once the thread runs), so a
//!   `shutdown` that cancels the queued jobs right after a burst of submits
//!   cancels only what no started worker has taken — never every call.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use super::error::SubmitError;
use super::shutdown::Shutdown;
use crate::futures::FutureError;
use crate::queue::SimpleQueue;
use crate::thread::{self, JoinHandle};

/// A queued call, as the worker set sees it.
pub(crate) trait Job: Send {
    /// Ends the job without running it.
    fn abandon(self: Box<Self>, why: FutureError);
}

pub(crate) struct Workers<J: ?Sized> {
    jobs: SimpleQueue<Box<J>>,
    max: usize,
    /// Workers waiting for a job and not yet promised one: a submit that
    /// finds one starts no thread. Only kept while workers may still start.
    idle: AtomicUsize,
    /// Workers started, readable without `control`.
    started: AtomicUsize,
    control: Mutex<Control>,
    /// Workers running now.
    live: Mutex<usize>,
    exited: Condvar,
}

struct Control {
    /// Handles not yet joined; the first `shutdown` that waits takes them.
    handles: Vec<JoinHandle<()>>,
    /// Idents of every worker started.
    idents: Vec<u64>,
    shut_down: bool,
    broken: Option<String>,
}

impl<J: Job + ?Sized> Workers<J> {
    pub(crate) fn new(max: usize) -> Workers<J> {
        Workers {
            jobs: SimpleQueue::new(),
            max,
            idle: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
            control: Mutex::new(Control { handles: Vec::new(), idents: Vec::new(), shut_down: false, broken: None }),
            live: Mutex::new(0),
            exited: Condvar::new(),
        }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Queues `job`, or starts a worker for it if none is idle and the pool
    /// may have another. `worker(workers, slot)` is the new worker's body;
    /// `name` names its thread.
    pub(crate) fn submit<F>(
        self: &Arc<Self>,
        job: Box<J>,
        name: impl FnOnce(usize) -> String,
        worker: F,
    ) -> Result<(), SubmitError>
    where
        F: FnOnce(&Arc<Self>, usize) + Send + 'static,
        J: 'static,
    {
        let mut job = job;
        // Once every worker is started there is nothing to decide, and the
        // idle count, which every worker touches, is left alone.
        if self.started.load(Ordering::Acquire) < self.max {
            let claimed_idle =
                self.idle.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1)).is_ok();
            if !claimed_idle {
                match self.start(job, name, worker) {
                    Started::Yes => return Ok(()),
                    Started::Refused(refused) => return Err(refused),
                    Started::NoRoom(back) => job = back,
                }
            }
        }
        if self.jobs.put(job).is_err() {
            return Err(self.refusal(&self.control.lock()));
        }
        Ok(())
    }

    /// Why a job is refused once the queue is shut: broken, or shut down.
    fn refusal(&self, control: &Control) -> SubmitError {
        control.broken.clone().map_or(SubmitError::ShutDown, SubmitError::Broken)
    }

    /// Starts a worker and hands it `job`, unless the pool is shut down or
    /// broken (the job is refused) or already has all its workers (the job
    /// comes back, for the queue).
    fn start<F>(self: &Arc<Self>, job: Box<J>, name: impl FnOnce(usize) -> String, worker: F) -> Started<J>
    where
        F: FnOnce(&Arc<Self>, usize) + Send + 'static,
        J: 'static,
    {
        let (stranded, reason) = {
            let mut control = self.control.lock();
            if control.shut_down || control.broken.is_some() {
                return Started::Refused(self.refusal(&control));
            }
            if control.idents.len() >= self.max {
                return Started::NoRoom(job);
            }
            let slot = control.idents.len();
            let workers = Arc::clone(self);
            // The job rides with the thread; the slot gets it back if the
            // thread cannot start, since the closure is then dropped unrun.
            let handed = Arc::new(Mutex::new(Some(job)));
            let theirs = Arc::clone(&handed);
            *self.live.lock() += 1;
            let spawned = thread::Builder::new()
                .name(name(slot))
                // Never keeps `concur::run` waiting: a dropped pool joins its
                // workers itself.
                .daemon(true)
                .spawn(move || {
                    let _exit = Exit(&workers);
                    let first = theirs.lock().take();
                    FIRST_JOB.set(first.map(|job| Box::new(job) as Box<dyn Any + Send>));
                    worker(&workers, slot);
                    // A worker that stopped before its first `next_job` (its
                    // initializer broke the pool) still owes its job an end.
                    if let Some(job) = take_first_job::<J>() {
                        let why = workers
                            .control
                            .lock()
                            .broken
                            .clone()
                            .unwrap_or_else(|| "the worker stopped before it took its call".to_string());
                        job.abandon(FutureError::Failed(why));
                    }
                });
            match spawned {
                Ok(handle) => {
                    control.idents.push(handle.ident());
                    control.handles.push(handle);
                    self.started.store(control.idents.len(), Ordering::Release);
                    return Started::Yes;
                }
                Err(err) => {
                    self.exit();
                    // The closure was dropped unrun, so the job is still here.
                    let Some(job) = handed.lock().take() else { return Started::Yes };
                    // Queued, the job waits for the workers there are; with
                    // none at all it would wait for ever.
                    if !control.idents.is_empty() {
                        return Started::NoRoom(job);
                    }
                    let reason = format!("no worker thread could start: {err}");
                    let mut stranded = self.break_locked(&mut control, reason.clone());
                    stranded.push(job);
                    (stranded, reason)
                }
            }
        };
        abandon_all(stranded, FutureError::Failed(reason));
        Started::Yes
    }

    /// The next job, waiting for one; `None` once the pool is shut down and
    /// its queue empty.
    pub(crate) fn next_job(&self) -> Option<Box<J>>
    where
        J: 'static,
    {
        if let Some(job) = take_first_job::<J>() {
            return Some(job);
        }
        self.jobs.get().ok()
    }

    /// Called by a worker after each job: it is idle again. A worker calls
    /// it before it hands the job's result out, so that a caller woken by
    /// the result and submitting again finds this worker idle instead of
    /// starting another.
    pub(crate) fn job_done(&self) {
        if self.started.load(Ordering::Acquire) < self.max {
            self.idle.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Breaks the pool: queued jobs fail with `reason` and new ones are
    /// refused. The first reason given stays.
    pub(crate) fn break_with(&self, reason: String) {
        let stranded = {
            let mut control = self.control.lock();
            if control.broken.is_some() {
                return;
            }
            self.break_locked(&mut control, reason.clone())
        };
        abandon_all(stranded, FutureError::Failed(reason));
    }

    fn break_locked(&self, control: &mut Control, reason: String) -> Vec<Box<J>> {
        control.broken = Some(reason);
        self.close(true)
    }

    #[cfg_attr(not(all(unix, feature = "process-pool")), allow(dead_code))] // only `ProcessPool` asks
    pub(crate) fn is_broken(&self) -> bool {
        self.control.lock().broken.is_some()
    }

    /// Shuts the queue, then drains it if asked: the order that lets no job
    /// in after the drain.
    fn close(&self, drain: bool) -> Vec<Box<J>> {
        self.jobs.shutdown();
        if drain {
            self.jobs.drain().collect()
        } else {
            Vec::new()
        }
    }

    /// Stops new jobs; cancels the queued ones if asked; if asked to wait,
    /// returns once every worker has finished.
    pub(crate) fn shutdown(&self, how: Shutdown) {
        let Shutdown { wait, cancel_futures } = how;
        let (cancelled, handles, me_working) = {
            let mut control = self.control.lock();
            control.shut_down = true;
            let cancelled = self.close(cancel_futures);
            let handles = if wait { std::mem::take(&mut control.handles) } else { Vec::new() };
            (cancelled, handles, control.idents.contains(&thread::current().ident()))
        };
        abandon_all(cancelled, FutureError::Cancelled);
        if !wait {
            return;
        }
        for handle in handles {
            // A worker never panics, and joining fails only for the
            // current thread, which the count below allows for.
            let _ = handle.join();
        }
        let mut live = self.live.lock();
        while *live > usize::from(me_working) {
            self.exited.wait(&mut live);
        }
    }

    fn exit(&self) {
        let mut live = self.live.lock();
        *live -= 1;
        self.exited.notify_all();
    }

    /// For `Debug`: workers started, jobs queued, the broken reason.
    pub(crate) fn describe(&self, out: &mut fmt::DebugStruct<'_, '_>) {
        let control = self.control.lock();
        out.field("max_workers", &self.max)
            .field("workers", &control.idents.len())
            .field("queued", &self.jobs.len())
            .field("shut_down", &control.shut_down)
            .field("broken", &control.broken);
    }
}

/// What `start` did with the job it was given.
enum Started<J: ?Sized> {
    /// A worker started with the job (or the job has ended, failed).
    Yes,
    /// The pool is shut down or broken; the job is dropped unrun.
    Refused(SubmitError),
    /// Every worker is started already: the job is for the queue.
    NoRoom(Box<J>),
}

std::thread_local! {
    /// The job a new worker was started for, until its first `next_job`.
    /// Type-erased because a thread-local cannot be generic; each worker
    /// thread belongs to one pool, whose job type it is.
    static FIRST_JOB: Cell<Option<Box<dyn Any + Send>>> = const { Cell::new(None) };
}

/// The calling worker's first job, if it has not taken it yet.
fn take_first_job<J: ?Sized + 'static>() -> Option<Box<J>> {
    let job = FIRST_JOB.take()?;
    // Only `start` fills the cell, on a thread it starts for a pool of jobs
    // `J`, and only that pool's worker body takes from it: the type matches.
    Some(*job.downcast::<Box<J>>().expect("a worker's first job is of its pool's job type"))
}

/// Counts a worker out however it leaves.
struct Exit<'a, J: ?Sized + Job>(&'a Workers<J>);

impl<J: ?Sized + Job> Drop for Exit<'_, J> {
    fn drop(&mut self) {
        self.0.exit();
    }
}

fn abandon_all<J: ?Sized + Job>(jobs: Vec<Box<J>>, why: FutureError) {
    for job in jobs {
        job.abandon(why.clone());
    }
}
