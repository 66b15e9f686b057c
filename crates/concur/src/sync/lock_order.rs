//! Deadlocks caught before they happen: the lock-order graph.
//!
//! Two threads that take the same two locks in opposite orders can deadlock:
//! each holds one and waits for the other. The hang needs unlucky timing, so
//! tests pass and production freezes. The *order*, though, shows every time the
//! code runs. This module records, for every `Lock` and `RLock`, which lock was
//! taken while which was held (an edge `held → taken`), and the first time an
//! acquisition would close a cycle in that graph it reports a
//! [`LockOrderViolation`] naming both code sites — before any thread blocks.
//!
//! The idea is the Linux kernel's lockdep, and the `tracing-mutex` crate's.
//!
//! # When it runs
//!
//! The checker is compiled into every build with debug assertions, and into
//! release builds that enable the `lock-order` cargo feature. Otherwise it is
//! not compiled at all and costs nothing; [`is_enabled`] says which build this
//! is. Only acquisitions that can block are checked (`acquire`,
//! `acquire_timeout`, `guard`), whether or not they had to wait:
//! `try_acquire` cannot deadlock, as lockdep also reasons.
//!
//! # What happens on a violation
//!
//! `Lock::acquire` returns nothing, so a violation found there goes to a
//! handler: by default it is a `tracing` warning (target
//! `concur::sync::lock_order`, the message the violation's `Display`, the
//! two locks and sites as fields), which the program's subscriber shows —
//! with `tracing-subscriber`'s `EnvFilter`, `RUST_LOG=concur=warn` or wider.
//! The library prints nothing itself. [`set_handler`] installs another
//! handler (a test may panic, a service may count), and [`violations`] lists
//! every violation reported so far. `acquire_all` returns its violations as
//! an `Err` instead.
//!
//! ```
//! use concur::sync::{lock_order, Lock};
//!
//! let a = Lock::new().with_name("a");
//! let b = Lock::new().with_name("b");
//! lock_order::set_handler(|_| {}); // keep the doc-test quiet
//!
//! {
//!     let _a = a.guard();
//!     let _b = b.guard(); // a → b
//! }
//! {
//!     let _b = b.guard();
//!     let _a = a.guard(); // b → a closes the cycle: reported, no deadlock yet
//! }
//!
//! if lock_order::is_enabled() {
//!     let found = lock_order::violations();
//!     let v = found.iter().find(|v| v.acquiring().lock() == "Lock \"a\"").unwrap();
//!     assert_eq!(v.held().lock(), "Lock \"b\"");
//!     assert_eq!(v.earlier().len(), 1);
//! }
//! ```
//!
//! # Python
//!
//! Python has no such checker. The reference recipe for ordered acquisition —
//! sort the locks by `id()`, refuse with `RuntimeError('Lock Order Violation')`
//! when a thread asks out of order — is [`acquire_all`](super::acquire_all),
//! which works in every build.

use std::fmt;
use std::panic::Location;

use parking_lot::{Mutex, RwLock};

#[cfg(concur_lock_order)]
pub(crate) use checker::Tracker;
#[cfg(not(concur_lock_order))]
pub(crate) use disabled::Tracker;

/// One lock at one place in the code.
///
/// # Examples
///
/// ```
/// use concur::sync::{acquire_all, Lock};
///
/// let a = Lock::new().with_name("a");
/// let b = Lock::new().with_name("b");
/// let (first, second) = if a.order() < b.order() { (&a, &b) } else { (&b, &a) };
/// let _held = acquire_all(&[second]).unwrap();
/// let err = acquire_all(&[first]).unwrap_err();
/// assert_eq!(err.held().lock(), format!("Lock {:?}", second.name().unwrap()));
/// assert!(err.held().location().file().ends_with(".rs"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockSite {
    lock: String,
    location: &'static Location<'static>,
}

impl LockSite {
    pub(crate) fn new(lock: String, location: &'static Location<'static>) -> LockSite {
        LockSite { lock, location }
    }

    /// The lock, as `Lock "name"` or `Lock #id` when it has no name.
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::sync::{acquire_all, Lock};
    ///
    /// let lock = Lock::new().with_name("ledger");
    /// let _held = acquire_all(&[&lock]).unwrap();
    /// let err = acquire_all(&[&lock]).unwrap_err(); // already held: out of order
    /// assert_eq!(err.acquiring().lock(), "Lock \"ledger\"");
    /// ```
    pub fn lock(&self) -> &str {
        &self.lock
    }

