//! `concur::local::ThreadLocal` against the cases of CPython's
//! `Lib/test/test_threading_local.py`, each named after the case it mirrors,
//! plus Python's promise that every thread starts with a fresh value (which
//! the `thread_local` crate, keyed by recycled thread numbers, broke), exact
//! counts under many threads, and the corners of the implementation: the
//! per-thread cache shared by objects, a re-entrant or panicking `init`,
//! `get` from a thread-local destructor. Every wait is bounded.
//!
//! Runs under miri too, with fewer threads:
//! `cargo +nightly miri test -p concur --test local_threading`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Weak};
use std::time::Duration;

use concur::local::ThreadLocal;
use concur::thread::{self, JoinHandle};
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
assert_impl_all!(concur::local::IterMut<'static, Cell<u32>>: Send);
assert_impl_all!(concur::local::Iter<'static, u32>: Send, Sync);
// A value that must stay on its thread cannot go into one.
assert_not_impl_any!(concur::local::IterMut<'static, Cell<u32>>: Sync);
assert_not_impl_any!(concur::local::IntoIter<Cell<u32>>: Sync);

/// Joins `handle`, failing the test if the thread has not finished within
/// `PATIENCE` or panicked.
fn join<T>(handle: JoinHandle<T>) -> T {
    assert!(handle.join_timeout(PATIENCE).unwrap(), "a thread did not finish in time");
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
            obj.get().borrow_mut().push(("x", "foo"));
            obj.get().borrow_mut().push(("y", "bar"));
            obj.get().borrow_mut().retain(|(key, _)| *key != "y");
            stored_tx.send(()).unwrap();
            let _ = exit_rx.recv_timeout(PATIENCE);
            obj.get().borrow().clone()
        })
    };
    stored_rx.recv_timeout(PATIENCE).unwrap();

    let second = {
        let obj = Arc::clone(&obj);
        thread::spawn(move || (obj.try_get().is_none(), obj.get().borrow().is_empty()))
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
                local.get().set(Some(i));
                all_set.wait();
                local.get().get()
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
    assert_eq!(local.get(), "hihihi");
    let local = Arc::new(local);
    let seen = {
        let local = Arc::clone(&local);
        thread::spawn(move || local.get().clone())
    };
    assert_eq!(join(seen), "hihihi");
}

/// CPython `test_dict_attribute`: a thread sees what it stored, and before
/// it stores anything there is nothing to see.
#[test]
fn test_dict_attribute() {
    let obj = ThreadLocal::new(|| Cell::new(0));
    assert!(obj.try_get().is_none());
    obj.get().set(5);
    assert_eq!(obj.try_get().map(Cell::get), Some(5));
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

/// CPython `test_local_refs`, where the rule differs: Python frees a
/// thread's value when the thread ends; here every value lives until the
/// `ThreadLocal` is dropped, and is dropped exactly once then. Every thread,
/// though each starts after the last has ended, makes a value of its own.
#[test]
fn test_local_refs() {
    let rounds: &[usize] = if cfg!(miri) { &[5] } else { &[20, 50, 100] };
    for &n in rounds {
        let alive = Arc::new(AtomicUsize::new(0));
        let made = Arc::new(AtomicUsize::new(0));
        let local = {
            let (alive, made) = (Arc::clone(&alive), Arc::clone(&made));
            Arc::new(ThreadLocal::new(move || {
                made.fetch_add(1, Ordering::SeqCst);
                Tracked::new(&alive)
            }))
        };
        for _ in 0..n {
            let local = Arc::clone(&local);
            join(thread::spawn(move || {
                local.get();
            }));
        }
        assert_eq!(made.load(Ordering::SeqCst), n, "one value per thread");
        assert_eq!(alive.load(Ordering::SeqCst), n, "values outlive their threads");
        drop(local);
        assert_eq!(alive.load(Ordering::SeqCst), 0, "and all go with the owner");
    }
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
            let before = (local.try_get().is_none(), local.get().borrow().clone());
            *local.get().borrow_mut() = format!("left by {name}");
            before
        });
        join(handle.unwrap())
    };
    assert_eq!(run("t1"), (true, "fresh".to_owned()));
    assert_eq!(inits.load(Ordering::SeqCst), 1);
    assert_eq!(run("t2"), (true, "fresh".to_owned()), "t2 was handed t1's value");
    assert_eq!(inits.load(Ordering::SeqCst), 2, "init did not run for t2");

    let mut local = Arc::into_inner(local).unwrap();
    let mut left: Vec<String> = local.iter_mut().map(|value| value.borrow().clone()).collect();
    left.sort();
    assert_eq!(left, ["left by t1", "left by t2"]);
}

