//! `concur::coro`'s `throw`, and bodies that await something other than
//! their own yields, against CPython's `Lib/test/test_generators.py`
//! (`coroutine_tests`, `pep_tests`, `ExceptionTest`, `GeneratorThrowTest`).
//! Each test names the case it mirrors; every case runs on a thread of its
//! own with a deadline.
//!
//! Skipped or changed, because they cannot apply in Rust:
//! - The `ExceptionTest` cases about `sys.exc_info()` and `__context__`:
//!   Rust has no implicitly handled exception. What they check besides —
//!   the error thrown in is the one the body catches and can raise again —
//!   is mirrored.
//! - The `throw()` argument forms (type only, type and value, bad
//!   arguments): `throw` takes one typed error.

mod common;

use std::rc::Rc;

use common::coro::{assert_is, raised, run_case, Finally, RuntimeError, Trace, TypeError, ValueError, FOREIGN_AWAIT};
use concur::coro::{Co, Generator, GeneratorError, State, Thrown};

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
