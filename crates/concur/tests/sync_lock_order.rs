//! The lock-order graph and `acquire_all`.
//!
//! The graph is global to the process and tests run in parallel, so every test
//! uses locks with names of its own and looks only at violations naming them.
//! Graph tests return early in builds without the checker (release without the
//! `lock-order` feature); `acquire_all` is checked in every build.

use std::sync::{Arc, Once};
use std::time::Duration;

use concur::sync::{acquire_all, lock_order, Condition, Lock, LockOrderViolation, RLock};

/// Keeps the expected reports of this file off standard error.
fn quiet() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| lock_order::set_handler(|_| {}));
}

fn reported_for(lock: &str) -> Vec<LockOrderViolation> {
    let name = format!("{lock:?}");
    lock_order::violations().into_iter().filter(|v| v.acquiring().lock().ends_with(&name)).collect()
}

#[test]
fn the_checker_is_on_in_debug_builds() {
    assert_eq!(lock_order::is_enabled(), cfg!(debug_assertions) || cfg!(feature = "lock-order"));
}

#[test]
fn opposite_orders_on_one_thread_are_reported_with_both_sites() {
    if !lock_order::is_enabled() {
        return;
    }
    quiet();
    let a = Lock::new().with_name("two-a");
    let b = Lock::new().with_name("two-b");
    let (a_first, b_second);
    {
        let _a = a.guard();
        a_first = line!() - 1;
        let _b = b.guard();
        b_second = line!() - 1;
    }
    assert!(reported_for("two-b").is_empty(), "a → b alone is no violation");
    let (b_first, a_second);
    {
        let _b = b.guard();
        b_first = line!() - 1;
        let _a = a.guard();
        a_second = line!() - 1;
    }
    let found = reported_for("two-a");
    assert_eq!(found.len(), 1, "{found:#?}");
    let v = &found[0];
    assert_eq!(v.acquiring().lock(), "Lock \"two-a\"");
    assert_eq!(v.acquiring().location().line(), a_second);
    assert_eq!(v.held().lock(), "Lock \"two-b\"");
    assert_eq!(v.held().location().line(), b_first);
    assert_eq!(v.earlier().len(), 1);
    let earlier = &v.earlier()[0];
    assert_eq!(earlier.held().lock(), "Lock \"two-a\"");
    assert_eq!(earlier.held().location().line(), a_first);
    assert_eq!(earlier.acquired().lock(), "Lock \"two-b\"");
    assert_eq!(earlier.acquired().location().line(), b_second);
    assert!(earlier.held().location().file().ends_with("sync_lock_order.rs"));
    let text = v.to_string();
    assert!(text.starts_with("lock order violation: Lock \"two-a\" is being acquired at"), "{text}");
    assert!(text.contains("can deadlock"), "{text}");
}

#[test]
fn a_cycle_is_reported_once() {
    if !lock_order::is_enabled() {
        return;
    }
    quiet();
    let a = Lock::new().with_name("once-a");
    let b = Lock::new().with_name("once-b");
    for _ in 0..3 {
        let _a = a.guard();
        let _b = b.guard();
    }
    for _ in 0..3 {
        let _b = b.guard();
        let _a = a.guard();
    }
    assert_eq!(reported_for("once-a").len(), 1);
    assert_eq!(reported_for("once-b").len(), 0);
}

#[test]
fn a_three_lock_cycle_shows_the_whole_path() {
    if !lock_order::is_enabled() {
        return;
    }
    quiet();
    let a = Lock::new().with_name("tri-a");
    let b = Lock::new().with_name("tri-b");
    let c = Lock::new().with_name("tri-c");
    {
        let _a = a.guard();
        let _b = b.guard();
    }
    {
        let _b = b.guard();
        let _c = c.guard();
    }
    assert!(reported_for("tri-c").is_empty());
    {
        let _c = c.guard();
        let _a = a.guard(); // c → a closes a → b → c → a
    }
    let found = reported_for("tri-a");
    assert_eq!(found.len(), 1);
    let path: Vec<(&str, &str)> = found[0].earlier().iter().map(|e| (e.held().lock(), e.acquired().lock())).collect();
    assert_eq!(path, [("Lock \"tri-a\"", "Lock \"tri-b\""), ("Lock \"tri-b\"", "Lock \"tri-c\"")]);
}

#[test]
fn two_threads_with_opposite_orders_are_reported_before_any_deadlock() {
    if !lock_order::is_enabled() {
        return;
    }
    quiet();
    let x = Arc::new(Lock::new().with_name("threads-x"));
    let y = Arc::new(Lock::new().with_name("threads-y"));
    // One after the other, so the program cannot hang; the order alone is
    // enough for the report.
    {
        let (x, y) = (x.clone(), y.clone());
        std::thread::spawn(move || {
            let _x = x.guard();
            let _y = y.guard();
        })
        .join()
        .unwrap();
    }
    {
        let (x, y) = (x.clone(), y.clone());
        std::thread::spawn(move || {
            let _y = y.guard();
            let _x = x.guard();
        })
        .join()
        .unwrap();
    }
    assert_eq!(reported_for("threads-x").len(), 1);
}

#[test]
fn the_same_order_everywhere_is_never_reported() {
    if !lock_order::is_enabled() {
        return;
    }
    quiet();
    let a = Arc::new(Lock::new().with_name("same-a"));
    let b = Arc::new(Lock::new().with_name("same-b"));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (a, b) = (a.clone(), b.clone());
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let _a = a.guard();
                    let _b = b.guard();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(reported_for("same-a").is_empty());
    assert!(reported_for("same-b").is_empty());
}

