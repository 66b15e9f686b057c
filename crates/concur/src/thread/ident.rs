//! The small integer that names the calling thread.
//!
//! `std::thread::ThreadId` cannot be turned into a number on stable Rust, and
//! `RLock` needs one it can store in an atomic to record its owner. Each thread
//! takes the next number from a global counter the first time it asks, so
//! identifiers are never reused within a process (Python may reuse `ident`
//! after a thread exits; concur never does).
//!
//! Two threads do not take a number the ordinary way:
//!
//! - The process's main thread always has [`MAIN_IDENT`]. Another thread can
//!   then build the main thread's [`Thread`](super::Thread) handle before the
//!   main thread has ever asked for its identifier, which `main_thread()`
//!   needs; a number drawn from the counter would only be known once the main
//!   thread drew it.
//! - A thread spawned by concur is handed its number by the spawning thread
//!   ([`next_ident`]) and [`adopt`]s it before running any user code, so the
//!   `JoinHandle` knows the new thread's `ident()` without waiting for the
//!   thread to start, and the thread sees the same value from inside.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// The identifier of the process's main thread.
pub(crate) const MAIN_IDENT: u64 = 1;

static NEXT_IDENT: AtomicU64 = AtomicU64::new(MAIN_IDENT + 1);

#[cfg(not(loom))]
std::thread_local! {
    static IDENT: Cell<u64> = const { Cell::new(0) };
}

// loom's macro has no `const` form, which clippy asks for outside loom.
#[cfg(loom)]
loom::thread_local! {
    static IDENT: Cell<u64> = Cell::new(0);
}

/// The calling thread's identifier: never 0, never shared with another thread.
#[inline]
pub(crate) fn current_ident() -> u64 {
    IDENT.with(|cell| {
        let ident = cell.get();
        if ident != 0 {
            return ident;
        }
        let ident = if is_main_os_thread() { MAIN_IDENT } else { next_ident() };
        cell.set(ident);
        ident
    })
}

/// A fresh identifier for a thread about to be spawned.
pub(crate) fn next_ident() -> u64 {
    // Relaxed is enough: the counter only has to hand out distinct values.
    NEXT_IDENT.fetch_add(1, Ordering::Relaxed)
}

/// Makes `ident` the calling thread's identifier. Called first thing on a
/// thread spawned by concur, before anything could ask for its identifier.
pub(crate) fn adopt(ident: u64) {
    IDENT.with(|cell| {
        debug_assert_eq!(cell.get(), 0, "a thread adopted an identifier twice");
        cell.set(ident);
    });
}

/// Whether the calling OS thread is the one the process started with.
#[cfg(all(not(loom), any(target_os = "linux", target_os = "android")))]
fn is_main_os_thread() -> bool {
    // SAFETY: gettid and getpid take no arguments, cannot fail and touch no
    // memory of ours. On Linux the main thread's thread id equals the
    // process id, and no other thread's does.
    unsafe { libc::gettid() == libc::getpid() }
}

/// Whether the calling OS thread is the one the process started with.
#[cfg(all(not(loom), not(any(target_os = "linux", target_os = "android"))))]
fn is_main_os_thread() -> bool {
    // The standard library names the thread that runs `main` "main"; a thread
    // another library spawned with that very name would be mistaken for it.
    std::thread::current().name() == Some("main")
}

/// Under loom every modelled thread lives on one OS thread, which may well be
/// the main one: none of them is the main thread.
#[cfg(loom)]
fn is_main_os_thread() -> bool {
    false
}
