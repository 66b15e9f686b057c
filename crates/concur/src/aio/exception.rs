//! The loop's exception handler: where a panicking callback and a task's
//! panic nobody read go, instead of being lost.
//!
//! By default they go to [`default_exception_handler`], which reports them
//! through `tracing` at error level (the library installs no subscriber).
//! [`RunningLoop::set_exception_handler`](super::RunningLoop::set_exception_handler) puts a handler of the program's
//! own in its place, as Python's `loop.set_exception_handler` does.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use std::cell::RefCell;

use super::error::{panic_message, Error};

/// What went wrong, for the loop's exception handler.
///
/// # Examples
///
/// ```
/// use concur::aio::{Error, ExceptionContext};
///
/// let context = ExceptionContext::new("Exception in callback").with_error(Error::Panicked("boom".into()));
/// assert_eq!(context.to_string(), "Exception in callback: the task panicked: boom");
/// ```
///
/// # Python
///
/// The `context` dict of `loop.call_exception_handler`: its `message`,
/// `exception` (here `error`) and `task` (here the task's name).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExceptionContext {
    /// What happened, in a sentence.
    pub message: String,
    /// The error, if there is one: a panic's message as [`Error::Panicked`].
    pub error: Option<Error>,
    /// The name of the task it happened in, if any.
    pub task: Option<Rc<str>>,
}

impl ExceptionContext {
    /// A context with only a message.
    ///
    /// # Examples
    ///
    /// ```
    /// let context = concur::aio::ExceptionContext::new("something broke");
    /// assert!(context.error.is_none() && context.task.is_none());
    /// ```
    pub fn new(message: impl Into<String>) -> ExceptionContext {
        ExceptionContext { message: message.into(), error: None, task: None }
    }

    /// The context, with its error.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{Error, ExceptionContext};
    /// let context = ExceptionContext::new("late").with_error(Error::NotDone);
    /// assert_eq!(context.error, Some(Error::NotDone));
    /// ```
    #[must_use]
    pub fn with_error(mut self, error: Error) -> ExceptionContext {
        self.error = Some(error);
        self
    }

    /// The context, with the name of its task.
    ///
    /// # Examples
    ///
    /// ```
    /// let context = concur::aio::ExceptionContext::new("late").with_task("fetcher");
    /// assert_eq!(context.task.as_deref(), Some("fetcher"));
    /// ```
    #[must_use]
    pub fn with_task(mut self, name: impl Into<Rc<str>>) -> ExceptionContext {
        self.task = Some(name.into());
        self
    }
}

impl fmt::Display for ExceptionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(error) = &self.error {
            write!(f, ": {error}")?;
        }
        if let Some(task) = &self.task {
            write!(f, " (task {task})")?;
        }
        Ok(())
    }
}

/// A loop's exception handler; see [`RunningLoop::set_exception_handler`](super::RunningLoop::set_exception_handler).
pub type ExceptionHandler = Rc<dyn Fn(&ExceptionContext)>;

/// A loop's handler, shared between the loop's state and, while the loop
/// runs, this thread's [`CURRENT`].
pub(crate) type HandlerSlot = Rc<RefCell<Option<ExceptionHandler>>>;

thread_local! {
    /// The handler of the loop running on this thread, set by the loop's
    /// run guard: how a report finds it without this file depending on the
    /// loop's (which depend on it to report).
    static CURRENT: RefCell<Option<HandlerSlot>> = const { RefCell::new(None) };
}

/// The loop whose handler `slot` is starts (`Some`) or stops (`None`)
/// running on this thread.
pub(crate) fn set_current(slot: Option<HandlerSlot>) {
    let _ = CURRENT.try_with(|current| *current.borrow_mut() = slot);
}

/// What a loop does with an exception when no handler was set: reports it
/// through `tracing` at error level, target `concur::aio`.
///
/// # Examples
///
/// ```
/// // With no subscriber installed, nothing is printed.
/// concur::aio::default_exception_handler(&concur::aio::ExceptionContext::new("a test"));
/// ```
///
/// # Python
///
/// `loop.default_exception_handler(context)`, which logs it.
pub fn default_exception_handler(context: &ExceptionContext) {
    tracing::error!(
        target: "concur::aio",
        error = context.error.as_ref().map(tracing::field::display),
        task = context.task.as_deref(),
        "{}",
        context.message
    );
}

/// Hands `context` to the handler of the loop running on this thread, or
/// to the default handler when none runs (a task dropped after its loop
/// stopped).
pub(crate) fn report(context: ExceptionContext) {
    let handler = CURRENT.try_with(|current| current.borrow().as_ref().and_then(|slot| slot.borrow().clone()));
    call(handler.ok().flatten().as_ref(), &context);
}

/// Reports a caught panic, under `message` (the words Python's loop uses).
pub(crate) fn report_panic(message: &str, panic: &(dyn std::any::Any + Send)) {
    report(ExceptionContext::new(message).with_error(Error::Panicked(panic_message(panic))));
}

pub(crate) fn call(handler: Option<&ExceptionHandler>, context: &ExceptionContext) {
    let Some(handler) = handler else {
        default_exception_handler(context);
        return;
    };
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| handler(context))) {
        // As Python: a handler that fails is reported by the default one,
        // with what it was handling.
        let mut failed = ExceptionContext::new(format!("Unhandled error in exception handler, handling: {context}"))
            .with_error(Error::Panicked(panic_message(&*panic)));
        failed.task = context.task.clone();
        default_exception_handler(&failed);
    }
}
