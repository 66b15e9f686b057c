//! `concur::coro`'s `yield_from` against CPython's `Lib/test/test_pep380.py`
//! (PEP 380, `yield from`), with the delegation cases of
//! `Lib/test/test_generators.py`. Cases that differ only in what the
//! generators yield, raise or are sent run from one table each. Each test or
//! row names the case it mirrors; every case runs on a thread of its own
//! with a deadline.
//!
//! Skipped or changed, because they cannot apply in Rust:
//! - `pep_tests` "generator already executing" and
//!   `test_attempted_yield_from_loop`: a body cannot reach its own generator
//!   (`yield_from` takes the sub-generator by value, `send` needs `&mut`), so
//!   the borrow checker refuses what Python checks at run time.
//! - `test_delegation_of_next_to_non_generator` and the other `yield from`
//!   over plain iterables (`range`, `Broken`): `yield_from` takes a
//!   `Generator`; an iterator is yielded item by item (see `coro_send.rs`).
//! - `YieldFromTests.test_generator_gi_yieldfrom`: a `Generator` has no
//!   `gi_yieldfrom`.
//! - `yield from` a generator already started (or exhausted): Python goes on
//!   from where it paused (or yields nothing); `yield_from` refuses both
//!   with the sub's `AlreadyStarted` / `Finished`, which is what is tested.

mod common;

use common::coro::{
    assert_generator_error, assert_is, drain, raised, run_case, Finally, LunchError, RuntimeError, Trace, TypeError,
    ValueError, ZeroDivisionError,
};
use concur::coro::{Generator, GeneratorError, GeneratorExit, State, Thrown};

// ---------------------------------------------------------------------------
// next through a delegation
// ---------------------------------------------------------------------------

/// One row of test_pep380's `next` cases: `g1` yields `g1_before`,
/// delegates to a `g2` that yields `g2_yields` and then finishes or raises
/// a `ValueError` with `g2_raises`, then yields `g1_after`. Each body
/// records `Starting …` and, in a `finally`, `Finishing …`.
struct Delegation {
    python: &'static str,
    g1_before: &'static [&'static str],
    g2_yields: &'static [&'static str],
    g2_raises: Option<&'static str>,
    g1_after: &'static [&'static str],
    trace: &'static [&'static str],
}

const DELEGATIONS: [Delegation; 4] = [
    Delegation {
        python: "test_delegation_of_initial_next_to_subgenerator",
        g1_before: &[],
        g2_yields: &["42"],
        g2_raises: None,
        g1_after: &[],
        trace: &["Starting g1", "Starting g2", "Yielded 42", "Finishing g2", "Finishing g1"],
    },
    Delegation {
        python: "test_raising_exception_in_initial_next_call",
        g1_before: &[],
        g2_yields: &[],
        g2_raises: Some("spanish inquisition occurred"),
        g1_after: &[],
        trace: &["Starting g1", "Starting g2", "Finishing g2", "Finishing g1"],
    },
    Delegation {
        python: "test_delegation_of_next_call_to_subgenerator",
        g1_before: &["g1 ham"],
        g2_yields: &["g2 spam", "g2 more spam"],
        g2_raises: None,
        g1_after: &["g1 eggs"],
        trace: &[
            "Starting g1",
            "Yielded g1 ham",
            "Starting g2",
            "Yielded g2 spam",
            "Yielded g2 more spam",
            "Finishing g2",
            "Yielded g1 eggs",
            "Finishing g1",
        ],
    },
    Delegation {
        python: "test_raising_exception_in_delegated_next_call",
        g1_before: &["g1 ham"],
        g2_yields: &["g2 spam"],
        g2_raises: Some("hovercraft is full of eels"),
        g1_after: &["g1 eggs"],
        trace: &["Starting g1", "Yielded g1 ham", "Starting g2", "Yielded g2 spam", "Finishing g2", "Finishing g1"],
    },
];

/// A body named `name` that yields `before`, delegates to `sub` if there is
/// one, yields `after`, then raises `raises` if set.
fn scripted(
    trace: &Trace,
    name: &'static str,
    before: &'static [&'static str],
    sub: Option<Generator<&'static str>>,
    after: &'static [&'static str],
    raises: Option<&'static str>,
) -> Generator<&'static str> {
    let trace = trace.clone();
    Generator::new(move |co| async move {
        let _finally = Finally::new(&trace, format!("Finishing {name}"));
        trace.push(format!("Starting {name}"));
        for &x in before {
            co.yield_(x).await?;
        }
        if let Some(sub) = sub {
            co.yield_from(sub).await?;
        }
        for &x in after {
            co.yield_(x).await?;
        }
        match raises {
            Some(message) => Err(ValueError(message).into()),
            None => Ok(()),
        }
    })
}

#[test]
fn next_through_a_delegation() {
    run_case(|| {
        for case in DELEGATIONS {
            let trace = Trace::default();
            let g2 = scripted(&trace, "g2", case.g2_yields, None, &[], case.g2_raises);
            let g1 = scripted(&trace, "g1", case.g1_before, Some(g2), case.g1_after, None);
            let error = drain(g1, &trace);
            match case.g2_raises {
                Some(message) => assert_is(&error.expect(case.python), ValueError(message)),
                None => assert!(error.is_none(), "{}: {error:?}", case.python),
            }
            assert_eq!(trace.entries(), case.trace, "{}", case.python);
        }
    });
}

