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
//! sees another thread's value through `get`, so the value itself needs no
//! lock — a `Cell` or `RefCell` is enough to change it.
//!
//! Rust's own `thread_local!` macro declares a *static*: one per program,
//! fixed at compile time, its values dropped when their threads exit. A
//! `ThreadLocal` is a value: make as many as you like at run time, store one
//! in a struct, and when it is dropped every thread's value is dropped with
//! it. Until then the values stay, even those of threads that have exited, so
//! the owner can gather what each thread left behind — through
//! [`iter`](ThreadLocal::iter), [`iter_mut`](ThreadLocal::iter_mut) or by
//! value — for example to add up per-thread counters after joining the
//! threads.
//!
//! # Example
//!
//! Each worker keeps its own tally in the same `ThreadLocal`. The workers run
//! one after another, each starting only when the previous one has exited,
//! and still every one starts from a fresh tally; the owner adds them up at
//! the end.
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
//!         assert_eq!(tally.get().get(), 0, "a new thread starts afresh");
//!         for _ in 0..n {
//!             let mine = tally.get();
//!             mine.set(mine.get() + 1);
//!         }
//!         tally.get().get()
//!     })
//!     .join()
//!     .unwrap();
//!     // Only this thread's increments are there.
//!     assert_eq!(seen, n);
//! }
//! // The main thread has not made a value.
//! assert!(tally.try_get().is_none());
//!
//! let tally = Arc::into_inner(tally).unwrap();
//! assert_eq!(tally.into_iter().map(Cell::into_inner).sum::<u32>(), 1 + 2 + 3 + 4);
//! ```
//!
//! # Why not the `thread_local` crate
//!
//! The `thread_local` crate has a type of the same name and a fast lock-free
//! table, but it finds a thread's value by a small thread number that it
//! hands to the next new thread once a thread exits. A thread started after
//! another has ended is therefore given the old thread's value, and `init`
//! never runs for it — the usual case, not a rare one: two threads run one
//! after the other share a value. Python promises every thread a fresh
//! namespace, so this module keys values by concur's own thread identifier
//! ([`Thread::ident`](crate::thread::Thread::ident)), which is never given to
//! a second thread of the process. Identifiers grow without bound, so they
//! cannot index a table the way the crate's small numbers do; they key a map
//! instead.
//!
//! # How it works, and what it costs
//!
//! Each thread's value sits in its own heap allocation, which never moves
//! while the `ThreadLocal` lives; the object keeps a map from thread
//! identifier to those allocations behind a read-write lock. Taking that
//! lock on every call would make threads that call `get` at the same time
//! fight over the lock's cache line, each call slowed to tens of
//! nanoseconds. So each thread also keeps a cache of pointers to its own
//! values, shared by all `ThreadLocal`s and indexed by a small number that
//! each object holds while it lives (the way POSIX threads index
//! thread-specific data by key). Each entry carries the id of the object
//! that wrote it, an id never given to a second object, so an entry left by
//! a dropped object is never mistaken for one of the object that took over
//! its number. A `get` after a thread's first reads its entry, compares one
//! integer and returns: no lock, no atomic operation, however many objects
//! the thread goes between. Only a thread's first call on an object looks in
//! the map (and takes the write lock to add its value). `benches/local.rs`
//! measures this beside the `thread_local` crate and a plain
//! `thread_local!`.
//!
//! Memory: one value (plus a map entry) for every thread that ever called
//! `get` on the object, kept until the object is dropped, whether or not the
//! thread is still running. An object that lives as long as the program and
//! is touched by an endless stream of short-lived threads grows for ever;
//! give such a program a `ThreadLocal` per batch of threads (per pool, per
//! request), or use `thread_local!`, whose values die with their threads.
//! The caches: every thread of the process carries the first 16 entries
//! (256 bytes on a 64-bit target) whether it uses a `ThreadLocal` or not; a
//! thread that uses an object whose number is higher grows its cache to
//! that number, 16 bytes an entry. Numbers stay below the most `ThreadLocal`s
//! ever alive at once.
//!
//! # Python
//!
//! `threading.local()`: an object whose attributes are per thread. Python
//! creates a thread's attribute dictionary on first access (running the
//! subclass's `__init__`); `ThreadLocal::new(init)` plays the part of that
//! `__init__`, and every thread — including one started after others have
//! ended — begins with a value of its own from `init`, as in Python. One
//! difference: Python drops a thread's attributes when the thread ends, while
//! here they live until the `ThreadLocal` is dropped, so that the owner can
//! still read them (see *What it costs* above).

use std::cell::{Cell, RefCell};
use std::collections::btree_map::{self, BTreeMap};
use std::fmt;
use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;

