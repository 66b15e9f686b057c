//! Threads: start them, name them, wait for them, and know which are alive.
//!
//! A thread is a second line of execution inside the same process, sharing
//! its memory. Threads pay off when work spends its time *waiting* — on a
//! socket, a disk, a sleep, a lock — since a waiting thread costs no CPU and
//! another can run meanwhile. Unlike in CPython, there is no global
//! interpreter lock here: threads running CPU-bound Rust code also run in
//! parallel, one per core.
//!
//! # The pieces
//!
//! - [`Builder`] sets a thread's name, daemon flag and stack size, then
//!   [`spawn`](Builder::spawn)s it with a closure, or
//!   [`spawn_run`](Builder::spawn_run)s an object implementing [`Run`].
//!   [`spawn`] and [`spawn_run`] are the shortcuts with default settings.
//! - [`JoinHandle`] is what spawning returns: [`join`](JoinHandle::join) waits
//!   and gives back the function's value (or a [`JoinError`] carrying the
//!   panic), [`join_timeout`](JoinHandle::join_timeout) waits a bounded time
//!   and says which came first, in a [`JoinStatus`].
//! - [`Timer`] calls a function on its own thread after a delay, unless
//!   [`cancel`](Timer::cancel)led first.
//! - [`Thread`] names any thread concur knows: spawned ones, the main thread,
//!   and threads made elsewhere ("dummy" threads) once they call [`current`].
//!   [`current`], [`main_thread`], [`enumerate`] and [`active_count`] read the
//!   registry of live threads.
//! - [`run`](crate::run) ends a program the way Python does: it waits for
//!   every thread that is not a daemon.
//!
//! Each thread has an [`ident`](Thread::ident), a number unique within the
//! process, known as soon as `spawn` returns; the locks of `concur::sync` use
//! it to record which thread holds them. As with Python's `start()`, `spawn`
//! returns once the new thread is running, not merely created.
//!
//! # Example
//!
//! Three downloads that mostly wait, run side by side, with their results
//! collected in order, and a daemon "heartbeat" thread that nobody waits for:
//!
//! ```
//! use std::time::Duration;
//! use concur::thread::{self, Builder};
//!
//! concur::run(|| {
//!     Builder::new()
//!         .name("heartbeat")
//!         .daemon(true)
//!         .spawn(|| loop {
//!             std::thread::sleep(Duration::from_millis(50));
//!         })
//!         .unwrap();
//!
//!     let handles: Vec<_> = ["a.txt", "b.txt", "c.txt"]
//!         .into_iter()
//!         .map(|file| {
//!             thread::spawn(move || {
//!                 // Stands for a network round trip.
//!                 std::thread::sleep(Duration::from_millis(30));
//!                 format!("{file} fetched by {}", thread::current().name())
//!             })
//!         })
//!         .collect();
//!     for handle in handles {
//!         println!("{}", handle.join().unwrap());
//!     }
//!     assert!(thread::enumerate().iter().any(|t| t.name() == "heartbeat"));
//! });
//! ```
//!
//! # Python
//!
//! | Python `threading` | concur |
//! |---|---|
//! | `Thread(target=f, name=n, daemon=d).start()` | `Builder::new().name(n).daemon(d).spawn(f)` |
//! | subclass `Thread`, override `run()` | `impl Run for T`, `Builder::spawn_run(obj)` |
//! | `t.join()` | `handle.join()`, which also returns `f`'s value or the panic |
//! | `t.join(timeout); t.is_alive()` | `handle.join_timeout(timeout)`, a [`JoinStatus`] |
//! | `Timer(interval, f).start()`, `cancel()` | [`Timer::start`], [`Builder::spawn_timer`], [`Timer::cancel`] |
//! | `t.name`, `t.ident`, `t.daemon`, `t.is_alive()` | `name()`, `ident()`, `is_daemon()`, `is_alive()` |
//! | `current_thread()`, `main_thread()` | [`current`], [`main_thread`] |
//! | `enumerate()`, `active_count()` | [`enumerate`], [`active_count`] |
//! | `threading.stack_size(n)` | `Builder::stack_size(n)`, per thread |
//! | the interpreter joining non-daemon threads at exit | [`concur::run(main)`](crate::run) |
//!
//! The differences: a spawned thread's name and daemon flag are fixed at
//! spawn time; `ident` is never reused; there is no "created but not started"
//! state (spawning starts the thread), so Python's errors for joining an
//! unstarted thread or starting one twice cannot happen; an exception is not
//! lost in `threading.excepthook` but returned by `join`. A Rust process ends
//! when `main` returns, daemon or not, unless `main` goes through
//! [`concur::run`](crate::run). Threads that are not concur's, like the test
//! harness's, are daemons (Python's dummy threads), so the threads they spawn
//! are daemons unless told otherwise.

mod builder;
mod handle;
mod ident;
mod panic;
mod registry;
mod run;
mod timer;

pub use builder::{spawn, spawn_run, Builder, Run, SpawnError};
pub use handle::{JoinError, JoinHandle, JoinStatus, Panicked};
pub(crate) use ident::current_ident;
pub use panic::panic_message;
pub use registry::{active_count, current, enumerate, main_thread, Thread};
pub use run::run;
pub use timer::Timer;

#[cfg(test)]
mod tests {
    use super::*;

    /// `ident()` must be what `current_ident()` says on that thread, since
    /// the locks record owners with `current_ident()`.
    #[test]
    fn ident_matches_current_ident_on_every_kind_of_thread() {
        let handle = spawn(|| (current().ident(), current_ident()));
        let expected = handle.ident();
        assert_eq!(handle.join().unwrap(), (expected, expected));

        let (dummy, raw) = std::thread::spawn(|| (current().ident(), current_ident())).join().unwrap();
        assert_eq!(dummy, raw);

        assert_eq!(current().ident(), current_ident());
    }
}
