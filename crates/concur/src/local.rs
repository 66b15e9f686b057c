//! Thread-local values owned by an object: one value per thread, made the
//! first time each thread asks, dropped when that thread ends.
//!
//! Sometimes every thread needs its *own* copy of something that the code
//! treats as one variable: a database connection, a scratch buffer, a random
//! number generator, a per-thread counter. Passing it down every call is
//! tedious; sharing one copy behind a lock serialises the threads. A
//! [`ThreadLocal`] is one object, shared by all threads (in an `Arc`, a
//! struct field, a static), that holds a separate value for each thread:
//! [`with`](ThreadLocal::with) lends the calling thread its value, creating
//! it with the `init` function the first time that thread asks. No thread
//! ever sees another thread's value, so the value itself needs no lock — a
//! `Cell` or `RefCell` is enough to change it.
//!
//! Rust's own `thread_local!` macro declares a *static*: one per program,
//! fixed at compile time. A `ThreadLocal` is a value: make as many as you
//! like at run time, store one in a struct, and when it is dropped every
//! value still alive is dropped with it.
//!
//! # When values are dropped
//!
//! A thread's value is dropped when the thread ends, as Python drops a
//! thread's attributes of a `threading.local` — so a long-lived object used
//! by an endless stream of short-lived threads keeps only the values of the
//! threads alive now. For a thread spawned by [`concur::thread`](crate::thread)
//! this happens before the thread counts as finished: once `join`,
//! `join_timeout` or `is_alive` says it has ended, its values are gone. A
//! thread made elsewhere (`std::thread::spawn`) drops its values with its
//! other thread-locals, as it exits. The values of threads still running go
//! with the `ThreadLocal`, or come out of it by
//! [`into_iter`](ThreadLocal::into_iter).
//!
//! # Why `with` and not a reference
//!
//! A thread's value can be borrowed only inside a closure, as std's
//! `LocalKey::with` lends a `thread_local!`'s. A plain `&T` would be unsound
//! now that values die with their threads: with a `ThreadLocal` in a static
//! and a `T` that is `Sync`, a thread could send its `&'static T` to another
//! thread and end, leaving the other holding a reference to a dropped value.
//! A closure's borrow cannot leave the call, so it cannot outlive the
//! thread.
//!
//! # Example
//!
//! Each worker keeps its own tally in the same `ThreadLocal`. The workers run
//! one after another, each starting only when the previous one has exited,
//! and still every one starts from a fresh tally; each tally is dropped as
//! its worker ends.
//!
//! ```
//! use std::cell::Cell;
//! use std::sync::Arc;
//! use concur::local::ThreadLocal;
//! use concur::thread;
//!
//! let tally = Arc::new(ThreadLocal::new(|| Cell::new(0_u32)));
//! for n in 1..=4 {
//!     let tally = Arc::clone(&tally);
//!     let seen = thread::spawn(move || {
//!         assert_eq!(tally.with(Cell::get), 0, "a new thread starts afresh");
//!         for _ in 0..n {
//!             tally.with(|mine| mine.set(mine.get() + 1));
//!         }
//!         tally.with(Cell::get)
//!     })
//!     .join()
//!     .unwrap();
//!     // Only this thread's increments are there.
//!     assert_eq!(seen, n);
//! }
//! // The main thread has not made a value, and the workers' went with them.
//! assert!(tally.try_with(Cell::get).is_none());
//! assert_eq!(Arc::into_inner(tally).unwrap().into_iter().count(), 0);
//! ```
//!
//! # Why not the `thread_local` crate
//!
//! The `thread_local` crate has a type of the same name and a fast lock-free
//! table, but it finds a thread's value by a small thread number that it
//! hands to the next new thread once a thread exits. A thread started after
//! another has ended is therefore given the old thread's value, and `init`
//! never runs for it — the usual case, not a rare one: two threads run one
//! after the other share a value. It also keeps every value until the object
//! is dropped, since its `get` hands out plain references. Python promises
//! every thread a fresh namespace that ends with the thread, so this module
//! keys values by concur's own thread identifier
//! ([`Thread::ident`](crate::thread::Thread::ident)), which is never given to
//! a second thread of the process, and drops them as threads end.
//! Identifiers grow without bound, so they cannot index a table the way the
//! crate's small numbers do; they key a map instead.
//!
//! # How it works, and what it costs
//!
//! Each thread's value sits in its own heap allocation, which never moves
//! while the value lives; the object keeps a map from thread identifier to
//! those allocations behind a read-write lock. Taking that lock on every call
//! would make threads that call `with` at the same time fight over the
//! lock's cache line, each call slowed to tens of nanoseconds. So each thread
//! also keeps a cache of pointers to its own values, shared by all
//! `ThreadLocal`s and indexed by a small number that each object holds while
//! it lives (the way POSIX threads index thread-specific data by key). Each
//! entry carries the id of the object that wrote it, an id never given to a
//! second object, so an entry left by a dropped object is never mistaken for
//! one of the object that took over its number. A `with` after a thread's
//! first reads its entry, compares one integer and calls the closure: no
//! lock, no atomic operation, however many objects the thread goes between.
//! Only a thread's first call on an object looks in the map (and takes the
//! write lock to add its value, and notes the object in a list of its own,
//! for the end of the thread). `benches/local.rs` measures this beside the
//! `thread_local` crate and a plain `thread_local!`.
//!
//! When a thread ends it goes through that list: for each object still
//! alive it clears its cache entry, takes its value out of the map and drops
//! it, outside the lock (a value's `Drop` may use `ThreadLocal`s itself). A
//! value made during that — by a `Drop` that calls `with` — is dropped in
//! a further round, up to four, and after that, or once the thread's
//! thread-locals are being destroyed, lives on until its object is dropped.
//!
//! Memory: one value (plus a map entry) for every thread alive that called
//! `with` on the object. The caches: every thread of the process carries the
//! first 16 entries (256 bytes on a 64-bit target) whether it uses a
//! `ThreadLocal` or not; a thread that uses an object whose number is higher
//! grows its cache to that number, 16 bytes an entry. Numbers stay below the
//! most `ThreadLocal`s ever alive at once.
//!
//! # Python
//!
//! `threading.local()`: an object whose attributes are per thread. Python
//! creates a thread's attribute dictionary on first access (running the
//! subclass's `__init__`) and drops it when the thread ends;
//! `ThreadLocal::new(init)` plays the part of that `__init__`, every thread —
//! including one started after others have ended — begins with a value of
//! its own from `init`, and the value is dropped with its thread, as in
//! Python. Reading an attribute is [`with`](ThreadLocal::with);
//! `hasattr(local, name)` is [`try_with`](ThreadLocal::try_with).

