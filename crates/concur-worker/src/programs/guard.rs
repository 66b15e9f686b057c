//! A program task dies with its worker, however the worker dies.
//!
//! A program runs in a process group of its own, and the worker kills that
//! group when the attempt runs out of time or the worker stops. A worker
//! killed with SIGKILL runs no code at all, though, so its programs would run
//! on as orphans while a reaper hands the same tasks to another worker: each
//! in-flight task would then run twice *at the same time*.
//!
//! Linux's `PR_SET_PDEATHSIG` asks the kernel for a signal when the thread
//! that started a process ends, but it covers that one process, not the
//! processes a script starts in turn. So on Linux the worker does not start
//! the program directly. The child that `std::process::Command` forks (the
//! leader of the program's group) stays behind as a **guard**:
//!
//! 1. it blocks every signal it can, so a SIGTERM or SIGINT sent to the group
//!    is left to the program, and only SIGKILL ends the guard early;
//! 2. it asks for `WAKE` when the worker's thread ends, and checks that the
//!    worker is still its parent (it may have died a moment before);
//! 3. it forks the program, which asks for SIGKILL should the guard die, and
//!    then goes on to `exec` in the same group;
//! 4. it closes every descriptor it holds — among them std's pipe that tells
//!    the worker whether the `exec` succeeded, which must see only the
//!    program's copy — and waits. When the program ends, the guard ends the
//!    same way (its exit status, or its signal), so the worker reads the
//!    program's own status. When the worker is gone (the guard's parent
//!    changed), the guard kills the whole group, itself included, with
//!    SIGKILL.
//!
//! Waking is by `WAKE` or SIGCHLD, and by a half-second tick as a safety net,
//! so a program outlives its worker by well under a second.
//!
//! Everything between `fork` and `exec` may call only async-signal-safe
//! functions — the worker has other threads, whose locks the child inherits
//! held — so this code allocates nothing and calls only `sigprocmask`,
//! `sigaction`, `prctl`, `getpid`, `getppid`, `fork`, `close_range` (or
//! `close`), `sigtimedwait`, `waitpid`, `setrlimit`, `kill` and `_exit`.
//!
//! Why not something else:
//!
//! - a **child subreaper** (`PR_SET_CHILD_SUBREAPER`) adopts orphans only
//!   while the worker lives, and does nothing when the worker itself dies;
//! - a **PID namespace** kills everything inside when its first process
//!   dies, but needs privileges (or user namespaces, often turned off), and
//!   makes the program PID 1, which ignores a SIGTERM it has no handler for;
//! - a **cgroup** needs a delegated hierarchy, and still someone alive to
//!   kill it;
//! - a **sweep at the next start** comes too late: the reaper has already
//!   handed the tasks to another worker.
//!
//! What stays out of reach: a process that leaves the group on purpose
//! (`setsid`, a daemon that double-forks into a group of its own), as with
//! any process-group kill. Other Unix systems have no `PR_SET_PDEATHSIG`;
//! there the program is started directly and is killed on a time limit or a
//! stop, but not when the worker is killed with SIGKILL.

use std::io;
use std::os::unix::process::CommandExt;

/// What the kernel sends the guard when the worker's thread ends. Only a
/// wake-up: the guard acts when its parent has changed, so a stray SIGHUP
/// sent to the group does nothing to it.
const WAKE: libc::c_int = libc::SIGHUP;

/// How often the guard looks even when no signal comes.
const TICK: libc::timespec = libc::timespec { tv_sec: 0, tv_nsec: 500_000_000 };

/// Makes `command` start its program under a guard that kills the program's
/// process group when the worker dies. `command` must already be set to
/// start a process group of its own (`process_group(0)`).
pub(super) fn install(command: &mut std::process::Command) {
    let worker = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before `exec` and calls
    // only async-signal-safe functions (listed in the module docs); it
    // allocates nothing and touches no lock.
    unsafe {
        command.pre_exec(move || fork_guard(worker));
    }
}

/// Runs in the child that std forked, after it set up the program's standard
/// streams and process group. Returns only in the program, which goes on to
/// `exec`; the guard never returns.
///
/// # Safety
///
/// Must be called between `fork` and `exec`.
unsafe fn fork_guard(worker: libc::pid_t) -> io::Result<()> {
    // SAFETY: plain system calls on values of this frame; the module docs
    // say why each is safe to make after `fork`.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        let mut before: libc::sigset_t = std::mem::zeroed();
        check(libc::sigprocmask(libc::SIG_SETMASK, &all, &mut before))?;
        // An ignored SIGCHLD would have the kernel reap the program and lose
        // its status; the default keeps it pending while blocked.
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        check(libc::sigaction(libc::SIGCHLD, &default, std::ptr::null_mut()))?;
        check(libc::prctl(libc::PR_SET_PDEATHSIG, WAKE as libc::c_ulong, 0, 0, 0))?;
        if libc::getppid() != worker {
            // The worker died before the line above could take effect.
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        let guard = libc::getpid();
        let program = check(libc::fork())?;
        if program == 0 {
            check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0))?;
            if libc::getppid() != guard {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            check(libc::sigprocmask(libc::SIG_SETMASK, &before, std::ptr::null_mut()))?;
            return Ok(());
        }
        close_every_descriptor();
        let mut wake: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut wake);
        libc::sigaddset(&mut wake, libc::SIGCHLD);
        libc::sigaddset(&mut wake, WAKE);
        loop {
            let mut status = 0;
            if libc::waitpid(program, &mut status, libc::WNOHANG) == program {
                end_like(status);
            }
            if libc::getppid() != worker {
                libc::kill(0, libc::SIGKILL);
            }
            libc::sigtimedwait(&wake, std::ptr::null_mut(), &TICK);
        }
    }
}

/// Closes every descriptor of the guard: it needs none, and a copy it kept
/// would hold a pipe open that someone waits to see closed.
///
/// # Safety
///
/// Only for the guard, which uses no descriptor afterwards.
unsafe fn close_every_descriptor() {
    // SAFETY: close_range(2) and close(2) take plain integers; the guard
    // owns every descriptor it closes and touches none of them again.
    unsafe {
        if libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) == 0 {
            return;
        }
        // Kernels before 5.9: one call per possible descriptor.
        let mut limit: libc::rlimit = std::mem::zeroed();
        let top = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur.min(1 << 20) as libc::c_int
        } else {
            1024
        };
        for fd in 0..top {
            libc::close(fd);
        }
    }
}

/// Ends the guard as its program ended: with its exit status, or by its
/// signal (without a core dump of the guard's copy of the worker).
///
/// # Safety
///
/// Only for the guard.
unsafe fn end_like(status: libc::c_int) -> ! {
    // SAFETY: plain system calls on values of this frame, then `_exit`.
    unsafe {
        if libc::WIFEXITED(status) {
            libc::_exit(libc::WEXITSTATUS(status));
        }
        if libc::WIFSIGNALED(status) {
            let signal = libc::WTERMSIG(status);
            let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &default, std::ptr::null_mut());
            libc::kill(libc::getpid(), signal);
            let mut only: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut only);
            libc::sigaddset(&mut only, signal);
            libc::sigprocmask(libc::SIG_UNBLOCK, &only, std::ptr::null_mut());
        }
        libc::_exit(127)
    }
}

/// A failed system call as an error, read from `errno` (which allocates
/// nothing).
fn check<T: Default + PartialOrd>(result: T) -> io::Result<T> {
    if result < T::default() {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}
