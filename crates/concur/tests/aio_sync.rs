//! `aio::Lock`, `Event`, `Semaphore`, `BoundedSemaphore` and `Condition`,
//! following CPython's `Lib/test/test_asyncio/test_locks.py`: first-come
//! order, cancellation of a waiter (before and after it was woken), misuse
//! errors, and stress runs with exact counts.
//!
//! Every test runs under [`run`], which bounds it with a timeout, so a lost
//! wake-up fails the test instead of hanging it.

mod common;

use common::aio_harness::yield_now;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use concur::aio::{self, BoundedSemaphore, Cancelled, Condition, Error, Event, Lock, Semaphore, Task, TimeoutError};
use concur::sync::ReleaseError;

/// Long enough for a loaded 2-core machine; short enough that a hang fails.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs `body` as the main task of a new loop and fails the test if it has
/// not finished within [`LIMIT`].
fn run<F: Future>(body: F) -> F::Output {
    aio::run(aio::timeout(LIMIT, body))
        .expect("the event loop could not run")
        .expect("the test did not finish in time: a lost wake-up or a deadlock")
}

/// Turns of the loop until `done` holds. The loop runs a bounded batch of
/// tasks per turn, so a crowd of new tasks needs several turns to start.
async fn until(mut done: impl FnMut() -> bool) {
    while !done() {
        yield_now().await;
    }
}

fn is_cancelled<T>(outcome: &Result<T, Error>) -> bool {
    matches!(outcome, Err(Error::Cancelled(_)))
}

type Log = Rc<RefCell<Vec<u32>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

/// A task that takes `lock`, keeps it without a guard and logs `tag`.
fn lock_taker(lock: &Rc<Lock>, log: &Log, tag: u32) -> Task<Result<(), Cancelled>> {
    let (lock, log) = (lock.clone(), log.clone());
    aio::create_task(async move {
        lock.acquire().await?.forget();
        log.borrow_mut().push(tag);
        Ok(())
    })
}

/// A task that takes a permit of `sem`, keeps it and logs `tag`.
fn permit_taker(sem: &Rc<Semaphore>, log: &Log, tag: u32) -> Task<Result<(), Cancelled>> {
    let (sem, log) = (sem.clone(), log.clone());
    aio::create_task(async move {
        sem.acquire().await?.forget();
        log.borrow_mut().push(tag);
        Ok(())
    })
}

// ------------------------------------------------------------------ Lock ----

/// A lock the test holds without a guard, and `n` tasks queued for it,
/// tagged 2, 3, … in the order they wait.
async fn held_lock_with_waiters(result: &Log, n: u32) -> (Rc<Lock>, Vec<Task<Result<(), Cancelled>>>) {
    let lock = Rc::new(Lock::new());
    lock.acquire().await.unwrap().forget();
    let waiters = (2..2 + n).map(|tag| lock_taker(&lock, result, tag)).collect();
    yield_now().await;
    assert_eq!(lock.waiters(), n as usize);
    (lock, waiters)
}

/// CPython `LockTests.test_acquire`: waiters get the lock one release at a
/// time, in the order they asked, and a later arrival queues behind them.
#[test]
fn lock_waiters_get_it_in_first_come_order() {
    run(async {
        let lock = Rc::new(Lock::new());
        let result = log();
        lock.acquire().await.unwrap().forget();

        let t1 = lock_taker(&lock, &result, 1);
        let t2 = lock_taker(&lock, &result, 2);
        yield_now().await;
        assert!(result.borrow().is_empty());
        assert_eq!(lock.waiters(), 2);

        lock.release().unwrap();
        assert!(!lock.is_locked()); // as in Python, until the woken task runs
        assert_eq!(lock.waiters(), 2);
        yield_now().await;
        assert_eq!(*result.borrow(), [1]);
        yield_now().await;
        assert_eq!(*result.borrow(), [1]);

        let t3 = lock_taker(&lock, &result, 3);
        lock.release().unwrap();
        yield_now().await;
        assert_eq!(*result.borrow(), [1, 2]);

        lock.release().unwrap();
        yield_now().await;
        assert_eq!(*result.borrow(), [1, 2, 3]);
        for task in [t1, t2, t3] {
            assert_eq!(task.await, Ok(Ok(())));
        }
        assert!(lock.is_locked());
    });
}

/// Between a release and the turn of the task it woke, the lock reads
/// unlocked, but a task that asks for it then — here the releasing task
/// itself, at once — queues behind the woken one.
#[test]
fn lock_newcomer_queues_behind_a_woken_waiter() {
    run(async {
        let lock = Rc::new(Lock::new());
        let result = log();
        let held = lock.acquire().await.unwrap();
        let (other, log) = (lock.clone(), result.clone());
        let woken = aio::create_task(async move {
            let _turn = other.acquire().await?;
            log.borrow_mut().push(1);
            Ok::<_, Cancelled>(())
        });
        yield_now().await;
        drop(held);
        assert!(!lock.is_locked());
        let _mine = lock.acquire().await.unwrap();
        result.borrow_mut().push(2);
        assert!(woken.is_done());
        assert_eq!(*result.borrow(), [1, 2]);
    });
}

/// CPython `test_acquire_cancel`: a cancelled waiter leaves the queue and
/// the lock stays with its holder.
#[test]
fn lock_cancel_of_a_waiting_acquirer_leaves_the_queue() {
    run(async {
        let lock = Rc::new(Lock::new());
        let held = lock.acquire().await.unwrap();
        let other = lock.clone();
        let waiter = aio::create_task(async move { other.acquire().await.map(drop) });
        yield_now().await;
        assert_eq!(lock.waiters(), 1);

        let canceller = waiter.task_ref();
        aio::running_loop().unwrap().call_soon(move || {
            canceller.cancel_with("no longer needed");
        });
        let outcome = waiter.await;
        assert_eq!(outcome.unwrap_err().to_string(), "the task was cancelled: no longer needed");
        assert_eq!(lock.waiters(), 0);
        assert!(lock.is_locked());
        drop(held);
        assert!(!lock.is_locked()); // nobody was woken to take it
    });
}

