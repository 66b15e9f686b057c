//! Run under miri by `scripts/test`: the task cell's pinned body (the
//! one `unsafe` block of `task.rs`), and the loop's number-carrying
//! wakers (`context.rs`) cloned, sent to another thread and woken after
//! their task, and then their loop, are gone.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::aio::{self, EventLoop, TaskState};

/// Sets its flag when dropped.
struct Flag(Rc<Cell<bool>>);

impl Drop for Flag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// Pending until its shared slot says go; leaves its waker there.
struct Gate {
    shared: Arc<Mutex<(bool, Option<Waker>)>>,
    /// Self-referential state a moved body would break: the address
    /// of `marker` recorded at the first poll.
    marker: u64,
    seen_at: Option<usize>,
}

impl Future for Gate {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        // SAFETY: nothing is moved out; `Gate` is only read and written
        // in place.
        let this = unsafe { self.get_unchecked_mut() };
        let here = std::ptr::addr_of!(this.marker) as usize;
        assert_eq!(*this.seen_at.get_or_insert(here), here, "the body moved while pinned");
        let mut shared = this.shared.lock().unwrap();
        if shared.0 {
            return Poll::Ready(this.marker);
        }
        shared.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn a_body_is_polled_in_place_and_woken_from_another_thread() {
    let shared = Arc::new(Mutex::new((false, None::<Waker>)));
    let (kept, keep) = mpsc::channel::<Waker>();
    let lp = EventLoop::new().unwrap();
    let value = lp
        .run_until_complete(async {
            let task = aio::create_task(Gate { shared: shared.clone(), marker: 7, seen_at: None });
            aio::sleep(Duration::ZERO).await.unwrap();
            let waker = shared.lock().unwrap().1.clone().expect("the task ran and left its waker");
            let opener = shared.clone();
            let thread = std::thread::spawn(move || {
                opener.lock().unwrap().0 = true;
                let copy = waker.clone();
                waker.wake();
                kept.send(copy).unwrap();
            });
            let value = task.await.unwrap();
            thread.join().unwrap();
            value
        })
        .unwrap();
    assert_eq!(value, 7);
    // The task is gone, then its loop: its waker still wakes nothing,
    // from here and from another thread.
    let waker = keep.recv().unwrap();
    waker.wake_by_ref();
    lp.close().unwrap();
    drop(lp);
    std::thread::spawn(move || waker.wake()).join().unwrap();
}

#[test]
fn closing_drops_unfinished_bodies_and_ends_their_tasks_cancelled() {
    let dropped = Rc::new(Cell::new(false));
    let lp = EventLoop::new().unwrap();
    let flag = Flag(dropped.clone());
    let task = lp.create_task(async move {
        let _flag = flag;
        std::future::pending::<()>().await;
    });
    lp.run_until_complete(aio::sleep(Duration::ZERO)).unwrap().unwrap();
    assert_eq!(task.state(), TaskState::Running);
    assert!(!dropped.get());
    lp.close().unwrap();
    assert!(dropped.get(), "the body was dropped with the loop");
    assert_eq!(task.state(), TaskState::Cancelled);
}

#[test]
fn a_cancelled_task_drops_its_body_where_it_waits() {
    let dropped = Rc::new(Cell::new(false));
    let flag = Flag(dropped.clone());
    aio::run(async move {
        let task = aio::create_task(async move {
            let _flag = flag;
            // Not an `aio` await: the cancellation drops the body here.
            std::future::pending::<()>().await;
        });
        aio::sleep(Duration::ZERO).await.unwrap();
        task.cancel_with("stop");
        assert!(task.await.is_err());
    })
    .unwrap();
    assert!(dropped.get());
}

#[test]
fn handles_outlive_the_registry_and_the_registry_outlives_handles() {
    aio::run(async {
        // Handles dropped before the task runs: the registry keeps it.
        let seen = Rc::new(Cell::new(0));
        for n in 1..=3 {
            let seen = seen.clone();
            drop(aio::create_task(async move { seen.set(seen.get() + n) }));
        }
        // A handle kept past the end: it keeps the cell.
        let kept = aio::create_task(async { String::from("kept") });
        aio::sleep(Duration::ZERO).await.unwrap();
        aio::sleep(Duration::ZERO).await.unwrap();
        assert_eq!(seen.get(), 6);
        assert!(kept.is_done());
        assert_eq!(kept.await.unwrap(), "kept");
    })
    .unwrap();
}

#[test]
fn sleeps_and_timeouts_fire_and_cancel_their_timers() {
    aio::run(async {
        let sleepers: Vec<_> = (1..=4u64)
            .map(|n| aio::create_task(async move { aio::sleep(Duration::from_millis(n)).await.map(|()| n) }))
            .collect();
        // A timeout that does not expire drops its timer early.
        let quick = aio::timeout(Duration::from_secs(60), async { 5 }).await;
        assert_eq!(quick, Ok(5));
        let woke: Vec<u64> = aio::gather(sleepers).await.unwrap().into_iter().map(Result::unwrap).collect();
        assert_eq!(woke, [1, 2, 3, 4]);
    })
    .unwrap();
}
