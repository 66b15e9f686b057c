//! The thread-safety the docs promise, checked by the compiler.

use std::sync::Arc;

use static_assertions::{assert_impl_all, assert_not_impl_any};

use concur::sync::{
    AllGuard, Barrier, BoundedSemaphore, BrokenBarrier, Condition, ConditionGuard, Event, Lock, LockGuard,
    LockOrderViolation, NotOwner, RLock, RLockGuard, ReleaseError, Semaphore, SemaphoreGuard,
};

// The primitives are shared between threads.
assert_impl_all!(Lock: Send, Sync, Default);
assert_impl_all!(RLock: Send, Sync, Default);
assert_impl_all!(Event: Send, Sync, Default);
assert_impl_all!(Condition: Send, Sync, Default);
assert_impl_all!(Condition<Lock>: Send, Sync);
assert_impl_all!(Condition<Arc<RLock>>: Send, Sync);
assert_impl_all!(Semaphore: Send, Sync);
assert_impl_all!(BoundedSemaphore: Send, Sync);
assert_impl_all!(Barrier: Send, Sync);

// Guards of owned locks stay on the thread that took the lock: dropping one
// elsewhere would release from the wrong thread.
assert_not_impl_any!(LockGuard<'static>: Send);
assert_not_impl_any!(RLockGuard<'static>: Send);
assert_not_impl_any!(ConditionGuard<'static, RLock>: Send);
assert_not_impl_any!(AllGuard<'static>: Send);
// A permit may be given back from any thread, as in Python.
assert_impl_all!(SemaphoreGuard<'static>: Send, Sync);

// Errors cross threads and go into `Box<dyn Error + Send + Sync>`.
assert_impl_all!(ReleaseError: Send, Sync, std::error::Error, Clone);
assert_impl_all!(NotOwner: Send, Sync, std::error::Error, Clone);
assert_impl_all!(BrokenBarrier: Send, Sync, std::error::Error, Clone);
assert_impl_all!(LockOrderViolation: Send, Sync, std::error::Error, Clone);
