//! Threads.

mod ident;

pub(crate) use ident::current_ident;
