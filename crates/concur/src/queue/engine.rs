//! The one engine under every queue kind.
//!
//! The items live in a [`Store`] whose every call is atomic by itself — for
//! first-in-first-out a lock-free ring or list, for the other orders a
//! sequence under a mutex. The stores that track tasks count their own
//! pushes, and [`Tasks`] beside them counts `task_done` (see `tasks.rs`);
//! the shutdown flag is the store's own `close`, so that no `put` can land
//! after a shutdown. Nothing else is locked: puts and gets of a
//! first-in-first-out queue never wait for each other.
//!
//! Waiting is done with [`Signal`]s (`event_listener` events) rather than
//! condition variables, because one listener can be waited on by a blocked
//! thread or awaited by an async task: that is what lets threads and tasks
//! share a queue. Each wait follows the same pattern — try, register a
//! listener, try again, sleep — so a notification can never fall between the
//! last try and the sleep.
//!
//! Each item put sends one *additional* notification to `not_empty`, and each
//! item taken one to `not_full`, so `n` items wake `n` waiters even when the
//! first has not run yet. A listener dropped after being notified (a cancelled
//! `get_async`, a timed-out `get_timeout`) passes its notification on, so a
//! cancelled waiter never strands an item.
//!
//! A blocking call first retries with a short back-off (spinning, then
//! yielding) before it sleeps: the other side usually acts within
//! microseconds, and a sleep and wake-up costs two context switches per item.

use std::fmt;
use std::marker::PhantomData;

use super::error::{GetError, PutError, ShutDown, TaskDoneError};
use super::store::Store;
use super::tasks::{Counted, Tasks};
use crate::deadline::Deadline;
#[cfg(not(loom))]
use crate::loom::Backoff;
use crate::signal::Signal;

pub(crate) struct Engine<T, S> {
    items: S,
    maxsize: usize,
    /// The `task_done` half of the task count; the store keeps the other.
    /// Unused by `SimpleQueue`, whose store counts nothing.
    tasks: Tasks,
    not_empty: Signal,
    not_full: Signal,
    all_done: Signal,
    // `fn() -> T`, not `T`: whether the engine is `Send` and `Sync` is up
    // to the store, which owns the items.
    _items: PhantomData<fn() -> T>,
}

/// The retries of a blocked call before it sleeps: crossbeam's back-off,
/// which spins a little and then yields, about ten times in all.
#[cfg(not(loom))]
struct Patience(Backoff);

#[cfg(not(loom))]
impl Patience {
    fn new() -> Patience {
        Patience(Backoff::new())
    }

    /// Pauses before the next try; `false` when it is time to sleep.
    fn pause(&mut self) -> bool {
        if self.0.is_completed() {
            return false;
        }
        self.0.snooze();
        true
    }
}

impl<T, S: Store<T>> Engine<T, S> {
    pub(crate) fn new(maxsize: usize) -> Self {
        Engine {
            items: S::with_maxsize(maxsize),
            maxsize,
            tasks: Tasks::new(),
            not_empty: Signal::new(),
            not_full: Signal::new(),
            all_done: Signal::new(),
            _items: PhantomData,
        }
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// One attempt, never blocking.
    #[inline]
    pub(crate) fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.items.push(item)?;
        self.not_empty.notify_additional(1);
        Ok(())
    }

