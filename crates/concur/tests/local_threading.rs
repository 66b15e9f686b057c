//! `concur::local::ThreadLocal` against the cases of CPython's
//! `Lib/test/test_threading_local.py`, each named after the case it mirrors,
//! plus Python's promises that every thread starts with a fresh value (which
//! the `thread_local` crate, keyed by recycled thread numbers, broke) and
//! that a thread's value goes when the thread ends; exact counts under many
//! threads; and the corners of the implementation: the per-thread cache
//! shared by objects, a re-entrant or panicking `init`, `with` from a
//! thread-local destructor, a value whose drop makes another. Every wait is
//! bounded.
//!
//! Runs under miri too, with fewer threads:
//! `cargo +nightly miri test -p concur --test local_threading`.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Weak};
use std::time::Duration;

use concur::executor::{Shutdown, ThreadPool};
use concur::local::ThreadLocal;
use concur::thread::{self, JoinHandle, JoinStatus};
use static_assertions::{assert_impl_all, assert_not_impl_any};

const PATIENCE: Duration = Duration::from_secs(30);

/// Threads for the tests that use many: fewer under miri, which runs every
/// thread on one core, slowly.
const MANY: usize = if cfg!(miri) { 8 } else { 64 };

/// More objects alive at once than fit in a thread's fixed cache entries
/// (16), so some go to its growable part.
const OBJECTS: usize = 40;

// One object shared by every thread, whatever the value inside; `T` need only
// be `Send`.
assert_impl_all!(ThreadLocal<Cell<u32>>: Send, Sync, std::fmt::Debug);
assert_impl_all!(ThreadLocal<RefCell<Option<String>>>: Send, Sync);
assert_impl_all!(concur::local::IntoIter<Cell<u32>>: Send);
// A value that must stay on its thread cannot go into one.
assert_not_impl_any!(concur::local::IntoIter<Cell<u32>>: Sync);

/// Joins `handle`, failing the test if the thread has not finished within
/// `PATIENCE` or panicked.
fn join<T>(handle: JoinHandle<T>) -> T {
    assert_eq!(handle.join_timeout(PATIENCE).unwrap(), JoinStatus::Finished, "a thread did not finish in time");
    handle.join().unwrap()
}

/// CPython `_test_one_class` (`test_threading_local`,
/// `test_threading_local_subclass`): what one live thread stores is not
/// there for another.
#[test]
fn test_threading_local() {
    let obj = Arc::new(ThreadLocal::new(|| RefCell::new(Vec::<(&str, &str)>::new())));
    let (stored_tx, stored_rx) = mpsc::channel::<()>();
    let (exit_tx, exit_rx) = mpsc::channel::<()>();
    let first = {
        let obj = Arc::clone(&obj);
        thread::spawn(move || {
            obj.with(|mine| {
                mine.borrow_mut().push(("x", "foo"));
                mine.borrow_mut().push(("y", "bar"));
                mine.borrow_mut().retain(|(key, _)| *key != "y");
            });
            stored_tx.send(()).unwrap();
            let _ = exit_rx.recv_timeout(PATIENCE);
            obj.with(|mine| mine.borrow().clone())
        })
    };
    stored_rx.recv_timeout(PATIENCE).unwrap();

    let second = {
        let obj = Arc::clone(&obj);
        thread::spawn(move || (obj.try_with(|_| ()).is_none(), obj.with(|mine| mine.borrow().is_empty())))
    };
    assert_eq!(join(second), (true, true));

    exit_tx.send(()).unwrap();
    assert_eq!(join(first), [("x", "foo")]);
}