use crate::thread::current_ident;

/// A value per thread, owned by this object, created on first use by each
/// thread with the `init` function given to [`new`](ThreadLocal::new).
///
/// `ThreadLocal<T>` is `Send` and `Sync` for any `T: Send`: share it between
/// threads by reference or in an `Arc`. (`T` need not be `Sync`: a thread
/// only ever reads another thread's value through [`iter`](ThreadLocal::iter),
/// which asks for `T: Sync`, or while it owns the object exclusively.)
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
/// *local_data.get().borrow_mut() = Some("local_data".to_owned());
///
/// for name in ["t1", "t2"] {
///     let local_data = Arc::clone(&local_data);
///     let worker = thread::Builder::new().name(name).spawn(move || {
///         // Nothing from the main thread or an earlier worker leaks in.
///         assert_eq!(*local_data.get().borrow(), None);
///         *local_data.get().borrow_mut() = Some(thread::current().name().to_owned());
///         assert_eq!(local_data.get().borrow().as_deref(), Some(name));
///     });
///     worker.unwrap().join().unwrap();
/// }
///
/// // Nor does anything from the workers leak out.
/// assert_eq!(local_data.get().borrow().as_deref(), Some("local_data"));
/// ```
///
/// # Python
///
/// `threading.local()`. See the [module documentation](self) for how long
/// values live.
pub struct ThreadLocal<T: Send> {
    /// Where the threads' caches keep this object's values.
    key: Key,
    /// Every thread's value, by thread identifier.
    ///
    /// The invariant the `unsafe` blocks below rely on: a slot is created by
    /// its own thread, never removed or replaced while `self` is borrowed
    /// (only `Drop`, `into_iter` and `iter_mut` touch slots other than by
    /// reading their pointer, and they need `self` or `&mut self`), and
    /// through `&self` only shared references to a value are ever made.
    values: RwLock<BTreeMap<u64, Slot<T>>>,
    init: Box<dyn Fn() -> T + Send + Sync>,
}

// SAFETY: sharing `&ThreadLocal<T>` between threads lets each thread make and
// borrow its own value (`get`, `try_get`, `Debug`), which never leaves that
// thread: `&T` is `Send` only if `T: Sync`. The one way to read another
// thread's value through `&self`, `iter`, requires `T: Sync`. A value can end
// up dropped, or borrowed mutably, on a thread other than the one that made it
// (by the owner, through `Drop`, `into_iter` or `iter_mut`), which is what
// `T: Send` allows. The map is behind a lock, the cache is per thread, and
// `init` is `Send + Sync`. (`Send` needs no impl of ours: it follows from the
// fields, `Slot<T>` being `Send` for `T: Send`.)
unsafe impl<T: Send> Sync for ThreadLocal<T> {}

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