    /// Where in the source the lock was taken (or asked for).
    ///
    /// # Examples
    ///
    /// ```
    /// use concur::sync::{acquire_all, Lock};
    ///
    /// let lock = Lock::new();
    /// let _held = acquire_all(&[&lock]).unwrap();
    /// let err = acquire_all(&[&lock]).unwrap_err();
    /// assert_eq!(err.acquiring().location().line(), line!() - 1);
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

impl fmt::Display for LockSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.lock, self.location)
    }
}

/// One edge of the lock-order graph: `acquired` was taken while `held` was
/// held.
///
/// # Examples
///
/// ```
/// use concur::sync::{lock_order, Lock};
///
/// lock_order::set_handler(|_| {});
/// let x = Lock::new().with_name("edge-x");
/// let y = Lock::new().with_name("edge-y");
/// { let _x = x.guard(); let _y = y.guard(); }
/// { let _y = y.guard(); let _x = x.guard(); }
/// if lock_order::is_enabled() {
///     let all = lock_order::violations();
///     let v = all.iter().find(|v| v.acquiring().lock() == "Lock \"edge-x\"").unwrap();
///     let edge = &v.earlier()[0];
///     assert_eq!(edge.held().lock(), "Lock \"edge-x\"");
///     assert_eq!(edge.acquired().lock(), "Lock \"edge-y\"");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEdge {
    held: LockSite,
    acquired: LockSite,
}

impl OrderEdge {
    /// The lock that was held, and where it had been taken.
    ///
    /// # Examples
    ///
    /// See [`OrderEdge`].
    ///
    /// ```
    /// # use concur::sync::lock_order;
    /// let _ = lock_order::violations().iter().flat_map(|v| v.earlier()).map(|e| e.held());
    /// ```
    pub fn held(&self) -> &LockSite {
        &self.held
    }

    /// The lock taken while `held` was held, and where.
    ///
    /// # Examples
    ///
    /// See [`OrderEdge`].
    ///
    /// ```
    /// # use concur::sync::lock_order;
    /// let _ = lock_order::violations().iter().flat_map(|v| v.earlier()).map(|e| e.acquired());
    /// ```
    pub fn acquired(&self) -> &LockSite {
        &self.acquired
    }
}

/// Locks taken in an order that can deadlock.
///
/// Two kinds exist. The lock-order graph reports one when an acquisition of
/// `acquiring` while `held` is held closes a cycle with orders seen
/// [`earlier`](Self::earlier). [`acquire_all`](super::acquire_all) returns one,
/// with no earlier edges, when a thread asks for a lock that comes before one
/// it already holds in acquire_all's global order.
///
/// # Examples
///
/// ```
/// use concur::sync::{acquire_all, Lock};
///
/// let x = Lock::new().with_name("x");
/// let y = Lock::new().with_name("y");
/// let (low, high) = if x.order() < y.order() { (&x, &y) } else { (&y, &x) };
///
/// let _high = acquire_all(&[high]).unwrap();
/// let err = acquire_all(&[low]).unwrap_err();
/// assert!(err.earlier().is_empty());
/// assert!(err.to_string().starts_with("lock order violation:"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockOrderViolation {
    acquiring: LockSite,
    held: LockSite,
    earlier: Vec<OrderEdge>,
}

impl std::error::Error for LockOrderViolation {}

impl LockOrderViolation {
    pub(crate) fn out_of_order(acquiring: LockSite, held: LockSite) -> LockOrderViolation {
        LockOrderViolation { acquiring, held, earlier: Vec::new() }
    }

    /// The lock being asked for, and where.
    ///
    /// # Examples
    ///
    /// See [`LockSite::lock`].
    ///
    /// ```
    /// # use concur::sync::lock_order;
    /// let _ = lock_order::violations().iter().map(|v| v.acquiring().location());
    /// ```
    pub fn acquiring(&self) -> &LockSite {
        &self.acquiring
    }

    /// The lock held at the time, and where it was taken.
    ///
    /// # Examples
    ///
    /// See [`LockSite`].
    ///
    /// ```
    /// # use concur::sync::lock_order;
    /// let _ = lock_order::violations().iter().map(|v| v.held().lock());
    /// ```
    pub fn held(&self) -> &LockSite {
        &self.held
    }