/// CPython `test_cancel_race`: A holds the lock, B and C wait; B is
/// cancelled as A releases. C must still get the lock.
#[test]
fn lock_cancel_race_between_release_and_cancel() {
    run(async {
        let lock = Rc::new(Lock::new());
        let blocker = Rc::new(Event::new());
        let lockit = |blocker: Option<Rc<Event>>| {
            let lock = lock.clone();
            aio::create_task(async move {
                let _held = lock.acquire().await?;
                if let Some(blocker) = blocker {
                    blocker.wait().await?;
                }
                Ok::<_, Cancelled>(())
            })
        };
        let ta = lockit(Some(blocker.clone()));
        yield_now().await;
        assert!(lock.is_locked());
        let tb = lockit(None);
        yield_now().await;
        assert_eq!(lock.waiters(), 1);
        let tc = lockit(None);
        yield_now().await;
        assert_eq!(lock.waiters(), 2);

        blocker.set();
        tb.cancel();
        yield_now().await;
        assert!(!lock.is_locked());
        assert!(ta.is_done());
        assert!(tb.is_cancelled());
        assert_eq!(tc.await, Ok(Ok(())));
        assert_eq!(lock.waiters(), 0);
    });
}

/// CPython `test_cancel_release_race` (bpo-32734): the first waiter is
/// cancelled and the lock released in one callback; exactly one other task
/// may take the lock.
#[test]
fn lock_cancel_and_release_in_one_callback_lets_exactly_one_in() {
    run(async {
        let lock = Rc::new(Lock::new());
        let (taken, calls) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let lockit = || {
            let (lock, taken, calls) = (lock.clone(), taken.clone(), calls.clone());
            aio::create_task(async move {
                calls.set(calls.get() + 1);
                lock.acquire().await?.forget();
                taken.set(taken.get() + 1);
                Ok::<_, Cancelled>(())
            })
        };
        lock.acquire().await.unwrap().forget();
        let (t1, t2, t3) = (lockit(), lockit(), lockit());
        yield_now().await;

        let (first, trigger_lock) = (t1.task_ref(), lock.clone());
        aio::running_loop().unwrap().call_soon(move || {
            first.cancel();
            trigger_lock.release().unwrap();
        });
        assert!(is_cancelled(&t1.await));
        assert_eq!(taken.get(), 1);
        assert_eq!(calls.get(), 3);
        assert!(t2.is_done());

        t3.cancel();
        yield_now().await;
        assert!(t3.is_cancelled());
        assert_eq!(lock.waiters(), 0);
    });
}

/// CPython `test_finished_waiter_cancelled`: the first waiter is cancelled,
/// then the lock released before it runs; the release goes past it, and a
/// task that had not even started to wait yet takes the lock in the same
/// turn of the loop.
#[test]
fn lock_waiter_cancelled_before_release_lets_a_newcomer_in() {
    run(async {
        let result = log();
        let (lock, waiters) = held_lock_with_waiters(&result, 1).await;
        let tb = &waiters[0];
        let tc = lock_taker(&lock, &result, 3);
        tb.cancel();
        lock.release().unwrap();
        assert!(!lock.is_locked());
        yield_now().await;
        assert!(lock.is_locked());
        assert!(tb.is_cancelled());
        assert_eq!(tc.await, Ok(Ok(())));
        assert_eq!(*result.borrow(), [3]);
    });
}

/// A waiter woken by a release and cancelled before its turn passes the
/// wake-up on: the next waiter in line gets the lock, and the one after it
/// keeps waiting.
#[test]
fn lock_waiter_cancelled_after_being_woken_passes_the_wakeup_on() {
    run(async {
        let result = log();
        let (lock, waiters) = held_lock_with_waiters(&result, 3).await;
        let [tb, tc, td] = <[_; 3]>::try_from(waiters).unwrap();
        lock.release().unwrap(); // wakes tb ...
        tb.cancel_with("too late"); // ... which is cancelled before it runs.
                                    // A turn for tb to pass the lock on, one for tc to take it.
        yield_now().await;
        yield_now().await;
        assert!(tb.is_cancelled());
        assert!(tc.is_done());
        assert!(!td.is_done());
        assert_eq!(*result.borrow(), [3]);
        assert!(lock.is_locked());
        assert_eq!(lock.waiters(), 1);

        lock.release().unwrap();
        assert_eq!(td.await, Ok(Ok(())));
        assert_eq!(*result.borrow(), [3, 4]);
    });
}