use std::cell::{Cell, RefCell};
use std::collections::btree_map::{self, BTreeMap};
use std::fmt;
use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::RwLock;

use crate::thread::current_ident;

/// A value per thread, owned by this object, created on first use by each
/// thread with the `init` function given to [`new`](ThreadLocal::new), and
/// dropped when that thread ends.
///
/// `ThreadLocal<T>` is `Send` and `Sync` for any `T: Send`: share it between
/// threads by reference or in an `Arc`. (`T` need not be `Sync`: a thread
/// only ever reaches its own value, through [`with`](ThreadLocal::with).)
///
/// # Examples
///
/// The reference's example: the main thread and two workers each store a
/// name in the same object, and none sees another's — not even the second
/// worker, which starts after the first has exited.
///
/// ```
/// use std::cell::RefCell;
/// use std::sync::Arc;
/// use concur::local::ThreadLocal;
/// use concur::thread;
///
/// let local_data = Arc::new(ThreadLocal::new(|| RefCell::new(None::<String>)));
/// local_data.with(|name| *name.borrow_mut() = Some("local_data".to_owned()));
///
/// for name in ["t1", "t2"] {
///     let local_data = Arc::clone(&local_data);
///     let worker = thread::Builder::new().name(name).spawn(move || {
///         local_data.with(|mine| {
///             // Nothing from the main thread or an earlier worker leaks in.
///             assert_eq!(*mine.borrow(), None);
///             *mine.borrow_mut() = Some(thread::current().name().to_owned());
///             assert_eq!(mine.borrow().as_deref(), Some(name));
///         });
///     });
///     worker.unwrap().join().unwrap();
/// }
///
/// // Nor does anything from the workers leak out.
/// assert_eq!(local_data.with(|name| name.borrow().clone()).as_deref(), Some("local_data"));
/// ```
///
/// # Python
///
/// `threading.local()`. See the [module documentation](self) for how long
/// values live.
#[doc(alias = "threading.local")]
pub struct ThreadLocal<T: Send + 'static> {
    /// Where the threads' caches keep this object's values.
    key: Key,
    /// Every thread's value, shared with the threads that have one, so that
    /// an ending thread can drop its own.
    values: Arc<Values<T>>,
    init: Box<dyn Fn() -> T + Send + Sync>,
}