    /// The path of earlier acquisitions that leads from `acquiring` back to
    /// `held`: with this acquisition it forms the cycle. Empty for a violation
    /// of `acquire_all`'s order.
    ///
    /// # Examples
    ///
    /// See [`OrderEdge`].
    ///
    /// ```
    /// # use concur::sync::lock_order;
    /// let _ = lock_order::violations().iter().map(|v| v.earlier().len());
    /// ```
    pub fn earlier(&self) -> &[OrderEdge] {
        &self.earlier
    }
}

impl fmt::Display for LockOrderViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lock order violation: {} is being acquired at {} while {} is held (taken at {})",
            self.acquiring.lock, self.acquiring.location, self.held.lock, self.held.location
        )?;
        if self.earlier.is_empty() {
            return write!(
                f,
                "; acquire_all takes locks in ascending order, and the held lock comes \
                 after the one asked for, so two threads doing this can deadlock"
            );
        }
        write!(f, ", but earlier")?;
        for (i, edge) in self.earlier.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", and" };
            write!(
                f,
                "{sep} {} was taken at {} while {} was held (taken at {})",
                edge.acquired.lock, edge.acquired.location, edge.held.lock, edge.held.location
            )?;
        }
        write!(f, "; threads taking these locks in both orders can deadlock")
    }
}

/// Whether this build checks lock order: `true` in builds with debug
/// assertions or the `lock-order` feature.
///
/// # Examples
///
/// ```
/// assert_eq!(concur::sync::lock_order::is_enabled(), cfg!(debug_assertions));
/// ```
pub fn is_enabled() -> bool {
    cfg!(concur_lock_order)
}

type Handler = Box<dyn Fn(&LockOrderViolation) + Send + Sync>;

static HANDLER: RwLock<Option<Handler>> = RwLock::new(None);

/// How many violations [`violations`] keeps; later ones go only to the handler.
const KEPT: usize = 1024;

static REPORTED: Mutex<Vec<LockOrderViolation>> = Mutex::new(Vec::new());

/// Replaces what happens when the graph finds a violation. The default
/// reports it as a `tracing` warning (see [the module docs](self)).
///
/// The handler runs on the thread that made the acquisition, before it blocks,
/// with no concur lock of the checker's held; it may take locks itself.
///
/// # Examples
///
/// ```
/// use concur::sync::lock_order;
///
/// // Make every violation fail loudly, as a test suite might.
/// lock_order::set_handler(|violation| panic!("{violation}"));
/// # lock_order::set_handler(|_| {});
/// ```
pub fn set_handler(handler: impl Fn(&LockOrderViolation) + Send + Sync + 'static) {
    *HANDLER.write() = Some(Box::new(handler));
}

/// Every violation the graph has reported in this process so far (the first
/// 1,024), oldest first.
///
/// # Examples
///
/// ```
/// use concur::sync::lock_order;
///
/// // A program that takes its locks in one order never sees any.
/// let before = lock_order::violations().len();
/// let lock = concur::sync::Lock::new();
/// drop(lock.guard());
/// assert_eq!(lock_order::violations().len(), before);
/// ```
pub fn violations() -> Vec<LockOrderViolation> {
    REPORTED.lock().clone()
}

/// Records a violation and hands it to the handler.
#[cfg_attr(not(concur_lock_order), allow(dead_code))]
fn report(violation: LockOrderViolation) {
    {
        let mut reported = REPORTED.lock();
        if reported.len() < KEPT {
            reported.push(violation.clone());
        }
    }
    match &*HANDLER.read() {
        Some(handler) => handler(&violation),
        None => tracing::warn!(
            acquiring = %violation.acquiring.lock,
            acquiring_at = %violation.acquiring.location,
            held = %violation.held.lock,
            held_at = %violation.held.location,
            "{violation}"
        ),
    }
}

#[cfg(not(concur_lock_order))]
mod disabled {
    use std::panic::Location;

    use crate::sync::name::Name;

    /// The checker compiled out: every call is empty and inlines to nothing.
    #[derive(Debug)]
    pub(crate) struct Tracker;

    impl Tracker {
        #[inline(always)]
        pub(crate) fn new(_kind: &'static str, _order: u64) -> Tracker {
            Tracker
        }

