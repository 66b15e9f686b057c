//! Many threads hammering each primitive, with exact counts at the end:
//! nothing lost, nothing doubled. Every thread is joined through a deadline,
//! so a lost wake-up fails the test instead of hanging CI.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use concur::sync::{acquire_all, Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore};

const THREADS: usize = 8;
mod common;

use common::{run_all, STRESS_LIMIT as LIMIT};

/// The lost-update pattern: a separate load and store.
fn bump(counter: &AtomicUsize) {
    let seen = counter.load(Ordering::Relaxed);
    counter.store(seen + 1, Ordering::Relaxed);
}

#[test]
fn lock_counts_exactly() {
    let lock = Arc::new(Lock::new());
    let total = Arc::new(AtomicUsize::new(0));
    let (l, t) = (lock.clone(), total.clone());
    run_all(THREADS, move |_| {
        for _ in 0..20_000 {
            let _held = l.guard();
            bump(&t);
        }
    });
    assert_eq!(total.load(Ordering::Relaxed), THREADS * 20_000);
    assert!(!lock.is_locked());
}

#[test]
fn lock_timeouts_under_contention_keep_the_count() {
    let lock = Arc::new(Lock::new());
    let total = Arc::new(AtomicUsize::new(0));
    let taken = Arc::new(AtomicUsize::new(0));
    let (l, t, k) = (lock.clone(), total.clone(), taken.clone());
    run_all(THREADS, move |_| {
        for i in 0..5_000 {
            let got = if i % 2 == 0 { l.acquire_timeout(Duration::from_micros(50)) } else { l.try_acquire() };
            if got {
                bump(&t);
                k.fetch_add(1, Ordering::Relaxed);
                l.release().unwrap();
            }
        }
    });
    assert_eq!(total.load(Ordering::Relaxed), taken.load(Ordering::Relaxed));
    assert!(!lock.is_locked());
}

#[test]
fn locks_handed_between_threads() {
    // A Lock has no owner: one thread takes it and the other releases it. Two
    // locked Locks become a ping-pong: each thread waits on its own lock and
    // opens the other's, so the turns alternate exactly.
    const TURNS: usize = 5_000;
    let ping = Arc::new(Lock::new());
    let pong = Arc::new(Lock::new());
    ping.acquire();
    pong.acquire();
    let log = Arc::new(parking_lot::Mutex::new(Vec::with_capacity(2 * TURNS)));
    let (pi, po, lg) = (ping.clone(), pong.clone(), log.clone());
    ping.release().unwrap(); // the first turn is ping's
    run_all(2, move |side| {
        let (mine, theirs) = if side == 0 { (&pi, &po) } else { (&po, &pi) };
        for _ in 0..TURNS {
            assert!(mine.acquire_timeout(LIMIT));
            lg.lock().push(side);
            theirs.release().unwrap();
        }
    });
    let log = log.lock();
    assert_eq!(log.len(), 2 * TURNS);
    assert!(log.iter().enumerate().all(|(i, &side)| side == i % 2), "turns alternate");
    assert!(!ping.is_locked() && pong.is_locked());
}

#[test]
fn rlock_nested_counts_exactly() {
    let lock = Arc::new(RLock::new());
    let total = Arc::new(AtomicUsize::new(0));
    let (l, t) = (lock.clone(), total.clone());
    run_all(THREADS, move |_| {
        for _ in 0..10_000 {
            let _a = l.guard();
            let _b = l.guard();
            l.acquire();
            bump(&t);
            l.release().unwrap();
        }
    });
    assert_eq!(total.load(Ordering::Relaxed), THREADS * 10_000);
    assert!(!lock.is_locked());
}

#[test]
fn condition_bounded_buffer_delivers_every_item_once() {
    const ITEMS: usize = 20_000;
    const CAPACITY: usize = 16;
    let cond = Arc::new(Condition::with_lock(Lock::new()));
    let buffer = Arc::new(parking_lot::Mutex::new(Vec::<usize>::new()));
    // `claimed` hands out item numbers; `pushed` counts items in the buffer's
    // history, and only it may tell consumers that the work is over.
    let claimed = Arc::new(AtomicUsize::new(0));
    let pushed = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(parking_lot::Mutex::new(vec![0u8; ITEMS]));
    let (c, b, s) = (cond.clone(), buffer.clone(), seen.clone());
    // Half the threads produce, half consume.
    run_all(THREADS, move |i| {
        if i % 2 == 0 {
            loop {
                let item = claimed.fetch_add(1, Ordering::Relaxed);
                if item >= ITEMS {
                    break;
                }
                let _held = c.guard();
                c.wait_for(|| b.lock().len() < CAPACITY).unwrap();
                b.lock().push(item);
                pushed.fetch_add(1, Ordering::Relaxed);
                c.notify_all().unwrap();
            }
        } else {
            loop {
                let _held = c.guard();
                let all_pushed = || pushed.load(Ordering::Relaxed) == ITEMS;
                // Bounded: a consumer re-checks at least every 50 ms, so the
                // last ones notice the end even without a notification.
                let ready = c.wait_for_timeout(|| !b.lock().is_empty() || all_pushed(), Duration::from_millis(50));
                if !ready.unwrap() {
                    continue;
                }
                let Some(item) = b.lock().pop() else {
                    if all_pushed() {
                        break;
                    }
                    continue;
                };
                c.notify_all().unwrap();
                drop(_held);
                s.lock()[item] += 1;
            }
        }
    });
    assert!(seen.lock().iter().all(|&n| n == 1), "every item delivered exactly once");
}