/// Every thread's value, by thread identifier.
///
/// The invariant the `unsafe` blocks below rely on: a slot is created by
/// its own thread and removed only by its own thread as it ends (or with
/// the whole map, by `into_iter` or by dropping the last `Arc`, when no
/// `ThreadLocal` is left to lend it); so while a thread runs a `with`
/// closure, its slot stays put and alive. Only shared references to a
/// value are ever made, and only on its own thread.
struct Values<T>(RwLock<BTreeMap<u64, Slot<T>>>);

// SAFETY: `&Values<T>` (through `&ThreadLocal<T>` on any thread, or an
// ending thread's `Weak`) lets a thread make, borrow and remove only its own
// value (`with`, `try_with`, `release`), and a shared borrow never leaves
// the `with` closure on the thread that made it: no `&T` crosses threads,
// so `T` need not be `Sync`. A value can be dropped, or moved out, on a
// thread other than its own (the last owner of the `Arc`, or `into_iter`),
// which is what `T: Send` allows; the map itself is behind a lock.
unsafe impl<T: Send> Sync for Values<T> {}
// SAFETY: as above; the values are owned through `Slot`s, which are `Send`
// for `T: Send`.
unsafe impl<T: Send> Send for Values<T> {}

/// What an ending thread needs of an object it holds a value in, whatever
/// the object's `T`.
trait Release: Send + Sync {
    /// Takes thread `ident`'s value out of the map and drops it, with no
    /// lock held.
    fn release(&self, ident: u64);
}

impl<T: Send> Release for Values<T> {
    fn release(&self, ident: u64) {
        let slot = self.0.write().remove(&ident);
        drop(slot);
    }
}

/// Where an object's values are found in every thread's cache.
///
/// The index is what makes the cache fast: a small number, unique among the
/// objects alive at the same time, so that a thread's cache is an array
/// indexed by it, as long as the most objects ever alive at once. It is
/// handed to a new object once its owner is dropped. The id tells the two
/// apart: unique for the life of the process, it marks each cache entry with
/// the object that wrote it, so that an entry left behind by a dropped object
/// is never taken for one of the object that inherited its index.
struct Key {
    index: usize,
    id: u64,
}

/// Indexes of dropped objects, to hand out again, and the next never used.
struct IndexPool {
    free: Vec<usize>,
    next: usize,
}

static INDEXES: parking_lot::Mutex<IndexPool> = parking_lot::Mutex::new(IndexPool { free: Vec::new(), next: 0 });

/// The source of `Key::id`. Starts at 1: 0 marks an empty cache entry. A
/// `u64` counting up by one cannot wrap in the life of a process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One thread's shortcut to its value in one `ThreadLocal`.
#[derive(Clone, Copy)]
struct CacheEntry {
    /// The `Key::id` of the object that wrote the entry, or 0 for none.
    owner: u64,
    /// This thread's value in that object, type erased: an entry is only read
    /// back by the object whose id it carries, which knows `T`.
    value: NonNull<()>,
}

const EMPTY: CacheEntry = CacheEntry { owner: 0, value: NonNull::dangling() };

