//! The loop's exception handler: where a panicking callback and a task's
//! panic nobody read go, instead of being lost.
//!
//! By default they go to [`default_exception_handler`], which reports them
//! through `tracing` at error level (the library installs no subscriber).
//! [`RunningLoop::set_exception_handler`] puts a handler of the program's
//! own in its place, as Python's `loop.set_exception_handler` does.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use super::context;
use super::error::{panic_message, Error};
use super::event_loop::RunningLoop;

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

/// A loop's exception handler; see [`RunningLoop::set_exception_handler`].
pub type ExceptionHandler = Rc<dyn Fn(&ExceptionContext)>;

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
    let handler = context::with_running(|state| state.exception_handler.borrow().clone()).ok().flatten();
    call(handler.as_ref(), &context);
}

/// Reports a caught panic, under `message` (the words Python's loop uses).
pub(crate) fn report_panic(message: &str, panic: &(dyn std::any::Any + Send)) {
    report(ExceptionContext::new(message).with_error(Error::Panicked(panic_message(panic))));
}

fn call(handler: Option<&ExceptionHandler>, context: &ExceptionContext) {
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

impl RunningLoop {
    /// Sets the handler the loop calls with what went wrong where nobody
    /// could be told: a callback that panicked, a task's panic that was
    /// never read. `None` puts the default back
    /// ([`default_exception_handler`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use concur::aio::EventLoop;
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let seen = Rc::new(RefCell::new(Vec::new()));
    /// let record = seen.clone();
    /// lp.set_exception_handler(Some(Rc::new(move |context| record.borrow_mut().push(context.to_string()))));
    /// lp.call_soon(|| panic!("oops"));
    /// lp.run_until_complete(async {}).unwrap();
    /// assert_eq!(*seen.borrow(), ["Exception in callback: the task panicked: oops"]);
    /// ```
    ///
    /// # Python
    ///
    /// `loop.set_exception_handler(handler)`; the handler gets the context
    /// only (the loop is [`running_loop`](super::running_loop)).
    pub fn set_exception_handler(&self, handler: Option<ExceptionHandler>) {
        *self.state.exception_handler.borrow_mut() = handler;
    }

    /// The handler set by [`set_exception_handler`](Self::set_exception_handler),
    /// if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = concur::aio::EventLoop::new().unwrap();
    /// assert!(lp.get_exception_handler().is_none());
    /// lp.set_exception_handler(Some(std::rc::Rc::new(|_| {})));
    /// assert!(lp.get_exception_handler().is_some());
    /// ```
    ///
    /// # Python
    ///
    /// `loop.get_exception_handler()`.
    pub fn get_exception_handler(&self) -> Option<ExceptionHandler> {
        self.state.exception_handler.borrow().clone()
    }

    /// Calls the loop's exception handler with `context`, or the default
    /// one. A handler that panics is reported by the default one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use concur::aio::{EventLoop, ExceptionContext};
    ///
    /// let lp = EventLoop::new().unwrap();
    /// let calls = Rc::new(Cell::new(0));
    /// let count = calls.clone();
    /// lp.set_exception_handler(Some(Rc::new(move |_| count.set(count.get() + 1))));
    /// lp.call_exception_handler(&ExceptionContext::new("reported by hand"));
    /// assert_eq!(calls.get(), 1);
    /// ```
    ///
    /// # Python
    ///
    /// `loop.call_exception_handler(context)`.
    pub fn call_exception_handler(&self, context: &ExceptionContext) {
        let handler = self.get_exception_handler();
        call(handler.as_ref(), context);
    }

    /// The default handler, as [`default_exception_handler`]: for a
    /// handler of the program's own to fall back on.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::aio::{EventLoop, ExceptionContext};
    /// let lp = EventLoop::new().unwrap();
    /// lp.default_exception_handler(&ExceptionContext::new("logged through tracing"));
    /// ```
    ///
    /// # Python
    ///
    /// `loop.default_exception_handler(context)`.
    pub fn default_exception_handler(&self, context: &ExceptionContext) {
        default_exception_handler(context);
    }
}
