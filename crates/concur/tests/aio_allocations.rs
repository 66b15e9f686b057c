//! How many heap allocations the loop makes a task: one (the task's cell,
//! holding its state, future and result together), counted with a global
//! allocator that counts this thread's allocations. Once the loop's queues
//! have grown, create_task + gather of `n` tasks makes `n` allocations and
//! a few for the gather itself: not two or three a task, as when a task was
//! a tokio task plus the loop's own record of it.
//!
//! A count, not a timing: it holds on a busy machine.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use concur::aio;

struct Counting;

thread_local! {
    // `const` and without a destructor: reading it never allocates.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call goes straight to `System`; the count is a
// thread-local `Cell` that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as `alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: as `alloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Creates and gathers `n` trivial tasks; returns the allocations that
/// took, with the handles' `Vec` made beforehand.
async fn create_and_gather(n: usize) -> usize {
    let mut tasks = Vec::with_capacity(n);
    let before = allocations();
    for i in 0..n {
        tasks.push(aio::create_task(async move { i }));
    }
    let values = aio::gather(tasks).await.unwrap();
    let spent = allocations() - before;
    assert_eq!(values.len(), n);
    spent
}

#[test]
fn create_task_and_gather_allocate_once_a_task() {
    const N: usize = 10_000;
    let (warm, counted) = aio::run(async {
        // The first round grows the registry and the ready queue.
        let warm = create_and_gather(N).await;
        (warm, create_and_gather(N).await)
    })
    .unwrap();
    // The gather's own `Vec`s (its outcomes, the finished indices as they
    // come in) add a few dozen at most; two allocations a task would be
    // twice `N`.
    assert!(counted >= N, "fewer allocations than tasks ({counted} for {N}): is the counter counting?");
    assert!(counted <= N + 64, "{counted} allocations for {N} tasks (first round: {warm})");
}

#[test]
fn a_sleep_allocates_nothing_once_the_timers_have_grown() {
    const N: usize = 2_000;
    let spent = aio::run(async {
        let sleepers = |n: usize| async move {
            let mut tasks = Vec::with_capacity(n);
            for _ in 0..n {
                tasks.push(aio::create_task(aio::sleep(Duration::from_millis(1))));
            }
            let before = allocations();
            let woke = aio::gather(tasks).await.unwrap();
            assert!(woke.iter().all(Result::is_ok));
            allocations() - before
        };
        sleepers(N).await;
        sleepers(N).await
    })
    .unwrap();
    // The timers' entries and buckets are reused; what is left is the
    // gather's and the per-millisecond buckets' own `Vec`s.
    assert!(spent < N / 2, "{spent} allocations for {N} sleeps");
}
