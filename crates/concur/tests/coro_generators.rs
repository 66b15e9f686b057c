//! `concur::coro` against CPython's `Lib/test/test_generators.py` (the
//! `unittest` classes and the `tutorial`, `pep` and `coroutine` doctests)
//! and `Lib/test/test_pep380.py` (`yield from`).
//!
//! Python's `try: ... finally:` becomes a [`Finally`] guard held across the
//! yields, whose destructor runs however the body ends (returned, raised,
//! closed or dropped); `except E:` becomes a `match` on the error a yield
//! returns. Each trace CPython records is recorded the same way in a
//! [`Trace`] and compared whole. Every case runs on its own thread joined
//! with a deadline ([`run_case`]), so a generator that never comes back fails
//! the test instead of hanging it.
//!
//! Skipped or changed, because they cannot apply in Rust:
//! - `GeneratorTest.test_name`, `test_copy`, `test_pickle`, the frame tests
//!   (`test_gi_frame_f_back`, `FinalizationTest.test_frame_resurrect`,
//!   `YieldFromTests.test_generator_gi_yieldfrom`, `GeneratorStackTraceTest`'s
//!   stack checks): a `Generator` has no name, frame or `gi_yieldfrom`, and
//!   is neither `Clone` nor serializable, so those calls do not compile.
//! - The `ExceptionTest` cases about `sys.exc_info()` and `__context__`:
//!   Rust has no implicitly handled exception. What they check besides —
//!   the error thrown in is the one the body catches and can raise again —
//!   is mirrored.
//! - `pep_tests` "generator already executing" and
//!   `test_attempted_yield_from_loop`: a body cannot reach its own generator
//!   (`yield_from` takes the sub-generator by value, `send` needs `&mut`), so
//!   the borrow checker refuses what Python checks at run time.
//! - `FinalizationTest.test_refcycle`: a generator cannot be sent into
//!   itself for the same reason.
//! - `test_delegation_of_next_to_non_generator` and the other `yield from`
//!   over plain iterables (`range`, `Broken`): `yield_from` takes a
//!   `Generator`; an iterator is yielded item by item (`zrange` below).
//! - The `throw()` argument forms (type only, type and value, bad
//!   arguments): `throw` takes one typed error.
//! - `test_close_return_value`: `close` returns `Ok(())`, not the body's
//!   return value; that the body caught `GeneratorExit` and finished is
//!   what is checked.
//! - Dropping a paused generator runs its destructors but does not deliver
//!   `GeneratorExit` first (see `Generator`'s docs); the finalization
//!   doctests are mirrored with that difference.
//! - `yield from` a generator already started (or exhausted): Python goes on
//!   from where it paused (or yields nothing); `yield_from` refuses both
//!   with the sub's `AlreadyStarted` / `Finished`, which is what is tested.

mod common;

use std::cell::{Cell, RefCell};
use std::error::Error;
use std::fmt;
use std::rc::Rc;

use concur::coro::{Co, Generator, GeneratorError, GeneratorExit, State, Thrown};

/// Runs `case` on its own thread and waits for it with `common::LONG` as
/// deadline: generators do not wait on anything, but a driver or body stuck
/// in a loop must fail the test, not hang it. A generator stays on the
/// thread that made it, so each case builds its own inside.
fn run_case(case: impl FnOnce() + Send + 'static) {
    common::spawn(case).join();
}

