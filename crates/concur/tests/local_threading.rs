//! `concur::local::ThreadLocal` against the cases of CPython's
//! `Lib/test/test_threading_local.py`, each named after the case it mirrors,
//! plus the places where the `thread_local` crate's rules differ from
//! Python's. Every wait is bounded.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

use concur::local::ThreadLocal;
use concur::thread;
use static_assertions::assert_impl_all;

const PATIENCE: Duration = Duration::from_secs(30);

// One object shared by every thread, whatever the value inside.
assert_impl_all!(ThreadLocal<Cell<u32>>: Send, Sync, std::fmt::Debug);
assert_impl_all!(ThreadLocal<RefCell<Option<String>>>: Send, Sync);
assert_impl_all!(concur::local::IntoIter<Cell<u32>>: Send);

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

    // The first thread is alive, so the second cannot be handed its value.
    let second = {
        let obj = Arc::clone(&obj);
        thread::spawn(move || (obj.try_get().is_none(), obj.get().borrow().is_empty()))
    };
    assert_eq!(second.join().unwrap(), (true, true));

    exit_tx.send(()).unwrap();
    assert_eq!(first.join().unwrap(), [("x", "foo")]);
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
        assert_eq!(handle.join().unwrap(), Some(i));
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
    assert_eq!(seen.join().unwrap(), "hihihi");
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
/// `ThreadLocal` is dropped, and is dropped exactly once then.
#[test]
fn test_local_refs() {
    for n in [20, 50, 100] {
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
            thread::spawn(move || {
                local.get();
            })
            .join()
            .unwrap();
        }
        let made = made.load(Ordering::SeqCst);
        assert!((1..=n).contains(&made), "made {made} values for {n} threads");
        assert_eq!(alive.load(Ordering::SeqCst), made, "values outlive their threads");
        drop(local);
        assert_eq!(alive.load(Ordering::SeqCst), 0, "and all go with the owner");
    }
}

/// The documented difference: a thread that starts after another exited
/// may be handed the exited thread's value; threads alive at the same time
/// never share one. Two rounds: 16 threads make values and exit, then 64
/// threads, all alive at once, each check that no other live thread holds
/// the value they got.
#[test]
fn live_threads_never_share_a_value() {
    let local = Arc::new(ThreadLocal::new(|| Cell::new(0_u64)));
    for _ in 0..16 {
        let local = Arc::clone(&local);
        thread::spawn(move || local.get().set(u64::MAX)).join().unwrap();
    }

    const THREADS: usize = 64;
    let all_claimed = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (local, all_claimed) = (Arc::clone(&local), Arc::clone(&all_claimed));
            thread::spawn(move || {
                let me = thread::current().ident();
                // Possibly a value left by the first round: claim it.
                local.get().set(me);
                all_claimed.wait();
                // Had another live thread the same value, it would have
                // claimed it too and one of the two would see a stranger.
                local.get().get() == me
            })
        })
        .collect();
    for handle in handles {
        assert!(handle.join_timeout(PATIENCE).unwrap());
        assert!(handle.join().unwrap());
    }
}

/// The initialiser runs once per thread, however many `get` calls follow;
/// 64 threads alive at once each see exactly their own count.
#[test]
fn init_runs_once_per_thread() {
    const THREADS: usize = 64;
    let inits = Arc::new(AtomicUsize::new(0));
    let local = {
        let inits = Arc::clone(&inits);
        Arc::new(ThreadLocal::new(move || {
            inits.fetch_add(1, Ordering::SeqCst);
            Cell::new(0_usize)
        }))
    };
    let all_counted = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
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
        assert_eq!(handle.join().unwrap(), i + 1);
    }
    assert_eq!(inits.load(Ordering::SeqCst), THREADS);

    let mut local = Arc::into_inner(local).unwrap();
    assert_eq!(local.iter_mut().map(|c| c.get()).sum::<usize>(), THREADS * (THREADS + 1) / 2);
    assert_eq!((&mut local).into_iter().count(), THREADS);
    assert_eq!(local.into_iter().count(), THREADS);
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
    drop(done_tx);
    for worker in workers {
        worker.join().unwrap();
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
}

/// An initialiser that reads the same `ThreadLocal` keeps the inner value
/// and drops the outer one, without leaking either.
#[test]
fn reentrant_init_keeps_the_inner_value() {
    let alive = Arc::new(AtomicUsize::new(0));
    let depth = Arc::new(AtomicUsize::new(0));
    let local: Arc<ThreadLocal<(usize, Tracked)>> =
        Arc::new_cyclic(|weak: &std::sync::Weak<ThreadLocal<(usize, Tracked)>>| {
            let (weak, alive, depth) = (weak.clone(), Arc::clone(&alive), Arc::clone(&depth));
            ThreadLocal::new(move || {
                let level = depth.fetch_add(1, Ordering::SeqCst);
                if level == 0 {
                    let me = weak.upgrade().unwrap();
                    assert_eq!(me.get().0, 1);
                }
                (level, Tracked::new(&alive))
            })
        });
    assert_eq!(local.get().0, 1, "the inner call's value is kept");
    assert_eq!(alive.load(Ordering::SeqCst), 1, "the outer value was dropped");
    drop(local);
    assert_eq!(alive.load(Ordering::SeqCst), 0);
}

/// `Default` starts every thread at `T::default()`.
#[test]
fn default_starts_from_t_default() {
    let local: ThreadLocal<RefCell<String>> = ThreadLocal::default();
    local.get().borrow_mut().push_str("main");
    let local = Arc::new(local);
    let from_thread = {
        let local = Arc::clone(&local);
        thread::spawn(move || local.try_get().map(|s| s.borrow().clone()))
    };
    // Either nothing yet, or a value from an exited thread; never "main".
    assert_ne!(from_thread.join().unwrap().as_deref(), Some("main"));
}
