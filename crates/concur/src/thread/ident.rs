//! The small integer that names the calling thread.
//!
//! `std::thread::ThreadId` cannot be turned into a number on stable Rust, and
//! `RLock` needs one it can store in an atomic to record its owner. Each thread
//! takes the next number from a global counter the first time it asks, so
//! identifiers are never reused within a process (Python may reuse `ident`
//! after a thread exits; concur never does).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_IDENT: AtomicU64 = AtomicU64::new(1);

crate::loom::thread_local! {
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
        // Relaxed is enough: the counter only has to hand out distinct values.
        let ident = NEXT_IDENT.fetch_add(1, Ordering::Relaxed);
        cell.set(ident);
        ident
    })
}