/// How many entries of each thread's cache live in a fixed array. Most
/// programs have fewer `ThreadLocal`s alive at once, so all their lookups
/// take the fastest path; objects with a higher index use a growable vector.
const NEAR_ENTRIES: usize = 16;

// The near entries: a const thread-local without a destructor, the cheapest
// kind to reach (no state to check) and one that stays readable while the
// thread's other thread-locals are destroyed. Cells, not a `RefCell`, so
// reads check no borrow flag. The far entries need a destructor (to free the
// vector) and a `RefCell` (to grow it).
#[cfg(not(loom))]
std::thread_local! {
    static NEAR: [Cell<CacheEntry>; NEAR_ENTRIES] = const { [const { Cell::new(EMPTY) }; NEAR_ENTRIES] };
    static FAR: RefCell<Vec<CacheEntry>> = const { RefCell::new(Vec::new()) };
}

// Under loom many modelled threads share one OS thread, and with it the
// standard library's thread-locals; loom's keep them apart, like the
// identifiers they go with.
#[cfg(loom)]
loom::thread_local! {
    static NEAR: [Cell<CacheEntry>; NEAR_ENTRIES] = [const { Cell::new(EMPTY) }; NEAR_ENTRIES];
    static FAR: RefCell<Vec<CacheEntry>> = RefCell::new(Vec::new());
}

impl Key {
    fn new() -> Key {
        let index = {
            let mut pool = INDEXES.lock();
            pool.free.pop().unwrap_or_else(|| {
                pool.next += 1;
                pool.next - 1
            })
        };
        // Relaxed: the counter only has to hand out distinct numbers.
        Key { index, id: NEXT_ID.fetch_add(1, Ordering::Relaxed) }
    }

    /// The calling thread's value for this key, if its cache has it.
    #[inline]
    fn cached(&self) -> Option<NonNull<()>> {
        let entry =
            if self.index < NEAR_ENTRIES { NEAR.with(|near| near[self.index].get()) } else { self.cached_far()? };
        (entry.owner == self.id).then_some(entry.value)
    }

    /// The entry at an index past the near ones. None once the thread's far
    /// entries have been destroyed (the thread is exiting): the caller then
    /// looks in the map.
    fn cached_far(&self) -> Option<CacheEntry> {
        FAR.try_with(|far| far.try_borrow().ok()?.get(self.index - NEAR_ENTRIES).copied()).ok().flatten()
    }

    /// Records `value` as the calling thread's value for this key (unless
    /// the thread's far entries, where it would go, are already destroyed).
    fn remember(&self, value: NonNull<()>) {
        let entry = CacheEntry { owner: self.id, value };
        if self.index < NEAR_ENTRIES {
            NEAR.with(|near| near[self.index].set(entry));
            return;
        }
        let far_index = self.index - NEAR_ENTRIES;
        let _ = FAR.try_with(|far| {
            // The borrow cannot fail: nothing that borrows it calls out.
            if let Ok(mut far) = far.try_borrow_mut() {
                if far.len() <= far_index {
                    far.resize(far_index + 1, EMPTY);
                }
                far[far_index] = entry;
            }
        });
    }
}

impl Key {
    /// Clears the calling thread's cache entry at `index` if object `id`
    /// wrote it: its value is about to be dropped.
    fn forget(index: usize, id: u64) {
        let clear = |entry: &Cell<CacheEntry>| {
            if entry.get().owner == id {
                entry.set(EMPTY);
            }
        };
        if index < NEAR_ENTRIES {
            NEAR.with(|near| clear(&near[index]));
            return;
        }
        // Once the far entries are destroyed they are never read again.
        let _ = FAR.try_with(|far| {
            if let Ok(mut far) = far.try_borrow_mut() {
                if let Some(entry) = far.get_mut(index - NEAR_ENTRIES) {
                    if entry.owner == id {
                        *entry = EMPTY;
                    }
                }
            }
        });
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // Threads' entries for this key stay where they are, to be
        // overwritten by the index's next owner: their id no longer matches
        // any live object, so they are never read.
        INDEXES.lock().free.push(self.index);
    }
}