#[test]
fn try_acquire_cannot_deadlock_and_is_not_checked() {
    if !lock_order::is_enabled() {
        return;
    }
    quiet();
    let a = Lock::new().with_name("try-a");
    let b = Lock::new().with_name("try-b");
    {
        let _a = a.guard();
        let _b = b.guard();
    }
    let _b = b.guard();
    assert!(a.try_acquire());
    a.release().unwrap();
    assert!(reported_for("try-a").is_empty());
}

#[test]
fn a_lock_released_by_another_thread_is_no_longer_held() {
    if !lock_order::is_enabled() {
        return;
    }
    quiet();
    let a = Arc::new(Lock::new().with_name("handoff-a"));
    let b = Lock::new().with_name("handoff-b");
    a.acquire();
    {
        let a = a.clone();
        std::thread::spawn(move || a.release().unwrap()).join().unwrap();
    }
    // `a` is free now: taking `b` records nothing about `a`.
    drop(b.guard());
    {
        let _b = b.guard();
        let _a = a.guard();
    }
    assert!(reported_for("handoff-a").is_empty());
    assert!(reported_for("handoff-b").is_empty());
}

#[test]
fn rlock_takes_part_and_reentry_is_no_edge() {
    if !lock_order::is_enabled() {
        return;
    }
    quiet();
    let r = RLock::new().with_name("re-r");
    let l = Lock::new().with_name("re-l");
    {
        let _r = r.guard();
        let _again = r.guard();
        let _l = l.guard();
    }
    assert!(reported_for("re-r").is_empty());
    {
        let _l = l.guard();
        let _r = r.guard();
    }
    let found = reported_for("re-r");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].acquiring().lock(), "RLock \"re-r\"");
}

#[test]
fn condition_wait_does_not_invent_an_order() {
    if !lock_order::is_enabled() {
        return;
    }
    quiet();
    let outer = Lock::new().with_name("cond-outer");
    let cond = Condition::with_lock(Lock::new().with_name("cond-inner"));
    let _outer = outer.guard();
    let _inner = cond.guard();
    assert_eq!(cond.wait_timeout(Duration::from_millis(1)), Ok(false));
    assert!(reported_for("cond-inner").is_empty());
    assert!(reported_for("cond-outer").is_empty());
}

#[test]
fn a_handler_sees_each_report() {
    if !lock_order::is_enabled() {
        return;
    }
    // Installing a handler affects the whole process; this one only counts
    // the reports about its own locks, and stays quiet. `quiet` first, so its
    // one-time install cannot replace this handler later.
    quiet();
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    {
        let seen = seen.clone();
        lock_order::set_handler(move |v| {
            if v.acquiring().lock().contains("handler-") {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
    }
    let a = Lock::new().with_name("handler-a");
    let b = Lock::new().with_name("handler-b");
    {
        let _a = a.guard();
        let _b = b.guard();
    }
    {
        let _b = b.guard();
        let _a = a.guard();
    }
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
}

// The reference's deadlock: thread 1 takes x then y, thread 2 takes y then x,
// each through nested calls of the `acquire(*locks)` recipe. With the recipe
// the out-of-order request is refused at once.
#[test]
fn acquire_all_refuses_nested_requests_out_of_order() {
    let x = Lock::new().with_name("nested-x");
    let y = Lock::new().with_name("nested-y");
    let (low, high) = if x.order() < y.order() { (&x, &y) } else { (&y, &x) };

    {
        let _low = acquire_all(&[low]).unwrap();
        let _high = acquire_all(&[high]).unwrap(); // ascending: fine
    }
    let _high = acquire_all(&[high]).unwrap();
    let asked_at = line!() + 1;
    let err = acquire_all(&[low]).unwrap_err();
    assert_eq!(err.acquiring().lock(), format!("Lock {:?}", low.name().unwrap()));
    assert_eq!(err.acquiring().location().line(), asked_at);
    assert_eq!(err.held().lock(), format!("Lock {:?}", high.name().unwrap()));
    assert!(err.earlier().is_empty());
    assert!(err.to_string().contains("acquire_all takes locks in ascending order"), "{err}");
    assert!(!low.is_locked(), "a refused request takes nothing");
}

#[test]
fn acquire_all_sorts_whatever_the_caller_lists() {
    let locks: Vec<Arc<Lock>> = (0..4).map(|_| Arc::new(Lock::new())).collect();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let locks = locks.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    // Each thread lists the locks in a different rotation.
                    let order: Vec<&Lock> = (0..4).map(|k| &*locks[(k + t + i) % 4]).collect();
                    let guard = acquire_all(&order).unwrap();
                    assert_eq!(guard.len(), 4);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(locks.iter().all(|l| !l.is_locked()));
}

#[test]
fn acquire_all_releases_in_any_drop_order() {
    let a = Lock::new();
    let b = Lock::new();
    let first = acquire_all(&[&a]).unwrap();
    let second = acquire_all(&[&b]).unwrap();
    drop(first);
    assert!(!a.is_locked() && b.is_locked());
    // `a` is free again, but `b`, later in the order, is still held.
    assert!(acquire_all(&[&a]).is_err());
    drop(second);
    drop(acquire_all(&[&a, &b]).unwrap());
}
