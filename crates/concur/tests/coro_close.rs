//! `concur::coro`'s `close` and drop, against CPython's
//! `Lib/test/test_generators.py` (`GeneratorCloseTest`, and the closing and
//! finalization parts of `coroutine_tests`). Each test names the case it
//! mirrors; every case runs on a thread of its own with a deadline.
//!
//! Changed, because Rust differs:
//! - `test_close_return_value`: `close` returns `Ok(())`, not the body's
//!   return value; that the body caught `GeneratorExit` and finished is
//!   what is checked.
//! - Dropping a paused generator runs its destructors but does not deliver
//!   `GeneratorExit` first (see `Generator`'s docs); the finalization
//!   doctests are mirrored with that difference.
//! - `FinalizationTest.test_refcycle` is skipped: a generator cannot be
//!   sent into itself (its body cannot reach it).

mod common;

use std::rc::Rc;

use common::coro::{assert_is, run_case, Finally, Trace, TypeError};
use concur::coro::{Generator, GeneratorError, GeneratorExit, State};

/// Where a generator is when it is closed.
#[derive(Debug, Clone, Copy)]
enum Before {
    NotStarted,
    Paused,
    Exhausted,
}

/// One row of the close table: `GeneratorCloseTest`'s cases differ only in
/// whether the body catches `GeneratorExit` and where the generator is.
struct CloseCase {
    python: &'static str,
    /// The body answers `GeneratorExit` with `return 0`; otherwise it lets
    /// it out of its `yield` (`?`).
    catches_exit: bool,
    before: Before,
    /// Whether the body must have seen a `GeneratorExit`.
    sees_exit: bool,
}

const CLOSE_CASES: [CloseCase; 5] = [
    CloseCase {
        python: "test_close_no_return_value, test_close_not_catching_exit",
        catches_exit: false,
        before: Before::Paused,
        sees_exit: false,
    },
    CloseCase {
        python: "test_close_return_value, test_close_closed, coroutine_tests' closing",
        catches_exit: true,
        before: Before::Paused,
        sees_exit: true,
    },
    CloseCase {
        python: "test_close_not_started, coroutine_tests' close on a just-opened generator",
        catches_exit: true,
        before: Before::NotStarted,
        sees_exit: false,
    },
    CloseCase { python: "test_close_exhausted", catches_exit: true, before: Before::Exhausted, sees_exit: false },
    CloseCase {
        python: "test_close_exhausted, not catching",
        catches_exit: false,
        before: Before::Exhausted,
        sees_exit: false,
    },
];

// test_generators.py: GeneratorCloseTest, every case whose body returns or
// lets GeneratorExit out: close is `Ok`, the generator is finished and
// stays so, a second close is a no-op, and the body sees GeneratorExit once
// at most (never if it had not started or had finished).
#[test]
fn close_in_every_state() {
    run_case(|| {
        for case in CLOSE_CASES {
            let name = case.python;
            let trace = Trace::default();
            let log = trace.clone();
            let mut g = Generator::new(move |co| async move {
                log.push("started");
                match co.yield_(()).await {
                    Err(e) if case.catches_exit && e.is_generator_exit() => {
                        assert!(e.downcast_ref::<GeneratorExit>().is_some());
                        log.push("saw GeneratorExit");
                        Ok(0)
                    }
                    other => other.map(|()| 1),
                }
            });
            match case.before {
                Before::NotStarted => {}
                Before::Paused => assert_eq!(g.start().unwrap(), State::Yielded(()), "{name}"),
                Before::Exhausted => {
                    g.start().unwrap();
                    assert_eq!(g.resume().unwrap(), State::Complete(1), "{name}");
                }
            }
            assert!(g.close().is_ok(), "{name}");
            assert!(g.is_finished(), "{name}");
            assert!(g.close().is_ok(), "{name}: closing again is a no-op");
            assert!(matches!(g.resume(), Err(GeneratorError::Finished)), "{name}");
            assert!(matches!(g.start(), Err(GeneratorError::Finished)), "{name}");
            let mut expected = Vec::new();
            if !matches!(case.before, Before::NotStarted) {
                expected.push("started");
            }
            if case.sees_exit {
                expected.push("saw GeneratorExit");
            }
            assert_eq!(trace.entries(), expected, "{name}");
        }
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
