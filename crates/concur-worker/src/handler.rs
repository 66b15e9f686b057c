//! Handlers: the async functions that run tasks, what they are given
//! ([`Job`]) and how they say a task failed ([`TaskError`]), plus the
//! built-in `sleep` and `echo`.
//!
//! A handler is registered by name with
//! [`WorkerBuilder::handler`](crate::WorkerBuilder::handler). The worker
//! calls it on its event loop's thread and runs the future it returns there,
//! as a task of a [`concur::aio`] loop, under the task's time limit. Because
//! the future is made on the loop's thread it need not be `Send`: it may hold
//! `Rc`s, `aio` locks and events, or tokio sockets. The function itself
//! crosses to that thread once, so it must be `Send`.
//!
//! How a handler ends decides what happens to the task:
//!
//! | the handler | the task |
//! |---|---|
//! | returns `Ok(value)` | acknowledged; `value` stored as its result |
//! | returns [`TaskError::failed`] (or any error through `?`), panics, or runs past its time limit | retried after a backoff, dead-lettered once out of attempts |
//! | returns [`TaskError::rejected`], e.g. from [`Job::args_as`] on arguments that do not fit | dead-lettered at once with the reason: no retry can fix it |

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use concur::aio;

/// The task as its handler sees it: id, name, arguments and attempt.
///
/// # Examples
///
/// ```
/// use concur_worker::Job;
/// use serde_json::json;
///
/// let job = Job::new("resize", vec![json!("cat.png"), json!(640)]);
/// let (path, width): (String, u32) = job.args_as()?;
/// assert_eq!((path.as_str(), width), ("cat.png", 640));
/// assert_eq!(job.attempt(), 1);
/// # Ok::<(), concur_worker::TaskError>(())
/// ```
///
/// # Python
///
/// The arguments RQ or Celery pass to a task function, with the delivery
/// details (`self.request` in Celery) beside them.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    id: String,
    name: String,
    args: Vec<Value>,
    attempt: u32,
    max_attempts: u32,
    timeout: Duration,
}

impl Job {
    /// A job as a worker would make it for a first attempt (one of five, five
    /// minutes allowed), with a fresh id: for testing handlers without Redis.
    ///
    /// # Examples
    ///
    /// ```
    /// let job = concur_worker::Job::new("echo", vec![]);
    /// assert_eq!(job.name(), "echo");
    /// assert_eq!(job.max_attempts(), 5);
    /// ```
    pub fn new(name: &str, args: Vec<Value>) -> Job {
        Job {
            id: crate::envelope::new_id(),
            name: name.to_owned(),
            args,
            attempt: 1,
            max_attempts: 5,
            timeout: Duration::from_secs(300),
        }
    }

    pub(crate) fn for_task(task: &crate::protocol::Task, timeout: Duration) -> Job {
        Job {
            id: task.id().to_owned(),
            name: task.name().to_owned(),
            args: task.args().to_vec(),
            attempt: task.attempt(),
            max_attempts: task.max_attempts(),
            timeout,
        }
    }

    /// The task's id, under which its result is stored.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur_worker::Job::new("echo", vec![]).id().is_empty());
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The task's name: the name its handler was registered under.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::Job::new("echo", vec![]).name(), "echo");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The arguments as JSON values.
    ///
    /// # Examples
    ///
    /// ```
    /// let job = concur_worker::Job::new("echo", vec![serde_json::json!(1)]);
    /// assert_eq!(job.args(), &[serde_json::json!(1)]);
    /// ```
    pub fn args(&self) -> &[Value] {
        &self.args
    }

    /// The arguments read into `T`: a tuple for a fixed list (`(String,
    /// u32)`, `(f64,)` for one), a `Vec` for a list of one kind, or any type
    /// that deserializes from a JSON array.
    ///
    /// # Errors
    ///
    /// A [rejection](TaskError::rejected) naming the task and what did not
    /// fit, so that `?` dead-letters a task whose arguments no retry can fix.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur_worker::Job;
    /// use serde_json::json;
    ///
    /// let job = Job::new("resize", vec![json!("cat.png"), json!("wide")]);
    /// let err = job.args_as::<(String, u32)>().unwrap_err();
    /// assert!(err.is_rejected());
    /// assert!(err.to_string().contains("resize"));
    /// ```
    pub fn args_as<T: DeserializeOwned>(&self) -> Result<T, TaskError> {
        serde_json::from_value(Value::Array(self.args.clone())).map_err(|e| {
            TaskError::rejected(format!(
                "the arguments {} do not fit the task {:?}: {}",
                shown(&Value::Array(self.args.clone())),
                self.name,
                cut(e.to_string())
            ))
        })
    }

