//! Lending a future that borrows from its caller to a task, which must be
//! `'static`.
//!
//! [`EventLoop::run_until_complete`](super::EventLoop::run_until_complete)
//! runs its future as a task of the loop, in its turn with the others, as
//! Python's does; but the future may borrow from the caller's stack, and a
//! tokio task must be `'static`. [`lend`] gives the task a [`Lent`] future
//! that polls the borrowed one through a shared slot, and empties the slot
//! — dropping the borrowed future — before it returns or unwinds. A `Lent`
//! that outlives the call finds the slot empty and never touches the
//! borrows again.
//!
//! The scope is a closure rather than a guard the caller keeps, so that no
//! caller can leak the guard (`mem::forget`) and leave the borrowed future
//! reachable after its borrows end: the same reason `std::thread::scope`
//! takes a closure. The one `unsafe` block is checked by miri: `scripts/test`
//! runs this module's tests and `tests/aio_borrowed_main.rs`, which ends a
//! real loop's call every way it can end, under it.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

type Erased = Pin<Box<dyn Future<Output = ()>>>;

/// The `'static` stand-in for a borrowed future, to be run as a task.
pub(super) struct Lent {
    slot: Rc<RefCell<Option<Erased>>>,
}

impl Future for Lent {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &mut *self.slot.borrow_mut() {
            Some(body) => body.as_mut().poll(cx),
            // The lending call has returned: the future is gone.
            None => Poll::Ready(()),
        }
    }
}

/// Calls `within` with a [`Lent`] future that polls `body`; `body` is
/// dropped before this returns or unwinds, wherever the `Lent` went.
pub(super) fn lend<'a, R>(body: Pin<Box<dyn Future<Output = ()> + 'a>>, within: impl FnOnce(Lent) -> R) -> R {
    // SAFETY: the erased future stays reachable only through `slot`, which
    // `_empty` empties (dropping the future) before this function returns
    // or unwinds, and so before `'a` ends: `within` cannot end `'a`, since
    // `'a` outlives this call. A `Lent` kept longer sees an empty slot. The
    // future cannot hand its borrows to anything longer-lived itself: what
    // it can reach is bound by `'a` as before. Only the type's lifetime
    // changes: the vtable and the box are the same.
    let erased = unsafe { std::mem::transmute::<Pin<Box<dyn Future<Output = ()> + 'a>>, Erased>(body) };
    let slot = Rc::new(RefCell::new(Some(erased)));
    let _empty = EmptyOnExit(slot.clone());
    within(Lent { slot })
}

struct EmptyOnExit(Rc<RefCell<Option<Erased>>>);

impl Drop for EmptyOnExit {
    fn drop(&mut self) {
        // Taken out first and dropped after the slot's borrow ends, so that
        // whatever the future's drop runs finds the slot free and empty.
        let body = self.0.borrow_mut().take();
        drop(body);
    }
}

#[cfg(test)]
mod tests {
    //! Run under miri by `scripts/test`: each case leaves a `Lent` alive
    //! past the borrow it stood for, or unwinds through `lend`, where a
    //! slot left full would be a use after free.

    use std::cell::{Cell, RefCell};
    use std::future::Future;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    use super::{lend, Lent};

    fn poll(lent: &mut Lent) -> Poll<()> {
        Pin::new(lent).poll(&mut Context::from_waker(Waker::noop()))
    }

    /// Pending once, then ready.
    fn yield_once() -> impl Future<Output = ()> {
        let mut yielded = false;
        std::future::poll_fn(move |cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
    }

    #[test]
    fn a_lent_future_writes_through_its_borrow() {
        let mut seen = Vec::new();
        let body = Box::pin(async {
            seen.push(1);
            yield_once().await;
            seen.push(2);
        });
        lend(body, |mut lent| {
            assert_eq!(poll(&mut lent), Poll::Pending);
            assert_eq!(poll(&mut lent), Poll::Ready(()));
        });
        assert_eq!(seen, [1, 2]);
    }

    #[test]
    fn a_lent_future_that_outlives_the_call_never_touches_the_borrow() {
        let kept = RefCell::new(None);
        {
            let text = String::from("on the caller's stack");
            let read = Cell::new(0);
            let body = Box::pin(async {
                loop {
                    read.set(read.get() + text.len());
                    yield_once().await;
                }
            });
            lend(body, |mut lent| {
                assert_eq!(poll(&mut lent), Poll::Pending);
                *kept.borrow_mut() = Some(lent);
            });
            assert_eq!(read.get(), text.len());
        }
        // `text` and `read` are gone: the lent future must not reach them.
        let mut lent = kept.borrow_mut().take().unwrap();
        assert_eq!(poll(&mut lent), Poll::Ready(()));
    }

    #[test]
    fn the_borrowed_future_is_dropped_before_lend_returns() {
        struct Flag<'a>(&'a Cell<bool>);
        impl Drop for Flag<'_> {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let dropped = Cell::new(false);
        let flag = Flag(&dropped);
        let body = Box::pin(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        let lent = lend(body, |mut lent| {
            assert_eq!(poll(&mut lent), Poll::Pending);
            assert!(!dropped.get());
            lent
        });
        assert!(dropped.get());
        drop(lent);
    }

    #[test]
    fn an_unwinding_call_still_empties_the_slot() {
        let kept = RefCell::new(None);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let text = String::from("gone after the panic");
            let body = Box::pin(async {
                loop {
                    assert!(!text.is_empty());
                    yield_once().await;
                }
            });
            lend(body, |mut lent| {
                assert_eq!(poll(&mut lent), Poll::Pending);
                *kept.borrow_mut() = Some(lent);
                panic!("the caller unwinds");
            })
        }));
        assert!(outcome.is_err());
        let mut lent = kept.borrow_mut().take().unwrap();
        assert_eq!(poll(&mut lent), Poll::Ready(()));
    }
}
