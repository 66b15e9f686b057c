//! The auto traits the public thread types promise, checked at compile time.

use std::error::Error;
use std::fmt::Debug;
use std::hash::Hash;

use concur::thread::{Builder, JoinError, JoinHandle, Panicked, SpawnError, Thread};
use static_assertions::{assert_impl_all, assert_not_impl_any};

// A `Thread` is a shared name tag: passed anywhere, compared, hashed.
assert_impl_all!(Thread: Send, Sync, Clone, Debug, Eq, Hash);
// A handle can be moved to, and waited on from, another thread.
assert_impl_all!(JoinHandle<u64>: Send, Sync, Debug);
assert_impl_all!(JoinHandle<std::cell::Cell<u8>>: Send);
assert_impl_all!(Builder: Send, Sync, Clone, Debug, Default);
// Errors travel across threads and into `Box<dyn Error + Send + Sync>`.
assert_impl_all!(JoinError: Send, Sync, Error, Debug);
assert_impl_all!(SpawnError: Send, Sync, Error, Debug);
assert_impl_all!(Panicked: Send, Sync, Error, Debug, Clone, Eq);
// A thread's handle is not duplicated: one owner joins it.
assert_not_impl_any!(JoinHandle<u64>: Clone);

#[test]
fn errors_box_into_dyn_error() {
    let handle = Builder::new().name("boxer").spawn(|| -> u8 { panic!("boxed") }).unwrap();
    let error: Box<dyn Error + Send + Sync> = handle.join().unwrap_err().into();
    assert_eq!(error.to_string(), "thread 'boxer' panicked: boxed");
    assert!(matches!(error.downcast_ref::<JoinError>(), Some(JoinError::Panicked(_))));
}
