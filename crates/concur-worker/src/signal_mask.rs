//! The threads that talk to Redis — the worker's, and a remote pool's
//! listeners — keep signals off themselves.
//!
//! The library installs no signal handler: a program decides what SIGINT
//! and SIGTERM do, and calls [`Shutdown::escalate`](crate::Shutdown::escalate)
//! (or `stop`) from its handler — the `concur` binary does.

/// Keeps signals from interrupting the calling thread until dropped, when
/// the thread's signal mask is put back as it was.
///
/// The worker's Redis connections wait for replies with a socket timeout
/// (`SO_RCVTIMEO`), and Linux never restarts such a wait after a signal
/// handler ran, whatever `SA_RESTART` says (signal(7)): the read fails with
/// `EINTR`, the reply is half read, and the connection must be dropped. A
/// worker running program tasks gets a SIGCHLD each time one ends (tokio
/// handles it to reap the program), so its Redis threads saw `EINTR` many
/// times a second under load, and a Ctrl-C did the same to an idle fetch.
///
/// The kernel delivers a signal aimed at the process to any thread that
/// does not block it, so the threads that talk to Redis block them all and
/// leave them to the event loop's thread and the signal thread, which do
/// not block in such reads. Blocking changes which thread sees a signal,
/// not whether it is seen. The signals raised by a fault in the thread
/// itself (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT) stay
/// unblocked: blocking those would hide a crash.
#[derive(Debug)]
pub(crate) struct SignalsBlocked {
    previous: libc::sigset_t,
    /// A mask belongs to one thread: the value must not move to another.
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Blocks every signal but the fault signals on the calling thread; see
/// [`SignalsBlocked`].
pub(crate) fn block_on_this_thread() -> SignalsBlocked {
    // SAFETY: sigset_t is a plain C struct that sigfillset/sigdelset fill in;
    // pthread_sigmask only reads `blocked` and writes `previous`.
    unsafe {
        let mut blocked: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut blocked);
        for fault in
            [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, libc::SIGSYS, libc::SIGABRT]
        {
            libc::sigdelset(&mut blocked, fault);
        }
        let mut previous: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &blocked, &mut previous);
        SignalsBlocked { previous, _not_send: std::marker::PhantomData }
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        // SAFETY: puts back the mask read when this value was made, on the
        // same thread (the value is not `Send`).
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.previous, std::ptr::null_mut());
        }
    }
}