// ---------------------------------------------------------------------------
// close and throw through a delegation
// ---------------------------------------------------------------------------

/// test_pep380's `g2` of test_handing_exception_while_delegating_close: on
/// GeneratorExit it raises a `ValueError` instead.
fn raising_on_close_g2(trace: &Trace) -> Generator<&'static str> {
    let log = trace.clone();
    Generator::new(move |co| async move {
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
    })
}

/// One row: `finally_g1` delegating to `sub`, paused in it after two
/// values, then ended by `end`; the error it ends with, if any.
struct EndWhileDelegating {
    python: &'static str,
    sub: fn(&Trace) -> Generator<&'static str>,
    end: fn(&mut Generator<&'static str>) -> Result<(), GeneratorError>,
    error: Option<&'static str>,
}

const ENDS_WHILE_DELEGATING: [EndWhileDelegating; 3] = [
    EndWhileDelegating { python: "test_delegating_close", sub: finally_g2, end: Generator::close, error: None },
    EndWhileDelegating {
        python: "test_handing_exception_while_delegating_close",
        sub: raising_on_close_g2,
        end: Generator::close,
        error: Some("nybbles have exploded with delight"),
    },
    EndWhileDelegating {
        python: "test_delegating_throw",
        sub: finally_g2,
        end: |g| g.throw(ValueError("tomato ejected")).map(drop),
        error: Some("tomato ejected"),
    },
];

// The subgenerator ends first, then the delegating one; both `finally`s run.
#[test]
fn close_and_throw_through_a_delegation() {
    run_case(|| {
        for case in ENDS_WHILE_DELEGATING {
            let trace = Trace::default();
            let mut g = finally_g1(&trace, (case.sub)(&trace));
            yield_twice(&mut g, &trace);
            let outcome = (case.end)(&mut g);
            match case.error {
                Some(message) => {
                    assert_is(&raised(outcome.map(|()| State::<(), ()>::Complete(()))), ValueError(message))
                }
                None => assert!(outcome.is_ok(), "{}: {outcome:?}", case.python),
            }
            assert_eq!(
                trace.entries(),
                ["Starting g1", "Yielded g1 ham", "Starting g2", "Yielded g2 spam", "Finishing g2", "Finishing g1"],
                "{}",
                case.python
            );
            assert!(g.is_finished(), "{}", case.python);
        }
    });
}

// ---------------------------------------------------------------------------
// GeneratorExit thrown into a delegation
// ---------------------------------------------------------------------------

/// What test_pep380's `f` does when GeneratorExit reaches it.
#[derive(Debug, Clone, Copy)]
enum OnExit {
    Return,
    YieldAgain,
    Raise(&'static str),
}

/// test_pep380's `f` of the GeneratorExit cases: records "Enter f", and on
/// GeneratorExit does `on_exit`.
fn exit_f(trace: &Trace, on_exit: OnExit) -> Generator<()> {
    let trace = trace.clone();
    Generator::new(move |co| async move {
        trace.push("Enter f");
        match co.yield_(()).await {
            Ok(()) => {
                trace.push("Exit f");
                Ok(())
            }
            Err(e) if e.is_generator_exit() => match on_exit {
                OnExit::Return => Ok(()),
                OnExit::YieldAgain => co.yield_(()).await,
                OnExit::Raise(message) => Err(ValueError(message).into()),
            },
            Err(e) => Err(e),
        }
    })
}

/// How a row checks the error the delegating generator ended with.
type CheckThrown = fn(&Thrown);

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

// test_pep380.py: test_throwing_GeneratorExit_into_subgen_that_returns,
// _that_yields (Python: RuntimeError "generator ignored GeneratorExit";
// here the subgenerator's IgnoredClose, raised by the delegating generator)
// and _that_raises. In each the delegating generator ends with the error.
#[test]
fn generator_exit_thrown_into_a_delegation() {
    run_case(|| {
        let cases: [(OnExit, CheckThrown); 3] = [
            (OnExit::Return, |e| assert!(e.is_generator_exit(), "{e:?}")),
            (OnExit::YieldAgain, |e| assert_generator_error(e, |e| matches!(e, GeneratorError::IgnoredClose))),
            (OnExit::Raise("Vorpal bunny encountered"), |e| assert_is(e, ValueError("Vorpal bunny encountered"))),
        ];
        for (on_exit, check) in cases {
            let trace = Trace::default();
            let mut gi = exit_g(&trace, exit_f(&trace, on_exit));
            gi.resume().unwrap();
            check(&raised(gi.throw(GeneratorExit)));
            assert_eq!(trace.entries(), ["Enter g", "Enter f"], "{on_exit:?}");
            assert!(gi.is_finished(), "{on_exit:?}");
        }
    });
}

// ---------------------------------------------------------------------------
// three levels deep
// ---------------------------------------------------------------------------

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

/// One row: how a three-deep delegation is driven after `three_deep`, and
/// what every level records.
struct ThreeDeep {
    python: &'static str,
    drive: fn(&mut Generator<String, u32, u32>),
    trace: &'static [&'static str],
}

const THREE_DEEP: [ThreeDeep; 4] = [
    ThreeDeep {
        python: "test_delegation_of_send and test_generator_return_value",
        drive: |a| {
            assert_eq!(a.send(7).unwrap(), State::Yielded("c echoes 3".to_string()));
            // 0 ends c, which returns 3 + 1; b returns 5; a returns 6.
            assert_eq!(a.send(0).unwrap(), State::Complete(6));
        },
        trace: &["a got 1", "b got 2", "c got 3", "c got 7", "c finally", "b finally", "a finally"],
    },
    ThreeDeep {
        python: "test_returning_value_from_delegated_throw: the innermost catches, yields, and all go on",
        drive: |a| {
            assert_eq!(a.throw(ValueError("deep")).unwrap(), State::Yielded("c recovered".to_string()));
            assert_eq!(a.send(9).unwrap(), State::Yielded("c echoes 3".to_string()));
            assert_eq!(a.send(0).unwrap(), State::Complete(6));
        },
        trace: &["a got 1", "b got 2", "c got 3", "c caught ValueError: deep", "c finally", "b finally", "a finally"],
    },
    ThreeDeep {
        python: "test_delegating_throw: the error passes out through every level, innermost cleanup first",
        drive: |a| {
            assert_is(&raised(a.throw(TypeError("deep"))), TypeError("deep"));
            assert!(a.is_finished());
        },
        trace: &[
            "a got 1",
            "b got 2",
            "c got 3",
            "c saw TypeError: deep",
            "c finally",
            "b saw TypeError: deep",
            "b finally",
            "a saw TypeError: deep",
            "a finally",
        ],
    },
    ThreeDeep {
        python: "test_delegating_close: the innermost is closed first, then each level sees GeneratorExit",
        drive: |a| {
            a.close().unwrap();
            assert!(a.is_finished());
            assert!(a.close().is_ok());
        },
        trace: &[
            "a got 1",
            "b got 2",
            "c got 3",
            "c saw the generator was closed",
            "c finally",
            "b saw the generator was closed",
            "b finally",
            "a saw the generator was closed",
            "a finally",
        ],
    },
];

// test_pep380.py, three levels deep (FinalizationTest.test_lambda_generator's
// `g3` goes two)
#[test]
fn three_levels_deep() {
    run_case(|| {
        assert_eq!(GeneratorExit.to_string(), "the generator was closed", "the traces below spell it out");
        for case in THREE_DEEP {
            let trace = Trace::default();
            let mut a = three_deep(&trace);
            (case.drive)(&mut a);
            assert_eq!(trace.entries(), case.trace, "{}", case.python);
        }
    });
}

// ---------------------------------------------------------------------------
// send, return values and the rest
// ---------------------------------------------------------------------------

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

/// test_pep380's `g2` of the send cases: records what it is sent; after the
/// first value, raises a `ValueError` with `raises` if set, or else takes
/// one more.
fn send_g2(trace: &Trace, raises: Option<&'static str>) -> Generator<&'static str, u32, ()> {
    let log = trace.clone();
    Generator::with_input(move |co| async move {
        log.push("Starting g2");
        let x = co.yield_("g2 spam").await?;
        log.push(format!("g2 received {x}"));
        if let Some(message) = raises {
            return Err(ValueError(message).into());
        }
        let x = co.yield_("g2 more spam").await?;
        log.push(format!("g2 received {x}"));
        log.push("Finishing g2");
        Ok(())
    })
}

// test_pep380.py: test_delegation_of_send and
// test_handling_exception_while_delegating_send: sent 1, 2, 3 … until it
// ends, returning or raising.
#[test]
fn send_through_a_delegation() {
    run_case(|| {
        let cases: [(Option<&str>, &[&str]); 2] = [
            (
                None,
                &[
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
                ],
            ),
            (
                Some("hovercraft is full of eels"),
                &["Starting g1", "g1 received 1", "Starting g2", "Yielded g2 spam", "g2 received 2"],
            ),
        ];
        for (raises, expected) in cases {
            let trace = Trace::default();
            let mut g = send_g1(&trace, send_g2(&trace, raises));
            assert_eq!(g.start().unwrap(), State::Yielded("g1 ham"));
            let mut x = 1;
            let end = loop {
                match g.send(x) {
                    Ok(State::Yielded(y)) => {
                        trace.push(format!("Yielded {y}"));
                        x += 1;
                    }
                    other => break other,
                }
            };
            match raises {
                Some(message) => assert_is(&raised(end), ValueError(message)),
                None => assert_eq!(end.unwrap(), State::Complete(())),
            }
            assert_eq!(trace.entries(), expected, "{raises:?}");
            assert!(g.is_finished());
        }
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
        assert!(drain(g1, &trace).is_none());
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
        assert!(drain(g, &trace).is_none());
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
