//! `Generator::yielding_from` and `Generator::name` against CPython's
//! `Lib/test/test_generators.py` (`YieldFromTests.test_generator_gi_yieldfrom`),
//! plus the chain of `yield_from`s seen from outside and the ways a
//! delegation ends: a return, a throw, a close, a drop.
//!
//! CPython also checks, from inside the running generators, that
//! `gi_yieldfrom` is `None` while the generator runs; here a running
//! generator is borrowed by the call that runs it, so nothing can ask it,
//! and that half has no counterpart.

use concur::coro::{Generator, State, Thrown};

/// CPython's `a()`: two plain yields.
fn a() -> Generator<(), (), ()> {
    Generator::new(|co| async move {
        co.yield_(()).await?;
        Ok(())
    })
}

/// CPython's `b()`: delegates to `a()`, then yields once itself.
fn b() -> Generator<(), (), ()> {
    Generator::new(|co| async move {
        co.yield_from(a()).await?;
        co.yield_(()).await?;
        Ok(())
    })
}

// test_generators.YieldFromTests.test_generator_gi_yieldfrom
#[test]
fn test_generator_gi_yieldfrom() {
    let mut gen_b = b();
    // GEN_CREATED
    assert!(gen_b.yielding_from().is_none());

    // Paused in `a`'s yield, through `yield from`.
    assert_eq!(gen_b.start().unwrap(), State::Yielded(()));
    assert!(!gen_b.is_finished());
    let sub = gen_b.yielding_from().expect("b delegates to a");
    assert!(sub.name().ends_with("::a"), "{}", sub.name());

    // `a` finished; paused at `b`'s own yield.
    assert_eq!(gen_b.resume().unwrap(), State::Yielded(()));
    assert!(gen_b.yielding_from().is_none());

    // Exhausted (GEN_CLOSED).
    assert_eq!(gen_b.resume().unwrap(), State::Complete(()));
    assert!(gen_b.is_finished());
    assert!(gen_b.yielding_from().is_none());
}

/// A generator's name is that of the function that made it, as Python's
/// `gi_name` is the generator function's.
#[test]
fn name_is_the_making_function() {
    assert!(a().name().ends_with("::a"), "{}", a().name());
    assert!(b().name().ends_with("::b"), "{}", b().name());
    assert!(!a().name().contains("{{closure}}"));
}

/// A chain of `yield_from`s can be walked from the outside, each level
/// naming the one below, down to the generator that yields.
#[test]
fn a_chain_of_delegations_is_walked_from_outside() {
    fn top() -> Generator<(), (), ()> {
        Generator::new(|co| async move { co.yield_from(b()).await })
    }
    let mut g = top();
    g.resume().unwrap();
    let first = g.yielding_from().unwrap();
    let second = first.yielding_from().unwrap();
    assert!(first.name().ends_with("::b"), "{}", first.name());
    assert!(second.name().ends_with("::a"), "{}", second.name());
    assert!(second.yielding_from().is_none());
    assert!(format!("{first:?}").contains("SubGenerator"));

    // `a` done: `b` is at its own yield, `top` still delegating to `b`.
    g.resume().unwrap();
    assert!(g.yielding_from().unwrap().yielding_from().is_none());
}

/// The delegation ends however `yield_from` does: an error thrown through
/// it, a close, or the outer generator being dropped mid-delegation (the
/// view outlives it harmlessly).
#[test]
fn the_delegation_ends_with_a_throw_a_close_or_a_drop() {
    let catching = || {
        Generator::new(|co| async move {
            if co.yield_from(a()).await.is_err() {
                co.yield_(()).await?;
            }
            Ok(())
        })
    };

    let mut thrown = catching();
    thrown.resume().unwrap();
    assert!(thrown.yielding_from().is_some());
    assert_eq!(thrown.throw(Thrown::new("stop")).unwrap(), State::Yielded(()));
    assert!(thrown.yielding_from().is_none(), "the sub-generator raised and is gone");

    let mut closed = b();
    closed.resume().unwrap();
    closed.close().unwrap();
    assert!(closed.is_finished());
    assert!(closed.yielding_from().is_none());

    let mut dropped = b();
    dropped.resume().unwrap();
    let view = dropped.yielding_from().unwrap();
    drop(dropped);
    assert!(view.name().ends_with("::a"));
    assert!(view.yielding_from().is_none());
}
