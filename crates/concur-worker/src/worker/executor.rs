//! The event-loop side: a supervisor task on the worker's `aio` loop starts
//! each fetched task as a task of its own, runs its handler under its time
//! limit, and reports how it ended to the finisher.
//!
//! The consumer thread hands batches over through a `SimpleQueue` that the
//! supervisor awaits with `get_async` — the same queue type serving a thread
//! on one side and a coroutine on the other. Handlers are called on the loop's
//! thread, so their futures need not be `Send`.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use concur::aio::{self, LoopError, LoopHandle};
use concur::queue::SimpleQueue;
use concur::thread::panic_message;
use serde_json::Value;
use tracing::Instrument;

use super::handoff::{LoopMessage, Message, Outcome};
use super::shared::{Shared, State};
use crate::handler::{Handler, HandlerFuture, Job, TaskError};
use crate::protocol::Task;

/// Starts the supervisor on the loop.
pub(crate) fn start(
    handle: &LoopHandle,
    shared: Arc<Shared>,
    handlers: HashMap<String, Handler>,
    inbox: Arc<SimpleQueue<LoopMessage>>,
    reports: Arc<SimpleQueue<Message>>,
    span: tracing::Span,
) -> Result<(), LoopError> {
    handle.call_soon_threadsafe(move || {
        // Made here, on the loop's thread: the supervisor holds `Rc`s.
        let supervisor = aio::create_task(supervise(shared, Rc::new(handlers), inbox, reports).instrument(span));
        supervisor.add_done_callback(|task| {
            if let Err(error) = task.result() {
                tracing::error!(%error, "the worker's supervisor task ended abnormally");
            }
        });
    })?;
    Ok(())
}

async fn supervise(
    shared: Arc<Shared>,
    handlers: Rc<HashMap<String, Handler>>,
    inbox: Arc<SimpleQueue<LoopMessage>>,
    reports: Arc<SimpleQueue<Message>>,
) {
    let supervisor = Rc::new(Supervisor {
        shared,
        handlers,
        reports,
        running: RefCell::new(HashMap::new()),
        waiting: RefCell::new(VecDeque::new()),
    });
    while let Ok(message) = inbox.get_async().await {
        match message {
            LoopMessage::Start(batch) => {
                for (seq, task) in batch {
                    supervisor.admit(seq, task);
                }
            }
            LoopMessage::ReturnWaiting => supervisor.return_waiting(),
            LoopMessage::Abort => {
                supervisor.return_waiting();
                let live: Vec<aio::TaskRef> = supervisor.running.borrow().values().map(aio::Task::task_ref).collect();
                for task in live {
                    task.cancel_with("the worker is stopping and its grace period is over");
                }
            }
        }
    }
}

/// What the supervisor keeps on the loop's thread: the tasks running, at
/// most the concurrency, and the prefetched ones waiting for a turn.
struct Supervisor {
    shared: Arc<Shared>,
    handlers: Rc<HashMap<String, Handler>>,
    reports: Arc<SimpleQueue<Message>>,
    running: RefCell<HashMap<u64, aio::Task<()>>>,
    /// Fetched beyond the concurrency (the prefetch), oldest first.
    waiting: RefCell<VecDeque<(u64, Arc<Task>)>>,
}

impl Supervisor {
    /// Starts a fetched task, or queues it behind the running ones; a
    /// task not started while the worker stops or is quiet goes back to
    /// pending.
    fn admit(self: &Rc<Self>, seq: u64, task: Arc<Task>) {
        if !self.shared.taking() {
            let _ = self.reports.put(Message::Report(seq, Outcome::Return));
        } else if self.running.borrow().len() < self.shared.settings.concurrency {
            self.launch(seq, task);
        } else {
            self.waiting.borrow_mut().push_back((seq, task));
        }
    }

    /// A running task ended: its slot goes to the oldest waiting task.
    fn next(self: &Rc<Self>) {
        while self.running.borrow().len() < self.shared.settings.concurrency {
            let Some((seq, task)) = self.waiting.borrow_mut().pop_front() else { return };
            self.admit(seq, task);
        }
    }

    /// Sends every waiting task back to pending: the worker is stopping.
    fn return_waiting(&self) {
        for (seq, _) in self.waiting.borrow_mut().drain(..) {
            let _ = self.reports.put(Message::Report(seq, Outcome::Return));
        }
    }

