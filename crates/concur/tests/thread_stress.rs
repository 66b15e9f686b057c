//! Many threads at once: exact counts, distinct identities, a clean registry
//! afterwards. Every wait is bounded by a timeout.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use concur::thread::{self, Builder, JoinStatus};

const PATIENCE: Duration = Duration::from_secs(60);

/// 64 short-lived threads, all alive at the same moment, each adding to a
/// shared counter: nothing lost, nothing counted twice, every ident and
/// default name distinct, none left in `enumerate()` after the joins.
#[test]
fn sixty_four_threads_exact_counts() {
    const THREADS: usize = 64;
    const ROUNDS: usize = 1_000;
    let counter = Arc::new(AtomicUsize::new(0));
    let all_started = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let counter = Arc::clone(&counter);
            let all_started = Arc::clone(&all_started);
            thread::spawn(move || {
                all_started.wait();
                for _ in 0..ROUNDS {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                thread::current().ident()
            })
        })
        .collect();

    let names: HashSet<String> = handles.iter().map(|h| h.name().to_owned()).collect();
    assert_eq!(names.len(), THREADS);
    let threads: Vec<_> = handles.iter().map(|h| h.thread().clone()).collect();

    for handle in &handles {
        assert_eq!(handle.join_timeout(PATIENCE).unwrap(), JoinStatus::Finished, "{} did not finish", handle.name());
    }
    let mut idents = HashSet::new();
    for handle in handles {
        let expected = handle.ident();
        assert_eq!(handle.join().unwrap(), expected);
        assert!(idents.insert(expected), "ident {expected} given twice");
    }
    assert_eq!(counter.load(Ordering::Relaxed), THREADS * ROUNDS);

    let alive = thread::enumerate();
    for thread in threads {
        assert!(!thread.is_alive());
        assert!(!alive.contains(&thread));
    }
}

/// Threads spawning threads, four levels deep and two wide: 30 threads in
/// all, every one joined by its parent, every result counted once.
#[test]
fn nested_spawns_are_all_joined() {
    fn tree(depth: u32) -> usize {
        if depth == 0 {
            return 1;
        }
        let children: Vec<_> = (0..2).map(|_| thread::spawn(move || tree(depth - 1))).collect();
        1 + children.into_iter().map(|c| c.join().unwrap()).sum::<usize>()
    }
    let total = Builder::new().name("root").spawn(|| tree(4)).unwrap().join().unwrap();
    assert_eq!(total, 31);
}

/// Waiting from many threads at once: 16 watchers call `join_timeout` on
/// the same thread (through one shared handle) and all see it finish.
#[test]
fn many_watchers_see_one_thread_finish() {
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let target = Arc::new(thread::spawn(move || {
        let _ = go_rx.recv_timeout(PATIENCE);
    }));
    let watchers: Vec<_> = (0..16)
        .map(|_| {
            let target = Arc::clone(&target);
            thread::spawn(move || target.join_timeout(PATIENCE).unwrap())
        })
        .collect();
    go_tx.send(()).unwrap();
    for watcher in watchers {
        assert_eq!(watcher.join().unwrap(), JoinStatus::Finished);
    }
    Arc::try_unwrap(target).unwrap().join().unwrap();
}

/// Panics in many threads at once are each reported once, to their own
/// handle, and leave no entry behind.
#[test]
fn many_panicking_threads() {
    let handles: Vec<_> = (0..32)
        .map(|i| {
            thread::spawn(move || -> u32 {
                if i % 2 == 0 {
                    panic!("even {i}")
                } else {
                    i
                }
            })
        })
        .collect();
    let threads: Vec<_> = handles.iter().map(|h| h.thread().clone()).collect();
    let mut panics = 0;
    let mut sum = 0;
    for (i, handle) in handles.into_iter().enumerate() {
        match handle.join() {
            Ok(value) => sum += value,
            Err(thread::JoinError::Panicked(p)) => {
                assert_eq!(p.message(), format!("even {i}"));
                panics += 1;
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(panics, 16);
    assert_eq!(sum, (1..32).step_by(2).sum::<u32>());
    let alive = thread::enumerate();
    assert!(threads.iter().all(|t| !alive.contains(t)));
}
