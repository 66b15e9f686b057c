//! The plain sequences a mutex-guarded store keeps its items in: a
//! `VecDeque` (first in, first out), a `Vec` (last in, first out) and the
//! priority queue's `Ranking`. In a file of its own so that the store and
//! the ranking both build on it without depending on each other.

use std::collections::VecDeque;

/// A plain sequence that a `Locked` store guards.
pub(crate) trait Sequence<T>: Default {
    fn push(&mut self, item: T);
    fn pop(&mut self) -> Option<T>;
    fn len(&self) -> usize;
}

impl<T> Sequence<T> for VecDeque<T> {
    #[inline]
    fn push(&mut self, item: T) {
        self.push_back(item);
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.pop_front()
    }
    #[inline]
    fn len(&self) -> usize {
        VecDeque::len(self)
    }
}

impl<T> Sequence<T> for Vec<T> {
    #[inline]
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        Vec::pop(self)
    }
    #[inline]
    fn len(&self) -> usize {
        Vec::len(self)
    }
}
