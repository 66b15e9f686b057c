//! Thread-local values owned by an object: one value per thread, made the
//! first time each thread asks.
//!
//! Sometimes every thread needs its *own* copy of something that the code
//! treats as one variable: a database connection, a scratch buffer, a random
//! number generator, a per-thread counter. Passing it down every call is
//! tedious; sharing one copy behind a lock serialises the threads. A
//! [`ThreadLocal`] is one object, shared by all threads (in an `Arc`, a
//! struct field, a static), that holds a separate value for each thread:
//! [`get`](ThreadLocal::get) returns the calling thread's value, creating it
//! with the `init` function the first time that thread asks. No thread ever
//! sees another live thread's value, so the value itself needs no lock — a
//! `Cell` or `RefCell` is enough to change it.
//!
//! Rust's own `thread_local!` macro declares a *static*: one per program,
//! fixed at compile time. A `ThreadLocal` is a value: make as many as you
//! like at run time, store one in a struct, and when it is dropped every
//! thread's value is dropped with it. The owner can also visit all threads'
//! values at once, through [`iter`](ThreadLocal::iter),
//! [`iter_mut`](ThreadLocal::iter_mut) or by value, for example to add up
//! per-thread counters.
//!
//! `ThreadLocal` wraps the `thread_local` crate's type of the same name,
//! which does the storage (a lock-free table indexed by a small per-thread
//! number). What this module adds is Python's shape: the initialiser is given
//! once, when the object is made, instead of at each call site, so that
//! `get()` takes no argument and every thread's value starts the same way.
//!
//! # Example
//!
//! Each worker keeps its own tally in the same `ThreadLocal`; the tallies
//! never mix, and the owner adds them up at the end. The workers are all
//! alive at once (the barrier sees to it), since a thread that starts after
//! another has exited may inherit its value (see *Python* below):
//!
//! ```
//! use std::cell::Cell;
//! use std::sync::{Arc, Barrier};
//! use concur::local::ThreadLocal;
//! use concur::thread;
//!
//! let tally = Arc::new(ThreadLocal::new(|| Cell::new(0_u32)));
//! // The main thread has not made a value, and never will in this example.
//! assert!(tally.try_get().is_none());
//! let all_counted = Arc::new(Barrier::new(4));
//! let handles: Vec<_> = (1..=4)
//!     .map(|n| {
//!         let (tally, all_counted) = (Arc::clone(&tally), Arc::clone(&all_counted));
//!         thread::spawn(move || {
//!             for _ in 0..n {
//!                 let mine = tally.get();
//!                 mine.set(mine.get() + 1);
//!             }
//!             all_counted.wait();
//!             // Only this thread's increments are here.
//!             tally.get().get()
//!         })
//!     })
//!     .collect();
//! let seen: Vec<u32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
//! assert_eq!(seen, [1, 2, 3, 4]);
//! assert!(tally.try_get().is_none());
//!
//! let tally = Arc::into_inner(tally).unwrap();
//! assert_eq!(tally.into_iter().map(Cell::into_inner).sum::<u32>(), 10);
//! ```
//!
//! # Python
//!
//! `threading.local()`: an object whose attributes are per thread. Python
//! creates a thread's attribute dictionary on first access (running the
//! subclass's `__init__`); `ThreadLocal::new(init)` plays the part of that
//! `__init__`. Two differences come from the `thread_local` crate and are
//! worth knowing:
//!
//! - **Values live until the `ThreadLocal` is dropped.** Python drops a
//!   thread's attributes when the thread ends; here the value of an exited
//!   thread stays in the table (and shows up in `iter`) until the owner goes.
//! - **A new thread may be handed the value of a thread that has exited.** The
//!   crate numbers threads with small integers that it recycles when a thread
//!   exits, and finds a value by that number. A thread started after another
//!   ended can therefore find the old value already there, and `init` does
//!   not run for it. This is the usual case, not a rare one: two threads run
//!   one after the other share a value. It is never the value of a thread
//!   that is still alive, so threads that overlap never see each other's.
//!   Where a fresh value matters, reset it when a thread starts its work, or
//!   keep [`current().ident()`](crate::thread::Thread::ident) beside the value
//!   and compare: concur's identifiers are never reused.

use std::fmt;
use std::iter::FusedIterator;

