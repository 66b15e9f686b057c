//! An asyncio-style event loop: tasks, timers and callbacks on one thread,
//! with Python's names and semantics, on tokio.
//!
//! A program does many things at once on one thread by writing each as a
//! future — work that pauses at each `.await` while it waits — and letting
//! an event loop switch between them. That suits work that mostly waits:
//! sockets, timers, other processes. An [`EventLoop`] runs futures as
//! [`Task`]s, runs callbacks soon ([`call_soon`](RunningLoop::call_soon))
//! or later ([`call_later`](RunningLoop::call_later)), and takes work from
//! other threads through a [`LoopHandle`].
//!
//! ```
//! use std::time::{Duration, Instant};
//! use concur::aio;
//!
//! let start = Instant::now();
//! let names = aio::run(async {
//!     // Three waits at once: the whole takes as long as the longest.
//!     let tasks = [300, 100, 200].map(|ms| {
//!         aio::create_task(async move {
//!             aio::sleep(Duration::from_millis(ms)).await?;
//!             Ok::<_, aio::Cancelled>(format!("waited {ms} ms"))
//!         })
//!     });
//!     aio::gather(tasks).await
//! })
//! .unwrap()
//! .unwrap();
//! assert_eq!(names[0].as_deref(), Ok("waited 300 ms"));
//! assert!(start.elapsed() < Duration::from_millis(600)); // not 300 + 100 + 200
//! ```
//!
//! # How it maps to Python
//!
//! | Python | concur |
//! |---|---|
//! | `asyncio.run(main())` | [`run`] |
//! | `loop.run_until_complete`, `run_forever`, `stop`, `close` | [`EventLoop`] methods of the same names |
//! | `loop.call_soon`, `call_later`, `call_at`, `call_soon_threadsafe` | the same, returning [`Handle`] / [`TimerHandle`] |
//! | `asyncio.create_task(coro, name=)` | [`create_task`]`(fut).with_name(..)` |
//! | `task.cancel()`, `cancel(msg)`, `done()`, `cancelled()` | [`Task::cancel`], [`Task::cancel_with`], [`Task::is_done`], [`Task::is_cancelled`]; [`Task::state`] gives [`TaskState`] |
//! | `task.result()`, `exception()`, `add_done_callback`, `remove_done_callback`, `get_name` | [`Task`] methods of the same names (`name`) |
//! | the task object, kept after `wait_for(task)` or `shield(task)` | [`Task::task_ref`] → [`TaskRef`] (`is_done`, `is_cancelled`, `exception`) |
//! | `loop.run_until_complete(task)` | [`EventLoop::run_until_complete`]: the value, or one [`Error`] (the loop's is [`Error::Loop`]) |
//! | `asyncio.sleep`, `gather`, `wait`, `wait_for`, `as_completed`, `shield` | [`sleep`], [`gather`], [`wait`], [`wait_for`], [`as_completed`], [`shield`]; each takes tasks or any future ([`IntoTask`]) |
//! | `asyncio.timeout` / `timeout_at`, `cm.when()`, `reschedule`, `expired` | [`timeout`] / [`timeout_at`] around a future; [`Timeout::handle`] → [`TimeoutHandle`] |
//! | `asyncio.TaskGroup`, `tg.create_task` from a task of the group | [`TaskGroup`] with [`TaskGroup::join`]; [`TaskGroup::handle`] → [`TaskGroupHandle`] |
//! | `loop.set_exception_handler`, `get_`, `call_`, `default_exception_handler` | [`RunningLoop`] methods of the same names, with an [`ExceptionContext`] |
//! | `asyncio.Lock`, `Event`, `Semaphore`, `BoundedSemaphore`, `Condition` | [`Lock`], [`Event`], [`Semaphore`], [`BoundedSemaphore`], [`Condition`] (fair, cancellation-safe) |
//! | `asyncio.to_thread`, `loop.run_in_executor(pool, f)` | [`to_thread`], [`run_in_executor`] on a [`ThreadPool`](crate::executor::ThreadPool) |
//! | `asyncio.run_coroutine_threadsafe(coro, loop)` | [`run_coroutine_threadsafe`]`(fut, &handle)` → a [`futures::ConcurrentFuture`](crate::futures::ConcurrentFuture) |
//! | a thread running `loop.run_forever()` | [`spawn_background`] |
//! | `CancelledError`, `TimeoutError`, the `ValueError` of `wait(set())` | [`Cancelled`], [`Error`], [`WaitError`] |
//! | `loop.set_debug(True)`, `PYTHONASYNCIODEBUG` | [`EventLoopBuilder::debug`], `CONCUR_AIO_DEBUG` |
//!
//! # Cancellation
//!
//! [`Task::cancel`] works as in Python: the task is handed a [`Cancelled`]
//! error at the `aio` await it is paused on, and may clean up, handle it, or
//! return it. A [`Cancelled`] that leaves the body (returned with `?`, say)
//! ends the task cancelled, as a `CancelledError` raised out of a coroutine
//! does; one the body drops has been handled, and the task ends done. Every
//! `aio` await that raises in Python gives such a live error here: awaiting
//! a cancelled task, [`gather`], [`Task::result`]. Values that only report
//! a cancellation (`gather(..).return_exceptions()`, [`Task::exception`])
//! do not cancel anyone.
//!
//! The error is the cancellation: keep it and the task ends cancelled, drop
//! it and the task has handled it. So the easy path, `?`, is the right one,
//! and anything that turns the error into something else — `.ok()`,
//! `.map_err(|_| ..)`, `let _ =`, `.is_err()` — swallows it:
//!
//! ```
//! use std::time::Duration;
//! use concur::aio::{self, Cancelled};
//!
//! aio::run(async {
//!     // Wrong: `map_err` drops the Cancelled; the task "handled" it, runs
//!     // on, and ends done with Err("stopped") as its value.
//!     let swallowed = aio::create_task(async {
//!         aio::sleep(Duration::from_secs(60)).await.map_err(|_| "stopped")
//!     });
//!     // Right: `?` returns the Cancelled itself; the task ends cancelled.
//!     let passed_on = aio::create_task(async {
//!         aio::sleep(Duration::from_secs(60)).await?;
//!         Ok::<_, Cancelled>(())
//!     });
//!     aio::sleep(Duration::ZERO).await.unwrap();
//!     swallowed.cancel();
//!     passed_on.cancel();
//!     let (swallowed_ref, passed_on_ref) = (swallowed.task_ref(), passed_on.task_ref());
//!     assert_eq!(swallowed.await, Ok(Err("stopped")));
//!     assert!(!swallowed_ref.is_cancelled());
//!     assert!(passed_on.await.unwrap_err().is_cancelled());
//!     assert!(passed_on_ref.is_cancelled());
//! })
//! .unwrap();
//! ```
//!
//! Awaiting a task passes a cancellation on to it, as Python's `cancel`
//! does to the future a task waits on. A task cancelled where it waits on a
//! future that knows nothing of `aio` (a tokio socket, say) cannot be handed
//! the error and is dropped there; wrap such futures in [`cancellable`] to
//! give them the error. [`timeout`] and [`wait_for`] cancel the task they run
//! in when time runs out and turn that cancellation into
//! [`TimeoutError::Elapsed`], as Python 3.11's `asyncio.timeout` does; their
//! error type has only the two cases they can end in, and converts into
//! [`Error`] for `?`.
//!
//! # Errors, once
//!
//! Given a [`Task`], [`EventLoop::run_until_complete`] answers its value or
//! one [`Error`]: the loop's failure ([`Error::Loop`]) and the task's
//! ([`Error::Cancelled`], [`Error::Panicked`]) are variants of the same
//! type, matched once. A future's own `Result` stays its own: a body that
//! returns `Result<T, aio::Error>` is passed on with one more `?`, which
//! `From<LoopError> for Error` makes work. Operations that can fail in only
//! a few ways say so in their type: [`wait`] gives [`WaitError`],
//! [`timeout`] and [`wait_for`] [`TimeoutError`], [`Gather::return_exceptions`]
//! and [`sleep`] only [`Cancelled`]; each converts into [`Error`].
//! [`TimeoutHandle::reschedule`] gives [`RescheduleError`].
//!
//! # What is not here
//!
//! Python's `contextvars` (a value copied into each task at
//! `create_task`) has no counterpart: a Rust future owns what it captures,
//! so a value passed into the `async move` block at `create_task` is that
//! copy already, and one shared on purpose is an `Rc` the block captures.
//! A task-local store beside that would be a second, implicit way to pass
//! values, which the type system could not check.
//!
//! # Debug mode
//!
//! With [`EventLoopBuilder::debug`] or `CONCUR_AIO_DEBUG=1`, the loop warns
//! through `tracing` about task steps and callbacks that hold the loop
//! longer than 100 ms (see [`EventLoopBuilder::slow_callback_duration`]) and
//! about tasks dropped without being awaited, naming the task. A task's
//! panic that nobody read, and a callback's panic, go to the loop's
//! exception handler ([`RunningLoop::set_exception_handler`]), which by
//! default logs them at error level, in any mode.
//!
//! In debug mode each task step runs in a `task` span (its field `name` is
//! the task's) and each callback in a `callback` span, both at warn level:
//! a slow-step warning (with `took_ms` and `threshold_ms`) sits in the span
//! of what was slow, and so does anything the step logs itself. The loop's
//! events have targets under `concur::aio`. The library installs no subscriber; a
//! program that uses `tracing-subscriber` with its `EnvFilter` sees them
//! with, for example:
//!
//! ```text
//! CONCUR_AIO_DEBUG=1 RUST_LOG=concur::aio=warn ./my-program
//! WARN task{name=fetcher}: concur::aio: a task step blocked the event loop took_ms=312 threshold_ms=100
//! ```
//!
//! # Threads
//!
//! A loop and its tasks stay on the loop's thread (tasks need not be
//! `Send`). Other threads use a [`LoopHandle`]: `call_soon_threadsafe`
//! runs callbacks one after another on the loop, and
//! `run_coroutine_threadsafe` runs futures as tasks, which overlap.