/// A woken waiter whose future is dropped (not cancelled through its task)
/// passes the lock on all the same.
#[test]
fn lock_dropped_acquire_after_wakeup_passes_the_lock_on() {
    run(async {
        let lock = Rc::new(Lock::new());
        let held = lock.acquire().await.unwrap();
        let mut first = Box::pin(lock.acquire());
        // Poll once: the acquire queues first in line.
        std::future::poll_fn(|cx| {
            assert!(first.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        let result = log();
        let second = lock_taker(&lock, &result, 2);
        yield_now().await;
        assert_eq!(lock.waiters(), 2);

        drop(held); // wakes the first acquire, which is then dropped unpolled
        drop(first);
        assert_eq!(second.await, Ok(Ok(())));
        assert_eq!(*result.borrow(), [2]);
        assert_eq!(lock.waiters(), 0);
    });
}

/// concur's own: a release goes past a cancelled waiter, and the
/// cancellation is then withdrawn (`uncancel`) before the task runs. The
/// waiter stays in line and takes the free lock when it runs. (In Python
/// the waiter's future is cancelled for good and the task gets
/// `CancelledError` all the same; here the withdrawal is honoured, and
/// the lock is never left free with a live waiter asleep.)
#[test]
fn lock_waiter_whose_cancellation_is_withdrawn_takes_the_free_lock() {
    run(async {
        let result = log();
        let (lock, mut waiters) = held_lock_with_waiters(&result, 1).await;
        let tb = waiters.pop().unwrap();
        tb.cancel();
        lock.release().unwrap();
        assert_eq!(tb.uncancel(), 0);
        yield_now().await;
        assert!(lock.is_locked());
        assert_eq!(tb.await, Ok(Ok(())));
        assert_eq!(*result.borrow(), [2]);
        assert_eq!(lock.waiters(), 0);
    });
}

/// CPython `test_release_not_acquired`: releasing an unlocked lock is an
/// error (Python's `RuntimeError`) and changes nothing.
#[test]
fn lock_release_of_an_unlocked_lock_is_an_error() {
    let lock = Lock::new();
    let err = lock.release().unwrap_err();
    assert!(matches!(err, ReleaseError::NotLocked { call: "aio::Lock::release", .. }));
    let message = err.to_string();
    assert!(message.starts_with("aio::Lock::release: aio::Lock at 0x"), "{message}");
    assert!(message.ends_with("is not locked"), "{message}");
    assert!(!lock.is_locked());
}

/// CPython `test_release_no_waiters` and `test_context_manager`.
#[test]
fn lock_release_and_guard() {
    run(async {
        let lock = Lock::new();
        lock.acquire().await.unwrap().forget();
        assert!(lock.is_locked());
        lock.release().unwrap();
        assert!(!lock.is_locked());
        {
            let _guard = lock.acquire().await.unwrap();
            assert!(lock.is_locked());
        }
        assert!(!lock.is_locked());
    });
}

/// A guard releases only its own hold: after an explicit release and a new
/// acquisition by another task, dropping the old guard leaves the new hold.
#[test]
fn lock_stale_guard_does_not_release_a_later_hold() {
    run(async {
        let lock = Rc::new(Lock::new());
        let stale = lock.acquire().await.unwrap();
        lock.release().unwrap();
        let result = log();
        let later = lock_taker(&lock, &result, 1);
        assert_eq!(later.await, Ok(Ok(())));
        assert!(lock.is_locked());
        drop(stale);
        assert!(lock.is_locked(), "the stale guard released the later holder's lock");
        lock.release().unwrap();
    });
}

/// Every acquire is a cancellation point: a cancellation pending when it
/// starts is delivered there even if the lock is free.
#[test]
fn lock_acquire_delivers_a_pending_cancellation() {
    run(async {
        let lock = Rc::new(Lock::new());
        let other = lock.clone();
        let task = aio::create_task(async move {
            aio::current_task().unwrap().cancel_with("before acquire");
            other.acquire().await.map(drop)
        });
        assert!(is_cancelled(&task.await));
        assert!(!lock.is_locked());
    });
}

/// `wait_for` around an acquire: the waiter times out, leaves the queue, and
/// the lock works as before (CPython's `test_acquire_no_hang` in spirit).
#[test]
fn lock_acquire_under_a_timeout() {
    run(async {
        let lock = Lock::new();
        let held = lock.acquire().await.unwrap();
        let outcome = aio::wait_for(lock.acquire(), Duration::from_millis(20)).await;
        assert!(matches!(outcome, Err(TimeoutError::Elapsed(_))));
        assert_eq!(lock.waiters(), 0);
        drop(held);
        let again = aio::wait_for(lock.acquire(), Duration::from_secs(5)).await;
        assert!(matches!(again, Ok(Ok(_))));
    });
}

/// Runs `tasks` tasks that each read a counter, pause, and write it back
/// plus one — under `lock` if given. Returns the counter and the order in
/// which tasks entered the section.
fn count_with_pauses(tasks: u32, lock: Option<Rc<Lock>>) -> (u32, Vec<u32>) {
    run(async move {
        let counter = Rc::new(Cell::new(0));
        let entered = log();
        let workers: Vec<_> = (0..tasks)
            .map(|i| {
                let (lock, counter, entered) = (lock.clone(), counter.clone(), entered.clone());
                aio::create_task(async move {
                    let _turn = match &lock {
                        Some(lock) => Some(lock.acquire().await?),
                        None => None,
                    };
                    entered.borrow_mut().push(i);
                    let seen = counter.get();
                    let pause = if i % 100 == 0 { Duration::from_millis(1) } else { Duration::ZERO };
                    aio::sleep(pause).await?;
                    counter.set(seen + 1);
                    Ok::<_, Cancelled>(())
                })
            })
            .collect();
        for outcome in aio::gather(workers).await.unwrap() {
            outcome.unwrap();
        }
        if let Some(lock) = lock {
            assert!(!lock.is_locked());
            assert_eq!(lock.waiters(), 0);
        }
        (counter.get(), entered.take())
    })
}

/// Stress: 1,000 tasks increment a counter with a pause inside the critical
/// section. Without the lock, updates are lost; with it, the count is exact
/// and tasks enter in the order they started.
#[test]
fn lock_stress_1000_tasks_exact_count_in_order() {
    let (unlocked, _) = count_with_pauses(1000, None);
    assert!(unlocked < 1000, "the pauses did not interleave the tasks: the test would prove nothing");

    let (count, entered) = count_with_pauses(1000, Some(Rc::new(Lock::new())));
    assert_eq!(count, 1000);
    assert_eq!(entered, (0..1000).collect::<Vec<_>>());
}

/// Stress with cancellation: 1,000 tasks queue on a lock and every third is
/// cancelled while they wait or work. Every task that finished counted once,
/// no update is lost, the survivors kept their order, and the lock ends
/// free with an empty queue.
#[test]
fn lock_stress_with_cancellations() {
    run(async {
        let lock = Rc::new(Lock::new());
        let counter = Rc::new(Cell::new(0));
        let entered = log();
        let started = Rc::new(Cell::new(0));
        let workers: Vec<_> = (0..1000u32)
            .map(|i| {
                let (lock, counter, entered) = (lock.clone(), counter.clone(), entered.clone());
                let started = started.clone();
                aio::create_task(async move {
                    started.set(started.get() + 1);
                    let _turn = lock.acquire().await?;
                    let seen = counter.get();
                    aio::sleep(Duration::ZERO).await?;
                    counter.set(seen + 1);
                    entered.borrow_mut().push(i);
                    Ok::<_, Cancelled>(())
                })
            })
            .collect();
        // Cancel while most of them queue on the lock.
        until(|| started.get() == 1000).await;
        assert!(lock.waiters() > 900);
        for (i, worker) in workers.iter().enumerate() {
            if i % 3 == 0 {
                worker.cancel();
            }
            if i % 50 == 0 {
                yield_now().await;
            }
        }
        let outcomes = aio::gather(workers).return_exceptions().await.unwrap();
        let finished = outcomes.iter().filter(|outcome| matches!(outcome, Ok(Ok(())))).count();
        let cancelled = outcomes.iter().filter(|outcome| is_cancelled(outcome)).count();
        assert_eq!(finished + cancelled, 1000);
        assert!(cancelled >= 300, "only {cancelled} tasks were cancelled");
        assert_eq!(counter.get() as usize, finished);
        let entered = entered.take();
        assert_eq!(entered.len(), finished);
        assert!(entered.windows(2).all(|pair| pair[0] < pair[1]), "the survivors lost their order");
        assert!(!lock.is_locked());
        assert_eq!(lock.waiters(), 0);
    });
}

// ----------------------------------------------------------------- Event ----

fn event_waiter(event: &Rc<Event>, log: &Log, tag: u32) -> Task<Result<(), Cancelled>> {
    let (event, log) = (event.clone(), log.clone());
    aio::create_task(async move {
        event.wait().await?;
        log.borrow_mut().push(tag);
        Ok(())
    })
}

/// CPython `EventTests.test_wait`: `set` wakes every waiter; a task that
/// starts after the set passes straight through (and runs first here, as in
/// Python, since it was ready before the others were woken).
#[test]
fn event_set_wakes_every_waiter() {
    run(async {
        let event = Rc::new(Event::new());
        assert!(!event.is_set());
        let result = log();
        let t1 = event_waiter(&event, &result, 1);
        let t2 = event_waiter(&event, &result, 2);
        yield_now().await;
        assert!(result.borrow().is_empty());
        assert_eq!(event.waiters(), 2);

        let t3 = event_waiter(&event, &result, 3);
        event.set();
        yield_now().await;
        assert_eq!(*result.borrow(), [3, 1, 2]);
        for task in [t1, t2, t3] {
            assert!(task.is_done());
            assert_eq!(task.await, Ok(Ok(())));
        }
        assert_eq!(event.waiters(), 0);
    });
}

/// CPython `test_wait_on_set` and `test_clear`.
#[test]
fn event_wait_on_a_set_event_returns_at_once_and_clear_resets() {
    run(async {
        let event = Event::new();
        event.set();
        assert_eq!(event.wait().await, Ok(()));
        assert!(event.is_set());
        event.clear();
        assert!(!event.is_set());
        let outcome = aio::wait_for(event.wait(), Duration::from_millis(10)).await;
        assert!(matches!(outcome, Err(TimeoutError::Elapsed(_))), "a cleared event let a waiter through");
        assert_eq!(event.waiters(), 0);
    });
}

/// CPython `test_wait_cancel`.
#[test]
fn event_cancel_of_a_waiter_leaves_the_queue() {
    run(async {
        let event = Rc::new(Event::new());
        let other = event.clone();
        let waiter = aio::create_task(async move { other.wait().await });
        let canceller = waiter.task_ref();
        aio::running_loop().unwrap().call_soon(move || {
            canceller.cancel();
        });
        assert!(is_cancelled(&waiter.await));
        assert_eq!(event.waiters(), 0);
    });
}

/// CPython `test_clear_with_waiters`: a waiter woken by a set returns even
/// though the flag was cleared before it ran; repeated sets do not wake it
/// twice.
#[test]
fn event_clear_after_set_still_releases_woken_waiters() {
    run(async {
        let event = Rc::new(Event::new());
        let result = log();
        let task = event_waiter(&event, &result, 1);
        yield_now().await;
        assert!(result.borrow().is_empty());

        event.set();
        event.clear();
        assert!(!event.is_set());
        event.set();
        event.set();
        assert_eq!(event.waiters(), 1);

        yield_now().await;
        assert_eq!(*result.borrow(), [1]);
        assert_eq!(event.waiters(), 0);
        assert_eq!(task.await, Ok(Ok(())));
    });
}

/// concur's own: an event set while a waiter's task was cancelled, the
/// cancellation withdrawn before the task ran: the wait returns, as the
/// set happened.
#[test]
fn event_waiter_whose_cancellation_is_withdrawn_sees_the_set() {
    run(async {
        let event = Rc::new(Event::new());
        let result = log();
        let waiter = event_waiter(&event, &result, 1);
        yield_now().await;
        waiter.cancel();
        event.set();
        event.clear();
        waiter.uncancel();
        assert_eq!(waiter.await, Ok(Ok(())));
        assert_eq!(*result.borrow(), [1]);
    });
}

/// Many waiters: 500 tasks wait, 100 of them are cancelled, one `set`
/// releases the other 400; after `clear`, a new waiter waits again until the
/// next `set`.
#[test]
fn event_many_waiters_with_cancellations() {
    run(async {
        let event = Rc::new(Event::new());
        let result = log();
        let waiters: Vec<_> = (0..500).map(|i| event_waiter(&event, &result, i)).collect();
        until(|| event.waiters() == 500).await;
        for waiter in waiters.iter().step_by(5) {
            waiter.cancel();
        }
        until(|| event.waiters() == 400).await;

        event.set();
        let outcomes = aio::gather(waiters).return_exceptions().await.unwrap();
        for (i, outcome) in outcomes.iter().enumerate() {
            if i % 5 == 0 {
                assert!(is_cancelled(outcome), "waiter {i}: {outcome:?}");
            } else {
                assert_eq!(*outcome, Ok(Ok(())), "waiter {i}");
            }
        }
        let expected: Vec<u32> = (0..500).filter(|i| i % 5 != 0).collect();
        assert_eq!(*result.borrow(), expected); // woken in the order they waited
        assert_eq!(event.waiters(), 0);

        event.clear();
        let late = event_waiter(&event, &result, 1000);
        for _ in 0..5 {
            yield_now().await;
        }
        assert!(!late.is_done());
        event.set();
        assert_eq!(late.await, Ok(Ok(())));
    });
}

// ------------------------------------------------------------- Semaphore ----

/// CPython `SemaphoreTests.test_initial_value_zero`, `test_release_no_waiters`.
#[test]
fn semaphore_initial_value_and_release() {
    run(async {
        assert!(Semaphore::new(0).is_locked());
        let sem = Semaphore::new(1);
        assert!(!sem.is_locked());
        sem.acquire().await.unwrap().forget();
        assert!(sem.is_locked());
        sem.release();
        assert!(!sem.is_locked());
        assert_eq!(sem.value(), 1);
    });
}

/// CPython `test_acquire`: three permits; two taken, one left for the first
/// of three tasks; two releases wake the next two in order, and a task that
/// arrived meanwhile keeps waiting.
#[test]
fn semaphore_permits_go_in_first_come_order() {
    run(async {
        let sem = Rc::new(Semaphore::new(3));
        let result = log();
        sem.acquire().await.unwrap().forget();
        sem.acquire().await.unwrap().forget();
        assert!(!sem.is_locked());

        let t1 = permit_taker(&sem, &result, 1);
        let t2 = permit_taker(&sem, &result, 2);
        let t3 = permit_taker(&sem, &result, 3);
        yield_now().await;
        assert_eq!(*result.borrow(), [1]);
        assert!(sem.is_locked());
        assert_eq!(sem.waiters(), 2);
        assert_eq!(sem.value(), 0);

        let t4 = permit_taker(&sem, &result, 4);
        sem.release();
        sem.release();
        assert_eq!(sem.value(), 0); // both permits passed to waiters
        yield_now().await;
        assert_eq!(*result.borrow(), [1, 2, 3]);
        assert!(sem.is_locked());
        assert_eq!(sem.waiters(), 1);
        assert_eq!(sem.value(), 0);
        assert!(t1.is_done() && t2.is_done() && t3.is_done() && !t4.is_done());

        sem.release();
        assert_eq!(t4.await, Ok(Ok(())));
        assert_eq!(*result.borrow(), [1, 2, 3, 4]);
    });
}

/// CPython `test_acquire_cancel`.
#[test]
fn semaphore_cancel_of_a_waiting_acquirer_leaves_the_queue() {
    run(async {
        let sem = Rc::new(Semaphore::new(1));
        sem.acquire().await.unwrap().forget();
        let other = sem.clone();
        let waiter = aio::create_task(async move { other.acquire().await.map(drop) });
        let canceller = waiter.task_ref();
        aio::running_loop().unwrap().call_soon(move || {
            canceller.cancel();
        });
        assert!(is_cancelled(&waiter.await));
        assert_eq!(sem.waiters(), 0);
        assert_eq!(sem.value(), 0);
    });
}

/// CPython `test_acquire_cancel_before_awoken`: two waiters are cancelled
/// and one permit released; it goes to the third waiter, not the fourth.
#[test]
fn semaphore_cancelled_waiters_pass_the_permit_on() {
    run(async {
        let sem = Rc::new(Semaphore::new(0));
        let result = log();
        let tasks: Vec<_> = (1..=4).map(|tag| permit_taker(&sem, &result, tag)).collect();
        yield_now().await;

        tasks[0].cancel();
        tasks[1].cancel();
        sem.release();
        yield_now().await;
        yield_now().await;
        assert!(tasks[0].is_cancelled() && tasks[1].is_cancelled());
        assert!(tasks[2].is_done());
        assert!(!tasks[3].is_done());
        assert_eq!(*result.borrow(), [3]);

        tasks[3].cancel();
        yield_now().await;
        assert!(tasks[3].is_cancelled());
        assert_eq!(sem.waiters(), 0);
        assert_eq!(sem.value(), 0);
    });
}

/// CPython `test_acquire_hang`: a permit released as the first waiter is
/// cancelled reaches the second.
#[test]
fn semaphore_release_while_first_waiter_is_cancelled_does_not_hang() {
    run(async {
        let sem = Rc::new(Semaphore::new(0));
        let result = log();
        let t1 = permit_taker(&sem, &result, 1);
        let t2 = permit_taker(&sem, &result, 2);
        yield_now().await;
        t1.cancel();
        sem.release();
        yield_now().await;
        yield_now().await;
        assert!(sem.is_locked());
        assert!(t2.is_done());
        assert!(is_cancelled(&t1.await));
        assert_eq!(t2.await, Ok(Ok(())));
    });
}

/// CPython `test_acquire_no_hang`: the holder cancels the waiter its
/// release just woke; the permit is not lost.
#[test]
fn semaphore_waiter_cancelled_after_being_woken_does_not_keep_the_permit() {
    run(async {
        let sem = Rc::new(Semaphore::new(1));
        let second: Rc<RefCell<Option<aio::TaskRef>>> = Rc::new(RefCell::new(None));
        let (s1, victim) = (sem.clone(), second.clone());
        let c1 = aio::create_task(async move {
            {
                let _permit = s1.acquire().await?;
                aio::sleep(Duration::ZERO).await?;
            }
            victim.borrow().as_ref().unwrap().cancel();
            Ok::<_, Cancelled>(())
        });
        let s2 = sem.clone();
        let c2 = aio::create_task(async move {
            let _permit = s2.acquire().await?;
            panic!("the cancelled task got the permit");
        });
        *second.borrow_mut() = Some(c2.task_ref());
        let outcomes = aio::gather([c1, c2]).return_exceptions().await.unwrap();
        assert_eq!(outcomes[0], Ok(Ok(())));
        assert!(is_cancelled(&outcomes[1]));
        assert_eq!(sem.value(), 1);
        assert!(matches!(aio::wait_for(sem.acquire(), Duration::from_secs(5)).await, Ok(Ok(_))));
    });
}

/// CPython `test_acquire_cancel_before_awoken`, read for `locked()`: while
/// the only waiters are cancelled tasks that have not run yet, a free
/// permit is not locked, and a newcomer takes it in the same turn.
#[test]
fn semaphore_newcomer_takes_a_permit_past_cancelled_waiters() {
    run(async {
        let sem = Rc::new(Semaphore::new(0));
        let result = log();
        let waiters: Vec<_> = (1..=2).map(|tag| permit_taker(&sem, &result, tag)).collect();
        yield_now().await;
        for waiter in &waiters {
            waiter.cancel();
        }
        sem.release();
        assert!(!sem.is_locked(), "only cancelled tasks wait");
        assert_eq!(sem.value(), 1, "the release went past them");
        let newcomer = permit_taker(&sem, &result, 3);
        yield_now().await;
        assert_eq!(*result.borrow(), [3]);
        assert!(newcomer.is_done());
        for waiter in waiters {
            assert!(is_cancelled(&waiter.await));
        }
        assert_eq!((sem.value(), sem.waiters()), (0, 0));
    });
}

/// concur's own: as for the lock, a waiter whose cancellation is withdrawn
/// after a release went past it takes the free permit when it runs.
#[test]
fn semaphore_waiter_whose_cancellation_is_withdrawn_takes_the_free_permit() {
    run(async {
        let sem = Rc::new(Semaphore::new(0));
        let result = log();
        let waiter = permit_taker(&sem, &result, 1);
        yield_now().await;
        waiter.cancel();
        sem.release();
        assert_eq!(sem.value(), 1);
        waiter.uncancel();
        yield_now().await;
        assert_eq!(waiter.await, Ok(Ok(())));
        assert_eq!(*result.borrow(), [1]);
        assert_eq!((sem.value(), sem.waiters()), (0, 0));
    });
}

/// CPython `test_release_not_acquired` for `BoundedSemaphore`: a release
/// above the initial value is an error (Python's `ValueError`).
#[test]
fn bounded_semaphore_over_release_is_an_error() {
    run(async {
        let sem = BoundedSemaphore::new(1);
        let err = sem.release().unwrap_err();
        assert!(matches!(err, ReleaseError::OverRelease { call: "aio::BoundedSemaphore::release", initial: 1, .. }));
        assert!(err.to_string().contains("was released more times than it was acquired (its initial value is 1)"));
        assert_eq!(sem.value(), 1);

        sem.acquire().await.unwrap().forget();
        sem.release().unwrap();
        assert!(sem.release().is_err());
        assert_eq!(sem.value(), 1);
    });
}

/// A permit guard of a bounded semaphore whose permit an explicit release
/// already gave back does not push the value over the bound.
#[test]
fn bounded_semaphore_guard_never_passes_the_bound() {
    run(async {
        let sem = BoundedSemaphore::new(2);
        let permit = sem.acquire().await.unwrap();
        sem.release().unwrap();
        assert_eq!(sem.value(), 2);
        drop(permit);
        assert_eq!(sem.value(), 2);
        assert!(!sem.is_locked());
    });
}

/// CPython `test_acquire_fifo_order`: three tasks take a one-permit
/// semaphore twice each, pausing inside; they go round in order.
#[test]
fn semaphore_fifo_order_round_robin() {
    run(async {
        let sem = Rc::new(Semaphore::new(1));
        let result = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = ["c1", "c2", "c3"]
            .into_iter()
            .map(|tag| {
                let (sem, result) = (sem.clone(), result.clone());
                aio::create_task(async move {
                    for round in 1..=2 {
                        let _permit = sem.acquire().await?;
                        result.borrow_mut().push(format!("{tag}_{round}"));
                        aio::sleep(Duration::from_millis(10)).await?;
                    }
                    Ok::<_, Cancelled>(())
                })
            })
            .collect();
        for outcome in aio::gather(tasks).await.unwrap() {
            outcome.unwrap();
        }
        assert_eq!(*result.borrow(), ["c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"]);
    });
}

/// CPython `test_acquire_fifo_order_2`: a task that releases and at once
/// acquires again goes behind a task already woken — where tokio's
/// semaphore would let it take the spare permit first.
#[test]
fn semaphore_reacquire_goes_behind_woken_waiters() {
    run(async {
        let sem = Rc::new(Semaphore::new(1));
        let result = log();
        let t1 = permit_taker(&sem, &result, 1);
        let (s2, r2) = (sem.clone(), result.clone());
        let t2 = aio::create_task(async move {
            s2.acquire().await?.forget();
            r2.borrow_mut().push(2);
            s2.release();
            s2.acquire().await?.forget();
            r2.borrow_mut().push(4);
            Ok::<_, Cancelled>(())
        });
        let t3 = permit_taker(&sem, &result, 3);
        yield_now().await;
        sem.release();
        sem.release();
        for outcome in aio::gather([t1, t2, t3]).await.unwrap() {
            outcome.unwrap();
        }
        assert_eq!(*result.borrow(), [1, 2, 3, 4]);
    });
}

/// CPython `test_acquire_fifo_order_3`: a waiter cancelled before any
/// release takes no permit.
#[test]
fn semaphore_cancelled_waiter_takes_no_permit() {
    run(async {
        let sem = Rc::new(Semaphore::new(0));
        let result = log();
        let tasks: Vec<_> = (1..=3).map(|tag| permit_taker(&sem, &result, tag)).collect();
        yield_now().await;
        tasks[0].cancel();
        yield_now().await;
        sem.release();
        sem.release();
        let outcomes = aio::gather(tasks).return_exceptions().await.unwrap();
        assert!(is_cancelled(&outcomes[0]));
        assert_eq!(*result.borrow(), [2, 3]);
        assert_eq!(sem.value(), 0);
    });
}

/// CPython `test_acquire_fifo_order_4`: while a woken task has not run, the
/// semaphore reads locked even with permits free, newcomers queue, and the
/// woken task, once it runs, wakes them in order.
#[test]
fn semaphore_newcomers_wait_for_woken_tasks() {
    run(async {
        let sem = Rc::new(Semaphore::new(0));
        let result = log();
        let t4: Rc<RefCell<Option<Task<()>>>> = Rc::new(RefCell::new(None));
        let (s1, r1, slot) = (sem.clone(), result.clone(), t4.clone());
        let t1 = aio::create_task(async move {
            assert_eq!(s1.value(), 0);
            s1.acquire().await?.forget();
            assert_eq!(s1.value(), 0); // it woke the two waiters behind it
            let r4 = r1.clone();
            *slot.borrow_mut() = Some(aio::create_task(async move { r4.borrow_mut().push(4) }));
            r1.borrow_mut().push(1);
            Ok::<_, Cancelled>(())
        });
        let (s2, r2) = (sem.clone(), result.clone());
        let t2 = aio::create_task(async move {
            s2.release();
            s2.release();
            s2.release();
            assert_eq!(s2.value(), 2);
            assert!(s2.is_locked(), "the woken task has not run: newcomers must queue");
            s2.acquire().await?.forget();
            r2.borrow_mut().push(2);
            Ok::<_, Cancelled>(())
        });
        let (s3, r3) = (sem.clone(), result.clone());
        let t3 = aio::create_task(async move {
            s3.acquire().await?.forget();
            assert!(s3.is_locked());
            r3.borrow_mut().push(3);
            Ok::<_, Cancelled>(())
        });
        for outcome in aio::gather([t1, t2, t3]).await.unwrap() {
            outcome.unwrap();
        }
        let t4 = t4.borrow_mut().take().unwrap();
        t4.await.unwrap();
        assert_eq!(*result.borrow(), [1, 2, 3, 4]);
    });
}

/// Stress: 1,000 tasks through a 5-permit semaphore, pausing inside; never
/// more than 5 inside, every task gets in once.
#[test]
fn semaphore_stress_never_more_than_its_permits() {
    run(async {
        let sem = Rc::new(BoundedSemaphore::new(5));
        let (inside, most, done) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let workers: Vec<_> = (0..1000u32)
            .map(|i| {
                let (sem, inside, most, done) = (sem.clone(), inside.clone(), most.clone(), done.clone());
                aio::create_task(async move {
                    let _permit = sem.acquire().await?;
                    inside.set(inside.get() + 1);
                    most.set(most.get().max(inside.get()));
                    let pause = if i % 100 == 0 { Duration::from_millis(1) } else { Duration::ZERO };
                    aio::sleep(pause).await?;
                    inside.set(inside.get() - 1);
                    done.set(done.get() + 1);
                    Ok::<_, Cancelled>(())
                })
            })
            .collect();
        for outcome in aio::gather(workers).await.unwrap() {
            outcome.unwrap();
        }
        assert_eq!(done.get(), 1000);
        assert_eq!(most.get(), 5);
        assert_eq!(sem.value(), 5);
        assert_eq!(sem.waiters(), 0);
    });
}

// ------------------------------------------------------------- Condition ----

/// A task that waits on `cond` once and logs `tag`, releasing the lock.
fn cond_waiter(cond: &Rc<Condition>, log: &Log, tag: u32) -> Task<Result<(), Cancelled>> {
    let (cond, log) = (cond.clone(), log.clone());
    aio::create_task(async move {
        let mut guard = cond.acquire().await?;
        cond.wait(&mut guard).await?;
        log.borrow_mut().push(tag);
        Ok(())
    })
}

/// CPython `ConditionTests.test_wait` / `test_notify`: waiting releases the
/// lock; a notified task returns only once it has the lock back; `notify(n)`
/// wakes waiters in the order they waited.
#[test]
fn condition_notify_wakes_in_order_after_the_lock_is_free() {
    run(async {
        let cond = Rc::new(Condition::new());
        let result = log();
        let tasks: Vec<_> = (1..=3).map(|tag| cond_waiter(&cond, &result, tag)).collect();
        yield_now().await;
        assert!(result.borrow().is_empty());
        assert!(!cond.is_locked());
        assert_eq!(cond.waiters(), 3);

        let guard = cond.acquire().await.unwrap();
        cond.notify(&guard, 1);
        yield_now().await;
        assert!(result.borrow().is_empty()); // woken, but the lock is ours
        assert!(cond.is_locked());
        drop(guard);
        yield_now().await;
        assert_eq!(*result.borrow(), [1]);

        let guard = cond.acquire().await.unwrap();
        cond.notify(&guard, 1);
        cond.notify(&guard, 2048);
        drop(guard);
        yield_now().await;
        assert_eq!(*result.borrow(), [1, 2, 3]);
        for task in tasks {
            assert_eq!(task.await, Ok(Ok(())));
        }
        assert!(!cond.is_locked());
    });
}

/// CPython `test_notify_all`.
#[test]
fn condition_notify_all() {
    run(async {
        let cond = Rc::new(Condition::new());
        let result = log();
        let tasks: Vec<_> = (1..=2).map(|tag| cond_waiter(&cond, &result, tag)).collect();
        yield_now().await;
        let guard = cond.acquire().await.unwrap();
        cond.notify_all(&guard);
        drop(guard);
        yield_now().await;
        assert_eq!(*result.borrow(), [1, 2]);
        for task in tasks {
            assert_eq!(task.await, Ok(Ok(())));
        }
    });
}

/// CPython `test_wait_for`: a notification with the predicate false does
/// not end `wait_for`; one with it true does.
#[test]
fn condition_wait_for_checks_the_predicate() {
    run(async {
        let cond = Rc::new(Condition::new());
        let ready = Rc::new(Cell::new(false));
        let result = log();
        let (c, r, l) = (cond.clone(), ready.clone(), result.clone());
        let task = aio::create_task(async move {
            let mut guard = c.acquire().await?;
            c.wait_for(&mut guard, || r.get()).await?;
            l.borrow_mut().push(1);
            Ok::<_, Cancelled>(())
        });
        yield_now().await;

        let guard = cond.acquire().await.unwrap();
        cond.notify(&guard, 1);
        drop(guard);
        yield_now().await;
        assert!(result.borrow().is_empty());

        ready.set(true);
        let guard = cond.acquire().await.unwrap();
        cond.notify(&guard, 1);
        drop(guard);
        yield_now().await;
        assert_eq!(*result.borrow(), [1]);
        assert_eq!(task.await, Ok(Ok(())));
    });
}

/// CPython `test_wait_cancel`: a cancelled wait leaves the queue and has
/// the lock again when it returns the error.
#[test]
fn condition_cancelled_wait_takes_the_lock_back() {
    run(async {
        let cond = Rc::new(Condition::new());
        let c = cond.clone();
        let task = aio::create_task(async move {
            let mut guard = c.acquire().await.unwrap();
            let outcome = c.wait(&mut guard).await;
            (outcome.is_err(), c.is_locked(), c.waiters())
        });
        yield_now().await;
        assert!(!cond.is_locked());
        task.cancel();
        assert_eq!(task.await, Ok((true, true, 0)));
        assert!(!cond.is_locked()); // the task's guard released it as the task ended
    });
}

/// CPython `test_wait_cancel_after_notify` (bpo-32841): notified, then
/// cancelled while it waits for the lock; the task ends cancelled.
#[test]
fn condition_cancel_after_notify() {
    run(async {
        let cond = Rc::new(Condition::new());
        let waited = Rc::new(Cell::new(false));
        let (c, w) = (cond.clone(), waited.clone());
        let waiter = aio::create_task(async move {
            let mut guard = c.acquire().await?;
            w.set(true);
            c.wait(&mut guard).await
        });
        yield_now().await;

        let guard = cond.acquire().await.unwrap();
        cond.notify(&guard, 1);
        yield_now().await; // the waiter now waits for the lock
        waiter.cancel();
        yield_now().await;
        drop(guard);
        yield_now().await;
        assert!(waiter.is_cancelled());
        assert!(waited.get());
        assert!(!cond.is_locked());
    });
}

/// CPython `test_timeout_in_block`: a wait under a timeout times out and
/// the lock is held again afterwards.
#[test]
fn condition_wait_under_a_timeout_keeps_the_lock() {
    run(async {
        let cond = Condition::new();
        let mut guard = cond.acquire().await.unwrap();
        let outcome = aio::wait_for(cond.wait(&mut guard), Duration::from_millis(20)).await;
        assert!(matches!(outcome, Err(TimeoutError::Elapsed(_))));
        assert!(cond.is_locked());
        assert_eq!(cond.waiters(), 0);
        drop(guard);
        assert!(!cond.is_locked());
    });
}

/// The consumers of CPython's `test_cancelled_wakeup*`: each takes one unit
/// of `state` per notification, and returns once `state` goes negative.
fn consumer(cond: &Rc<Condition>, state: &Rc<Cell<i32>>) -> Task<Result<(), Cancelled>> {
    let (cond, state) = (cond.clone(), state.clone());
    aio::create_task(async move {
        let mut guard = cond.acquire().await?;
        loop {
            cond.wait_for(&mut guard, || state.get() != 0).await?;
            if state.get() < 0 {
                return Ok(());
            }
            state.set(state.get() - 1);
        }
    })
}

/// CPython `test_cancelled_wakeup` and `test_cancelled_wakeup_relock`: a
/// consumer is notified and cancelled at the same time — before it runs, or
/// while it takes the lock back. The notification is not lost: the other
/// consumer takes the unit.
#[test]
fn condition_notified_waiter_cancelled_passes_the_notification_on() {
    for relock in [false, true] {
        run(async {
            let cond = Rc::new(Condition::new());
            let state = Rc::new(Cell::new(0));
            let consumers = [consumer(&cond, &state), consumer(&cond, &state)];
            yield_now().await;
            {
                let mut guard = cond.acquire().await.unwrap();
                state.set(1);
                cond.notify(&guard, 1);
                if relock {
                    yield_now().await; // the notified consumer now waits for the lock
                }
                consumers[0].cancel();
                let consumed =
                    aio::wait_for(cond.wait_for(&mut guard, || state.get() == 0), Duration::from_millis(50)).await;
                // The waiting consumer took the unit; this wait may or may
                // not have been notified before its time ran out.
                assert!(matches!(consumed, Ok(Ok(())) | Err(TimeoutError::Elapsed(_))), "{consumed:?}");
                assert_eq!(state.get(), 0, "the notification was lost (relock: {relock})");
                state.set(-1);
                cond.notify_all(&guard);
            }
            let [first, second] = consumers;
            assert!(is_cancelled(&first.await));
            assert_eq!(second.await, Ok(Ok(())));
        });
    }
}

/// CPython `Condition._notify`: `notify(n)` counts only waiters whose task
/// was not cancelled, so a cancelled first waiter does not take the one
/// notification: the second waiter has it in the same turn.
#[test]
fn condition_notify_goes_past_a_cancelled_waiter() {
    run(async {
        let cond = Rc::new(Condition::new());
        let result = log();
        let first = cond_waiter(&cond, &result, 1);
        let second = cond_waiter(&cond, &result, 2);
        yield_now().await;
        first.cancel();
        {
            let guard = cond.acquire().await.unwrap();
            cond.notify(&guard, 1);
        }
        yield_now().await;
        assert_eq!(*result.borrow(), [2]);
        assert!(is_cancelled(&first.await));
        assert_eq!(second.await, Ok(Ok(())));
        assert_eq!(cond.waiters(), 0);
    });
}

/// `Condition::with_lock`: the condition and the lock are one lock
/// (CPython's `test_explicit_lock`).
#[test]
fn condition_over_a_shared_lock() {
    run(async {
        let lock = Rc::new(Lock::new());
        let cond = Condition::with_lock(lock.clone());
        {
            let _guard = cond.acquire().await.unwrap();
            assert!(lock.is_locked());
        }
        assert!(!cond.is_locked());
        let mut guard = lock.acquire().await.unwrap();
        assert!(cond.is_locked());
        cond.notify_all(&guard);
        let outcome = aio::wait_for(cond.wait(&mut guard), Duration::from_millis(5)).await;
        assert!(matches!(outcome, Err(TimeoutError::Elapsed(_))));
        assert!(lock.is_locked());
    });
}

/// Waiting with the guard of another lock is a programming error, as with
/// std's `Condvar`.
#[test]
#[should_panic(expected = "the guard is of another lock than the condition's")]
fn condition_wait_with_another_locks_guard_panics() {
    run(async {
        let cond = Condition::new();
        let other = Lock::new();
        let mut guard = other.acquire().await.unwrap();
        let _ = cond.wait(&mut guard).await;
    });
}

/// Stress: 10 consumers and 1,000 items through a condition, with
/// `notify(1)` per item; every item is taken exactly once.
#[test]
fn condition_stress_producer_consumers() {
    run(async {
        let cond = Rc::new(Condition::new());
        let items = Rc::new(RefCell::new(Vec::new()));
        let closed = Rc::new(Cell::new(false));
        let taken = log();
        let consumers: Vec<_> = (0..10)
            .map(|_| {
                let (cond, items, closed, taken) = (cond.clone(), items.clone(), closed.clone(), taken.clone());
                aio::create_task(async move {
                    loop {
                        let mut guard = cond.acquire().await?;
                        cond.wait_for(&mut guard, || !items.borrow().is_empty() || closed.get()).await?;
                        let Some(item) = items.borrow_mut().pop() else { return Ok::<_, Cancelled>(()) };
                        drop(guard);
                        taken.borrow_mut().push(item);
                        aio::sleep(Duration::ZERO).await?;
                    }
                })
            })
            .collect();
        for item in 0..1000u32 {
            let guard = cond.acquire().await.unwrap();
            items.borrow_mut().push(item);
            cond.notify(&guard, 1);
            drop(guard);
            if item % 7 == 0 {
                yield_now().await;
            }
        }
        {
            let guard = cond.acquire().await.unwrap();
            closed.set(true);
            cond.notify_all(&guard);
        }
        for outcome in aio::gather(consumers).await.unwrap() {
            outcome.unwrap();
        }
        let mut taken = taken.take();
        taken.sort_unstable();
        assert_eq!(taken, (0..1000).collect::<Vec<_>>());
        assert_eq!(cond.waiters(), 0);
        assert!(!cond.is_locked());
    });
}
