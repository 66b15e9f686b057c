//! The one reading of a panic payload that every part of concur uses: a
//! thread's [`Panicked`](super::Panicked), a pool's failed future, an `aio`
//! task's error, a worker's failed task.

use std::any::Any;

/// The message of a panic payload, as [`std::panic::catch_unwind`] and
/// [`std::thread::JoinHandle::join`] return it: `panic!` with a literal
/// gives a `&str`, with a format string a `String`; any other payload
/// (from `std::panic::panic_any`) has no message, and this says so.
///
/// # Examples
///
/// ```
/// use concur::thread::panic_message;
///
/// let payload = std::panic::catch_unwind(|| panic!("disk {} is full", 2)).unwrap_err();
/// assert_eq!(panic_message(&*payload), "disk 2 is full");
/// let payload = std::panic::catch_unwind(|| std::panic::panic_any(42)).unwrap_err();
/// assert_eq!(panic_message(&*payload), "a panic without a message");
/// ```
///
/// # Python
///
/// `str(exc)` of the exception `threading.excepthook` or
/// `Future.exception()` hands over.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