    fn launch(self: &Rc<Self>, seq: u64, task: Arc<Task>) {
        // A span per attempt, inside the worker's: a handler's own
        // logs say which task and attempt they are about.
        let span = tracing::info_span!("task", task.id = task.id(), task.name = task.name(), attempt = task.attempt());
        let body =
            run_task(self.shared.clone(), self.handlers.clone(), seq, task, self.reports.clone()).instrument(span);
        let spawned = aio::create_task(body);
        let this = self.clone();
        spawned.add_done_callback(move |done| {
            // Reading the result marks it seen (the loop's debug
            // mode warns about tasks nobody looked at).
            let _ = done.result();
            this.running.borrow_mut().remove(&seq);
            this.next();
        });
        self.running.borrow_mut().insert(seq, spawned);
    }
}

/// Sends the task's outcome to the finisher; if the task is dropped before
/// it could (cancelled where no `aio` await could hand it the error, or the
/// loop closed), reports it abandoned, so the finisher's count stays true.
struct Reporter {
    seq: u64,
    reports: Arc<SimpleQueue<Message>>,
    sent: bool,
}

impl Reporter {
    fn send(mut self, outcome: Outcome) {
        self.sent = true;
        let _ = self.reports.put(Message::Report(self.seq, outcome));
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if !self.sent {
            let _ = self.reports.put(Message::Report(self.seq, Outcome::Abandon));
        }
    }
}

async fn run_task(
    shared: Arc<Shared>,
    handlers: Rc<HashMap<String, Handler>>,
    seq: u64,
    task: Arc<Task>,
    reports: Arc<SimpleQueue<Message>>,
) {
    let reporter = Reporter { seq, reports, sent: false };
    let outcome = match handlers.get(task.name()) {
        None => Outcome::Reject(unknown_task(task.name(), &handlers)),
        Some(handler) => {
            // The envelope's own limit wins; then the handler's; then the queue's default.
            let limit = match (task.envelope().timeout, handler.timeout) {
                (None, Some(own)) => own,
                _ => task.timeout(),
            };
            let job = Job::for_task(&task, limit);
            let began = Instant::now();
            let call = catch_unwind(AssertUnwindSafe(|| handler.call(job)));
            let outcome = match call {
                Err(panic) => Outcome::Fail(format!("the handler panicked: {}", panic_message(&*panic))),
                Ok(fut) => match aio::timeout(limit, CatchUnwind(fut)).await {
                    Ok(Ok(Ok(value))) => Outcome::Ack(value),
                    Ok(Ok(Err(error))) => from_task_error(error),
                    Ok(Err(panic)) => Outcome::Fail(format!("the handler panicked: {panic}")),
                    Err(other) => Outcome::Fail(other.to_string()),
                },
            };
            match outcome {
                // However the cancellation came out of the handler (a timeout
                // error, or an error the handler made from it), an attempt
                // that failed at its limit failed by it.
                Outcome::Fail(_) if began.elapsed() >= limit && shared.state() != State::Aborting => {
                    Outcome::Fail(format!("the task did not finish within its time limit of {} s", limit.as_secs_f64()))
                }
                other => other,
            }
        }
    };
    let outcome = match outcome {
        // Cut short by the stop: not a failure of the task; retire returns it.
        Outcome::Fail(_) | Outcome::Reject(_) if shared.state() == State::Aborting => Outcome::Abandon,
        other => other,
    };
    reporter.send(outcome);
}

fn from_task_error(error: TaskError) -> Outcome {
    if error.is_rejected() {
        Outcome::Reject(error.message().to_owned())
    } else {
        Outcome::Fail(error.message().to_owned())
    }
}

fn unknown_task(name: &str, handlers: &HashMap<String, Handler>) -> String {
    let mut known: Vec<&str> = handlers.keys().map(String::as_str).collect();
    known.sort_unstable();
    let shown = if known.len() > 20 { format!("{}, …", known[..20].join(", ")) } else { known.join(", ") };
    format!("no handler is registered for the task {name:?} on this worker, which runs: {shown}")
}

/// A handler's future with its panics caught and turned into a message, so
/// a panicking handler fails its task instead of vanishing with it.
struct CatchUnwind(HandlerFuture);

impl Future for CatchUnwind {
    type Output = Result<Result<Value, TaskError>, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic_message(&*panic))),
        }
    }
}

/// How long the stopping thread waits for cancelled tasks to report.
pub(crate) const ABORT_WAIT: Duration = Duration::from_secs(5);