#[test]
fn semaphore_never_lets_too_many_in() {
    const SLOTS: usize = 3;
    let sem = Arc::new(BoundedSemaphore::new(SLOTS));
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let entries = Arc::new(AtomicUsize::new(0));
    let (s, n, m, e) = (sem.clone(), inside.clone(), most.clone(), entries.clone());
    run_all(THREADS * 2, move |_| {
        for _ in 0..2_000 {
            let _permit = s.guard();
            let now = n.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            e.fetch_add(1, Ordering::Relaxed);
            n.fetch_sub(1, Ordering::SeqCst);
        }
    });
    assert!(most.load(Ordering::SeqCst) <= SLOTS);
    assert_eq!(entries.load(Ordering::Relaxed), THREADS * 2 * 2_000);
    assert_eq!(sem.value(), SLOTS);
}

#[test]
fn semaphore_release_n_wakes_exactly_enough() {
    let sem = Arc::new(Semaphore::new(0));
    let through = Arc::new(AtomicUsize::new(0));
    let (s, t) = (sem.clone(), through.clone());
    let waiters = std::thread::spawn(move || {
        run_all(THREADS, move |_| {
            assert!(s.acquire_timeout(LIMIT));
            t.fetch_add(1, Ordering::SeqCst);
        })
    });
    for _ in 0..THREADS / 2 {
        sem.release_n(2);
    }
    waiters.join().unwrap();
    assert_eq!(through.load(Ordering::SeqCst), THREADS);
    assert_eq!(sem.value(), 0);
}

#[test]
fn event_rounds_release_every_waiter() {
    const ROUNDS: usize = 200;
    let go = Arc::new(Event::new());
    let arrived = Arc::new(Barrier::new(THREADS + 1).unwrap());
    let woken = Arc::new(AtomicUsize::new(0));
    let (g, a, w) = (go.clone(), arrived.clone(), woken.clone());
    let runners = std::thread::spawn(move || {
        run_all(THREADS, move |_| {
            for _ in 0..ROUNDS {
                a.wait_timeout(LIMIT).unwrap();
                assert!(g.wait_timeout(LIMIT));
                w.fetch_add(1, Ordering::Relaxed);
                a.wait_timeout(LIMIT).unwrap();
            }
        })
    });
    for _ in 0..ROUNDS {
        arrived.wait_timeout(LIMIT).unwrap();
        go.set();
        arrived.wait_timeout(LIMIT).unwrap();
        go.clear();
    }
    runners.join().unwrap();
    assert_eq!(woken.load(Ordering::Relaxed), THREADS * ROUNDS);
}

#[test]
fn barrier_rounds_keep_everyone_in_step() {
    const ROUNDS: usize = 500;
    let round = Arc::new(AtomicUsize::new(0));
    let r = round.clone();
    let barrier = Arc::new(Barrier::new(THREADS).unwrap().with_action(move || {
        r.fetch_add(1, Ordering::SeqCst);
    }));
    let leaders = Arc::new(AtomicUsize::new(0));
    let (b, rd, l) = (barrier.clone(), round.clone(), leaders.clone());
    run_all(THREADS, move |_| {
        for expected in 1..=ROUNDS {
            let index = b.wait_timeout(LIMIT).unwrap();
            // The action ran before anyone left, and the next round's action
            // cannot run before this thread arrives again: exactly this round.
            let now = rd.load(Ordering::SeqCst);
            assert_eq!(now, expected);
            if index == 0 {
                l.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    assert_eq!(round.load(Ordering::SeqCst), ROUNDS);
    assert_eq!(leaders.load(Ordering::Relaxed), ROUNDS);
}

#[test]
fn acquire_all_random_subsets_never_deadlock() {
    const LOCKS: usize = 5;
    let locks: Arc<Vec<Lock>> = Arc::new((0..LOCKS).map(|_| Lock::new()).collect());
    let counters: Arc<Vec<AtomicUsize>> = Arc::new((0..LOCKS).map(|_| AtomicUsize::new(0)).collect());
    let expected: Arc<Vec<AtomicUsize>> = Arc::new((0..LOCKS).map(|_| AtomicUsize::new(0)).collect());
    let (l, c, e) = (locks.clone(), counters.clone(), expected.clone());
    run_all(THREADS, move |t| {
        let mut seed = t as u64 * 7919 + 1;
        for _ in 0..3_000 {
            // xorshift: a different subset, listed in a different order, each time
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mask = (seed % ((1 << LOCKS) - 1)) as usize + 1;
            let mut chosen: Vec<usize> = (0..LOCKS).filter(|k| mask & (1 << k) != 0).collect();
            let turn = (seed >> 8) as usize % chosen.len();
            chosen.rotate_left(turn);
            let refs: Vec<&Lock> = chosen.iter().map(|&k| &l[k]).collect();
            let _all = acquire_all(&refs).unwrap();
            for &k in &chosen {
                bump(&c[k]);
                e[k].fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    for k in 0..LOCKS {
        assert_eq!(counters[k].load(Ordering::Relaxed), expected[k].load(Ordering::Relaxed));
    }
}