/// CPython `test_derived` (issue 3088): a thread switch inside the
/// initialiser must not give a thread a value made for another.
#[test]
fn test_derived() {
    let local = Arc::new(ThreadLocal::new(|| {
        std::thread::sleep(Duration::from_millis(10));
        Cell::new(None::<usize>)
    }));
    let all_set = Arc::new(Barrier::new(10));
    let handles: Vec<_> = (0..10)
        .map(|i| {
            let (local, all_set) = (Arc::clone(&local), Arc::clone(&all_set));
            thread::spawn(move || {
                local.with(|mine| mine.set(Some(i)));
                all_set.wait();
                local.with(Cell::get)
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(join(handle), Some(i));
    }
}

/// CPython `test_arguments` (issue 1522237): a subclass's `__init__` takes
/// arguments; here the initialiser closes over them.
#[test]
fn test_arguments() {
    let (greeting, times) = (String::from("hi"), 3);
    let local = ThreadLocal::new(move || greeting.repeat(times));
    assert_eq!(local.with(String::clone), "hihihi");
    let local = Arc::new(local);
    let seen = {
        let local = Arc::clone(&local);
        thread::spawn(move || local.with(String::clone))
    };
    assert_eq!(join(seen), "hihihi");
}

/// CPython `test_dict_attribute`: a thread sees what it stored, and before
/// it stores anything there is nothing to see.
#[test]
fn test_dict_attribute() {
    let obj = ThreadLocal::new(|| Cell::new(0));
    assert!(obj.try_with(Cell::get).is_none());
    assert_eq!(format!("{obj:?}"), "ThreadLocal { current_thread: None, .. }");
    obj.with(|mine| mine.set(5));
    assert_eq!(obj.try_with(Cell::get), Some(5));
    assert_eq!(format!("{obj:?}"), "ThreadLocal { current_thread: Some(Cell { value: 5 }), .. }");
}

/// Counts values alive, to see when they are dropped.
struct Tracked(Arc<AtomicUsize>);

impl Tracked {
    fn new(alive: &Arc<AtomicUsize>) -> Tracked {
        alive.fetch_add(1, Ordering::SeqCst);
        Tracked(Arc::clone(alive))
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A count that is also tracked: the value of the tests that count both
/// what a thread did and when its value went.
type Counted = (Cell<usize>, Tracked);

/// A `ThreadLocal` of `Tracked` values, with counters of values made and
/// values alive.
fn tracked_local() -> (Arc<ThreadLocal<Tracked>>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let alive = Arc::new(AtomicUsize::new(0));
    let made = Arc::new(AtomicUsize::new(0));
    let local = {
        let (alive, made) = (Arc::clone(&alive), Arc::clone(&made));
        Arc::new(ThreadLocal::new(move || {
            made.fetch_add(1, Ordering::SeqCst);
            Tracked::new(&alive)
        }))
    };
    (local, alive, made)
}

/// CPython `test_local_refs`: `n` threads, each started after the last has
/// ended, each make a value; once they are joined, every value is gone.
/// (CPython allows the last thread's value to linger, `n - 1` or `n`; here
/// all `n` are dropped by the time `join` returns.)
#[test]
fn test_local_refs() {
    let rounds: &[usize] = if cfg!(miri) { &[5] } else { &[20, 50, 100] };
    for &n in rounds {
        let (local, alive, made) = tracked_local();
        for _ in 0..n {
            let local = Arc::clone(&local);
            join(thread::spawn(move || local.with(|_| ())));
        }
        assert_eq!(made.load(Ordering::SeqCst), n, "one value per thread");
        assert_eq!(alive.load(Ordering::SeqCst), 0, "each value went with its thread");
        drop(local);
        assert_eq!(alive.load(Ordering::SeqCst), 0);
    }
}

/// A thread of concur's has dropped its values by the time anything can see
/// it finished — `join_timeout`, `is_alive` — not only after `join`.
#[test]
fn values_are_dropped_before_the_thread_counts_as_finished() {
    let (local, alive, _) = tracked_local();
    let handle = {
        let local = Arc::clone(&local);
        thread::spawn(move || local.with(|_| ()))
    };
    assert_eq!(handle.join_timeout(PATIENCE).unwrap(), JoinStatus::Finished);
    assert!(!handle.is_alive());
    assert_eq!(alive.load(Ordering::SeqCst), 0, "the value outlived its thread");
    handle.join().unwrap();
}

/// A thread concur did not spawn drops its values with its other
/// thread-locals, as it exits: before `std`'s `join` returns.
#[test]
fn values_of_a_std_thread_are_dropped_when_it_exits() {
    let (local, alive, made) = tracked_local();
    for _ in 0..3 {
        let local = Arc::clone(&local);
        std::thread::spawn(move || local.with(|_| ())).join().unwrap();
    }
    assert_eq!((made.load(Ordering::SeqCst), alive.load(Ordering::SeqCst)), (3, 0));
}

/// The leak CPython's rule prevents: one long-lived object and a stream of
/// short-lived threads. It holds the values of the live threads only.
#[test]
fn a_long_lived_object_does_not_grow_with_thread_churn() {
    let churn = if cfg!(miri) { 20 } else { 1_000 };
    let (local, alive, made) = tracked_local();
    let (live_tx, live_rx) = mpsc::channel::<()>();
    let live_rx = Arc::new(parking_lot::Mutex::new(live_rx));
    // Two threads stay alive throughout, holding their values.
    let stayers: Vec<_> = (0..2)
        .map(|_| {
            let (local, live_rx) = (Arc::clone(&local), Arc::clone(&live_rx));
            thread::spawn(move || {
                local.with(|_| ());
                let _ = live_rx.lock().recv_timeout(PATIENCE);
            })
        })
        .collect();
    for _ in 0..churn {
        let local = Arc::clone(&local);
        join(thread::spawn(move || local.with(|_| ())));
    }
    assert_eq!(made.load(Ordering::SeqCst), churn + 2);
    assert_eq!(alive.load(Ordering::SeqCst), 2, "only the live threads' values are kept");
    drop(live_tx);
    for stayer in stayers {
        join(stayer);
    }
    assert_eq!(alive.load(Ordering::SeqCst), 0);
}

/// A pool's workers keep their values from call to call, as threads that
/// live on do, and drop them when the pool shuts down and they end.
#[test]
fn pool_workers_keep_their_values_until_the_pool_ends() {
    let (local, alive, made) = tracked_local();
    let pool = ThreadPool::new(2).unwrap();
    let calls: Vec<_> = (0..if cfg!(miri) { 6 } else { 100 })
        .map(|_| {
            let local = Arc::clone(&local);
            pool.submit(move || local.with(|_| ())).unwrap()
        })
        .collect();
    for call in &calls {
        call.result_timeout(PATIENCE).unwrap();
    }
    let workers = made.load(Ordering::SeqCst);
    assert!((1..=2).contains(&workers), "one value per worker, not per call: {workers}");
    assert_eq!(alive.load(Ordering::SeqCst), workers);
    pool.shutdown(Shutdown::wait());
    assert_eq!(alive.load(Ordering::SeqCst), 0);
}

/// The reference's pattern, which the `thread_local` crate got wrong: `t1`
/// runs and is joined, then `t2` starts. `t2` must not find `t1`'s value:
/// `init` runs for it and it sees a fresh value, as in Python.
#[test]
fn a_thread_started_after_another_exited_starts_afresh() {
    let inits = Arc::new(AtomicUsize::new(0));
    let local = {
        let inits = Arc::clone(&inits);
        Arc::new(ThreadLocal::new(move || {
            inits.fetch_add(1, Ordering::SeqCst);
            RefCell::new(String::from("fresh"))
        }))
    };
    let run = |name: &'static str| {
        let local = Arc::clone(&local);
        let handle = thread::Builder::new().name(name).spawn(move || {
            let before = (local.try_with(|_| ()).is_none(), local.with(|mine| mine.borrow().clone()));
            local.with(|mine| *mine.borrow_mut() = format!("left by {name}"));
            before
        });
        join(handle.unwrap())
    };
    assert_eq!(run("t1"), (true, "fresh".to_owned()));
    assert_eq!(inits.load(Ordering::SeqCst), 1);
    assert_eq!(run("t2"), (true, "fresh".to_owned()), "t2 was handed t1's value");
    assert_eq!(inits.load(Ordering::SeqCst), 2, "init did not run for t2");

    let local = Arc::into_inner(local).unwrap();
    assert_eq!(local.into_iter().count(), 0, "both values went with their threads");
}

/// Many short-lived threads, each started after the previous one exited:
/// every one runs `init` and sees a fresh value.
#[test]
fn sequential_short_lived_threads_each_start_afresh() {
    let inits = Arc::new(AtomicUsize::new(0));
    let local = {
        let inits = Arc::clone(&inits);
        Arc::new(ThreadLocal::new(move || {
            inits.fetch_add(1, Ordering::SeqCst);
            Cell::new(0_u64)
        }))
    };
    for started in 1..=MANY {
        let local = Arc::clone(&local);
        let handle = thread::spawn(move || {
            let had_one = local.try_with(|_| ()).is_some();
            let first_seen = local.with(Cell::get);
            local.with(|mine| mine.set(thread::current().ident()));
            assert_eq!(local.with(Cell::get), thread::current().ident());
            (had_one, first_seen)
        });
        assert_eq!(join(handle), (false, 0), "thread {started} was handed an old value");
        assert_eq!(inits.load(Ordering::SeqCst), started);
    }
    assert!(local.try_with(|_| ()).is_none(), "the main thread made no value");
}

/// The initialiser runs once per thread, however many `with` calls follow;
/// many threads alive at once each see exactly their own count, and the
/// owner takes out every live thread's value.
#[test]
fn init_runs_once_per_thread() {
    let inits = Arc::new(AtomicUsize::new(0));
    let local = {
        let inits = Arc::clone(&inits);
        Arc::new(ThreadLocal::new(move || {
            inits.fetch_add(1, Ordering::SeqCst);
            Cell::new(0_usize)
        }))
    };
    let all_counted = Arc::new(Barrier::new(MANY + 1));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let done_rx = Arc::new(parking_lot::Mutex::new(done_rx));
    let (seen_tx, seen_rx) = mpsc::channel();
    let handles: Vec<_> = (0..MANY)
        .map(|i| {
            let (all_counted, done_rx, seen_tx) = (Arc::clone(&all_counted), Arc::clone(&done_rx), seen_tx.clone());
            let local = Arc::clone(&local);
            thread::spawn(move || {
                for _ in 0..=i {
                    local.with(|mine| mine.set(mine.get() + 1));
                }
                seen_tx.send(local.with(Cell::get)).unwrap();
                // The owner takes the object while this thread still lives.
                drop(local);
                all_counted.wait();
                let _ = done_rx.lock().recv_timeout(PATIENCE);
            })
        })
        .collect();
    all_counted.wait();
    let mut seen: Vec<usize> = seen_rx.iter().take(MANY).collect();
    seen.sort_unstable();
    assert_eq!(seen, (1..=MANY).collect::<Vec<_>>());
    assert_eq!(inits.load(Ordering::SeqCst), MANY);

    let local = Arc::into_inner(local).expect("every thread let go of the object");
    let values: Vec<usize> = local.into_iter().map(Cell::into_inner).collect();
    assert_eq!(values.len(), MANY, "the values of the live threads come out");
    assert_eq!(values.iter().sum::<usize>(), MANY * (MANY + 1) / 2);
    // The threads then end with nothing left to drop.
    drop(done_tx);
    for handle in handles {
        join(handle);
    }
}

/// Many threads at once, each going round many objects in its own order,
/// making values while the others make theirs and then finding them in its
/// cache: every count comes out exact, and every value is dropped once.
#[test]
fn many_threads_many_objects_exact_counts() {
    let rounds: usize = if cfg!(miri) { 10 } else { 2_000 };
    let alive = Arc::new(AtomicUsize::new(0));
    let inits = Arc::new(AtomicUsize::new(0));
    let locals: Arc<Vec<ThreadLocal<Counted>>> = Arc::new(
        (0..OBJECTS)
            .map(|_| {
                let (inits, alive) = (Arc::clone(&inits), Arc::clone(&alive));
                ThreadLocal::new(move || {
                    inits.fetch_add(1, Ordering::SeqCst);
                    (Cell::new(0), Tracked::new(&alive))
                })
            })
            .collect(),
    );
    let start = Arc::new(Barrier::new(MANY));
    let handles: Vec<_> = (0..MANY)
        .map(|t| {
            let (locals, start) = (Arc::clone(&locals), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                for round in 0..rounds {
                    // Each thread walks the objects in its own order.
                    let local = &locals[(round + t) * (t % 4 + 1) % OBJECTS];
                    local.with(|(count, _)| count.set(count.get() + 1));
                }
                locals.iter().map(|local| local.try_with(|(count, _)| count.get()).unwrap_or(0)).sum::<usize>()
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(join(handle), rounds, "a thread saw increments that were not its own");
    }
    assert!(inits.load(Ordering::SeqCst) >= MANY);
    assert_eq!(alive.load(Ordering::SeqCst), 0, "every value made was dropped with its thread");
}

/// Objects share each thread's cache: however many there are, and however
/// often objects are dropped and new ones take over their cache entries
/// (perhaps at the same address), each `with` lends this thread's value in
/// *that* object, and a new object's value is always fresh.
#[test]
fn objects_never_mix_up_values() {
    let mut locals: Vec<ThreadLocal<Cell<usize>>> = Vec::new();
    for generation in 0..4 {
        // Dropped newest first, so the next generation reuses their entries
        // in a different order.
        while locals.pop().is_some() {}
        locals.extend((0..OBJECTS).map(|_| ThreadLocal::new(|| Cell::new(usize::MAX))));
        for (i, local) in locals.iter().enumerate() {
            assert_eq!(local.with(Cell::get), usize::MAX, "a new object had a value in generation {generation}");
            local.with(|mine| mine.set(generation * 100 + i));
        }
        for step in 0..3 * OBJECTS {
            let i = step * 7 % OBJECTS;
            assert_eq!(locals[i].with(Cell::get), generation * 100 + i);
            assert_eq!(locals[i].try_with(Cell::get), Some(generation * 100 + i));
        }
        // Half the objects go before the next generation starts, in a
        // scattered order.
        for i in (0..OBJECTS / 2).rev() {
            locals.swap_remove(i * 2 % locals.len());
        }
    }
}

/// A panic in the initialiser leaves the thread without a value; the next
/// `with` tries again.
#[test]
fn panicking_init_is_retried() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let local = {
        let attempts = Arc::clone(&attempts);
        ThreadLocal::new(move || {
            if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("first attempt fails");
            }
            "made"
        })
    };
    assert!(panic::catch_unwind(AssertUnwindSafe(|| local.with(|value| *value))).is_err());
    assert!(local.try_with(|_| ()).is_none());
    assert_eq!(local.with(|value| *value), "made");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(local.into_iter().count(), 1, "the failed attempt left nothing behind");
}

/// The value of `reentrant_init_keeps_the_inner_value`: its drop reads the
/// same `ThreadLocal`, to show no lock is held while values are dropped.
struct Level {
    level: usize,
    _tracked: Tracked,
    owner: Weak<ThreadLocal<Level>>,
}

impl Drop for Level {
    fn drop(&mut self) {
        // Gone when the owner itself is being dropped.
        if let Some(owner) = self.owner.upgrade() {
            owner.with(|kept| assert_eq!(kept.level, 1));
        }
    }
}

/// An initialiser that reads the same `ThreadLocal` keeps the inner value
/// and drops the outer one, without leaking either and without deadlocking,
/// even when dropping the outer one reads the object again.
#[test]
fn reentrant_init_keeps_the_inner_value() {
    let alive = Arc::new(AtomicUsize::new(0));
    let depth = Arc::new(AtomicUsize::new(0));
    let local: Arc<ThreadLocal<Level>> = Arc::new_cyclic(|weak: &Weak<ThreadLocal<Level>>| {
        let (weak, alive, depth) = (weak.clone(), Arc::clone(&alive), Arc::clone(&depth));
        ThreadLocal::new(move || {
            let level = depth.fetch_add(1, Ordering::SeqCst);
            if level == 0 {
                let me = weak.upgrade().unwrap();
                // The inner value, made while the outer `init` runs.
                me.with(|inner| assert_eq!(inner.level, 1));
            }
            Level { level, _tracked: Tracked::new(&alive), owner: weak.clone() }
        })
    });
    assert_eq!(local.with(|value| value.level), 1, "the inner call's value is kept");
    assert_eq!(alive.load(Ordering::SeqCst), 1, "the outer value was dropped");
    assert_eq!(depth.load(Ordering::SeqCst), 2);
    drop(local);
    assert_eq!(alive.load(Ordering::SeqCst), 0);
}

/// A value whose drop makes a value in another object, as the thread ends:
/// that one is dropped too, in the next round, and nothing is left behind.
#[test]
fn a_value_dropped_at_thread_end_may_make_another() {
    struct Chain {
        next: Option<Arc<ThreadLocal<Chain>>>,
        _tracked: Tracked,
    }
    impl Drop for Chain {
        fn drop(&mut self) {
            if let Some(next) = self.next.take() {
                next.with(|_| ());
            }
        }
    }
    let alive = Arc::new(AtomicUsize::new(0));
    let last = {
        let alive = Arc::clone(&alive);
        Arc::new(ThreadLocal::new(move || Chain { next: None, _tracked: Tracked::new(&alive) }))
    };
    let first = {
        let (alive, last) = (Arc::clone(&alive), Arc::clone(&last));
        Arc::new(ThreadLocal::new(move || Chain { next: Some(Arc::clone(&last)), _tracked: Tracked::new(&alive) }))
    };
    {
        let first = Arc::clone(&first);
        join(thread::spawn(move || first.with(|_| ())));
    }
    assert_eq!(alive.load(Ordering::SeqCst), 0, "the value made while dropping was dropped too");
    assert!(last.try_with(|_| ()).is_none());
}

/// `with` works from the destructor of a thread's other thread-locals, as
/// the thread exits, for objects in the fixed and the growable part of the
/// cache: the thread's values were dropped when it finished, so it finds
/// none and makes fresh ones, never reading a dropped value (miri checks
/// that). Twice: with the destructor registered after the values were made
/// and before; every value is dropped in the end.
#[test]
fn with_from_a_thread_local_destructor() {
    type Locals = Arc<Vec<ThreadLocal<Counted>>>;
    struct OnExit(Locals, mpsc::Sender<Vec<(bool, usize)>>);
    impl Drop for OnExit {
        fn drop(&mut self) {
            let seen = self
                .0
                .iter()
                .map(|local| (local.try_with(|_| ()).is_some(), local.with(|(value, _)| value.get())))
                .collect();
            let _ = self.1.send(seen);
        }
    }
    std::thread_local! {
        static ON_EXIT: RefCell<Option<OnExit>> = const { RefCell::new(None) };
    }

    for on_exit_first in [false, true] {
        let alive = Arc::new(AtomicUsize::new(0));
        let locals: Locals = Arc::new(
            (0..OBJECTS)
                .map(|i| {
                    let alive = Arc::clone(&alive);
                    ThreadLocal::new(move || (Cell::new(i), Tracked::new(&alive)))
                })
                .collect(),
        );
        let (seen_tx, seen_rx) = mpsc::channel();
        {
            let locals = Arc::clone(&locals);
            join(thread::spawn(move || {
                let arm =
                    || ON_EXIT.with(|slot| *slot.borrow_mut() = Some(OnExit(Arc::clone(&locals), seen_tx.clone())));
                if on_exit_first {
                    arm();
                }
                for local in locals.iter().step_by(2) {
                    local.with(|(value, _)| value.set(value.get() + 1000));
                }
                if !on_exit_first {
                    arm();
                }
            }));
        }
        let expected: Vec<(bool, usize)> = (0..OBJECTS).map(|i| (false, i)).collect();
        assert_eq!(seen_rx.recv_timeout(PATIENCE).unwrap(), expected, "destructor registered first: {on_exit_first}");
        // The values the destructor made are dropped by the thread's end or
        // with their objects; either way, none survives the objects.
        let locals = Arc::into_inner(locals).expect("the destructor has dropped its Arc");
        drop(locals);
        assert_eq!(alive.load(Ordering::SeqCst), 0);
    }
}

/// `Default` starts every thread at `T::default()`, the main thread's value
/// staying its own.
#[test]
fn default_starts_from_t_default() {
    let local: ThreadLocal<RefCell<String>> = ThreadLocal::default();
    local.with(|mine| mine.borrow_mut().push_str("main"));
    let local = Arc::new(local);
    let from_thread = {
        let local = Arc::clone(&local);
        thread::spawn(move || (local.try_with(|_| ()).is_none(), local.with(|mine| mine.borrow().clone())))
    };
    assert_eq!(join(from_thread), (true, String::new()));
    assert_eq!(local.with(|mine| mine.borrow().clone()), "main");
}