/// Many short-lived threads, each started after the previous one exited:
/// every one runs `init` and sees a fresh value, and afterwards the owner
/// finds each thread's own value, none lost and none shared.
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
    let mut idents = BTreeSet::new();
    for started in 1..=MANY {
        let local = Arc::clone(&local);
        let handle = thread::spawn(move || {
            let had_one = local.try_get().is_some();
            let first_seen = local.get().get();
            local.get().set(thread::current().ident());
            (had_one, first_seen)
        });
        idents.insert(handle.ident());
        assert_eq!(join(handle), (false, 0), "thread {started} was handed an old value");
        assert_eq!(inits.load(Ordering::SeqCst), started);
    }
    assert!(local.try_get().is_none(), "the main thread made no value");

    let mut local = Arc::into_inner(local).unwrap();
    assert_eq!(local.iter_mut().len(), MANY);
    let left: BTreeSet<u64> = local.iter_mut().map(|value| value.get()).collect();
    assert_eq!(left, idents, "each thread's value is there, holding its own ident");
}

/// The initialiser runs once per thread, however many `get` calls follow;
/// many threads alive at once each see exactly their own count.
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
    let all_counted = Arc::new(Barrier::new(MANY));
    let handles: Vec<_> = (0..MANY)
        .map(|i| {
            let (local, all_counted) = (Arc::clone(&local), Arc::clone(&all_counted));
            thread::spawn(move || {
                for _ in 0..=i {
                    let mine = local.get();
                    mine.set(mine.get() + 1);
                }
                all_counted.wait();
                local.get().get()
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(join(handle), i + 1);
    }
    assert_eq!(inits.load(Ordering::SeqCst), MANY);

    let mut local = Arc::into_inner(local).unwrap();
    assert_eq!(local.iter_mut().map(|c| c.get()).sum::<usize>(), MANY * (MANY + 1) / 2);
    assert_eq!((&mut local).into_iter().count(), MANY);
    assert_eq!(local.into_iter().count(), MANY);
}

/// Many threads at once, each going round many objects in its own order,
/// making values while the others make theirs and then finding them in its
/// cache: every count comes out exact.
#[test]
fn many_threads_many_objects_exact_counts() {
    let rounds: usize = if cfg!(miri) { 10 } else { 2_000 };
    let inits = Arc::new(AtomicUsize::new(0));
    let locals: Arc<Vec<ThreadLocal<Cell<usize>>>> = Arc::new(
        (0..OBJECTS)
            .map(|_| {
                let inits = Arc::clone(&inits);
                ThreadLocal::new(move || {
                    inits.fetch_add(1, Ordering::SeqCst);
                    Cell::new(0)
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
                    let mine = local.get();
                    mine.set(mine.get() + 1);
                }
                locals.iter().map(|local| local.try_get().map_or(0, Cell::get)).sum::<usize>()
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(join(handle), rounds, "a thread saw increments that were not its own");
    }
    let mut locals = Arc::into_inner(locals).unwrap();
    let made = locals.iter_mut().map(|local| local.iter_mut().len()).sum::<usize>();
    assert_eq!(made, inits.load(Ordering::SeqCst), "every value made is kept, once");
    let total: usize = locals.iter_mut().flat_map(|local| local.iter_mut().map(|c| c.get())).sum();
    assert_eq!(total, MANY * rounds);
}

/// Objects share each thread's cache: however many there are, and however
/// often objects are dropped and new ones take over their cache entries
/// (perhaps at the same address), each `get` returns this thread's value in
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
            assert_eq!(local.get().get(), usize::MAX, "a new object had a value in generation {generation}");
            local.get().set(generation * 100 + i);
        }
        for step in 0..3 * OBJECTS {
            let i = step * 7 % OBJECTS;
            assert_eq!(locals[i].get().get(), generation * 100 + i);
            assert_eq!(locals[i].try_get().map(Cell::get), Some(generation * 100 + i));
        }
        // Half the objects go before the next generation starts, in a
        // scattered order.
        for i in (0..OBJECTS / 2).rev() {
            locals.swap_remove(i * 2 % locals.len());
        }
    }
}

/// `iter` from one thread while the others hold their values: every value
/// is visited once.
#[test]
fn iter_visits_every_threads_value() {
    let local = Arc::new(ThreadLocal::new(|| AtomicUsize::new(0)));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let done_rx = Arc::new(parking_lot::Mutex::new(done_rx));
    let ready = Arc::new(Barrier::new(9));
    let workers: Vec<_> = (1..=8)
        .map(|n| {
            let (local, ready, done_rx) = (Arc::clone(&local), Arc::clone(&ready), Arc::clone(&done_rx));
            thread::spawn(move || {
                local.get().store(n, Ordering::SeqCst);
                ready.wait();
                let _ = done_rx.lock().recv_timeout(PATIENCE);
            })
        })
        .collect();
    ready.wait();
    let mut seen: Vec<usize> = local.iter().map(|v| v.load(Ordering::SeqCst)).collect();
    seen.sort_unstable();
    assert_eq!(seen, (1..=8).collect::<Vec<_>>());
    assert_eq!((&*local).into_iter().count(), 8);
    assert_eq!(format!("{:?}", local.iter()), "Iter { remaining: 8 }");

    // The iterator holds no lock: the loop may make the caller's own value.
    let mut visited = 0;
    for _ in local.iter() {
        local.get();
        visited += 1;
    }
    assert_eq!((visited, local.iter().len()), (8, 9));

    drop(done_tx);
    for worker in workers {
        join(worker);
    }
}

/// A panic in the initialiser leaves the thread without a value; the next
/// `get` tries again.
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
    assert!(panic::catch_unwind(AssertUnwindSafe(|| *local.get())).is_err());
    assert!(local.try_get().is_none());
    assert_eq!(*local.get(), "made");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    let mut local = local;
    assert_eq!(local.iter_mut().len(), 1, "the failed attempt left nothing behind");
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
            assert_eq!(owner.get().level, 1);
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
                // The inner value, still borrowed when the outer call finishes.
                let inner = me.get();
                assert_eq!(inner.level, 1);
            }
            Level { level, _tracked: Tracked::new(&alive), owner: weak.clone() }
        })
    });
    assert_eq!(local.get().level, 1, "the inner call's value is kept");
    assert_eq!(alive.load(Ordering::SeqCst), 1, "the outer value was dropped");
    assert_eq!(depth.load(Ordering::SeqCst), 2);
    drop(local);
    assert_eq!(alive.load(Ordering::SeqCst), 0);
}