    /// Which attempt this is, 1 for the first.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::Job::new("echo", vec![]).attempt(), 1);
    /// ```
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Attempts allowed in all.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::Job::new("echo", vec![]).max_attempts(), 5);
    /// ```
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The time limit of this attempt; past it the handler's future is
    /// cancelled and the attempt counts as failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(concur_worker::Job::new("echo", vec![]).timeout(), Duration::from_secs(300));
    /// ```
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// A value as JSON for a message, cut to a few hundred characters: the
/// message lands in the dead-letter list, which should not hold the payload
/// twice.
fn shown(value: &Value) -> String {
    cut(value.to_string())
}

fn cut(text: String) -> String {
    const LIMIT: usize = 200;
    match text.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// Why a handler did not finish its task: a failure, which is retried, or a
/// rejection, which is dead-lettered at once.
///
/// Any error converts into a failure with `?`, as with `anyhow`; for that
/// reason `TaskError` itself does not implement [`std::error::Error`] (it
/// would collide with that conversion), and is not built with `thiserror`.
///
/// # Examples
///
/// ```
/// use concur_worker::TaskError;
///
/// fn open(path: &str) -> Result<String, TaskError> {
///     if path.is_empty() {
///         return Err(TaskError::rejected("the path is empty"));
///     }
///     Ok(std::fs::read_to_string(path)?) // an I/O error: a failure, retried
/// }
/// assert!(open("").unwrap_err().is_rejected());
/// assert!(!open("/no/such/file").unwrap_err().is_rejected());
/// ```
///
/// # Python
///
/// An exception raised by an RQ or Celery task function; a rejection is
/// Celery's `Reject(requeue=False)`.
pub struct TaskError {
    message: String,
    rejected: bool,
    /// The cancellation this error came from, kept alive so that the `aio`
    /// timeout around the handler sees its cancellation come back out.
    cancelled: Option<aio::Cancelled>,
}

impl TaskError {
    /// A failure: the task is retried after a backoff while it has attempts
    /// left, then dead-lettered with this message.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = concur_worker::TaskError::failed("the mail server timed out");
    /// assert_eq!(err.to_string(), "the mail server timed out");
    /// ```
    pub fn failed(message: impl Into<String>) -> TaskError {
        TaskError { message: message.into(), rejected: false, cancelled: None }
    }

    /// A rejection: the task can never succeed as given (bad arguments, say),
    /// so it goes to the dead-letter list at once with this message.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(concur_worker::TaskError::rejected("width must be positive").is_rejected());
    /// ```
    pub fn rejected(message: impl Into<String>) -> TaskError {
        TaskError { message: message.into(), rejected: true, cancelled: None }
    }

    /// Whether this is a rejection rather than a failure.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur_worker::TaskError::failed("flaky").is_rejected());
    /// ```
    pub fn is_rejected(&self) -> bool {
        self.rejected
    }

    /// The message, as stored with the task.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_worker::TaskError::failed("flaky").message(), "flaky");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl<E: std::error::Error + 'static> From<E> for TaskError {
    /// A failure whose message is the error and its sources, joined by `: `.
    fn from(error: E) -> TaskError {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        let mut failure = TaskError::failed(message);
        // A cancellation passed on with `?` must stay a live cancellation:
        // that is how the loop tells a cancelled handler from one that
        // handled its cancellation.
        let any: Box<dyn std::any::Any> = Box::new(error);
        failure.cancelled = match any.downcast::<aio::Cancelled>() {
            Ok(cancelled) => Some(*cancelled),
            Err(any) => match any.downcast::<aio::Error>() {
                Ok(error) => match *error {
                    aio::Error::Cancelled(cancelled) => Some(cancelled),
                    _ => None,
                },
                Err(_) => None,
            },
        };
        failure
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.rejected { "Rejected" } else { "Failed" };
        f.debug_tuple(kind).field(&self.message).finish()
    }
}

/// What a registered handler returns once boxed: a future made on the
/// loop's thread, so not `Send`.
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>>>>;

/// A registered handler: the function, and the time limit for its tasks
/// whose envelopes set none (`None`: the queue's default).
pub(crate) struct Handler {
    call: Box<dyn Fn(Job) -> HandlerFuture + Send>,
    pub(crate) timeout: Option<Duration>,
}

impl Handler {
    pub(crate) fn new<F, Fut, T>(f: F) -> Handler
    where
        F: Fn(Job) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, TaskError>> + 'static,
        T: Serialize,
    {
        Handler {
            call: Box::new(move |job| {
                let fut = f(job);
                Box::pin(async move {
                    let value = fut.await?;
                    serde_json::to_value(value)
                        .map_err(|e| TaskError::failed(format!("the handler's result cannot be stored as JSON: {e}")))
                })
            }),
            timeout: None,
        }
    }

    pub(crate) fn with_timeout(mut self, timeout: Option<Duration>) -> Handler {
        self.timeout = timeout;
        self
    }

    pub(crate) fn call(&self, job: Job) -> HandlerFuture {
        (self.call)(job)
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handler").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

/// The built-in `sleep`: one argument, a number of seconds (scaled by
/// `unit`); returns the number. Refuses anything that is not a single
/// non-negative number, and a sleep that could not finish within the task's
/// time limit.
pub(crate) fn sleep(unit: Duration) -> Handler {
    Handler::new(move |job: Job| async move {
        let seconds = sleep_time(&job, unit)?;
        aio::sleep(seconds).await?;
        Ok(job.args()[0].clone())
    })
}

fn sleep_time(job: &Job, unit: Duration) -> Result<Duration, TaskError> {
    let [arg] = job.args() else {
        return Err(TaskError::rejected(format!(
            "the task sleep takes one argument, a number of seconds, and was given {}: {}",
            job.args().len(),
            shown(&Value::Array(job.args().to_vec()))
        )));
    };
    let Some(n) = arg.as_f64() else {
        return Err(TaskError::rejected(format!("the sleep time must be a number of seconds, not {}", shown(arg))));
    };
    if n < 0.0 {
        return Err(TaskError::rejected(format!("the sleep time must not be negative, and was {arg}")));
    }
    let scaled = unit.as_secs_f64() * n;
    let limit = job.timeout();
    match Duration::try_from_secs_f64(scaled) {
        Ok(duration) if duration <= limit => Ok(duration),
        _ => Err(TaskError::rejected(format!(
            "a sleep of {arg} ({scaled} s) is longer than the task's time limit of {} s, so it could never finish",
            limit.as_secs_f64()
        ))),
    }
}

/// The function registered as `name` in `registry`, served as a handler.
///
/// A registered function takes one argument; the task carries it as its
/// only argument (no argument at all stands for `null`, the unit `()`), so
/// `concur enqueue square 7` and a [`RemotePool`](crate::RemotePool) call
/// reach it alike. The function is plain blocking code, as in a process
/// pool's worker, so it runs on the loop's thread pool
/// ([`aio::to_thread`]) rather than on the loop itself, where it would
/// hold up every other task. Arguments that do not fit, and a result that
/// cannot be JSON, are rejections (no retry can change them); a panic is a
/// failure, retried like any other.
pub(crate) fn registered(registry: concur::executor::Registry, name: String) -> Handler {
    use concur::executor::CallError;
    Handler::new(move |job: Job| {
        let registry = registry.clone();
        let name = name.clone();
        async move {
            let arg = match job.args() {
                [] => Value::Null,
                [arg] => arg.clone(),
                more => {
                    return Err(TaskError::rejected(format!(
                        "the registered function {name:?} takes one argument, and the task has {}: {}",
                        more.len(),
                        shown(&Value::Array(more.to_vec()))
                    )))
                }
            };
            let called = name.clone();
            match aio::to_thread(move || registry.call(&called, arg)).await? {
                Ok(value) => Ok(value),
                Err(err @ CallError::Panicked(_)) => Err(TaskError::failed(format!("{name:?}: {err}"))),
                Err(err) => Err(TaskError::rejected(format!("{name:?}: {err}"))),
            }
        }
    })
}

/// The built-in `echo`: returns its arguments.
pub(crate) fn echo() -> Handler {
    Handler::new(|job: Job| async move { Ok(Value::Array(job.args().to_vec())) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rejection(args: Vec<Value>) -> String {
        let err = sleep_time(&Job::new("sleep", args), Duration::from_secs(1)).unwrap_err();
        assert!(err.is_rejected());
        err.to_string()
    }

    #[test]
    fn sleep_takes_one_sensible_number() {
        let job = Job::new("sleep", vec![json!(1.5)]);
        assert_eq!(sleep_time(&job, Duration::from_secs(1)).unwrap(), Duration::from_millis(1500));
        assert_eq!(sleep_time(&job, Duration::from_millis(200)).unwrap(), Duration::from_millis(300));
        assert!(rejection(vec![json!(-1)]).contains("negative"));
        assert!(rejection(vec![json!(1e300)]).contains("longer than the task's time limit"));
        assert!(rejection(vec![json!(301)]).contains("longer than the task's time limit"));
        assert!(rejection(vec![json!("5")]).contains("must be a number"));
        assert!(rejection(vec![json!(null)]).contains("must be a number"));
        assert!(rejection(vec![]).contains("takes one argument"));
        assert!(rejection(vec![json!(1), json!(2)]).contains("was given 2"));
    }

    #[test]
    fn messages_show_at_most_a_few_hundred_characters_of_the_arguments() {
        let job = Job::new("add", vec![json!("x".repeat(10_000))]);
        let err = job.args_as::<(i64, i64)>().unwrap_err();
        assert!(err.message().len() < 500, "{} bytes", err.message().len());
        assert!(err.message().contains('…'));
    }

    #[test]
    fn errors_convert_with_their_sources() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let err: TaskError = Outer(std::io::Error::other("inner")).into();
        assert_eq!(err.message(), "outer: inner");
        assert!(!err.is_rejected());
    }
}