        #[inline(always)]
        pub(crate) fn rename(&self, _name: &Name) {}

        #[inline(always)]
        pub(crate) fn acquire(&self, _site: &'static Location<'static>, take: impl FnOnce() -> bool) -> bool {
            take()
        }

        #[inline(always)]
        pub(crate) fn acquired(&self, _site: &'static Location<'static>) {}

        #[inline(always)]
        pub(crate) fn released(&self) {}
    }
}

#[cfg(concur_lock_order)]
mod checker {
    //! The graph and the per-thread lists of held locks.
    //!
    //! The hot path (an acquisition with nothing else held, and its release)
    //! touches only the thread's own list and the lock's own fields, with no
    //! read-modify-write atomics: the checker's price is a few plain loads
    //! and stores. Held entries therefore name locks by their order number,
    //! not by pointer; names live in a side table, and an entry left behind
    //! by a `Lock` that another thread released is found through a shared
    //! list of such releases.

    use std::cell::RefCell;
    use std::collections::hash_map::DefaultHasher;
    use std::collections::{HashMap, HashSet, VecDeque};
    use std::hash::BuildHasherDefault;
    use std::panic::Location;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::LazyLock;

    use parking_lot::Mutex;

    use super::{report, LockOrderViolation, LockSite, OrderEdge};
    use crate::sync::name::Name;
    use crate::thread::current_ident;

    /// The checker's part of a `Lock` or `RLock`.
    #[derive(Debug)]
    pub(crate) struct Tracker {
        order: u64,
        kind: &'static str,
        /// The ident of the thread holding the lock, 0 when none does. Only
        /// the thread that holds the lock writes it, so plain loads and
        /// stores suffice.
        holder: AtomicU64,
        /// Counts acquisitions, telling an entry made stale by another
        /// thread's release from a newer entry for the same lock.
        acquisitions: AtomicU64,
        named: AtomicBool,
    }

    /// A lock the thread holds, and where it took it.
    struct Held {
        order: u64,
        kind: &'static str,
        acquisition: u64,
        site: &'static Location<'static>,
    }

    type EdgeSet = HashSet<(u64, u64), BuildHasherDefault<DefaultHasher>>;

    struct ThreadLocks {
        /// The thread's ident, 0 until first needed: kept here so the hot
        /// path reads one thread-local, not two.
        ident: u64,
        held: Vec<Held>,
        /// Edges this thread has already put in the graph, so taking the same
        /// locks in the same order again never touches the global mutex.
        known: EdgeSet,
        /// The value of `STALE_EPOCH` when this thread last read `STALE`.
        stale_seen: u64,
    }

    impl Drop for ThreadLocks {
        fn drop(&mut self) {
            // The thread is ending: its stale entries go with it.
            let me = current_ident();
            STALE.lock().retain(|stale| stale.holder != me);
        }
    }

    /// A thread that takes ever new locks would grow its cache for ever; past
    /// this size it starts over (the graph still has every edge).
    const KNOWN_LIMIT: usize = 4096;

    thread_local! {
        // Const-initialised so each access is a plain load of the thread
        // pointer: this runs on every acquire and release.
        static THREAD_LOCKS: RefCell<ThreadLocks> = const {
            RefCell::new(ThreadLocks {
                ident: 0,
                held: Vec::new(),
                known: HashSet::with_hasher(BuildHasherDefault::new()),
                stale_seen: 0,
            })
        };
    }

    /// An entry some thread still has for a lock another thread released.
    struct Stale {
        holder: u64,
        order: u64,
        acquisition: u64,
    }

    static STALE: Mutex<Vec<Stale>> = Mutex::new(Vec::new());
    /// Bumped whenever `STALE` grows, so threads look at it only then.
    static STALE_EPOCH: AtomicU64 = AtomicU64::new(0);
    /// Names of named locks, by order; unnamed ones are described by order.
    static NAMES: LazyLock<Mutex<HashMap<u64, Name>>> = LazyLock::new(Default::default);
    /// Set once the graph has its first edge; until then a dropped lock has
    /// nothing to remove from it.
    static GRAPH_USED: AtomicBool = AtomicBool::new(false);

    fn describe(kind: &'static str, order: u64) -> String {
        match NAMES.lock().get(&order) {
            Some(name) => name.describe_id(kind, order),
            None => Name::default().describe_id(kind, order),
        }
    }