/// `get` works from the destructor of a thread's other thread-locals, as
/// the thread exits, and still makes values of its own, for objects in the
/// fixed and the growable part of the cache. Twice: with the destructor
/// registered after the cache's own (it runs first, the cache still there),
/// and before it (it runs after the growable part is gone, so `get` finds
/// values in the map).
#[test]
fn get_from_a_thread_local_destructor() {
    type Locals = Arc<Vec<ThreadLocal<Cell<usize>>>>;
    struct OnExit(Locals, mpsc::Sender<Vec<(bool, usize)>>);
    impl Drop for OnExit {
        fn drop(&mut self) {
            let seen = self.0.iter().map(|local| (local.try_get().is_some(), local.get().get())).collect();
            let _ = self.1.send(seen);
        }
    }
    std::thread_local! {
        static ON_EXIT: RefCell<Option<OnExit>> = const { RefCell::new(None) };
    }

    for on_exit_first in [false, true] {
        let locals: Locals = Arc::new((0..OBJECTS).map(|i| ThreadLocal::new(move || Cell::new(i))).collect());
        let (seen_tx, seen_rx) = mpsc::channel();
        {
            let locals = Arc::clone(&locals);
            join(thread::spawn(move || {
                let arm =
                    || ON_EXIT.with(|slot| *slot.borrow_mut() = Some(OnExit(Arc::clone(&locals), seen_tx.clone())));
                if on_exit_first {
                    arm();
                }
                // Some values made while the thread runs, the rest on exit.
                for local in locals.iter().step_by(2) {
                    local.get().set(local.get().get() + 1000);
                }
                if !on_exit_first {
                    arm();
                }
            }));
        }
        let expected: Vec<(bool, usize)> =
            (0..OBJECTS).map(|i| if i % 2 == 0 { (true, i + 1000) } else { (false, i) }).collect();
        assert_eq!(seen_rx.recv_timeout(PATIENCE).unwrap(), expected, "destructor registered first: {on_exit_first}");
        // The exiting thread's values are the owner's now.
        let mut locals = Arc::into_inner(locals).expect("the destructor has dropped its Arc");
        let left: Vec<usize> = locals.iter_mut().flat_map(|local| local.iter_mut().map(|value| value.get())).collect();
        assert_eq!(left, expected.iter().map(|&(_, value)| value).collect::<Vec<_>>());
    }
}

/// `Default` starts every thread at `T::default()`, the main thread's value
/// staying its own.
#[test]
fn default_starts_from_t_default() {
    let local: ThreadLocal<RefCell<String>> = ThreadLocal::default();
    local.get().borrow_mut().push_str("main");
    let local = Arc::new(local);
    let from_thread = {
        let local = Arc::clone(&local);
        thread::spawn(move || (local.try_get().is_none(), local.get().borrow().clone()))
    };
    assert_eq!(join(from_thread), (true, String::new()));
    assert_eq!(*local.get().borrow(), "main");
}