/// A value per thread, owned by this object, created on first use by each
/// thread with the `init` function given to [`new`](ThreadLocal::new).
///
/// `ThreadLocal<T>` is `Send` and `Sync` for any `T: Send`: share it between
/// threads by reference or in an `Arc`.
///
/// # Examples
///
/// The reference's example: the main thread and two workers each store a
/// name in the same object, and none sees another's. The workers overlap
/// (both are alive when they check), because a worker started after the
/// other had exited could inherit its value; see the [module
/// documentation](self).
///
/// ```
/// use std::cell::RefCell;
/// use std::sync::{Arc, Barrier};
/// use concur::local::ThreadLocal;
/// use concur::thread;
///
/// let local_data = Arc::new(ThreadLocal::new(|| RefCell::new(None::<String>)));
/// *local_data.get().borrow_mut() = Some("local_data".to_owned());
///
/// let both_named = Arc::new(Barrier::new(2));
/// let workers: Vec<_> = (0..2)
///     .map(|_| {
///         let (local_data, both_named) = (Arc::clone(&local_data), Arc::clone(&both_named));
///         thread::spawn(move || {
///             // Nothing from the main thread leaks in.
///             assert_eq!(*local_data.get().borrow(), None);
///             let me = thread::current().name().to_owned();
///             *local_data.get().borrow_mut() = Some(me.clone());
///             both_named.wait();
///             // Nor from the other worker, which has set its own by now.
///             assert_eq!(local_data.get().borrow().as_deref(), Some(me.as_str()));
///         })
///     })
///     .collect();
/// for worker in workers {
///     worker.join().unwrap();
/// }
///
/// // Nor does anything from the workers leak out.
/// assert_eq!(local_data.get().borrow().as_deref(), Some("local_data"));
/// ```
///
/// # Python
///
/// `threading.local()`. See the [module documentation](self) for how value
/// lifetimes differ.
pub struct ThreadLocal<T: Send> {
    values: thread_local::ThreadLocal<T>,
    init: Box<dyn Fn() -> T + Send + Sync>,
}

impl<T: Send> ThreadLocal<T> {
    /// An empty `ThreadLocal` whose threads' values will be made by `init`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::local::ThreadLocal;
    ///
    /// let buffer = ThreadLocal::new(|| Vec::<u8>::with_capacity(4096));
    /// assert!(buffer.get().capacity() >= 4096);
    /// ```
    ///
    /// # Python
    ///
    /// A `threading.local` subclass whose `__init__` is `init`.
    pub fn new<F>(init: F) -> ThreadLocal<T>
    where
        F: Fn() -> T + Send + Sync + 'static,
    {
        ThreadLocal { values: thread_local::ThreadLocal::new(), init: Box::new(init) }
    }

    /// The calling thread's value, made with `init` if this thread has none
    /// yet.
    ///
    /// If `init` itself calls `get` on the same `ThreadLocal`, the inner
    /// call's value is kept and the outer one is dropped.
    ///
    /// # Panics
    ///
    /// If `init` panics; the thread then still has no value, and the next
    /// `get` calls `init` again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use concur::local::ThreadLocal;
    ///
    /// let calls = ThreadLocal::new(|| Cell::new(0));
    /// calls.get().set(calls.get().get() + 1);
    /// calls.get().set(calls.get().get() + 1);
    /// assert_eq!(calls.get().get(), 2);
    /// ```
    ///
    /// # Python
    ///
    /// Reading an attribute of a `threading.local`, which first runs the
    /// subclass's `__init__` in a thread that has not touched it yet.
    pub fn get(&self) -> &T {
        self.values.get_or(|| (self.init)())
    }

    /// The calling thread's value, or `None` if this thread has not made one
    /// yet. Never calls `init`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::local::ThreadLocal;
    ///
    /// let session = ThreadLocal::new(|| String::from("guest"));
    /// assert_eq!(session.try_get(), None);
    /// session.get();
    /// assert_eq!(session.try_get().map(String::as_str), Some("guest"));
    /// ```
    ///
    /// # Python
    ///
    /// `hasattr(local, name)` and `getattr(local, name, None)`.
    pub fn try_get(&self) -> Option<&T> {
        self.values.get()
    }

    /// Visits every thread's value, the calling thread's included, in no
    /// particular order. Values of threads that have exited are visited too.
    ///
    /// `T` must be `Sync`, since the caller reads values other threads may be
    /// reading at the same time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// use concur::local::ThreadLocal;
    /// use concur::thread;
    ///
    /// let hits = Arc::new(ThreadLocal::new(|| AtomicU32::new(0)));
    /// for _ in 0..3 {
    ///     let hits = Arc::clone(&hits);
    ///     thread::spawn(move || hits.get().fetch_add(5, Ordering::Relaxed)).join().unwrap();
    /// }
    /// let total: u32 = hits.iter().map(|n| n.load(Ordering::Relaxed)).sum();
    /// assert_eq!(total, 15);
    /// ```
    pub fn iter(&self) -> Iter<'_, T>
    where
        T: Sync,
    {
        Iter { inner: self.values.iter() }
    }

    /// Visits every thread's value mutably. Holding `&mut self` proves no
    /// thread is using its value meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::sync::Arc;
    /// use concur::local::ThreadLocal;
    /// use concur::thread;
    ///
    /// let mut counts = Arc::new(ThreadLocal::new(|| Cell::new(0)));
    /// let worker = Arc::clone(&counts);
    /// thread::spawn(move || worker.get().set(8)).join().unwrap();
    /// counts.get().set(2);
    ///
    /// let counts = Arc::get_mut(&mut counts).unwrap();
    /// counts.iter_mut().for_each(|count| count.set(0));
    /// assert_eq!(counts.iter_mut().map(|count| count.get()).sum::<i32>(), 0);
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, T> {
        IterMut { inner: self.values.iter_mut() }
    }
}