/// Python's exception classes used by the CPython cases: each carries its
/// message, so a test can check the error that comes out is the one that
/// went in.
macro_rules! python_errors {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, PartialEq, Eq)]
        struct $name(&'static str);

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
struct Trace(Rc<RefCell<Vec<String>>>);

impl Trace {
    fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }

    fn entries(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

/// Python's `finally: trace.append(entry)`: records `entry` when dropped,
/// which for a guard held across the yields is when the body ends, however
/// it ends.
struct Finally {
    trace: Trace,
    entry: String,
}

impl Finally {
    fn new(trace: &Trace, entry: impl Into<String>) -> Finally {
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
fn raised<Y: fmt::Debug, R: fmt::Debug>(outcome: Result<State<Y, R>, GeneratorError>) -> Thrown {
    match outcome {
        Err(GeneratorError::Raised(thrown)) => thrown,
        other => panic!("expected GeneratorError::Raised, got {other:?}"),
    }
}

/// Asserts `thrown` is the `E` given.
#[track_caller]
fn assert_is<E: Error + PartialEq + 'static>(thrown: &Thrown, expected: E) {
    assert_eq!(thrown.downcast_ref::<E>(), Some(&expected), "got {thrown:?}");
}

/// The message of the error a body gets for awaiting something that is not
/// its own yield.
const FOREIGN_AWAIT: &str = "a generator body awaited something other than its own yield_ or yield_from";

// ---------------------------------------------------------------------------
// send, next, return values
// ---------------------------------------------------------------------------

// test_generators.py: coroutine_tests, "Sending a value into a started
// generator"
#[test]
fn send_reaches_the_paused_yield() {
    run_case(|| {
        let trace = Trace::default();
        let printed = trace.clone();
        let mut g = Generator::with_input(move |co| async move {
            let got: i32 = co.yield_(1).await?;
            printed.push(got.to_string());
            co.yield_(2).await?;
            Ok(())
        });
        assert_eq!(g.start().unwrap(), State::Yielded(1));
        assert_eq!(g.send(42).unwrap(), State::Yielded(2));
        assert_eq!(trace.entries(), ["42"]);
    });
}

// test_generators.py: coroutine_tests, "A yield expression with augmented
// assignment"
#[test]
fn augmented_assignment_from_yield() {
    run_case(|| {
        let seq = Rc::new(RefCell::new(Vec::new()));
        let appended = seq.clone();
        let mut c: Generator<(), i32, ()> = Generator::with_input(move |co| async move {
            let mut count = 0;
            while count < 200 {
                count += co.yield_(()).await?;
                appended.borrow_mut().push(count);
            }
            Ok(())
        });
        assert_eq!(c.start().unwrap(), State::Yielded(()));
        assert!(seq.borrow().is_empty());
        for expected in [vec![10], vec![10, 20], vec![10, 20, 30]] {
            assert_eq!(c.send(10).unwrap(), State::Yielded(()));
            assert_eq!(*seq.borrow(), expected);
        }
    });
}

// test_generators.py: GeneratorTest.test_send_non_none_to_new_gen, and
// coroutine_tests "Sending a value into a new generator produces a
// TypeError"
#[test]
fn send_into_a_new_generator_is_refused_and_leaves_it_usable() {
    run_case(|| {
        let ran = Rc::new(Cell::new(false));
        let flag = ran.clone();
        let mut g: Generator<i32, i32, ()> = Generator::with_input(move |co| async move {
            flag.set(true);
            co.yield_(1).await?;
            Ok(())
        });
        let err = g.send(0).unwrap_err();
        assert!(matches!(err, GeneratorError::NotStarted), "{err:?}");
        assert!(err.to_string().contains("has not started"), "{err}");
        assert!(!ran.get(), "a refused send must not run the body");
        assert!(!g.is_finished());
        assert_eq!(g.resume().unwrap(), State::Yielded(1));
    });
}

// concur: `start` is Python's first `next(g)`; a second `start` is refused
// without touching the generator, and after the end it says so.
#[test]
fn start_twice_is_refused() {
    run_case(|| {
        let mut g: Generator<i32, i32, i32> = Generator::with_input(|co| async move {
            let x = co.yield_(1).await?;
            Ok(x * 2)
        });
        assert_eq!(g.start().unwrap(), State::Yielded(1));
        let err = g.start().unwrap_err();
        assert!(matches!(err, GeneratorError::AlreadyStarted), "{err:?}");
        assert!(!g.is_finished());
        // The paused yield still takes the next value.
        assert_eq!(g.send(21).unwrap(), State::Complete(42));
        assert!(matches!(g.start(), Err(GeneratorError::Finished)));
    });
}

// test_generators.py: tutorial_tests, "Falling off the end" and
// "'return' also stops the generator", "once stopped, can't be resumed"
#[test]
fn resume_and_send_after_the_end_are_finished() {
    run_case(|| {
        let mut g = Generator::new(|co| async move {
            co.yield_(1).await?;
            co.yield_(2).await?;
            Ok(())
        });
        assert_eq!(g.resume().unwrap(), State::Yielded(1));
        assert_eq!(g.resume().unwrap(), State::Yielded(2));
        assert_eq!(g.resume().unwrap(), State::Complete(()));
        assert!(g.is_finished());
        for _ in 0..3 {
            let err = g.resume().unwrap_err();
            assert!(matches!(err, GeneratorError::Finished), "{err:?}");
            assert!(matches!(g.send(()), Err(GeneratorError::Finished)));
        }
    });
}

// test_pep380.py: test_next_and_return_with_value
#[test]
fn next_and_return_with_value() {
    run_case(|| {
        let trace = Trace::default();
        for r in [None, Some(42)] {
            let log = trace.clone();
            let mut gi = Generator::new(move |co| async move {
                log.push("g starting");
                co.yield_(()).await?;
                log.push(format!("g returning {r:?}"));
                Ok(r)
            });
            gi.resume().unwrap();
            trace.push("f resuming g");
            match gi.resume().unwrap() {
                State::Complete(value) => trace.push(format!("f caught Complete({value:?})")),
                State::Yielded(()) => trace.push("f SHOULD NOT BE HERE"),
            }
        }
        assert_eq!(
            trace.entries(),
            [
                "g starting",
                "f resuming g",
                "g returning None",
                "f caught Complete(None)",
                "g starting",
                "f resuming g",
                "g returning Some(42)",
                "f caught Complete(Some(42))",
            ]
        );
    });
}

// test_pep380.py: test_send_and_return_with_value
#[test]
fn send_and_return_with_value() {
    run_case(|| {
        let trace = Trace::default();
        for r in [None, Some(42)] {
            let log = trace.clone();
            let mut gi = Generator::with_input(move |co| async move {
                log.push("g starting");
                let x: &str = co.yield_(()).await?;
                log.push(format!("g received {x}"));
                log.push(format!("g returning {r:?}"));
                Ok(r)
            });
            gi.start().unwrap();
            trace.push("f sending spam to g");
            match gi.send("spam").unwrap() {
                State::Complete(value) => trace.push(format!("f caught Complete({value:?})")),
                State::Yielded(()) => trace.push("f SHOULD NOT BE HERE"),
            }
        }
        assert_eq!(
            trace.entries(),
            [
                "g starting",
                "f sending spam to g",
                "g received spam",
                "g returning None",
                "f caught Complete(None)",
                "g starting",
                "f sending spam to g",
                "g received spam",
                "g returning Some(42)",
                "f caught Complete(Some(42))",
            ]
        );
    });
}

// test_generators.py: ExceptionTest.test_return_tuple
#[test]
fn return_the_value_sent() {
    run_case(|| {
        let mut g: Generator<i32, (i32,), (i32,)> = Generator::with_input(|co| async move { co.yield_(1).await });
        assert_eq!(g.start().unwrap(), State::Yielded(1));
        assert_eq!(g.send((2,)).unwrap(), State::Complete((2,)));
    });
}

// test_generators.py: FinalizationTest.test_lambda_generator (`return
// (yield 1)` directly, through one `yield from` and through two)
#[test]
fn return_of_a_yield_directly_and_delegated() {
    run_case(|| {
        fn g() -> Generator<i32, i32, i32> {
            Generator::with_input(|co| async move { co.yield_(1).await })
        }
        fn g2() -> Generator<i32, i32, i32> {
            Generator::with_input(|co| async move { co.yield_from(g()).await })
        }
        fn g3() -> Generator<i32, i32, i32> {
            Generator::with_input(|co| async move { co.yield_from(g2()).await })
        }
        for (name, make) in [("g", g as fn() -> _), ("g2", g2), ("g3", g3)] {
            let mut g = make();
            assert_eq!(g.start().unwrap(), State::Yielded(1), "{name}");
            assert_eq!(g.send(2).unwrap(), State::Complete(2), "{name}");
            assert!(g.is_finished(), "{name}");
        }
    });
}

// test_generators.py: pep_tests, "Generators and Exception Propagation"
#[test]
fn error_of_the_body_propagates_and_ends_it() {
    run_case(|| {
        fn f() -> Result<i32, Thrown> {
            Err(ZeroDivisionError("integer division or modulo by zero").into())
        }
        let mut k = Generator::new(|co| async move {
            co.yield_(f()?).await?; // the zero division propagates
            co.yield_(42).await?; // and we never get here
            Ok(())
        });
        let thrown = raised(k.resume());
        assert_is(&thrown, ZeroDivisionError("integer division or modulo by zero"));
        assert!(k.is_finished());
        // And the generator cannot be resumed.
        assert!(matches!(k.resume(), Err(GeneratorError::Finished)));
    });
}

// test_generators.py: ExceptionTest.test_stopiteration_error and
// test_tutorial_stopiteration (PEP 479): a body that raises the "finished"
// error of another generator is not taken for its own end; it stays an
// error, also when iterating.
#[test]
fn finished_error_raised_by_a_body_is_an_error_not_the_end() {
    run_case(|| {
        let mut f = Generator::new(|co| async move {
            co.yield_(1).await?;
            let mut spent = Generator::new(|_co: Co<i32, ()>| async { Ok(()) });
            spent.resume().map_err(Thrown::from)?;
            spent.resume().map_err(Thrown::from)?; // Finished: Python's `raise StopIteration`
            co.yield_(2).await?; // never reached
            Ok(())
        });
        assert_eq!(f.next().unwrap().unwrap(), 1);
        let last = f.next().expect("the error is an item, not the end").unwrap_err();
        assert!(matches!(last.downcast_ref::<GeneratorError>(), Some(GeneratorError::Finished)), "{last:?}");
        assert!(f.next().is_none());
    });
}

// ---------------------------------------------------------------------------
// throw
// ---------------------------------------------------------------------------

/// coroutine_tests' `f`: prints (records) what it is sent, and catches the
/// `ValueError`s thrown in and goes on; anything else ends it.
fn catches_value_errors(trace: &Trace) -> Generator<(), i32, ()> {
    let trace = trace.clone();
    Generator::with_input(move |co: Co<(), i32>| async move {
        let _finally = Finally::new(&trace, "finally");
        loop {
            match co.yield_(()).await {
                Ok(sent) => trace.push(sent.to_string()),
                Err(e) => match e.downcast_ref::<ValueError>() {
                    Some(v) => trace.push(format!("caught ValueError ({})", v.0)),
                    None => return Err(e),
                },
            }
        }
    })
}

// test_generators.py: coroutine_tests, "Now check some throw() conditions"
// (the caught throws)
#[test]
fn throw_caught_in_the_body_goes_on_yielding() {
    run_case(|| {
        let trace = Trace::default();
        let mut g = catches_value_errors(&trace);
        assert_eq!(g.start().unwrap(), State::Yielded(()));
        assert_eq!(g.throw(ValueError("")).unwrap(), State::Yielded(()));
        assert_eq!(g.throw(ValueError("xyz")).unwrap(), State::Yielded(()));
        assert_eq!(g.send(1).unwrap(), State::Yielded(()));
        assert_eq!(trace.entries(), ["caught ValueError ()", "caught ValueError (xyz)", "1"]);
        assert!(!g.is_finished());
    });
}

// test_generators.py: coroutine_tests, "throw(g,TypeError)  # terminate the
// generator", then `g.send(2)` (StopIteration) and "throw on closed
// generator"
#[test]
fn throw_uncaught_ends_the_generator_with_the_same_error() {
    run_case(|| {
        let trace = Trace::default();
        let mut g = catches_value_errors(&trace);
        g.start().unwrap();
        let thrown = raised(g.throw(TypeError("terminate")));
        assert_is(&thrown, TypeError("terminate"));
        assert!(thrown.downcast_ref::<ValueError>().is_none());
        assert!(g.is_finished());
        // The cleanup ran before `throw` returned.
        assert_eq!(trace.entries(), ["finally"]);
        assert!(matches!(g.send(2), Err(GeneratorError::Finished)));
        // Throw into the closed generator: the error comes straight back.
        assert_is(&raised(g.throw(ValueError("6"))), ValueError("6"));
        assert!(g.is_finished());
        assert_eq!(trace.entries(), ["finally"]);
    });
}

// test_generators.py: coroutine_tests, "f().throw(ValueError,7)  # throw on
// just-opened generator", and ExceptionTest.test_except_throw_bad_exception
// (its first half: then `next` is StopIteration)
#[test]
fn throw_into_a_new_generator_raises_back_and_finishes_it() {
    run_case(|| {
        let trace = Trace::default();
        let mut g = catches_value_errors(&trace);
        // Even an error the body would catch: the body never starts.
        assert_is(&raised(g.throw(ValueError("7"))), ValueError("7"));
        assert!(g.is_finished());
        assert!(matches!(g.resume(), Err(GeneratorError::Finished)));
        assert!(matches!(g.start(), Err(GeneratorError::Finished)));
        // The body never ran; only its (unstarted) state was dropped.
        assert!(trace.entries().is_empty(), "{:?}", trace.entries());
    });
}

// test_generators.py: ExceptionTest.test_except_throw
#[test]
fn error_thrown_in_is_kept_and_raised_again_later() {
    run_case(|| {
        let mut make = Generator::new(|co| async move {
            let Err(exc) = co.yield_(()).await else { return Ok("not thrown") };
            // Caught; the body goes on with it in hand ...
            co.yield_(()).await?;
            co.yield_(()).await?;
            // ... and can raise it back.
            Err(exc)
        });
        make.resume().unwrap();
        assert_eq!(make.throw(ValueError("kept")).unwrap(), State::Yielded(()));
        assert_eq!(make.resume().unwrap(), State::Yielded(()));
        assert_is(&raised(make.resume()), ValueError("kept"));
        assert!(make.is_finished());
    });
}

// test_generators.py: GeneratorThrowTest.test_throw_after_none_exc_type
#[test]
fn body_may_answer_a_throw_with_another_error() {
    run_case(|| {
        let mut g = Generator::new(|co| async move {
            match co.yield_(()).await {
                Ok(()) => Ok(()),
                Err(_) => Err(RuntimeError("instead").into()),
            }
        });
        g.start().unwrap();
        assert_is(&raised(g.throw(ValueError("thrown"))), RuntimeError("instead"));
    });
}

// test_generators.py: GeneratorThrowTest.test_exception_context_with_yield_inside_generator
// (the part without `__context__`: what `throw` returns is the next yield)
#[test]
fn throw_returns_the_next_yield_of_a_body_that_catches() {
    run_case(|| {
        let mut g = Generator::new(|co| async move {
            match co.yield_("a").await {
                Err(exc) if exc.downcast_ref::<ValueError>().is_some() => {
                    co.yield_("b").await?;
                }
                other => other?,
            }
            Ok(())
        });
        assert_eq!(g.start().unwrap(), State::Yielded("a"));
        assert_eq!(g.throw(ValueError("")).unwrap(), State::Yielded("b"));
        assert_eq!(g.resume().unwrap(), State::Complete(()));
    });
}

// test_generators.py: coroutine_tests, the generator with `except
// ValueError` whose body returns after the throw
#[test]
fn throw_caught_and_body_returns() {
    run_case(|| {
        let mut g = Generator::new(|co| async move {
            match co.yield_(1).await {
                Ok(()) => Ok("resumed"),
                Err(e) if e.downcast_ref::<ValueError>().is_some() => Ok("stopped by a throw"),
                Err(e) => Err(e),
            }
        });
        g.start().unwrap();
        assert_eq!(g.throw(ValueError("")).unwrap(), State::Complete("stopped by a throw"));
        assert!(g.is_finished());
    });
}

// test_generators.py: pep_tests, "Specification: Try/Except/Finally" (the
// cleanup half): guards and explicit cleanup both run when a throw ends the
// body, and the locals are released.
#[test]
fn throw_runs_cleanup_and_releases_locals() {
    run_case(|| {
        let trace = Trace::default();
        let local = Rc::new("held across the yield");
        let weak = Rc::downgrade(&local);
        let log = trace.clone();
        let mut g = Generator::new(move |co| async move {
            let _finally = Finally::new(&log, "guard dropped");
            let _held = local;
            let outcome: Result<(), Thrown> = async {
                co.yield_(1).await?;
                co.yield_(2).await?;
                Ok(())
            }
            .await;
            log.push("cleanup code ran");
            outcome
        });
        assert_eq!(g.resume().unwrap(), State::Yielded(1));
        assert!(weak.upgrade().is_some());
        assert_is(&raised(g.throw(ValueError("stop"))), ValueError("stop"));
        assert_eq!(trace.entries(), ["cleanup code ran", "guard dropped"]);
        assert!(weak.upgrade().is_none(), "the body's locals must be dropped when it ends");
    });
}

// ---------------------------------------------------------------------------
// close and drop
// ---------------------------------------------------------------------------

// test_generators.py: coroutine_tests, "Now let's try closing a generator"
// (the body sees GeneratorExit; a second close is a no-op)
#[test]
fn close_delivers_generator_exit() {
    run_case(|| {
        let trace = Trace::default();
        let log = trace.clone();
        let mut g = Generator::new(move |co| async move {
            match co.yield_(()).await {
                Err(e) if e.is_generator_exit() => {
                    assert!(e.downcast_ref::<GeneratorExit>().is_some());
                    log.push("exiting");
                    Ok(())
                }
                other => other,
            }
        });
        g.resume().unwrap();
        g.close().unwrap();
        assert_eq!(trace.entries(), ["exiting"]);
        assert!(g.is_finished());
        // Should be a no-op now.
        g.close().unwrap();
        assert_eq!(trace.entries(), ["exiting"]);
        assert!(matches!(g.resume(), Err(GeneratorError::Finished)));
    });
}

// test_generators.py: GeneratorCloseTest.test_close_no_return_value
#[test]
fn close_no_return_value() {
    run_case(|| {
        let mut g = Generator::new(|co| async move {
            co.yield_(()).await?;
            Ok(())
        });
        g.start().unwrap();
        assert!(g.close().is_ok());
        assert!(g.is_finished());
    });
}

// test_generators.py: GeneratorCloseTest.test_close_return_value (`close`
// returns `Ok(())` here; the body catching GeneratorExit and returning is
// what is checked)
#[test]
fn close_caught_and_returned_from() {
    run_case(|| {
        let returned = Rc::new(Cell::new(None));
        let record = returned.clone();
        let mut g = Generator::new(move |co| async move {
            match co.yield_(()).await {
                // close() raises GeneratorExit here, which is caught.
                Err(e) if e.is_generator_exit() => {
                    record.set(Some(0));
                    Ok(0)
                }
                other => other.map(|()| 1),
            }
        });
        g.start().unwrap();
        g.close().unwrap();
        assert_eq!(returned.get(), Some(0));
        assert!(g.is_finished());
    });
}

// test_generators.py: GeneratorCloseTest.test_close_not_catching_exit
#[test]
fn close_not_catching_exit() {
    run_case(|| {
        let mut g = Generator::new(|co| async move {
            co.yield_(()).await?;
            // GeneratorExit propagated with `?`: never here.
            Ok(0)
        });
        g.start().unwrap();
        assert!(g.close().is_ok());
        assert!(g.is_finished());
    });
}

// test_generators.py: GeneratorCloseTest.test_close_not_started, and
// coroutine_tests "close on just-opened generator should be fine"
#[test]
fn close_not_started() {
    run_case(|| {
        let trace = Trace::default();
        let log = trace.clone();
        let mut g = Generator::new(move |co| async move {
            log.push("started");
            match co.yield_(()).await {
                Err(e) if e.is_generator_exit() => Ok(0),
                other => other.map(|()| 1),
            }
        });
        assert!(g.close().is_ok());
        assert!(g.is_finished());
        assert!(trace.entries().is_empty(), "the body must not run: {:?}", trace.entries());
        assert!(matches!(g.resume(), Err(GeneratorError::Finished)));
        assert!(matches!(g.start(), Err(GeneratorError::Finished)));
    });
}

// test_generators.py: GeneratorCloseTest.test_close_exhausted
#[test]
fn close_exhausted() {
    run_case(|| {
        let mut g = Generator::new(|co| async move {
            match co.yield_(()).await {
                Err(e) if e.is_generator_exit() => Ok(0),
                other => other.map(|()| 1),
            }
        });
        g.resume().unwrap();
        assert_eq!(g.resume().unwrap(), State::Complete(1));
        assert!(g.close().is_ok());
        assert!(g.is_finished());
    });
}

// test_generators.py: GeneratorCloseTest.test_close_closed
#[test]
fn close_closed() {
    run_case(|| {
        let closes = Rc::new(Cell::new(0));
        let count = closes.clone();
        let mut g = Generator::new(move |co| async move {
            match co.yield_(()).await {
                Err(e) if e.is_generator_exit() => {
                    count.set(count.get() + 1);
                    Ok(0)
                }
                other => other.map(|()| 1),
            }
        });
        g.start().unwrap();
        assert!(g.close().is_ok());
        assert!(g.close().is_ok());
        assert_eq!(closes.get(), 1, "the body sees GeneratorExit once");
    });
}

// test_generators.py: GeneratorCloseTest.test_close_raises, and
// coroutine_tests "errors thrown during closing should propagate"
#[test]
fn close_raises_another_error() {
    run_case(|| {
        let mut g = Generator::new(|co| async move {
            match co.yield_(()).await {
                Err(e) if e.is_generator_exit() => Err(TypeError("fie!").into()),
                other => other,
            }
        });
        g.start().unwrap();
        let err = g.close().unwrap_err();
        let GeneratorError::Raised(thrown) = &err else { panic!("expected Raised, got {err:?}") };
        assert_is(thrown, TypeError("fie!"));
        assert_eq!(err.to_string(), "the generator raised: TypeError: fie!");
        assert!(g.is_finished());
        // Closing again is fine.
        assert!(g.close().is_ok());
    });
}

// test_generators.py: coroutine_tests, "Now let's try some ill-behaved
// generators" (`yield "foo!"` after GeneratorExit: RuntimeError, then a
// second close is fine)
#[test]
fn close_ignored_by_a_body_that_yields() {
    run_case(|| {
        let trace = Trace::default();
        let log = trace.clone();
        let mut g = Generator::new(move |co| async move {
            let _finally = Finally::new(&log, "finally");
            match co.yield_("first").await {
                Err(e) if e.is_generator_exit() => {
                    co.yield_("foo!").await?;
                    log.push("resumed after ignoring close");
                    Ok(())
                }
                other => other,
            }
        });
        g.resume().unwrap();
        let err = g.close().unwrap_err();
        assert!(matches!(err, GeneratorError::IgnoredClose), "{err:?}");
        assert!(err.to_string().contains("yielded after close()"), "{err}");
        assert!(g.is_finished());
        // The body was dropped where it yielded; it never resumes.
        assert_eq!(trace.entries(), ["finally"]);
        assert!(g.close().is_ok());
        assert!(matches!(g.resume(), Err(GeneratorError::Finished)));
        assert_eq!(trace.entries(), ["finally"]);
    });
}

// test_generators.py: GeneratorCloseTest.test_close_releases_frame_locals
#[test]
fn close_releases_the_body_locals() {
    run_case(|| {
        let f = Rc::new("Foo");
        let f_weak = Rc::downgrade(&f);
        let mut g = Generator::new(move |co| async move {
            let _a = f;
            co.yield_(()).await?;
            Ok(())
        });
        g.resume().unwrap();
        assert!(f_weak.upgrade().is_some());
        g.close().unwrap();
        assert!(f_weak.upgrade().is_none());
    });
}

// test_generators.py: coroutine_tests, "And finalization" and "GeneratorExit
// is not caught by except Exception": dropping a paused generator runs its
// `finally` (destructors); concur does not deliver GeneratorExit on drop, so
// no `except` branch runs either.
#[test]
fn dropping_a_paused_generator_runs_its_destructors() {
    run_case(|| {
        let trace = Trace::default();
        let log = trace.clone();
        let g = {
            let mut g = Generator::new(move |co| async move {
                let _finally = Finally::new(&log, "finally");
                match co.yield_(()).await {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        log.push("except");
                        Err(e)
                    }
                }
            });
            g.resume().unwrap();
            g
        };
        assert!(trace.entries().is_empty());
        drop(g);
        assert_eq!(trace.entries(), ["finally"]);
    });
}

// concur: a generator dropped before it started drops what its body
// captured, without running any of the body.
#[test]
fn dropping_a_new_generator_drops_its_captures_only() {
    run_case(|| {
        let trace = Trace::default();
        let captured = Finally::new(&trace, "captured value dropped");
        let log = trace.clone();
        let g = Generator::new(move |co| async move {
            let _captured = captured;
            log.push("body ran");
            co.yield_(()).await?;
            Ok(())
        });
        assert!(trace.entries().is_empty());
        drop(g);
        assert_eq!(trace.entries(), ["captured value dropped"]);
    });
}

// ---------------------------------------------------------------------------
// yield_from (PEP 380)
// ---------------------------------------------------------------------------

// test_pep380.py: test_delegation_of_initial_next_to_subgenerator
#[test]
fn delegation_of_initial_next_to_subgenerator() {
    run_case(|| {
        let trace = Trace::default();
        let g2 = |trace: Trace| {
            Generator::new(move |co| async move {
                trace.push("Starting g2");
                co.yield_(42).await?;
                trace.push("Finishing g2");
                Ok(())
            })
        };
        let log = trace.clone();
        let g1 = Generator::new(move |co| async move {
            log.push("Starting g1");
            co.yield_from(g2(log.clone())).await?;
            log.push("Finishing g1");
            Ok(())
        });
        for x in g1 {
            trace.push(format!("Yielded {}", x.unwrap()));
        }
        assert_eq!(trace.entries(), ["Starting g1", "Starting g2", "Yielded 42", "Finishing g2", "Finishing g1"]);
    });
}

// test_pep380.py: test_raising_exception_in_initial_next_call
#[test]
fn raising_exception_in_initial_next_call() {
    run_case(|| {
        let trace = Trace::default();
        let g2 = |trace: Trace| -> Generator<i32> {
            Generator::new(move |_co| async move {
                let _finally = Finally::new(&trace, "Finishing g2");
                trace.push("Starting g2");
                Err(ValueError("spanish inquisition occurred").into())
            })
        };
        let log = trace.clone();
        let g1 = Generator::new(move |co| async move {
            let _finally = Finally::new(&log, "Finishing g1");
            log.push("Starting g1");
            co.yield_from(g2(log.clone())).await?;
            Ok(())
        });
        let mut error = None;
        for x in g1 {
            match x {
                Ok(x) => trace.push(format!("Yielded {x}")),
                Err(e) => error = Some(e),
            }
        }
        assert_is(&error.expect("subgenerator failed to raise ValueError"), ValueError("spanish inquisition occurred"));
        assert_eq!(trace.entries(), ["Starting g1", "Starting g2", "Finishing g2", "Finishing g1"]);
    });
}

// test_pep380.py: test_delegation_of_next_call_to_subgenerator
#[test]
fn delegation_of_next_call_to_subgenerator() {
    run_case(|| {
        let trace = Trace::default();
        let g2 = |trace: Trace| {
            Generator::new(move |co| async move {
                trace.push("Starting g2");
                co.yield_("g2 spam").await?;
                co.yield_("g2 more spam").await?;
                trace.push("Finishing g2");
                Ok(())
            })
        };
        let log = trace.clone();
        let g1 = Generator::new(move |co| async move {
            log.push("Starting g1");
            co.yield_("g1 ham").await?;
            co.yield_from(g2(log.clone())).await?;
            co.yield_("g1 eggs").await?;
            log.push("Finishing g1");
            Ok(())
        });
        for x in g1 {
            trace.push(format!("Yielded {}", x.unwrap()));
        }
        assert_eq!(
            trace.entries(),
            [
                "Starting g1",
                "Yielded g1 ham",
                "Starting g2",
                "Yielded g2 spam",
                "Yielded g2 more spam",
                "Finishing g2",
                "Yielded g1 eggs",
                "Finishing g1",
            ]
        );
    });
}

// test_pep380.py: test_raising_exception_in_delegated_next_call
#[test]
fn raising_exception_in_delegated_next_call() {
    run_case(|| {
        let trace = Trace::default();
        let g2 = |trace: Trace| {
            Generator::new(move |co| async move {
                let _finally = Finally::new(&trace, "Finishing g2");
                trace.push("Starting g2");
                co.yield_("g2 spam").await?;
                Err(ValueError("hovercraft is full of eels").into())
            })
        };
        let log = trace.clone();
        let g1 = Generator::new(move |co| async move {
            let _finally = Finally::new(&log, "Finishing g1");
            log.push("Starting g1");
            co.yield_("g1 ham").await?;
            co.yield_from(g2(log.clone())).await?;
            co.yield_("g1 eggs").await?;
            Ok(())
        });
        let mut error = None;
        for x in g1 {
            match x {
                Ok(x) => trace.push(format!("Yielded {x}")),
                Err(e) => error = Some(e),
            }
        }
        assert_is(&error.expect("subgenerator failed to raise ValueError"), ValueError("hovercraft is full of eels"));
        assert_eq!(
            trace.entries(),
            ["Starting g1", "Yielded g1 ham", "Starting g2", "Yielded g2 spam", "Finishing g2", "Finishing g1"]
        );
    });
}

// test_pep380.py: test_raising_exception_in_delegated_next_call, with the
// delegating generator catching the error (`try: yield from g2() except
// ValueError:`) and going on
#[test]
fn delegating_body_catches_the_subgenerator_error() {
    run_case(|| {
        let g2 = || {
            Generator::new(|co| async move {
                co.yield_("g2 spam").await?;
                Err::<(), _>(ValueError("hovercraft is full of eels").into())
            })
        };
        let g1 = Generator::new(move |co| async move {
            match co.yield_from(g2()).await {
                Ok(()) => co.yield_("g2 finished").await?,
                Err(e) => match e.downcast_ref::<ValueError>() {
                    Some(v) => co.yield_(v.0).await?,
                    None => return Err(e),
                },
            }
            co.yield_("g1 eggs").await?;
            Ok(())
        });
        let all: Vec<&str> = g1.map(Result::unwrap).collect();
        assert_eq!(all, ["g2 spam", "hovercraft is full of eels", "g1 eggs"]);
    });
}

/// test_pep380's `g1` of the send cases: yields `"g1 ham"`, delegates to
/// `g2`, yields `"g1 eggs"`, recording what it is sent.
fn send_g1(trace: &Trace, g2: Generator<&'static str, u32, ()>) -> Generator<&'static str, u32, ()> {
    let trace = trace.clone();
    Generator::with_input(move |co| async move {
        trace.push("Starting g1");
        let x = co.yield_("g1 ham").await?;
        trace.push(format!("g1 received {x}"));
        co.yield_from(g2).await?;
        let x = co.yield_("g1 eggs").await?;
        trace.push(format!("g1 received {x}"));
        trace.push("Finishing g1");
        Ok(())
    })
}

// test_pep380.py: test_delegation_of_send
#[test]
fn delegation_of_send() {
    run_case(|| {
        let trace = Trace::default();
        let log = trace.clone();
        let g2 = Generator::with_input(move |co| async move {
            log.push("Starting g2");
            let x = co.yield_("g2 spam").await?;
            log.push(format!("g2 received {x}"));
            let x = co.yield_("g2 more spam").await?;
            log.push(format!("g2 received {x}"));
            log.push("Finishing g2");
            Ok(())
        });
        let mut g = send_g1(&trace, g2);
        assert_eq!(g.start().unwrap(), State::Yielded("g1 ham"));
        let mut x = 1;
        while let State::Yielded(y) = g.send(x).unwrap() {
            trace.push(format!("Yielded {y}"));
            x += 1;
        }
        assert_eq!(
            trace.entries(),
            [
                "Starting g1",
                "g1 received 1",
                "Starting g2",
                "Yielded g2 spam",
                "g2 received 2",
                "Yielded g2 more spam",
                "g2 received 3",
                "Finishing g2",
                "Yielded g1 eggs",
                "g1 received 4",
                "Finishing g1",
            ]
        );
    });
}

// test_pep380.py: test_handling_exception_while_delegating_send
#[test]
fn handling_exception_while_delegating_send() {
    run_case(|| {
        let trace = Trace::default();
        let log = trace.clone();
        let g2 = Generator::with_input(move |co| async move {
            log.push("Starting g2");
            let x = co.yield_("g2 spam").await?;
            log.push(format!("g2 received {x}"));
            Err(ValueError("hovercraft is full of eels").into())
        });
        let mut g = send_g1(&trace, g2);
        g.start().unwrap();
        let mut x = 1;
        let error = loop {
            match g.send(x) {
                Ok(State::Yielded(y)) => {
                    trace.push(format!("Yielded {y}"));
                    x += 1;
                }
                Ok(State::Complete(())) => trace.push("StopIteration"),
                Err(e) => break e,
            }
        };
        let GeneratorError::Raised(thrown) = &error else { panic!("expected Raised, got {error:?}") };
        assert_is(thrown, ValueError("hovercraft is full of eels"));
        assert_eq!(
            trace.entries(),
            ["Starting g1", "g1 received 1", "Starting g2", "Yielded g2 spam", "g2 received 2"]
        );
        assert!(g.is_finished());
    });
}

/// test_pep380's `g1` of the close and throw cases, with its `finally`.
fn finally_g1(trace: &Trace, g2: Generator<&'static str>) -> Generator<&'static str> {
    let trace = trace.clone();
    Generator::new(move |co| async move {
        let _finally = Finally::new(&trace, "Finishing g1");
        trace.push("Starting g1");
        co.yield_("g1 ham").await?;
        co.yield_from(g2).await?;
        co.yield_("g1 eggs").await?;
        Ok(())
    })
}

/// test_pep380's `g2` of the close and throw cases, with its `finally`.
fn finally_g2(trace: &Trace) -> Generator<&'static str> {
    let trace = trace.clone();
    Generator::new(move |co| async move {
        let _finally = Finally::new(&trace, "Finishing g2");
        trace.push("Starting g2");
        co.yield_("g2 spam").await?;
        co.yield_("g2 more spam").await?;
        Ok(())
    })
}

/// Takes the first two values of `g`, recording them.
fn yield_twice(g: &mut Generator<&'static str>, trace: &Trace) {
    for _ in 0..2 {
        let State::Yielded(x) = g.resume().unwrap() else { panic!("expected a yield") };
        trace.push(format!("Yielded {x}"));
    }
}

// test_pep380.py: test_delegating_close
#[test]
fn delegating_close() {
    run_case(|| {
        let trace = Trace::default();
        let mut g = finally_g1(&trace, finally_g2(&trace));
        yield_twice(&mut g, &trace);
        g.close().unwrap();
        assert_eq!(
            trace.entries(),
            ["Starting g1", "Yielded g1 ham", "Starting g2", "Yielded g2 spam", "Finishing g2", "Finishing g1"]
        );
        assert!(g.is_finished());
    });
}

// test_pep380.py: test_handing_exception_while_delegating_close
#[test]
fn handling_exception_while_delegating_close() {
    run_case(|| {
        let trace = Trace::default();
        let log = trace.clone();
        let g2 = Generator::new(move |co| async move {
            let outcome: Result<(), Thrown> = async {
                log.push("Starting g2");
                co.yield_("g2 spam").await?;
                co.yield_("g2 more spam").await?;
                Ok(())
            }
            .await;
            log.push("Finishing g2");
            match outcome {
                Err(e) if e.is_generator_exit() => Err(ValueError("nybbles have exploded with delight").into()),
                other => other,
            }
        });
        let mut g = finally_g1(&trace, g2);
        yield_twice(&mut g, &trace);
        let err = g.close().unwrap_err();
        let GeneratorError::Raised(thrown) = &err else { panic!("expected Raised, got {err:?}") };
        assert_is(thrown, ValueError("nybbles have exploded with delight"));
        assert_eq!(
            trace.entries(),
            ["Starting g1", "Yielded g1 ham", "Starting g2", "Yielded g2 spam", "Finishing g2", "Finishing g1"]
        );
        assert!(g.is_finished());
    });
}

// test_pep380.py: test_delegating_throw
#[test]
fn delegating_throw() {
    run_case(|| {
        let trace = Trace::default();
        let mut g = finally_g1(&trace, finally_g2(&trace));
        yield_twice(&mut g, &trace);
        assert_is(&raised(g.throw(ValueError("tomato ejected"))), ValueError("tomato ejected"));
        assert_eq!(
            trace.entries(),
            ["Starting g1", "Yielded g1 ham", "Starting g2", "Yielded g2 spam", "Finishing g2", "Finishing g1"]
        );
        assert!(g.is_finished());
    });
}

// test_pep380.py: test_generator_return_value
#[test]
fn generator_return_value() {
    run_case(|| {
        let trace = Trace::default();
        fn g2(trace: Trace, v: Option<u32>) -> Generator<&'static str, (), Option<u32>> {
            Generator::new(move |co| async move {
                trace.push("Starting g2");
                co.yield_("g2 spam").await?;
                co.yield_("g2 more spam").await?;
                trace.push("Finishing g2");
                Ok(v)
            })
        }
        let log = trace.clone();
        let g1 = Generator::new(move |co| async move {
            log.push("Starting g1");
            co.yield_("g1 ham").await?;
            let ret = co.yield_from(g2(log.clone(), None)).await?;
            log.push(format!("g2 returned {ret:?}"));
            let ret = co.yield_from(g2(log.clone(), Some(42))).await?;
            log.push(format!("g2 returned {ret:?}"));
            co.yield_("g1 eggs").await?;
            log.push("Finishing g1");
            Ok(())
        });
        for x in g1 {
            trace.push(format!("Yielded {}", x.unwrap()));
        }
        assert_eq!(
            trace.entries(),
            [
                "Starting g1",
                "Yielded g1 ham",
                "Starting g2",
                "Yielded g2 spam",
                "Yielded g2 more spam",
                "Finishing g2",
                "g2 returned None",
                "Starting g2",
                "Yielded g2 spam",
                "Yielded g2 more spam",
                "Finishing g2",
                "g2 returned Some(42)",
                "Yielded g1 eggs",
                "Finishing g1",
            ]
        );
    });
}

// test_pep380.py: test_exception_in_initial_next_call
#[test]
fn exception_in_initial_next_call() {
    run_case(|| {
        fn divide(a: i32, b: i32) -> Result<i32, Thrown> {
            a.checked_div(b).ok_or_else(|| ZeroDivisionError("division by zero").into())
        }
        let trace = Trace::default();
        let log = trace.clone();
        let mut gi = Generator::new(move |co| async move {
            log.push("g1 about to yield from g2");
            let g2 = Generator::new(|co| async move {
                co.yield_(divide(1, 0)?).await?;
                Ok(())
            });
            co.yield_from(g2).await?;
            log.push("g1 should not be here");
            Ok(())
        });
        assert_is(&raised(gi.resume()), ZeroDivisionError("division by zero"));
        assert_eq!(trace.entries(), ["g1 about to yield from g2"]);
    });
}

// test_pep380.py: test_returning_value_from_delegated_throw
#[test]
fn returning_value_from_delegated_throw() {
    run_case(|| {
        let trace = Trace::default();
        let log = trace.clone();
        let g2 = Generator::new(move |co| async move {
            log.push("Starting g2");
            let outcome: Result<(), Thrown> = async {
                co.yield_("g2 spam").await?;
                co.yield_("g2 more spam").await
            }
            .await;
            match outcome {
                Err(e) if e.downcast_ref::<LunchError>().is_some() => {
                    log.push("Caught LunchError in g2");
                    co.yield_("g2 lunch saved").await?;
                    co.yield_("g2 yet more spam").await?;
                    Ok(())
                }
                other => other,
            }
        });
        let mut g = finally_g1(&trace, g2);
        yield_twice(&mut g, &trace);
        assert_eq!(g.throw(LunchError("tomato ejected")).unwrap(), State::Yielded("g2 lunch saved"));
        for x in g {
            trace.push(format!("Yielded {}", x.unwrap()));
        }
        assert_eq!(
            trace.entries(),
            [
                "Starting g1",
                "Yielded g1 ham",
                "Starting g2",
                "Yielded g2 spam",
                "Caught LunchError in g2",
                "Yielded g2 yet more spam",
                "Yielded g1 eggs",
                "Finishing g1",
            ]
        );
    });
}

// test_pep380.py: test_catching_exception_from_subgen_and_returning
#[test]
fn catching_exception_from_subgen_and_returning() {
    run_case(|| {
        let trace = Trace::default();
        let log = trace.clone();
        let inner = Generator::new(move |co| async move {
            match co.yield_(1).await {
                Err(e) if e.downcast_ref::<ValueError>().is_some() => log.push("inner caught ValueError"),
                other => other?,
            }
            Ok(2)
        });
        let log = trace.clone();
        let mut g = Generator::new(move |co| async move {
            let v = co.yield_from(inner).await?;
            log.push(format!("inner returned {v} to outer"));
            co.yield_(v).await?;
            Ok(())
        });
        let State::Yielded(first) = g.resume().unwrap() else { panic!("expected a yield") };
        trace.push(first.to_string());
        let State::Yielded(second) = g.throw(ValueError("")).unwrap() else { panic!("expected a yield") };
        trace.push(second.to_string());
        assert_eq!(trace.entries(), ["1", "inner caught ValueError", "inner returned 2 to outer", "2"]);
    });
}

// test_generators.py: GeneratorStackTraceTest.test_throw_with_yield_from and
// test_send_with_yield_from (their control flow: the subgenerator handles
// the throw and finishes, the delegating generator runs on to its end)
#[test]
fn throw_handled_by_the_subgenerator_which_then_finishes() {
    run_case(|| {
        for use_throw in [true, false] {
            let trace = Trace::default();
            let log = trace.clone();
            let f = Generator::new(move |co| async move {
                match co.yield_(()).await {
                    Ok(()) => log.push("f resumed"),
                    Err(e) => {
                        assert_is(&e, RuntimeError("thrown"));
                        log.push("f caught");
                    }
                }
                Ok(())
            });
            let log = trace.clone();
            let mut g = Generator::new(move |co| async move {
                co.yield_from(f).await?;
                log.push("g after yield_from");
                Ok(())
            });
            g.start().unwrap();
            let end = if use_throw { g.throw(RuntimeError("thrown")) } else { g.send(()) };
            assert_eq!(end.unwrap(), State::Complete(()));
            let f_line = if use_throw { "f caught" } else { "f resumed" };
            assert_eq!(trace.entries(), [f_line, "g after yield_from"]);
        }
    });
}

/// test_pep380's `f` of the GeneratorExit cases: records "Enter f", and on
/// GeneratorExit does `on_exit`.
fn exit_f(trace: &Trace, on_exit: fn() -> Option<Thrown>) -> Generator<()> {
    let trace = trace.clone();
    Generator::new(move |co| async move {
        trace.push("Enter f");
        match co.yield_(()).await {
            Ok(()) => {
                trace.push("Exit f");
                Ok(())
            }
            Err(e) if e.is_generator_exit() => match on_exit() {
                // `yield` again
                None => co.yield_(()).await,
                Some(error) => Err(error),
            },
            Err(e) => Err(e),
        }
    })
}

/// test_pep380's `g` of the GeneratorExit cases.
fn exit_g(trace: &Trace, f: Generator<()>) -> Generator<()> {
    let trace = trace.clone();
    Generator::new(move |co| async move {
        trace.push("Enter g");
        co.yield_from(f).await?;
        trace.push("Exit g");
        Ok(())
    })
}

// test_pep380.py: test_throwing_GeneratorExit_into_subgen_that_returns
#[test]
fn throwing_generator_exit_into_subgen_that_returns() {
    run_case(|| {
        let trace = Trace::default();
        let f = {
            let trace = trace.clone();
            Generator::new(move |co| async move {
                trace.push("Enter f");
                match co.yield_(()).await {
                    Ok(()) => trace.push("Exit f"),
                    Err(e) if e.is_generator_exit() => return Ok(()),
                    Err(e) => return Err(e),
                }
                Ok(())
            })
        };
        let mut gi = exit_g(&trace, f);
        gi.resume().unwrap();
        let outcome = gi.throw(GeneratorExit);
        assert!(matches!(&outcome, Err(GeneratorError::Raised(e)) if e.is_generator_exit()), "{outcome:?}");
        assert_eq!(trace.entries(), ["Enter g", "Enter f"]);
        assert!(gi.is_finished());
    });
}

// test_pep380.py: test_throwing_GeneratorExit_into_subgenerator_that_yields
// (Python: RuntimeError "generator ignored GeneratorExit"; here the
// subgenerator's IgnoredClose, raised by the delegating generator)
#[test]
fn throwing_generator_exit_into_subgenerator_that_yields() {
    run_case(|| {
        let trace = Trace::default();
        let mut gi = exit_g(&trace, exit_f(&trace, || None));
        gi.resume().unwrap();
        let thrown = raised(gi.throw(GeneratorExit));
        assert!(matches!(thrown.downcast_ref::<GeneratorError>(), Some(GeneratorError::IgnoredClose)), "{thrown:?}");
        assert_eq!(trace.entries(), ["Enter g", "Enter f"]);
        assert!(gi.is_finished());
    });
}

// test_pep380.py: test_throwing_GeneratorExit_into_subgen_that_raises
#[test]
fn throwing_generator_exit_into_subgen_that_raises() {
    run_case(|| {
        let trace = Trace::default();
        let mut gi = exit_g(&trace, exit_f(&trace, || Some(ValueError("Vorpal bunny encountered").into())));
        gi.resume().unwrap();
        assert_is(&raised(gi.throw(GeneratorExit)), ValueError("Vorpal bunny encountered"));
        assert_eq!(trace.entries(), ["Enter g", "Enter f"]);
        assert!(gi.is_finished());
    });
}

// test_pep380.py: test_delegating_close, with a subgenerator that ignores
// GeneratorExit (coroutine_tests' ill-behaved generator, delegated to): the
// delegating generator's close reports it and both are finished.
#[test]
fn delegating_close_to_a_subgenerator_that_yields() {
    run_case(|| {
        let trace = Trace::default();
        let f = {
            let trace = trace.clone();
            Generator::new(move |co| async move {
                let _finally = Finally::new(&trace, "f dropped");
                if let Err(e) = co.yield_(()).await {
                    assert!(e.is_generator_exit());
                    co.yield_(()).await?; // ignores the close
                }
                Ok(())
            })
        };
        let mut gi = exit_g(&trace, f);
        gi.resume().unwrap();
        let err = gi.close().unwrap_err();
        let GeneratorError::Raised(thrown) = &err else { panic!("expected Raised, got {err:?}") };
        assert!(matches!(thrown.downcast_ref::<GeneratorError>(), Some(GeneratorError::IgnoredClose)), "{thrown:?}");
        assert_eq!(trace.entries(), ["Enter g", "f dropped"]);
        assert!(gi.is_finished());
    });
}

// test_pep380.py: test_yield_from_empty
#[test]
fn yield_from_a_subgenerator_that_finishes_at_once() {
    run_case(|| {
        let mut g = Generator::new(|co| async move {
            co.yield_from(Generator::<i32>::new(|_co| async { Ok(()) })).await?;
            Ok(())
        });
        assert_eq!(g.resume().unwrap(), State::Complete(()));

        // With a return value, which is yield_from's value at once.
        let mut g = Generator::new(|co| async move {
            let seven = co.yield_from(Generator::<i32, (), i32>::new(|_co| async { Ok(7) })).await?;
            co.yield_(seven).await?;
            Ok(())
        });
        assert_eq!(g.resume().unwrap(), State::Yielded(7));
        assert_eq!(g.resume().unwrap(), State::Complete(()));
    });
}

// concur: a subgenerator must be new. Python's `yield from` would go on from
// where a started one paused (and yield nothing from an exhausted one);
// `yield_from` refuses both, raising the sub's AlreadyStarted / Finished in
// the delegating body, which drops the sub.
#[test]
fn yield_from_a_started_or_finished_generator_is_an_error() {
    run_case(|| {
        let trace = Trace::default();
        let log = trace.clone();
        let mut started = Generator::new(move |co| async move {
            let _finally = Finally::new(&log, "sub dropped");
            co.yield_(1).await?;
            co.yield_(2).await?;
            Ok(())
        });
        assert_eq!(started.resume().unwrap(), State::Yielded(1));
        let mut g = Generator::new(move |co| async move {
            co.yield_from(started).await?;
            Ok(())
        });
        let thrown = raised(g.resume());
        assert!(matches!(thrown.downcast_ref::<GeneratorError>(), Some(GeneratorError::AlreadyStarted)), "{thrown:?}");
        assert!(g.is_finished());
        assert_eq!(trace.entries(), ["sub dropped"]);

        let mut finished = Generator::<i32>::new(|_co| async { Ok(()) });
        finished.resume().unwrap();
        let mut g = Generator::new(move |co| async move { co.yield_from(finished).await });
        let thrown = raised(g.resume());
        assert!(matches!(thrown.downcast_ref::<GeneratorError>(), Some(GeneratorError::Finished)), "{thrown:?}");
    });
}

// concur: dropping a generator paused inside yield_from drops the
// subgenerator too, running both bodies' destructors.
#[test]
fn dropping_a_delegating_generator_drops_the_subgenerator() {
    run_case(|| {
        let trace = Trace::default();
        let mut g = finally_g1(&trace, finally_g2(&trace));
        yield_twice(&mut g, &trace);
        drop(g);
        let entries = trace.entries();
        assert_eq!(entries[..4], ["Starting g1", "Yielded g1 ham", "Starting g2", "Yielded g2 spam"]);
        let mut dropped = entries[4..].to_vec();
        dropped.sort();
        assert_eq!(dropped, ["Finishing g1", "Finishing g2"]);
    });
}

/// One level of a three-deep delegation: yields `"{name}0"`, then
/// delegates to `inner` (if any) or yields what it is sent back, and returns
/// one more than what it got; records what it sees.
fn level(name: &'static str, trace: &Trace, inner: Option<Generator<String, u32, u32>>) -> Generator<String, u32, u32> {
    let trace = trace.clone();
    Generator::with_input(move |co| async move {
        let _finally = Finally::new(&trace, format!("{name} finally"));
        let first = co.yield_(format!("{name}0")).await;
        let got = match first {
            Ok(sent) => sent,
            Err(e) => {
                trace.push(format!("{name} saw {e}"));
                return Err(e);
            }
        };
        trace.push(format!("{name} got {got}"));
        let value = match inner {
            Some(inner) => co.yield_from(inner).await,
            None => loop {
                match co.yield_(format!("{name} echoes {got}")).await {
                    Ok(0) => break Ok(got),
                    Ok(n) => trace.push(format!("{name} got {n}")),
                    Err(e) if e.downcast_ref::<ValueError>().is_some() => {
                        trace.push(format!("{name} caught {e}"));
                        co.yield_(format!("{name} recovered")).await?;
                    }
                    Err(e) => break Err(e),
                }
            },
        };
        match value {
            Ok(v) => Ok(v + 1),
            Err(e) => {
                trace.push(format!("{name} saw {e}"));
                Err(e)
            }
        }
    })
}

/// `a` delegating to `b` delegating to `c`, each paused at its first yield
/// after being sent 1, 2 and 3.
fn three_deep(trace: &Trace) -> Generator<String, u32, u32> {
    let c = level("c", trace, None);
    let b = level("b", trace, Some(c));
    let mut a = level("a", trace, Some(b));
    assert_eq!(a.start().unwrap(), State::Yielded("a0".to_string()));
    assert_eq!(a.send(1).unwrap(), State::Yielded("b0".to_string()));
    assert_eq!(a.send(2).unwrap(), State::Yielded("c0".to_string()));
    assert_eq!(a.send(3).unwrap(), State::Yielded("c echoes 3".to_string()));
    a
}

// test_pep380.py: test_delegation_of_send and test_generator_return_value,
// three levels deep (FinalizationTest.test_lambda_generator's `g3` goes two)
#[test]
fn nested_delegation_of_send_and_return_three_deep() {
    run_case(|| {
        let trace = Trace::default();
        let mut a = three_deep(&trace);
        assert_eq!(a.send(7).unwrap(), State::Yielded("c echoes 3".to_string()));
        // 0 ends c, which returns 3 + 1; b returns 5; a returns 6.
        assert_eq!(a.send(0).unwrap(), State::Complete(6));
        assert_eq!(
            trace.entries(),
            ["a got 1", "b got 2", "c got 3", "c got 7", "c finally", "b finally", "a finally"]
        );
    });
}

// test_pep380.py: test_returning_value_from_delegated_throw, three levels
// deep: the innermost catches, yields, and all go on.
#[test]
fn nested_delegation_of_a_caught_throw_three_deep() {
    run_case(|| {
        let trace = Trace::default();
        let mut a = three_deep(&trace);
        assert_eq!(a.throw(ValueError("deep")).unwrap(), State::Yielded("c recovered".to_string()));
        assert_eq!(a.send(9).unwrap(), State::Yielded("c echoes 3".to_string()));
        assert_eq!(a.send(0).unwrap(), State::Complete(6));
        assert_eq!(
            trace.entries(),
            ["a got 1", "b got 2", "c got 3", "c caught ValueError: deep", "c finally", "b finally", "a finally"]
        );
    });
}

// test_pep380.py: test_delegating_throw, three levels deep: the error passes
// out through every level, innermost cleanup first.
#[test]
fn nested_delegation_of_an_uncaught_throw_three_deep() {
    run_case(|| {
        let trace = Trace::default();
        let mut a = three_deep(&trace);
        assert_is(&raised(a.throw(TypeError("deep"))), TypeError("deep"));
        assert_eq!(
            trace.entries(),
            [
                "a got 1",
                "b got 2",
                "c got 3",
                "c saw TypeError: deep",
                "c finally",
                "b saw TypeError: deep",
                "b finally",
                "a saw TypeError: deep",
                "a finally",
            ]
        );
        assert!(a.is_finished());
    });
}

// test_pep380.py: test_delegating_close, three levels deep: the innermost
// is closed first, and each delegating level then sees GeneratorExit.
#[test]
fn nested_delegation_of_close_three_deep() {
    run_case(|| {
        let trace = Trace::default();
        let mut a = three_deep(&trace);
        a.close().unwrap();
        let exit = GeneratorExit.to_string();
        assert_eq!(
            trace.entries(),
            [
                "a got 1".to_string(),
                "b got 2".into(),
                "c got 3".into(),
                format!("c saw {exit}"),
                "c finally".into(),
                format!("b saw {exit}"),
                "b finally".into(),
                format!("a saw {exit}"),
                "a finally".into(),
            ]
        );
        assert!(a.is_finished());
        assert!(a.close().is_ok());
    });
}

// ---------------------------------------------------------------------------
// iteration
// ---------------------------------------------------------------------------

fn yrange(n: u32) -> Generator<u32> {
    Generator::new(move |co| async move {
        for i in 0..n {
            co.yield_(i).await?;
        }
        Ok(())
    })
}

// test_generators.py: tutorial_tests, "Let's try a simple generator", "an
// alternate range() function" and "Generators can call other generators"
#[test]
fn for_loops_and_collect() {
    run_case(|| {
        let f = || {
            Generator::new(|co| async move {
                co.yield_(1).await?;
                co.yield_(2).await?;
                Ok(())
            })
        };
        let mut printed = Vec::new();
        for i in f() {
            printed.push(i.unwrap());
        }
        assert_eq!(printed, [1, 2]);

        let all: Result<Vec<u32>, Thrown> = yrange(5).collect();
        assert_eq!(all.unwrap(), [0, 1, 2, 3, 4]);

        let zrange = |n| {
            Generator::new(move |co| async move {
                for i in yrange(n) {
                    co.yield_(i?).await?;
                }
                Ok(())
            })
        };
        assert_eq!(zrange(5).map(Result::unwrap).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert_eq!(zrange(0).count(), 0);
    });
}

// test_generators.py: tutorial_tests, "Generators always return to the most
// recent caller"
#[test]
fn iteration_goes_on_where_the_last_caller_left_it() {
    run_case(|| {
        let creator = || {
            let mut r = yrange(5);
            let first = r.next().unwrap().unwrap();
            (first, r)
        };
        let (first, r) = creator();
        assert_eq!(first, 0);
        let rest: Vec<u32> = r.map(Result::unwrap).collect();
        assert_eq!(rest, [1, 2, 3, 4]);

        // Mixing the iterator with resume and send on the same generator.
        let mut g = yrange(4);
        assert_eq!(g.next().unwrap().unwrap(), 0);
        assert_eq!(g.resume().unwrap(), State::Yielded(1));
        assert_eq!(g.by_ref().take(1).map(Result::unwrap).collect::<Vec<_>>(), [2]);
        assert_eq!(g.send(()).unwrap(), State::Yielded(3));
        assert!(g.next().is_none());
    });
}

// test_generators.py: GeneratorTest.test_issue103488 and pep_tests
// "Generators and Exception Propagation" through iteration: the error is
// the last item, then the iteration ends.
#[test]
fn error_is_the_last_item_then_none() {
    run_case(|| {
        let gen_raises = || {
            Generator::new(|co| async move {
                co.yield_(()).await?;
                Err::<(), _>(ValueError("").into())
            })
        };
        let mut caught = None;
        let mut items = 0;
        for item in gen_raises() {
            items += 1;
            if let Err(e) = item {
                caught = Some(e);
            }
        }
        assert_eq!(items, 2);
        assert_is(&caught.expect("the ValueError is an item"), ValueError(""));

        let mut g = gen_raises();
        assert!(matches!(g.next(), Some(Ok(()))));
        assert!(matches!(g.next(), Some(Err(_))));
        assert!(g.next().is_none());

        // collect into a Result stops at the error.
        let err = gen_raises().collect::<Result<Vec<()>, Thrown>>().unwrap_err();
        assert_is(&err, ValueError(""));
    });
}

// test_generators.py: tutorial_tests, "once stopped, can't be resumed",
// through iteration: after the end, `next` stays `None` (fused), whether the
// generator returned, raised, was closed or had a throw sent back.
#[test]
fn next_after_the_end_stays_none() {
    run_case(|| {
        let mut returned = yrange(1);
        assert_eq!(returned.next().unwrap().unwrap(), 0);

        let mut failed = Generator::<u32>::new(|_co| async { Err(RuntimeError("at once").into()) });
        assert!(matches!(failed.next(), Some(Err(_))));

        let mut closed = yrange(3);
        closed.next().unwrap().unwrap();
        closed.close().unwrap();

        let mut thrown_into = yrange(3);
        assert!(thrown_into.throw(ValueError("")).is_err());

        for (name, g) in [
            ("returned", &mut returned),
            ("raised", &mut failed),
            ("closed", &mut closed),
            ("thrown into", &mut thrown_into),
        ] {
            for _ in 0..3 {
                assert!(g.next().is_none(), "{name}");
            }
            assert!(g.is_finished(), "{name}");
            assert!(matches!(g.resume(), Err(GeneratorError::Finished)), "{name}");
        }
    });
}

// ---------------------------------------------------------------------------
// awaiting something that is not a yield
// ---------------------------------------------------------------------------

// concur: a generator's body may await only its own yields; awaiting a
// future that is not ready (here one that never is) ends the generator with
// a clear error instead of hanging the caller.
#[test]
fn awaiting_a_pending_future_raises_instead_of_hanging() {
    run_case(|| {
        let trace = Trace::default();
        let log = trace.clone();
        let mut g = Generator::new(move |_co: Co<i32, ()>| async move {
            let _finally = Finally::new(&log, "finally");
            std::future::pending::<()>().await;
            log.push("after pending");
            Ok(())
        });
        let err = g.start().unwrap_err();
        let GeneratorError::Raised(thrown) = &err else { panic!("expected Raised, got {err:?}") };
        assert_eq!(thrown.to_string(), FOREIGN_AWAIT);
        assert_eq!(err.to_string(), format!("the generator raised: {FOREIGN_AWAIT}"));
        assert!(g.is_finished());
        assert_eq!(trace.entries(), ["finally"]);
        assert!(matches!(g.resume(), Err(GeneratorError::Finished)));
    });
}

// concur: the same after some yields, with a one-shot channel whose value
// has not been sent; a receiver that is already ready is awaited fine.
#[test]
fn awaiting_an_unready_channel_raises_and_a_ready_one_does_not() {
    run_case(|| {
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<i32>();
        ready_tx.send(5).unwrap();
        let (unsent_tx, unsent_rx) = tokio::sync::oneshot::channel::<i32>();
        let mut g = Generator::new(move |co| async move {
            co.yield_(1).await?;
            let ready = ready_rx.await.map_err(Thrown::from)?;
            co.yield_(ready).await?;
            let never = unsent_rx.await.map_err(Thrown::from)?;
            co.yield_(never).await?;
            Ok(())
        });
        assert_eq!(g.resume().unwrap(), State::Yielded(1));
        assert_eq!(g.resume().unwrap(), State::Yielded(5));
        assert_eq!(raised(g.resume()).to_string(), FOREIGN_AWAIT);
        assert!(g.is_finished());
        // The body, and the receiver it held, were dropped.
        assert!(unsent_tx.is_closed());
    });
}

// concur: a subgenerator that awaits something else raises the same error
// in the delegating body, which can catch it and go on.
#[test]
fn awaiting_a_pending_future_in_a_subgenerator() {
    run_case(|| {
        let mut g = Generator::new(|co| async move {
            let sub = Generator::new(|co| async move {
                co.yield_("sub").await?;
                std::future::pending::<()>().await;
                Ok(())
            });
            if let Err(e) = co.yield_from(sub).await {
                assert_eq!(e.to_string(), FOREIGN_AWAIT);
                co.yield_("delegating body caught it").await?;
            }
            Ok(())
        });
        let all: Vec<&str> = g.by_ref().map(Result::unwrap).collect();
        assert_eq!(all, ["sub", "delegating body caught it"]);
        assert!(g.is_finished());
    });
}

// concur: the same during close: a body that awaits something else while
// cleaning up makes close raise it.
#[test]
fn awaiting_a_pending_future_during_close() {
    run_case(|| {
        let mut g = Generator::new(|co| async move {
            if let Err(e) = co.yield_(1).await {
                assert!(e.is_generator_exit());
                std::future::pending::<()>().await;
            }
            Ok(())
        });
        g.resume().unwrap();
        let err = g.close().unwrap_err();
        let GeneratorError::Raised(thrown) = &err else { panic!("expected Raised, got {err:?}") };
        assert_eq!(thrown.to_string(), FOREIGN_AWAIT);
        assert!(g.is_finished());
    });
}

// ---------------------------------------------------------------------------
// many generators
// ---------------------------------------------------------------------------

/// Sums what it is sent, yielding `(id, sum so far)` each time; returns the
/// sum when a [`StopCounting`] is thrown in.
fn counter(id: usize, dropped: Rc<Cell<usize>>) -> Generator<(usize, u64), u64, u64> {
    struct CountDrop(Rc<Cell<usize>>);
    impl Drop for CountDrop {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    Generator::with_input(move |co| async move {
        let _count = CountDrop(dropped);
        let mut total = 0;
        loop {
            match co.yield_((id, total)).await {
                Ok(n) => total += n,
                Err(e) if e.downcast_ref::<StopCounting>().is_some() => return Ok(total),
                Err(e) => return Err(e),
            }
        }
    })
}

// test_generators.py: conjoin_tests' Knight's Tour ("creating 10s of
// thousands of generators"): 10,000 generators, half of them delegating
// through yield_from, driven round-robin (alternating direction) with
// distinct values; every yield and every return value checked exactly, and
// every body dropped once.
#[test]
fn ten_thousand_generators_round_robin() {
    const GENERATORS: usize = 10_000;
    const ROUNDS: u64 = 20;
    run_case(|| {
        let dropped = Rc::new(Cell::new(0));
        let mut gens: Vec<Generator<(usize, u64), u64, u64>> = (0..GENERATORS)
            .map(|id| {
                let sub = counter(id, dropped.clone());
                if id % 2 == 0 {
                    sub
                } else {
                    Generator::with_input(move |co| async move { Ok(co.yield_from(sub).await? * 10) })
                }
            })
            .collect();
        for (id, g) in gens.iter_mut().enumerate() {
            assert_eq!(g.start().unwrap(), State::Yielded((id, 0)));
        }
        let mut expected = vec![0u64; GENERATORS];
        let mut sends = 0u64;
        for round in 1..=ROUNDS {
            let order: Box<dyn Iterator<Item = usize>> =
                if round % 2 == 0 { Box::new(0..GENERATORS) } else { Box::new((0..GENERATORS).rev()) };
            for id in order {
                let n = round * GENERATORS as u64 + id as u64;
                expected[id] += n;
                assert_eq!(
                    gens[id].send(n).unwrap(),
                    State::Yielded((id, expected[id])),
                    "generator {id}, round {round}"
                );
                sends += 1;
            }
        }
        assert_eq!(sends, ROUNDS * GENERATORS as u64);
        assert_eq!(dropped.get(), 0);
        for (id, g) in gens.iter_mut().enumerate() {
            let want = if id % 2 == 0 { expected[id] } else { expected[id] * 10 };
            assert_eq!(g.throw(StopCounting("done")).unwrap(), State::Complete(want), "generator {id}");
            assert!(g.is_finished());
        }
        assert_eq!(dropped.get(), GENERATORS);
    });
}

// ---------------------------------------------------------------------------
// concur's own surface
// ---------------------------------------------------------------------------

// concur: Debug names the state; errors read as sentences that say what to
// do.
#[test]
fn debug_and_error_messages() {
    run_case(|| {
        let mut g = yrange(1);
        assert_eq!(format!("{g:?}"), r#"Generator { state: "not started" }"#);
        g.resume().unwrap();
        assert_eq!(format!("{g:?}"), r#"Generator { state: "paused" }"#);
        g.close().unwrap();
        assert_eq!(format!("{g:?}"), r#"Generator { state: "finished" }"#);

        assert!(GeneratorError::NotStarted.to_string().contains("call start() or resume() first"));
        assert!(GeneratorError::AlreadyStarted.to_string().contains("resume it with send() or resume()"));
        assert_eq!(GeneratorError::Finished.to_string(), "the generator has finished: it cannot be resumed");
        assert_eq!(GeneratorError::Raised(ValueError("x").into()).to_string(), "the generator raised: ValueError: x");
        assert_eq!(Thrown::from(GeneratorExit).to_string(), "the generator was closed");
    });
}
