//! The optional name a primitive carries into its error messages.
//!
//! Python's locks have no names, so its errors say only "release unlocked
//! lock". A program with twenty locks needs to know which one, so every
//! primitive that can report misuse may be given a name, and an unnamed one is
//! described by its address.

use std::fmt;
use std::sync::Arc;

#[derive(Clone, Default)]
pub(crate) struct Name(Option<Arc<str>>);

impl Name {
    pub(crate) fn new(name: &str) -> Name {
        Name(Some(Arc::from(name)))
    }

    pub(crate) fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// `Semaphore "pool"`, or `Semaphore@0x7ffc…` for an unnamed one.
    pub(crate) fn describe_at<T>(&self, kind: &str, object: &T) -> String {
        match &self.0 {
            Some(name) => format!("{kind} {name:?}"),
            None => format!("{kind}@{:p}", object as *const T),
        }
    }

    /// `Lock "counter"`, or `Lock #7` for an unnamed one. Locks have stable
    /// ids, which name them better than an address that changes as they move.
    pub(crate) fn describe_id(&self, kind: &str, id: u64) -> String {
        match &self.0 {
            Some(name) => format!("{kind} {name:?}"),
            None => format!("{kind} #{id}"),
        }
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