    impl Tracker {
        pub(crate) fn new(kind: &'static str, order: u64) -> Tracker {
            Tracker {
                order,
                kind,
                holder: AtomicU64::new(0),
                acquisitions: AtomicU64::new(0),
                named: AtomicBool::new(false),
            }
        }

        pub(crate) fn rename(&self, name: &Name) {
            NAMES.lock().insert(self.order, name.clone());
            self.named.store(true, Ordering::Relaxed);
        }

        /// Takes the lock with `take` (which says whether it did), checking the
        /// order first: adds `held → this` for every lock the thread holds and
        /// reports the first cycle each one closes, before `take` can block.
        #[inline]
        pub(crate) fn acquire(&self, site: &'static Location<'static>, take: impl FnOnce() -> bool) -> bool {
            let mut take = Some(take);
            // The common case, nothing else held: no order to check, so take
            // the lock and note it under one borrow. Blocking while borrowed
            // is fine, as nothing else runs on this thread meanwhile.
            let fast = THREAD_LOCKS.try_with(|locks| {
                let mut locks = locks.borrow_mut();
                if !locks.held.is_empty() {
                    return None;
                }
                let taken = take.take().is_some_and(|take| take());
                if taken {
                    self.note(&mut locks, site);
                }
                Some(taken)
            });
            match (fast, take) {
                (Ok(Some(taken)), _) => taken,
                (_, Some(take)) => self.acquire_checked(site, take),
                // `take` is only consumed on the path that returns `Some`.
                (_, None) => false,
            }
        }

        fn acquire_checked(&self, site: &'static Location<'static>, take: impl FnOnce() -> bool) -> bool {
            let found = THREAD_LOCKS.try_with(|locks| self.record(&mut locks.borrow_mut(), site)).unwrap_or_default();
            // Outside every borrow and mutex: the handler may take locks.
            found.into_iter().for_each(report);
            let taken = take();
            if taken {
                self.acquired(site);
            }
            taken
        }

        #[cold]
        fn record(&self, locks: &mut ThreadLocks, site: &'static Location<'static>) -> Vec<LockOrderViolation> {
            locks.forget_stale();
            if locks.known.len() > KNOWN_LIMIT {
                locks.known.clear();
            }
            let mut found = Vec::new();
            for held in &locks.held {
                let edge = (held.order, self.order);
                if edge.0 == edge.1 || !locks.known.insert(edge) {
                    continue;
                }
                found.extend(GRAPH.lock().add(held, self, site));
            }
            found
        }

        /// Records an acquisition made without an order check (`try_acquire`,
        /// which cannot deadlock).
        #[inline]
        pub(crate) fn acquired(&self, site: &'static Location<'static>) {
            let _ = THREAD_LOCKS.try_with(|locks| {
                let mut locks = locks.borrow_mut();
                // A stale entry for this lock (released by another thread) goes.
                locks.held.retain(|h| h.order != self.order);
                self.note(&mut locks, site);
            });
        }

        #[inline]
        fn note(&self, locks: &mut ThreadLocks, site: &'static Location<'static>) {
            self.holder.store(locks.ident(), Ordering::Relaxed);
            // Only the holder writes the count, and it holds the lock now.
            let acquisition = self.acquisitions.load(Ordering::Relaxed) + 1;
            self.acquisitions.store(acquisition, Ordering::Relaxed);
            locks.held.push(Held { order: self.order, kind: self.kind, acquisition, site });
        }

        #[inline]
        pub(crate) fn released(&self) {
            let holder = self.holder.load(Ordering::Relaxed);
            self.holder.store(0, Ordering::Relaxed);
            if holder == 0 {
                return;
            }
            let mine = THREAD_LOCKS
                .try_with(|locks| {
                    let mut locks = locks.borrow_mut();
                    let mine = holder == locks.ident();
                    if mine {
                        locks.forget(self.order);
                    }
                    mine
                })
                .unwrap_or(holder == current_ident());
            if !mine {
                // Released by a thread that did not take it (allowed for a
                // `Lock`): the taker's entry is stale; tell it.
                self.leave_stale(holder);
            }
        }

        #[cold]
        fn leave_stale(&self, holder: u64) {
            let acquisition = self.acquisitions.load(Ordering::Relaxed);
            STALE.lock().push(Stale { holder, order: self.order, acquisition });
            STALE_EPOCH.fetch_add(1, Ordering::Release);
        }
    }

