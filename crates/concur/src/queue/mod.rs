//! Queues: the safe way to hand work and results between threads — and
//! between threads and async tasks.
//!
//! A queue turns shared state into messages. Producers `put` items, consumers
//! `get` them; the queue does all the locking, so neither side touches the
//! other's data. A bounded queue also applies back-pressure: a producer that
//! runs ahead waits for room. And every item counts as a
//! *task* until a consumer calls `task_done`, so `join` can wait until all the
//! work is finished, not merely taken.
//!
//! | kind | order | Python |
//! |---|---|---|
//! | [`Queue`] | first in, first out | `queue.Queue` |
//! | [`LifoQueue`] | last in, first out | `queue.LifoQueue` |
//! | [`PriorityQueue`] | lowest first, ties in arrival order | `queue.PriorityQueue` |
//! | [`SimpleQueue`] | first in, first out; unbounded, no task tracking | `queue.SimpleQueue` |
//!
//! All four are one engine with a different store, so they behave alike in
//! everything but order.
//!
//! # Making a queue: the size
//!
//! | constructor | holds | Python |
//! |---|---|---|
//! | `unbounded()` | any number of items | `Queue()`, `Queue(maxsize=0)` |
//! | `bounded(n)`, `n ≥ 1` | at most `n` items; `put` waits for room | `Queue(maxsize=n)` |
//! | `bounded(0)` | refused: [`ZeroCapacity`] | — |
//! | `with_maxsize(n)` | Python's rule: `n` items, or no limit for `0` | `Queue(maxsize=n)` |
//!
//! The one number means opposite things to the two readers this crate
//! serves. To a Python programmer `maxsize=0` is "no limit"; to a Rust
//! programmer who knows crossbeam or flume, `bounded(0)` is a rendezvous
//! channel, where every send waits for a receiver. A constructor that took
//! a bare number would surprise one of them. So the names say which rule
//! applies: `unbounded` and `bounded` are the Rust spellings, and
//! `bounded(0)` is an error rather than either meaning (Python has no
//! rendezvous queue to mirror); `with_maxsize` is the Python spelling, kept
//! because a size often arrives as a number in Python's form — a setting, a
//! ported constant — and it is documented as following Python's rule.
//! [`capacity`](Queue::capacity) answers `None` for no limit where Python's
//! `maxsize` says 0.
//!
//! A bare number with no rule attached does not compile:
//!
//! ```compile_fail
//! let q = concur::queue::Queue::<u8>::new(0); // error: no `new`; say `unbounded()` or `bounded(n)`
//! ```
//!
//! # Threads and async tasks on one queue
//!
//! Python's `queue.Queue` blocks threads and `asyncio.Queue` serves
//! coroutines, and neither can stand in for the other. Here every queue has
//! both: `put` / `get` / `join` block the calling thread, and `put_async` /
//! `get_async` / `join_async` wait inside an async task, on any executor. A
//! thread pool can feed an event loop through one queue, or the other way
//! round.
//!
//! ```
//! use std::sync::Arc;
//! use concur::queue::Queue;
//!
//! let jobs = Arc::new(Queue::bounded(4).unwrap());
//! let results = Arc::new(Queue::unbounded());
//!
//! // An async worker on a tokio runtime...
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let (j, r) = (jobs.clone(), results.clone());
//! let worker = std::thread::spawn(move || {
//!     rt.block_on(async {
//!         while let Ok(n) = j.get_async().await {
//!             r.put_async(n * 10).await.unwrap();
//!             j.task_done().unwrap();
//!         }
//!     })
//! });
//!
//! // ...fed by plain threads.
//! for n in 1..=5 {
//!     jobs.put(n).unwrap();
//! }
//! jobs.join(); // every job handled
//! jobs.shutdown(); // ends the worker's loop
//! worker.join().unwrap();
//! assert_eq!(results.drain().sum::<i32>(), 150);
//! ```
//!
//! # Shutting down
//!
//! [`Queue::shutdown`] follows Python 3.13: afterwards every `put` fails with
//! [`ShutDown`] (the item handed back), `get` hands out what is left and then
//! fails, and every blocked caller wakes. [`Queue::shutdown_immediate`]
//! (Python's `shutdown(immediate=True)`) also throws the items left away and
//! marks them done, so `join` can return: two named calls where Python has a
//! flag, since `shutdown(true)` would not say what `true` means.
//!
//! ```compile_fail
//! let q = concur::queue::Queue::<u8>::unbounded();
//! q.shutdown(true); // error: say `shutdown_immediate()`
//! ```
//!
//! Iterating over a queue (`for item in &queue`) calls `get` until the
//! shutdown.
//!
//! A queue cannot be dropped while a thread or task waits on it: every wait
//! borrows the queue, so the compiler rules it out, and a shared queue lives
//! in an `Arc` until its last user is gone.
//!
//! # Errors carry the item back
//!
//! A `put` that cannot place its item returns it inside the error
//! ([`PutError::Full`], [`PutError::ShutDown`], [`ShutDown`]), as
//! crossbeam's channels do: nothing given to a queue is lost.
//!
//! # Python
//!
//! Rust names follow Rust's conventions; each Python name is a rustdoc
//! search alias of its method, so searching `qsize` finds `len`.
//!
//! | Python `queue` | concur |
//! |---|---|
//! | `Queue(maxsize)` | `unbounded()`, `bounded(n)`, `with_maxsize(maxsize)` (see above) |
//! | `put(item)`, `get()` | `put`, `get` (`Err` only after a shutdown) |
//! | `put(item, timeout=t)`, `get(timeout=t)` | `put_timeout`, `get_timeout` |
//! | `put_nowait`, `get_nowait` | `try_put`, `try_get` |
//! | `Full`, `Empty`, `ShutDown` | [`PutError`], [`GetError`], [`ShutDown`] |
//! | `task_done()`, `join()` | `task_done` ([`TaskDoneError`] when called too often), `join`, `join_timeout` |
//! | `qsize()`, `empty()`, `full()`, `maxsize` | `len`, `is_empty`, `is_full`, `capacity` (`None` for no limit) |
//! | `shutdown()`, `shutdown(immediate=True)` | `shutdown`, `shutdown_immediate` |
//! | `asyncio.Queue` | the `_async` methods of the same queue |
//!
//! # Where the time goes
//!
//! Measured with `cargo bench -p concur --bench queue` (peers in the same
//! run), `perf record -e cpu-clock` (this machine's VM has no hardware
//! counters) and `valgrind --tool=callgrind` for instruction counts.
//!
//! - **Task tracking was the cost.** A `Queue` counts every put for `join`.
//!   Kept as one shared atomic beside the items, that is a second locked
//!   read-modify-write per put on a line both sides write; with it, put +
//!   get of 1,000 items on one thread took `Queue::unbounded` about 15 %
//!   longer than `SimpleQueue`. No `Queue` pays it now: the tails of its
//!   ring and of its list count the puts, and `task_done` keeps its own
//!   count (`tasks.rs`, `ring.rs`, `list.rs`), so a put is the store's work
//!   and nothing more — on one
//!   thread the same time as `crossbeam_channel::bounded`, and under
//!   `perf` both spend four fifths of a transfer on the same two things,
//!   the compare-exchange of the head or tail and the slot's stamp, lines
//!   that move between the cores. `join` pays instead: it reads two words.
//! - **Calls, not work.** `put` and `get` used to enter the waiting code
//!   (`put_until`, with its back-off and listener in the frame) on every
//!   call; callgrind put that at a fifth of an uncontended put's
//!   instructions. The first try is now inline and the waiting out of line.
//! - **The priority queue's heap** moved items by swaps, three moves a
//!   level where std's moves one; see `ranking.rs` for that profile. What
//!   is left over `BinaryHeap` under a mutex (0.6× of it) is the arrival
//!   number that keeps equal items in order: a `BinaryHeap` of
//!   `(key, arrival)` pairs, which pays the same, measures no faster than
//!   `PriorityQueue` in the same run.
//! - **The unbounded list** (`SimpleQueue`, `Queue::unbounded`) was
//!   `concurrent-queue`'s, which yields the thread where crossbeam spins;
//!   it is now crossbeam's algorithm in a store of concur's own. Measured in
//!   alternating pairs of transfers — criterion's one-function-at-a-time
//!   runs are at the mercy of a two-state machine here (see
//!   `benches/queue.rs`) — `SimpleQueue` runs at 1.14–1.18× crossbeam's
//!   unbounded channel with one producer and one consumer: the same
//!   algorithm, plus a spare block that spares a steady stream the
//!   allocator (0.86× without it). `list.rs` has the figures.
//! - **Waiting.** A blocked call spins and yields about ten times
//!   (crossbeam's back-off) before it sleeps on an `event_listener` event;
//!   a put or get with nobody asleep pays one load for the wake-up check
//!   (`signal.rs`).

mod engine;
mod error;
mod iter;
mod kinds;
mod list;
mod ranking;
mod ring;
mod sequence;
mod simple;
mod store;
mod tasks;

pub use error::{GetError, PutError, ShutDown, TaskDoneError, ZeroCapacity};
pub use iter::Iter;
pub use kinds::{LifoQueue, PriorityQueue, Queue};
pub use simple::SimpleQueue;
pub use store::Prioritized;