impl<T: Send + 'static> ThreadLocal<T> {
    /// An empty `ThreadLocal` whose threads' values will be made by `init`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::local::ThreadLocal;
    ///
    /// let buffer = ThreadLocal::new(|| Vec::<u8>::with_capacity(4096));
    /// assert!(buffer.with(Vec::capacity) >= 4096);
    /// ```
    ///
    /// # Python
    ///
    /// A `threading.local` subclass whose `__init__` is `init`.
    pub fn new<F>(init: F) -> ThreadLocal<T>
    where
        F: Fn() -> T + Send + Sync + 'static,
    {
        ThreadLocal { key: Key::new(), values: Arc::new(Values(RwLock::new(BTreeMap::new()))), init: Box::new(init) }
    }

    /// Calls `f` with the calling thread's value, made with `init` first if
    /// this thread has none yet, and returns what `f` returns.
    ///
    /// `init` runs with no lock held, so it may take its time, and other
    /// threads' calls go on meanwhile. It may even call `with` on the same
    /// `ThreadLocal`: the inner call makes and keeps the thread's value, and
    /// the outer call, finding that value there when its own `init` returns,
    /// drops the value it made and uses the inner one. (An `init` that
    /// *always* calls `with` recurses until the stack overflows.) `f` may
    /// call `with` again, on this object or any other.
    ///
    /// # Panics
    ///
    /// If `init` panics; the thread then still has no value, and the next
    /// `with` calls `init` again. A panic in `f` passes through.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use concur::local::ThreadLocal;
    ///
    /// let calls = ThreadLocal::new(|| Cell::new(0));
    /// calls.with(|n| n.set(n.get() + 1));
    /// calls.with(|n| n.set(n.get() + 1));
    /// assert_eq!(calls.with(Cell::get), 2);
    /// ```
    ///
    /// # Python
    ///
    /// Reading or setting an attribute of a `threading.local`, which first
    /// runs the subclass's `__init__` in a thread that has not touched it
    /// yet.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let value = match self.cached() {
            Some(value) => value,
            None => self.find_or_make(),
        };
        // SAFETY: `value` points to the calling thread's slot in `self` (from
        // the cache entry carrying `self.key.id`, or from the map). By the
        // invariant on `Values`, the slot stays put and alive while this
        // thread runs `f`, which is all the reference lives, and nothing
        // makes a `&mut T` to it meanwhile.
        f(unsafe { value.as_ref() })
    }

    /// Calls `f` with the calling thread's value if this thread has made one,
    /// and returns `Some` of what `f` returns; `None` otherwise. Never calls
    /// `init`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::local::ThreadLocal;
    ///
    /// let session = ThreadLocal::new(|| String::from("guest"));
    /// assert_eq!(session.try_with(String::clone), None);
    /// session.with(|_| ());
    /// assert_eq!(session.try_with(String::clone).as_deref(), Some("guest"));
    /// ```
    ///
    /// # Python
    ///
    /// `hasattr(local, name)` and `getattr(local, name, None)`.
    #[doc(alias = "hasattr")]
    pub fn try_with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        let value = match self.cached() {
            Some(value) => value,
            None => self.find(current_ident())?,
        };
        // SAFETY: as in `with`: this thread's slot in `self`, alive and only
        // shared while this thread runs `f`.
        Some(f(unsafe { value.as_ref() }))
    }

    /// This thread's value from its cache, if the cache has it.
    #[inline]
    fn cached(&self) -> Option<NonNull<T>> {
        // An entry with this object's id was written by this thread for this
        // very object (ids are never reused), and is cleared before its value
        // is dropped, so it points to a live `T`.
        self.key.cached().map(NonNull::cast)
    }

    fn remember(&self, value: NonNull<T>) {
        self.key.remember(value.cast());
    }

    /// The value of the thread `me` (the caller), looked up in the map.
    fn find(&self, me: u64) -> Option<NonNull<T>> {
        let value = self.values.0.read().get(&me).map(Slot::pointer)?;
        self.remember(value);
        Some(value)
    }

    /// The slow half of `with`: find the thread's value in the map, or make
    /// it, and note the object for the end of the thread.
    #[cold]
    #[inline(never)]
    fn find_or_make(&self) -> NonNull<T> {
        let me = current_ident();
        if let Some(value) = self.find(me) {
            return value;
        }
        // No lock is held while user code runs (here, and when `spare` is
        // dropped below), so `init` and `T::drop` may call `with` themselves;
        // and a panic in `init` leaves nothing behind.
        let made = Slot::new((self.init)());
        let mut values = self.values.0.write();
        let (value, spare) = match values.entry(me) {
            btree_map::Entry::Vacant(vacant) => (vacant.insert(made).pointer(), None),
            // `init` called `with` and so made this thread's value first. Keep
            // that one: the inner caller may still be using it.
            btree_map::Entry::Occupied(occupied) => (occupied.get().pointer(), Some(made)),
        };
        drop(values);
        self.remember(value);
        if spare.is_none() {
            let values: Weak<dyn Release> = Arc::downgrade(&self.values) as Weak<Values<T>>;
            hold(Holding { values, index: self.key.index, id: self.key.id, ident: me });
        }
        drop(spare);
        value
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
    /// assert_eq!(seen.with(Cell::get), 0);
    /// ```
    fn default() -> ThreadLocal<T> {
        ThreadLocal::new(T::default)
    }
}