    impl Drop for Tracker {
        fn drop(&mut self) {
            // A lock dropped while held leaves no entry behind.
            let holder = *self.holder.get_mut();
            if holder == current_ident() {
                let _ = THREAD_LOCKS.try_with(|locks| locks.borrow_mut().forget(self.order));
            } else if holder != 0 {
                self.leave_stale(holder);
            }
            // It can never be taken again: forget its edges and name, so the
            // graph does not grow with every lock a program creates.
            if GRAPH_USED.load(Ordering::Relaxed) {
                GRAPH.lock().remove(self.order);
            }
            if *self.named.get_mut() {
                NAMES.lock().remove(&self.order);
            }
        }
    }

    impl ThreadLocks {
        #[inline]
        fn ident(&mut self) -> u64 {
            if self.ident == 0 {
                self.ident = current_ident();
            }
            self.ident
        }

        #[inline]
        fn forget(&mut self, order: u64) {
            match self.held.last() {
                Some(last) if last.order == order => {
                    self.held.pop();
                }
                _ => {
                    if let Some(i) = self.held.iter().rposition(|h| h.order == order) {
                        self.held.remove(i);
                    }
                }
            }
        }

        /// Drops the entries other threads have reported stale.
        fn forget_stale(&mut self) {
            let epoch = STALE_EPOCH.load(Ordering::Acquire);
            if epoch == self.stale_seen {
                return;
            }
            self.stale_seen = epoch;
            let me = self.ident();
            let held = &mut self.held;
            STALE.lock().retain(|stale| {
                if stale.holder != me {
                    return true;
                }
                held.retain(|h| !(h.order == stale.order && h.acquisition == stale.acquisition));
                false
            });
        }
    }

    #[derive(Default)]
    struct Graph {
        /// `out[a][b]`: where `b` was first taken while `a` was held.
        out: HashMap<u64, HashMap<u64, OrderEdge>>,
        into: HashMap<u64, HashSet<u64>>,
    }

    static GRAPH: LazyLock<Mutex<Graph>> = LazyLock::new(Default::default);

    impl Graph {
        /// Adds `held → node`. Returns the violation when the edge is new and
        /// `node` already reaches `held`.
        fn add(&mut self, held: &Held, node: &Tracker, site: &'static Location<'static>) -> Option<LockOrderViolation> {
            let (from, to) = (held.order, node.order);
            if self.out.get(&from).is_some_and(|edges| edges.contains_key(&to)) {
                return None;
            }
            let edge = OrderEdge {
                held: LockSite::new(describe(held.kind, from), held.site),
                acquired: LockSite::new(describe(node.kind, to), site),
            };
            let earlier = self.path(to, from);
            GRAPH_USED.store(true, Ordering::Relaxed);
            self.out.entry(from).or_default().insert(to, edge.clone());
            self.into.entry(to).or_default().insert(from);
            earlier.map(|earlier| LockOrderViolation { acquiring: edge.acquired, held: edge.held, earlier })
        }

        /// The edges of a shortest path from `start` to `goal`, if any.
        fn path(&self, start: u64, goal: u64) -> Option<Vec<OrderEdge>> {
            let mut came_from: HashMap<u64, u64> = HashMap::new();
            let mut queue = VecDeque::from([start]);
            while let Some(at) = queue.pop_front() {
                if at == goal {
                    let mut edges = Vec::new();
                    let mut to = goal;
                    while to != start {
                        let from = came_from[&to];
                        edges.push(self.out[&from][&to].clone());
                        to = from;
                    }
                    edges.reverse();
                    return Some(edges);
                }
                for &next in self.out.get(&at).into_iter().flat_map(HashMap::keys) {
                    if next != start && !came_from.contains_key(&next) {
                        came_from.insert(next, at);
                        queue.push_back(next);
                    }
                }
            }
            None
        }

        fn remove(&mut self, order: u64) {
            for to in self.out.remove(&order).into_iter().flat_map(|edges| edges.into_keys()) {
                if let Some(from) = self.into.get_mut(&to) {
                    from.remove(&order);
                }
            }
            for from in self.into.remove(&order).into_iter().flatten() {
                if let Some(edges) = self.out.get_mut(&from) {
                    edges.remove(&order);
                }
            }
        }
    }
}