mod awaitable;
mod background;
mod blocking;
mod callback;
mod context;
mod error;
mod event_loop;
mod exception;
mod gather;
mod handle;
mod header;
mod lend;
mod remote;
mod sync;
mod task;
mod task_group;
mod time;
mod timers;
mod wait;

pub use awaitable::Awaitable;
pub use background::spawn_background;
pub use blocking::{run_in_executor, to_thread, ExecutorCall};
pub use callback::Handle;
pub use error::{Cancelled, Error, Failure, LoopError, TimeoutError, WaitError};
pub use event_loop::{all_tasks, create_task, run, running_loop, EventLoop, EventLoopBuilder, RunningLoop, DEBUG_ENV};
pub use exception::{default_exception_handler, ExceptionContext, ExceptionHandler};
pub use gather::{gather, shield, Gather, GatherAll, Shield};
pub use handle::{run_coroutine_threadsafe, LoopHandle};
pub use header::{current_task, TaskRef, TaskState};
pub use sync::{BoundedSemaphore, Condition, Event, Lock, LockGuard, Semaphore, SemaphoreGuard};
pub use task::{cancellable, Cancellable, IntoTask, Task, TaskFuture};
pub use task_group::{TaskGroup, TaskGroupError, TaskGroupHandle};
pub use time::{sleep, timeout, timeout_at, wait_for, RescheduleError, Sleep, Timeout, TimeoutHandle};
pub use timers::TimerHandle;
pub use wait::{as_completed, wait, AsCompleted, ReturnWhen};
