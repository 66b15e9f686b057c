//! [`Event`]: a flag tasks wait on.

use std::cell::Cell;
use std::fmt;

use super::wait_queue::{Parked, WaitQueue};
use crate::aio::error::Cancelled;

/// A flag tasks wait on: [`wait`](Self::wait) pauses until the flag is set;
/// [`set`](Self::set) wakes every waiting task at once.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use concur::aio::{self, Event};
///
/// let ran = aio::run(async {
///     let start = Rc::new(Event::new());
///     let runners: Vec<_> = (0..3)
///         .map(|n| {
///             let start = start.clone();
///             aio::create_task(async move {
///                 start.wait().await?; // all three wait for the signal
///                 Ok::<_, aio::Cancelled>(n)
///             })
///         })
///         .collect();
///     aio::sleep(std::time::Duration::from_millis(1)).await.unwrap();
///     assert!(runners.iter().all(|r| !r.is_done()));
///     start.set();
///     aio::gather(runners).await.unwrap()
/// })
/// .unwrap();
/// assert_eq!(ran.into_iter().collect::<Result<Vec<_>, _>>().unwrap(), [0, 1, 2]);
/// ```
///
/// # Python
///
/// `asyncio.Event()`.
#[derive(Default)]
pub struct Event {
    set: Cell<bool>,
    waiters: WaitQueue,
}

impl Event {
    /// Creates an event whose flag is not set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur::aio::Event::new().is_set());
    /// ```
    ///
    /// # Python
    ///
    /// `asyncio.Event()`.
    pub fn new() -> Event {
        Event::default()
    }

    /// Sets the flag and wakes every task waiting. Tasks that call
    /// [`wait`](Self::wait) while it is set do not pause.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = concur::aio::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    ///
    /// # Python
    ///
    /// `event.set()`.
    pub fn set(&self) {
        if !self.set.replace(true) {
            self.waiters.wake_unwoken(usize::MAX);
        }
    }

    /// Clears the flag: later calls to [`wait`](Self::wait) pause until the
    /// next [`set`](Self::set). Tasks a `set` already woke still return.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = concur::aio::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    ///
    /// # Python
    ///
    /// `event.clear()`.
    pub fn clear(&self) {
        self.set.set(false);
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur::aio::Event::new().is_set());
    /// ```
    ///
    /// # Python
    ///
    /// `event.is_set()`.
    pub fn is_set(&self) -> bool {
        self.set.get()
    }

    /// Pauses the task until the flag is set; returns at once if it is set.
    ///
    /// A task woken by [`set`](Self::set) returns even if the flag was
    /// cleared again before it ran.
    ///
    /// # Errors
    ///
    /// [`Cancelled`] if the task is cancelled while it waits (or before it
    /// starts to).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use concur::aio::{self, Event};
    ///
    /// aio::run(async {
    ///     let ready = Rc::new(Event::new());
    ///     let setter = ready.clone();
    ///     aio::running_loop().unwrap().call_soon(move || setter.set());
    ///     ready.wait().await?;
    ///     assert!(ready.is_set());
    ///     Ok::<_, aio::Cancelled>(())
    /// })
    /// .unwrap()
    /// .unwrap();
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a cancelled or dropped `wait` leaves the queue and takes
    /// nothing from the other waiters.
    ///
    /// # Python
    ///
    /// `await event.wait()`, which returns `True`; here `Ok(())`.
    pub async fn wait(&self) -> Result<(), Cancelled> {
        Parked::new(&self.waiters, Some(&self.set)).await
    }

    /// How many tasks wait in [`wait`](Self::wait), counting those a `set`
    /// woke that have not run yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use concur::aio::{self, Event};
    ///
    /// aio::run(async {
    ///     let event = Rc::new(Event::new());
    ///     let other = event.clone();
    ///     let waiter = aio::create_task(async move { other.wait().await });
    ///     aio::sleep(std::time::Duration::ZERO).await.unwrap();
    ///     assert_eq!(event.waiters(), 1);
    ///     event.set();
    ///     waiter.await.unwrap().unwrap();
    ///     assert_eq!(event.waiters(), 0);
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Python
    ///
    /// `len(event._waiters)`, shown by `repr(event)` as `waiters:N`.
    pub fn waiters(&self) -> usize {
        self.waiters.len()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("set", &self.is_set()).field("waiters", &self.waiters()).finish()
    }
}