impl Drop for Key {
    fn drop(&mut self) {
        // Threads' entries for this key stay where they are, to be
        // overwritten by the index's next owner: their id no longer matches
        // any live object, so they are never read.
        INDEXES.lock().free.push(self.index);
    }
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
        ThreadLocal { key: Key::new(), values: RwLock::new(BTreeMap::new()), init: Box::new(init) }
    }

    /// The calling thread's value, made with `init` if this thread has none
    /// yet.
    ///
    /// `init` runs with no lock held, so it may take its time, and other
    /// threads' calls go on meanwhile. It may even call `get` on the same
    /// `ThreadLocal`: the inner call makes and keeps the thread's value, and
    /// the outer call, finding that value there when its own `init` returns,
    /// drops the value it made and returns the inner one. (An `init` that
    /// *always* calls `get` recurses until the stack overflows.)
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
    #[inline]
    pub fn get(&self) -> &T {
        let value = match self.cached() {
            Some(value) => value,
            None => self.find_or_make(),
        };
        // SAFETY: `value` points to the calling thread's slot in `self` (from
        // the cache entry carrying `self.key.id`, or from the map). By the
        // invariant on `values`, the slot stays put and alive for as long as
        // `self` is borrowed, which the returned reference does, and nothing
        // makes a `&mut T` to it meanwhile.
        unsafe { value.as_ref() }
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
        let value = match self.cached() {
            Some(value) => value,
            None => self.find(current_ident())?,
        };
        // SAFETY: as in `get`: this thread's slot in `self`, alive and only
        // shared for as long as `self` is borrowed.
        Some(unsafe { value.as_ref() })
    }

    /// Visits every thread's value, the calling thread's included, in no
    /// particular order. Values of threads that have exited are visited too.
    ///
    /// The iterator sees the values that existed when `iter` was called; one
    /// made by another thread afterwards is not visited. No lock is held
    /// while it runs, so the loop may call [`get`](ThreadLocal::get).
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
    /// // Three threads, three values: none was handed down to the next.
    /// assert_eq!(hits.iter().len(), 3);
    /// let total: u32 = hits.iter().map(|n| n.load(Ordering::Relaxed)).sum();
    /// assert_eq!(total, 15);
    /// ```
    pub fn iter(&self) -> Iter<'_, T>
    where
        T: Sync,
    {
        // A snapshot rather than a read guard kept in the iterator: a guard
        // would block every thread's first `get` while the caller iterates,
        // and deadlock a caller whose loop makes its own first value.
        let snapshot: Vec<&T> = self
            .values
            .read()
            .values()
            // SAFETY: each slot stays alive and in place for as long as `self`
            // is borrowed, which the iterator does, and through `&self` only
            // shared references are made. Sharing another thread's value with
            // this one is what `T: Sync` allows.
            .map(|slot| unsafe { slot.pointer().as_ref() })
            .collect();
        Iter { inner: snapshot.into_iter() }
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
    /// assert_eq!(counts.iter_mut().map(|count| count.get()).sum::<i32>(), 10);
    /// counts.iter_mut().for_each(|count| count.set(0));
    /// assert_eq!(counts.iter_mut().map(|count| count.get()).sum::<i32>(), 0);
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, T> {
        IterMut { inner: self.values.get_mut().values_mut() }
    }

    /// This thread's value from its cache, if the cache has it.
    #[inline]
    fn cached(&self) -> Option<NonNull<T>> {
        // An entry with this object's id was written by this thread for this
        // very object (ids are never reused), so it points to a `T`.
        self.key.cached().map(NonNull::cast)
    }

    fn remember(&self, value: NonNull<T>) {
        self.key.remember(value.cast());
    }

    /// The value of the thread `me` (the caller), looked up in the map.
    fn find(&self, me: u64) -> Option<NonNull<T>> {
        let value = self.values.read().get(&me).map(Slot::pointer)?;
        self.remember(value);
        Some(value)
    }

    /// The slow half of `get`: find the thread's value in the map, or make it.
    #[cold]
    #[inline(never)]
    fn find_or_make(&self) -> NonNull<T> {
        let me = current_ident();
        if let Some(value) = self.find(me) {
            return value;
        }
        // No lock is held while user code runs (here, and when `spare` is
        // dropped below), so `init` and `T::drop` may call `get` themselves;
        // and a panic in `init` leaves nothing behind.
        let made = Slot::new((self.init)());
        let mut values = self.values.write();
        let (value, spare) = match values.entry(me) {
            btree_map::Entry::Vacant(vacant) => (vacant.insert(made).pointer(), None),
            // `init` called `get` and so made this thread's value first. Keep
            // that one: the inner caller may still hold a reference to it.
            btree_map::Entry::Occupied(occupied) => (occupied.get().pointer(), Some(made)),
        };
        drop(values);
        self.remember(value);
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
        IntoIter { inner: self.values.into_inner().into_values() }
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
// SAFETY: as above: `&Slot<T>` gives access to the `T` only as `&Box<T>` would.
unsafe impl<T: Sync> Sync for Slot<T> {}

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
        // by its only owner. A slot is dropped with its `ThreadLocal` (or an
        // `IntoIter` made from it), so no reference handed out through it is
        // alive, and the pointers left in threads' caches are never read
        // again, since no live object has their id. (The one other slot
        // dropped, the spare of a re-entrant `init`, was never shared.)
        drop(unsafe { Box::from_raw(self.value.as_ptr()) });
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
    inner: std::vec::IntoIter<&'a T>,
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

impl<T: Send + Sync> ExactSizeIterator for Iter<'_, T> {}

impl<T: Send + Sync> FusedIterator for Iter<'_, T> {}

impl<T: Send + Sync> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").field("remaining", &self.inner.len()).finish()
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
    inner: btree_map::ValuesMut<'a, u64, Slot<T>>,
}

impl<'a, T: Send> Iterator for IterMut<'a, T> {
    type Item = &'a mut T;

    fn next(&mut self) -> Option<&'a mut T> {
        // SAFETY: the iterator holds `&'a mut` to the `ThreadLocal`'s map, so
        // for `'a` no `&T` from `get`, `try_get` or `iter` can be alive (they
        // borrow the `ThreadLocal`) and no slot can be dropped; the per-thread
        // caches hold bare pointers, not references. Each slot is visited once
        // and owns its own allocation, so the `&mut T`s never overlap.
        self.inner.next().map(|slot| unsafe { slot.pointer().as_mut() })
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