impl<T: Send + Default + 'static> Default for ThreadLocal<T> {
    /// A `ThreadLocal` whose values start as `T::default()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use concur::local::ThreadLocal;
    ///
    /// let seen: ThreadLocal<Cell<u64>> = ThreadLocal::default();
    /// assert_eq!(seen.get().get(), 0);
    /// ```
    fn default() -> ThreadLocal<T> {
        ThreadLocal::new(T::default)
    }
}

impl<T: Send + fmt::Debug> fmt::Debug for ThreadLocal<T> {
    /// Shows the calling thread's value, if it has one; other threads' values
    /// may be in use and are not read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadLocal").field("current_thread", &self.try_get()).finish_non_exhaustive()
    }
}

impl<T: Send> IntoIterator for ThreadLocal<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    /// Takes every thread's value out, in no particular order.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::local::ThreadLocal;
    ///
    /// let names = ThreadLocal::new(|| concur::thread::current().name().to_owned());
    /// names.get();
    /// let all: Vec<String> = names.into_iter().collect();
    /// assert_eq!(all.len(), 1);
    /// ```
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { inner: self.values.into_iter() }
    }
}

impl<'a, T: Send + Sync> IntoIterator for &'a ThreadLocal<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;

    /// Same as [`ThreadLocal::iter`].
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::local::ThreadLocal;
    ///
    /// let ten = ThreadLocal::new(|| 10);
    /// ten.get();
    /// for value in &ten {
    ///     assert_eq!(*value, 10);
    /// }
    /// ```
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<'a, T: Send> IntoIterator for &'a mut ThreadLocal<T> {
    type Item = &'a mut T;
    type IntoIter = IterMut<'a, T>;

    /// Same as [`ThreadLocal::iter_mut`].
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::local::ThreadLocal;
    ///
    /// let mut word = ThreadLocal::new(|| String::from("per"));
    /// word.get();
    /// for value in &mut word {
    ///     value.push_str(" thread");
    /// }
    /// assert_eq!(word.get(), "per thread");
    /// ```
    fn into_iter(self) -> IterMut<'a, T> {
        self.iter_mut()
    }
}

/// Shared references to every thread's value of a [`ThreadLocal`]; made by
/// [`ThreadLocal::iter`].
///
/// # Examples
///
/// ```
/// use concur::local::ThreadLocal;
///
/// let local = ThreadLocal::new(|| 'x');
/// local.get();
/// assert_eq!(local.iter().collect::<Vec<_>>(), [&'x']);
/// ```
pub struct Iter<'a, T: Send + Sync> {
    inner: thread_local::Iter<'a, T>,
}

impl<'a, T: Send + Sync> Iterator for Iter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        self.inner.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T: Send + Sync> FusedIterator for Iter<'_, T> {}

impl<T: Send + Sync> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}

/// Mutable references to every thread's value of a [`ThreadLocal`]; made by
/// [`ThreadLocal::iter_mut`].
///
/// # Examples
///
/// ```
/// use concur::local::ThreadLocal;
///
/// let mut local = ThreadLocal::new(|| 1);
/// *local.get();
/// for value in local.iter_mut() {
///     *value += 1;
/// }
/// assert_eq!(*local.get(), 2);
/// ```
pub struct IterMut<'a, T: Send> {
    inner: thread_local::IterMut<'a, T>,
}

impl<'a, T: Send> Iterator for IterMut<'a, T> {
    type Item = &'a mut T;

    fn next(&mut self) -> Option<&'a mut T> {
        self.inner.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T: Send> ExactSizeIterator for IterMut<'_, T> {}

impl<T: Send> FusedIterator for IterMut<'_, T> {}

impl<T: Send> fmt::Debug for IterMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut").field("remaining", &self.inner.len()).finish()
    }
}

/// Every thread's value of a [`ThreadLocal`], taken out; made by its
/// `into_iter`.
///
/// # Examples
///
/// ```
/// use concur::local::ThreadLocal;
///
/// let local = ThreadLocal::new(|| vec![1, 2]);
/// local.get();
/// let mut values = local.into_iter();
/// assert_eq!(values.next(), Some(vec![1, 2]));
/// assert_eq!(values.next(), None);
/// ```
pub struct IntoIter<T: Send> {
    inner: thread_local::IntoIter<T>,
}

impl<T: Send> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.inner.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T: Send> ExactSizeIterator for IntoIter<T> {}

impl<T: Send> FusedIterator for IntoIter<T> {}

impl<T: Send> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter").field("remaining", &self.inner.len()).finish()
    }
}