impl<T: Send + fmt::Debug + 'static> fmt::Debug for ThreadLocal<T> {
    /// Shows the calling thread's value, if it has one; other threads'
    /// values are theirs and are not read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("ThreadLocal");
        match self.try_with(|value| out.field("current_thread", &Some(value)).finish_non_exhaustive()) {
            Some(written) => written,
            None => out.field("current_thread", &None::<()>).finish_non_exhaustive(),
        }
    }
}

impl<T: Send + 'static> IntoIterator for ThreadLocal<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    /// Takes out the values of the threads that have one now (those still
    /// running, and any made while a thread's thread-locals were being
    /// destroyed), in no particular order.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::local::ThreadLocal;
    ///
    /// let names = ThreadLocal::new(|| concur::thread::current().name().to_owned());
    /// names.with(|_| ());
    /// let all: Vec<String> = names.into_iter().collect();
    /// assert_eq!(all.len(), 1);
    /// ```
    fn into_iter(self) -> IntoIter<T> {
        let values = std::mem::take(&mut *self.values.0.write());
        IntoIter { inner: values.into_values() }
    }
}

/// One object a thread holds a value in, noted for the end of the thread.
struct Holding {
    values: Weak<dyn Release>,
    /// The object's cache index and id, to clear the thread's entry.
    index: usize,
    id: u64,
    /// The thread's identifier, its key in the object's map.
    ident: u64,
}

/// The objects a thread holds values in. Dropped with the thread's other
/// thread-locals, which releases the values a thread not spawned by concur
/// still holds.
struct Held(RefCell<Vec<Holding>>);

impl Drop for Held {
    fn drop(&mut self) {
        // A value whose `Drop` calls `with` now makes a value this thread
        // cannot note any more (`hold` finds `HELD` gone): it stays with its
        // object until the object is dropped.
        release(std::mem::take(self.0.get_mut()));
    }
}

#[cfg(not(loom))]
std::thread_local! {
    static HELD: Held = const { Held(RefCell::new(Vec::new())) };
}

#[cfg(loom)]
loom::thread_local! {
    static HELD: Held = Held(RefCell::new(Vec::new()));
}

