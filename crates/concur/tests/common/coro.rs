//! What the `coro_*` suites share: Python's exception classes, the `trace`
//! list CPython's cases record into, a `finally:` guard, and a deadline per
//! case.
//!
//! Python's `try: ... finally:` becomes a [`Finally`] guard held across the
//! yields, whose destructor runs however the body ends (returned, raised,
//! closed or dropped); `except E:` becomes a `match` on the error a yield
//! returns. Each trace CPython records is recorded the same way in a
//! [`Trace`] and compared whole.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::rc::Rc;

use concur::coro::{Generator, GeneratorError, State, Thrown};

/// Runs `case` on its own thread and waits for it with [`super::LONG`] as
/// deadline: generators do not wait on anything, but a driver or body stuck
/// in a loop must fail the test, not hang it. A generator stays on the
/// thread that made it, so each case builds its own inside.
pub(crate) fn run_case(case: impl FnOnce() + Send + 'static) {
    super::spawn(case).join();
}

/// Python's exception classes used by the CPython cases: each carries its
/// message, so a test can check the error that comes out is the one that
/// went in.
macro_rules! python_errors {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub(crate) struct $name(pub(crate) &'static str);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}: {}", stringify!($name), self.0)
            }
        }

        impl Error for $name {}
    )*};
}

python_errors!(ValueError, TypeError, RuntimeError, ZeroDivisionError, LunchError, StopCounting);

/// The `trace` list of the CPython cases: what ran, in order. Shared between
/// the test and the bodies, which run on the same thread.
#[derive(Clone, Default)]
pub(crate) struct Trace(Rc<RefCell<Vec<String>>>);

impl Trace {
    pub(crate) fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }

    pub(crate) fn entries(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

/// Python's `finally: trace.append(entry)`: records `entry` when dropped,
/// which for a guard held across the yields is when the body ends, however
/// it ends.
pub(crate) struct Finally {
    trace: Trace,
    entry: String,
}

impl Finally {
    pub(crate) fn new(trace: &Trace, entry: impl Into<String>) -> Finally {
        Finally { trace: trace.clone(), entry: entry.into() }
    }
}

impl Drop for Finally {
    fn drop(&mut self) {
        self.trace.push(std::mem::take(&mut self.entry));
    }
}

/// The error a generator call ended with, which must be `Raised`.
#[track_caller]
pub(crate) fn raised<Y: fmt::Debug, R: fmt::Debug>(outcome: Result<State<Y, R>, GeneratorError>) -> Thrown {
    match outcome {
        Err(GeneratorError::Raised(thrown)) => thrown,
        other => panic!("expected GeneratorError::Raised, got {other:?}"),
    }
}

/// Asserts `thrown` is the `E` given.
#[track_caller]
pub(crate) fn assert_is<E: Error + PartialEq + 'static>(thrown: &Thrown, expected: E) {
    assert_eq!(thrown.downcast_ref::<E>(), Some(&expected), "got {thrown:?}");
}

/// Asserts `thrown` is the generator error `expected` (raised inside a
/// delegating body, say).
#[track_caller]
pub(crate) fn assert_generator_error(thrown: &Thrown, expected: fn(&GeneratorError) -> bool) {
    assert!(thrown.downcast_ref::<GeneratorError>().is_some_and(expected), "got {thrown:?}");
}

/// The message of the error a body gets for awaiting something that is not
/// its own yield.
pub(crate) const FOREIGN_AWAIT: &str = "a generator body awaited something other than its own yield_ or yield_from";

/// tutorial_tests' `yrange`: yields `0..n`.
pub(crate) fn yrange(n: u32) -> Generator<u32> {
    Generator::new(move |co| async move {
        for i in 0..n {
            co.yield_(i).await?;
        }
        Ok(())
    })
}

/// Resumes `g` until it returns, recording each value as `Yielded {x}`;
/// returns the error it raised, if it did.
pub(crate) fn drain<Y: fmt::Display>(g: Generator<Y>, trace: &Trace) -> Option<Thrown> {
    let mut error = None;
    for item in g {
        match item {
            Ok(x) => trace.push(format!("Yielded {x}")),
            Err(e) => error = Some(e),
        }
    }
    error
}
