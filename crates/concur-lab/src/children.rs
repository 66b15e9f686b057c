//! The processes a bench starts, each the leader of a process group of its
//! own, and stopped by group.
//!
//! The page server and `bench.py` are started with
//! [`CommandExt::process_group`](std::os::unix::process::CommandExt::process_group);
//! the `processes` model's workers move into a group of their own as their
//! pool's initializer (the pool starts them, so it cannot be asked to). A
//! group of its own does two things:
//!
//! - Stopping a child is one `killpg`, which also reaches whatever the
//!   child started: `bench.py`'s `multiprocessing` children die with it.
//! - A terminal's Ctrl-C goes to its foreground process group only, so it
//!   reaches the bench alone. The bench then stops its children itself, in
//!   order, after keeping what it had measured — instead of finding its
//!   workers killed under a running cell and reporting that as a failure.
//!
//! The worker crate's task programs are stopped the same way.

use std::io;
use std::process::Child;
use std::time::{Duration, Instant};

/// Sends `signal` to the process group led by `leader`; if `leader` has not
/// made its group yet (a worker between its start and its initializer),
/// to the process itself.
pub(crate) fn signal_group(leader: u32, signal: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(leader) else { return };
    // SAFETY: killpg and kill have no memory effects; a group or process
    // that is already gone is at worst a harmless ESRCH.
    unsafe {
        if libc::killpg(pid, signal) != 0 {
            libc::kill(pid, signal);
        }
    }
}

/// Makes the calling process the leader of a new process group: the first
/// thing a worker process does, as its pool's initializer.
pub(crate) fn lead_own_group() {
    // SAFETY: setpgid on the calling process has no memory effects; it
    // fails only if the process already leads a session, which a worker
    // started by a pool does not.
    unsafe {
        libc::setpgid(0, 0);
    }
}

/// Stops a child that leads its own group: `SIGTERM` to the group, then
/// `SIGKILL` if it has not exited within `grace`; reaps it.
pub(crate) fn stop_group(child: &mut Child, grace: Duration) -> io::Result<()> {
    if child.try_wait()?.is_some() {
        // The leader is gone, but what it started may not be.
        signal_group(child.id(), libc::SIGKILL);
        return Ok(());
    }
    signal_group(child.id(), libc::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if child.try_wait()?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // Whatever is left of the group, the leader included, ends now.
    signal_group(child.id(), libc::SIGKILL);
    child.wait().map(drop)
}
