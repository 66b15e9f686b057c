//! The optional name a primitive carries into its error messages.
//!
//! Python's locks have no names, so its errors say only "release unlocked
//! lock". A program with twenty locks needs to know which one, so every
//! primitive that can report misuse may be given a name, and an unnamed one is
//! described by its address.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A number for a new primitive, unique in the process and larger for later
/// ones. For locks it is also the order `acquire_all` sorts by, which, unlike
/// the address Python's recipe sorts by (`id()`), stays put as values move.
pub(crate) fn next_id() -> u64 {
    // Relaxed: the counter only has to hand out distinct, growing values.
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

#[derive(Clone, Default)]
pub(crate) struct Name(Option<Arc<str>>);

impl Name {
    pub(crate) fn new(name: &str) -> Name {
        Name(Some(Arc::from(name)))
    }

    pub(crate) fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// `Lock "counter"`, or `Lock #7` for an unnamed one: the id from
    /// [`next_id`] names it better than an address, which changes as it moves.
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
