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
//! is. Only blocking acquisitions are checked (`acquire`, `acquire_timeout`,
//! `guard`): `try_acquire` cannot deadlock, as lockdep also reasons.
//!
//! # What happens on a violation
//!
//! `Lock::acquire` returns nothing, so a violation found there goes to a
//! handler: by default it is printed to standard error. [`set_handler`]
//! installs another (a test may panic, a service may log), and [`violations`]
//! lists every violation reported so far. `acquire_all` returns its violations
//! as an `Err` instead.
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
use std::sync::atomic::{AtomicU64, Ordering};

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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LockOrderViolation {
    acquiring: LockSite,
    held: LockSite,
    earlier: Vec<OrderEdge>,
}

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

/// Replaces what happens when the graph finds a violation. The default prints
/// it to standard error.
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
        None => eprintln!("concur: {violation}"),
    }
}

/// The order `acquire_all` sorts by: each lock takes the next number when it
/// is created, so the order never changes as locks move in memory (Python's
/// recipe sorts by `id()`, an address, which Rust values do not keep).
static NEXT_ORDER: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_order() -> u64 {
    NEXT_ORDER.fetch_add(1, Ordering::Relaxed)
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
        pub(crate) fn check(&self, _site: &'static Location<'static>) {}

        #[inline(always)]
        pub(crate) fn acquired(&self, _site: &'static Location<'static>) {}

        #[inline(always)]
        pub(crate) fn released(&self) {}
    }
}

#[cfg(concur_lock_order)]
mod checker {
    use std::cell::RefCell;
    use std::collections::{HashMap, HashSet, VecDeque};
    use std::panic::Location;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, LazyLock};

    use parking_lot::Mutex;

    use super::{report, LockOrderViolation, LockSite, OrderEdge};
    use crate::sync::name::Name;
    use crate::thread::current_ident;

    /// A lock as the graph knows it. Shared with the held-lock lists of the
    /// threads that hold it, so that a `Lock` released by another thread can be
    /// told apart from one still held.
    #[derive(Debug)]
    struct Node {
        order: u64,
        kind: &'static str,
        name: Mutex<Name>,
        /// The ident of the thread holding the lock, 0 when none does.
        holder: AtomicU64,
        in_graph: AtomicBool,
    }

    impl Node {
        fn describe(&self) -> String {
            self.name.lock().describe_id(self.kind, self.order)
        }
    }

    impl Drop for Node {
        fn drop(&mut self) {
            // A dropped lock can never be taken again: forget its edges so the
            // graph does not grow with every lock a program creates.
            if self.in_graph.load(Ordering::Relaxed) {
                GRAPH.lock().remove(self.order);
            }
        }
    }

    /// The checker's part of a `Lock` or `RLock`.
    #[derive(Debug)]
    pub(crate) struct Tracker {
        node: Arc<Node>,
    }

    struct Held {
        node: Arc<Node>,
        site: &'static Location<'static>,
    }

    #[derive(Default)]
    struct ThreadLocks {
        held: Vec<Held>,
        /// Edges this thread has already put in the graph, so taking the same
        /// locks in the same order again never touches the global mutex.
        known: HashSet<(u64, u64)>,
    }

    /// A thread that takes ever new locks would grow its cache for ever; past
    /// this size it starts over (the graph still has every edge).
    const KNOWN_LIMIT: usize = 4096;

    thread_local! {
        static THREAD_LOCKS: RefCell<ThreadLocks> = RefCell::new(ThreadLocks::default());
    }

    impl Tracker {
        pub(crate) fn new(kind: &'static str, order: u64) -> Tracker {
            Tracker {
                node: Arc::new(Node {
                    order,
                    kind,
                    name: Mutex::new(Name::default()),
                    holder: AtomicU64::new(0),
                    in_graph: AtomicBool::new(false),
                }),
            }
        }

        pub(crate) fn rename(&self, name: &Name) {
            *self.node.name.lock() = name.clone();
        }

        /// Called before a blocking acquisition: adds `held → this` for every
        /// lock the thread holds and reports the first cycle each one closes.
        pub(crate) fn check(&self, site: &'static Location<'static>) {
            let found = THREAD_LOCKS
                .try_with(|locks| {
                    let mut locks = locks.borrow_mut();
                    let me = current_ident();
                    let locks = &mut *locks;
                    locks.held.retain(|h| h.node.holder.load(Ordering::Relaxed) == me);
                    if locks.known.len() > KNOWN_LIMIT {
                        locks.known.clear();
                    }
                    let mut found = Vec::new();
                    for held in &locks.held {
                        let edge = (held.node.order, self.node.order);
                        if edge.0 == edge.1 || !locks.known.insert(edge) {
                            continue;
                        }
                        found.extend(GRAPH.lock().add(held, &self.node, site));
                    }
                    found
                })
                .unwrap_or_default();
            // Outside every borrow and mutex: the handler may take locks.
            found.into_iter().for_each(report);
        }

        pub(crate) fn acquired(&self, site: &'static Location<'static>) {
            let me = current_ident();
            self.node.holder.store(me, Ordering::Relaxed);
            let _ = THREAD_LOCKS.try_with(|locks| {
                let mut locks = locks.borrow_mut();
                // A stale entry for this lock (released by another thread) goes.
                locks.held.retain(|h| !Arc::ptr_eq(&h.node, &self.node));
                locks.held.push(Held { node: Arc::clone(&self.node), site });
            });
        }

        pub(crate) fn released(&self) {
            let me = current_ident();
            if self.node.holder.swap(0, Ordering::Relaxed) != me {
                // Released by a thread that did not take it (allowed for a
                // `Lock`): the taker's entry is now stale and is dropped when
                // that thread next checks.
                return;
            }
            let _ = THREAD_LOCKS.try_with(|locks| {
                let mut locks = locks.borrow_mut();
                if let Some(i) = locks.held.iter().rposition(|h| Arc::ptr_eq(&h.node, &self.node)) {
                    locks.held.remove(i);
                }
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
        fn add(&mut self, held: &Held, node: &Node, site: &'static Location<'static>) -> Option<LockOrderViolation> {
            let (from, to) = (held.node.order, node.order);
            if self.out.get(&from).is_some_and(|edges| edges.contains_key(&to)) {
                return None;
            }
            let edge = OrderEdge {
                held: LockSite::new(held.node.describe(), held.site),
                acquired: LockSite::new(node.describe(), site),
            };
            let earlier = self.path(to, from);
            held.node.in_graph.store(true, Ordering::Relaxed);
            node.in_graph.store(true, Ordering::Relaxed);
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