    /// Waits for room until the deadline. `Full` only when it passed.
    pub(crate) fn put_until(&self, mut item: T, deadline: Deadline) -> Result<(), PutError<T>> {
        // A consumer usually makes room within microseconds: retrying a few
        // times, spinning then yielding, is far cheaper than sleeping and
        // being woken, which costs two context switches per item.
        #[cfg(not(loom))]
        {
            let mut patience = Patience::new();
            'retry: loop {
                match self.try_put(item) {
                    Err(PutError::Full(back)) => item = back,
                    done => return done,
                }
                // Watch for room with plain loads before trying again: a
                // failed `try_put` costs a fence.
                loop {
                    if !patience.pause() {
                        break 'retry;
                    }
                    if !self.items.is_full() {
                        break;
                    }
                }
            }
        }
        let mut listener = None;
        loop {
            match self.try_put(item) {
                Err(PutError::Full(back)) => item = back,
                done => return done,
            }
            match listener.take() {
                None => listener = Some(self.not_full.listen()),
                Some(listener) => {
                    if !listener.wait(deadline) {
                        return self.try_put(item);
                    }
                }
            }
        }
    }

    /// Waits for room as long as it takes: fails only on shutdown.
    #[inline]
    pub(crate) fn put(&self, item: T) -> Result<(), ShutDown<T>> {
        // The first try inline, and the waiting out of line: a call into
        // `put_until`, whose frame holds a back-off and a listener, cost a
        // put of an uncontended queue a fifth of its instructions.
        match self.try_put(item) {
            Ok(()) => Ok(()),
            Err(PutError::ShutDown(item)) => Err(ShutDown(item)),
            // With no deadline `put_until` never returns `Full`.
            Err(PutError::Full(item)) => self.put_waiting(item, Deadline::NEVER).map_err(|e| ShutDown(e.into_inner())),
        }
    }

    #[inline(never)]
    fn put_waiting(&self, item: T, deadline: Deadline) -> Result<(), PutError<T>> {
        self.put_until(item, deadline)
    }

    pub(crate) async fn put_async(&self, mut item: T) -> Result<(), ShutDown<T>> {
        loop {
            match self.try_put(item) {
                Ok(()) => return Ok(()),
                Err(PutError::ShutDown(back)) => return Err(ShutDown(back)),
                Err(PutError::Full(back)) => item = back,
            }
            let listener = self.not_full.listen();
            match self.try_put(item) {
                Ok(()) => return Ok(()),
                Err(PutError::ShutDown(back)) => return Err(ShutDown(back)),
                Err(PutError::Full(back)) => item = back,
            }
            listener.await;
        }
    }

    /// One attempt, never blocking.
    #[inline]
    pub(crate) fn try_get(&self) -> Result<T, GetError> {
        let item = self.items.pop()?;
        if self.maxsize != 0 {
            self.not_full.notify_additional(1);
        }
        Ok(item)
    }

    /// Waits for an item until the deadline. `Empty` only when it passed.
    pub(crate) fn get_until(&self, deadline: Deadline) -> Result<T, GetError> {
        // As in `put_until`: a producer is usually about to put.
        #[cfg(not(loom))]
        {
            let mut patience = Patience::new();
            loop {
                match self.try_get() {
                    Err(GetError::Empty) => {}
                    done => return done,
                }
                if !patience.pause() {
                    break;
                }
            }
        }
        let mut listener = None;
        loop {
            match self.try_get() {
                Err(GetError::Empty) => {}
                done => return done,
            }
            match listener.take() {
                None => listener = Some(self.not_empty.listen()),
                Some(listener) => {
                    if !listener.wait(deadline) {
                        return self.try_get();
                    }
                }
            }
        }
    }

    /// Waits for an item as long as it takes: fails only on shutdown.
    #[inline]
    pub(crate) fn get(&self) -> Result<T, ShutDown> {
        // As in `put`: the first try inline, the waiting out of line.
        match self.try_get() {
            Ok(item) => Ok(item),
            Err(GetError::ShutDown) => Err(ShutDown(())),
            // With no deadline `get_until` never returns `Empty`.
            Err(GetError::Empty) => self.get_waiting(Deadline::NEVER).map_err(|_| ShutDown(())),
        }
    }

    #[inline(never)]
    fn get_waiting(&self, deadline: Deadline) -> Result<T, GetError> {
        self.get_until(deadline)
    }

    pub(crate) async fn get_async(&self) -> Result<T, ShutDown> {
        loop {
            match self.try_get() {
                Ok(item) => return Ok(item),
                Err(GetError::ShutDown) => return Err(ShutDown(())),
                Err(GetError::Empty) => {}
            }
            let listener = self.not_empty.listen();
            match self.try_get() {
                Ok(item) => return Ok(item),
                Err(GetError::ShutDown) => return Err(ShutDown(())),
                Err(GetError::Empty) => {}
            }
            listener.await;
        }
    }

    /// Python's `shutdown()`: later puts fail, gets drain what is left.
    pub(crate) fn shutdown(&self) {
        self.items.close();
        self.wake_all();
    }

    /// Python's `shutdown(immediate=True)` for a queue without task
    /// tracking: the items left are dropped too.
    pub(crate) fn shutdown_dropping(&self) {
        self.close_and_discard();
        self.wake_all();
    }

    /// Closes the store and drops the items left; returns how many there
    /// were.
    fn close_and_discard(&self) -> usize {
        self.items.close();
        // The items are dropped here, outside any lock: their `Drop` may be
        // arbitrary code, even code that uses this queue.
        let mut discarded = 0;
        while self.items.pop().is_ok() {
            discarded += 1;
        }
        discarded
    }

    /// Every waiter re-checks: getters to drain or fail, putters to fail,
    /// joiners in case the count reached zero.
    fn wake_all(&self) {
        self.not_empty.notify_all();
        self.not_full.notify_all();
        self.all_done.notify_all();
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.items.is_closed()
    }

    /// Takes every item there is now, in the order `get` would.
    pub(crate) fn drain(&self) -> Vec<T> {
        let mut items = Vec::with_capacity(self.items.len());
        while let Ok(item) = self.items.pop() {
            items.push(item);
        }
        if self.maxsize != 0 && !items.is_empty() {
            self.not_full.notify_additional(items.len());
        }
        items
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.items.is_full()
    }
}

impl<T, S: Store<T>> Engine<T, S> {
    /// `Debug` for the public types, which name themselves; a queue without
    /// task tracking has no count to show.
    pub(crate) fn debug(&self, name: &str, unfinished: Option<usize>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct(name);
        out.field("len", &self.items.len());
        if self.maxsize != 0 {
            out.field("maxsize", &self.maxsize);
        }
        if let Some(unfinished) = unfinished {
            out.field("unfinished", &unfinished);
        }
        out.field("shut_down", &self.items.is_closed()).finish()
    }
}

/// Task tracking, for the stores that count their pushes.
impl<T, S: Store<T> + Counted> Engine<T, S> {
    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        if self.tasks.task_done(&self.items)? {
            self.all_done.notify_all();
        }
        Ok(())
    }

    fn all_done(&self) -> bool {
        self.unfinished_tasks() == 0
    }

    pub(crate) fn unfinished_tasks(&self) -> usize {
        self.tasks.unfinished(&self.items)
    }

    /// Waits until every item put has been marked done, or the deadline
    /// passes; returns whether they all were.
    pub(crate) fn join_until(&self, deadline: Deadline) -> bool {
        loop {
            if self.all_done() {
                return true;
            }
            let listener = self.all_done.listen();
            if self.all_done() {
                return true;
            }
            if !listener.wait(deadline) {
                return self.all_done();
            }
        }
    }

    pub(crate) async fn join_async(&self) {
        loop {
            if self.all_done() {
                return;
            }
            let listener = self.all_done.listen();
            if self.all_done() {
                return;
            }
            listener.await;
        }
    }

    /// Python's `shutdown(immediate=True)`: the items left are dropped and
    /// marked done, one task each, which can release `join`.
    pub(crate) fn shutdown_immediate(&self) {
        let discarded = self.close_and_discard();
        self.tasks.discard(&self.items, discarded);
        self.wake_all();
    }
}