/// Notes that the calling thread holds a value in an object. Once the
/// thread's thread-locals are being destroyed there is nowhere to note it:
/// the value then lives until its object is dropped.
fn hold(holding: Holding) {
    let _ = HELD.try_with(|held| {
        // Never borrowed elsewhere while user code runs: `release_thread`
        // takes the list out before it drops anything.
        if let Ok(mut held) = held.0.try_borrow_mut() {
            // Before the list grows, it sheds the notes of objects dropped
            // since: a long-lived thread that makes and drops many objects
            // keeps notes of the live ones only. Pruning when full, as the
            // list doubles, costs a constant per note.
            if held.len() == held.capacity() {
                held.retain(|note| note.values.strong_count() > 0);
            }
            held.push(holding);
        }
    });
}

/// Drops the values `holdings` name, each after clearing the thread's cache
/// entry for it, so that no later `with` on this thread finds a dropped
/// value.
fn release(holdings: Vec<Holding>) {
    for holding in holdings {
        Key::forget(holding.index, holding.id);
        if let Some(values) = holding.values.upgrade() {
            values.release(holding.ident);
        }
    }
}

/// How many times an ending thread goes through the values it holds: a
/// value whose `Drop` makes another is dropped in the next round, and a
/// chain longer than this is left to the objects (as the C library gives
/// up on thread-specific data after `PTHREAD_DESTRUCTOR_ITERATIONS`).
const RELEASE_ROUNDS: usize = 4;

/// Drops every value the calling thread holds in a `ThreadLocal`: called by
/// a thread spawned by concur just before it counts as finished.
pub(crate) fn release_thread() {
    for _ in 0..RELEASE_ROUNDS {
        let holdings = HELD.try_with(|held| held.0.try_borrow_mut().map(|mut list| std::mem::take(&mut *list)));
        match holdings {
            Ok(Ok(holdings)) if !holdings.is_empty() => release(holdings),
            _ => return,
        }
    }
}

/// One thread's value on the heap: a `Box<T>` whose pointer may be copied
/// out and read through while the slot itself is moved around (the map
/// shuffles slots as it grows). A real `Box` asserts unique access whenever
/// it moves, which those outstanding readers would contradict.
struct Slot<T> {
    value: NonNull<T>,
    /// Owns a `T`, for the drop checker.
    _owns: PhantomData<T>,
}

// SAFETY: a slot owns its `T` as a `Box<T>` does (made from one, unique, turned
// back into one to drop), so it crosses threads under the same conditions.
unsafe impl<T: Send> Send for Slot<T> {}

impl<T> Slot<T> {
    fn new(value: T) -> Slot<T> {
        Slot { value: NonNull::from(Box::leak(Box::new(value))), _owns: PhantomData }
    }

    fn pointer(&self) -> NonNull<T> {
        self.value
    }

    fn into_inner(self) -> T {
        let slot = ManuallyDrop::new(self);
        // SAFETY: the pointer came from `Box::leak` in `new`, and the slot,
        // its only owner, is consumed here without running its `Drop`, so the
        // box is taken back exactly once. Taking the slot by value means no
        // `ThreadLocal` is left to hand out references to the value.
        *unsafe { Box::from_raw(slot.value.as_ptr()) }
    }
}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        // SAFETY: as in `into_inner`: the box leaked in `new`, taken back once,
        // by its only owner. A slot is dropped by its own thread as it ends,
        // after clearing that thread's cache entry and outside any `with` of
        // that thread; or with the whole map, once no `ThreadLocal` is left
        // to lend a value; or, never shared, as the spare of a re-entrant
        // `init`. No reference to the value is alive then, and no cache
        // entry that could still be read points to it.
        drop(unsafe { Box::from_raw(self.value.as_ptr()) });
    }
}

/// The values of a [`ThreadLocal`]'s threads, taken out; made by its
/// `into_iter`.
///
/// # Examples
///
/// ```
/// use concur::local::ThreadLocal;
///
/// let local = ThreadLocal::new(|| vec![1, 2]);
/// local.with(|_| ());
/// let mut values = local.into_iter();
/// assert_eq!(values.next(), Some(vec![1, 2]));
/// assert_eq!(values.next(), None);
/// ```
pub struct IntoIter<T: Send> {
    inner: btree_map::IntoValues<u64, Slot<T>>,
}

impl<T: Send> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.inner.next().map(Slot::into_inner)
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
