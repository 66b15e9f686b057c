//! SIGINT and SIGTERM for workers: the first stops every running worker of
//! the process gracefully, the second stops them at once.
//!
//! A process has one disposition per signal. `signal-hook` adds a handler
//! beside any others and hands the signals to a thread of ours, so the
//! reaction may lock and log. It is installed once, the first time a worker
//! asks, and then fans each signal out to the workers registered at that
//! moment. With no worker running, a signal ends the process as it would have
//! without the handler (exit status 130).
//!
//! SIGINT is left alone when the process started with it ignored: a shell
//! does that for a job started in the background, so that Ctrl-C at the
//! terminal does not reach it (Python leaves an ignored SIGINT ignored too).
//! SIGTERM is always handled.

use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::worker::Shared;

static WORKERS: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// A worker's place in the fan-out; dropping it takes the worker out.
#[derive(Debug)]
pub(crate) struct Registration(Weak<Shared>);

/// Installs the handler if needed and registers the worker.
pub(crate) fn register(shared: &Arc<Shared>) -> Result<Registration, String> {
    INSTALLED.get_or_init(install).clone()?;
    let weak = Arc::downgrade(shared);
    lock().push(weak.clone());
    Ok(Registration(weak))
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock().retain(|w| !w.ptr_eq(&self.0) && w.strong_count() > 0);
    }
}

fn install() -> Result<(), String> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut wanted = vec![SIGTERM];
    if !ignored(SIGINT) {
        wanted.push(SIGINT);
    }
    let mut signals = signal_hook::iterator::Signals::new(&wanted).map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("concur-signals".into())
        .spawn(move || {
            for _ in signals.forever() {
                on_signal();
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Whether `signal` was set to be ignored when the process started.
fn ignored(signal: libc::c_int) -> bool {
    // SAFETY: sigaction(2) with a null new action only reads the current
    // one into `current`, a zeroed plain C struct.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut current) == 0 && current.sa_sigaction == libc::SIG_IGN
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Weak<Shared>>> {
    // The list stays consistent even if a holder panicked: pushes and retains only.
    WORKERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn on_signal() {
    let workers: Vec<Arc<Shared>> = lock().iter().filter_map(Weak::upgrade).collect();
    if workers.is_empty() {
        std::process::exit(130);
    }
    for worker in workers {
        if worker.stop() {
            tracing::info!(
                worker = worker.worker,
                "stopping: no new tasks; running tasks may finish within {} (signal again to stop at once)",
                crate::error::seconds_text(worker.settings.grace)
            );
        } else {
            tracing::warn!(worker = worker.worker, "stopping at once: cancelling running tasks");
            worker.stop_now();
        }
    }
}

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
