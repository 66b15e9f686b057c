//! Nested locking. A bank transfer takes the account lock and calls
//! `withdraw` and `deposit`, which take the same lock again because they are
//! also called on their own. With a plain `Lock` the inner acquisition would
//! wait for ever for a lock its own thread holds (shown here with
//! `try_acquire`, which says so instead of hanging). An `RLock` lets its owner
//! re-enter, and refuses a release from any other thread.
//!
//! Run with `cargo run -p concur --example rlock_nested`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use concur::sync::{Lock, RLock, ReleaseError};
use concur::thread;

struct Accounts {
    lock: RLock,
    checking: AtomicI64,
    savings: AtomicI64,
}

impl Accounts {
    fn withdraw(&self, account: &AtomicI64, amount: i64) {
        let _held = self.lock.guard();
        account.fetch_sub(amount, Ordering::Relaxed);
    }

    fn deposit(&self, account: &AtomicI64, amount: i64) {
        let _held = self.lock.guard();
        account.fetch_add(amount, Ordering::Relaxed);
    }

    /// Holds the lock across both steps, so nobody sees the money in flight.
    fn transfer(&self, amount: i64) {
        let _held = self.lock.guard();
        self.withdraw(&self.checking, amount);
        self.deposit(&self.savings, amount);
    }
}

fn main() {
    // A plain Lock cannot be taken twice by the same thread.
    let plain = Lock::new().with_name("plain");
    plain.acquire();
    println!("Lock: a second acquire by the holder would block for ever; try_acquire says {}", plain.try_acquire());
    plain.release().expect("held");

    // An RLock can, and counts the levels.
    let accounts = Arc::new(Accounts {
        lock: RLock::new().with_name("accounts"),
        checking: AtomicI64::new(1_000),
        savings: AtomicI64::new(0),
    });
    let clerks: Vec<_> = (0..4)
        .map(|_| {
            let accounts = accounts.clone();
            thread::spawn(move || {
                for _ in 0..25 {
                    accounts.transfer(10);
                }
            })
        })
        .collect();
    for clerk in clerks {
        clerk.join().expect("a clerk does not panic");
    }
    let (checking, savings) = (accounts.checking.load(Ordering::Relaxed), accounts.savings.load(Ordering::Relaxed));
    println!("RLock: 100 nested transfers done; checking {checking}, savings {savings}, total {}", checking + savings);

    // Only the owner may release an RLock.
    accounts.lock.acquire();
    let other = accounts.clone();
    let refused = thread::spawn(move || other.lock.release()).join().expect("no panic");
    match refused {
        Err(ReleaseError::NotOwner(err)) => println!("another thread's release was refused: {err}"),
        other => println!("unexpected: {other:?}"),
    }
    accounts.lock.release().expect("the owner may release");
    println!("the owner's release succeeded; locked now: {}", accounts.lock.is_locked());
}
