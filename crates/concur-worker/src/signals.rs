//! SIGINT and SIGTERM for workers: the first stops every running worker of
//! the process gracefully, the second stops them at once.
//!
//! A process has one handler per signal, and the `ctrlc` crate installs one
//! (on its own thread, so the handler may lock and log). It is installed once,
//! the first time a worker asks, and then fans each signal out to the workers
//! registered at that moment. With no worker running, a signal ends the
//! process as it would have without the handler (exit status 130).

use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::worker::Shared;

static WORKERS: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// A worker's place in the fan-out; dropping it takes the worker out.
#[derive(Debug)]
pub(crate) struct Registration(Weak<Shared>);

/// Installs the handler if needed and registers the worker.
pub(crate) fn register(shared: &Arc<Shared>) -> Result<Registration, String> {
    INSTALLED.get_or_init(|| ctrlc::try_set_handler(on_signal).map_err(|e| e.to_string())).clone()?;
    let weak = Arc::downgrade(shared);
    lock().push(weak.clone());
    Ok(Registration(weak))
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock().retain(|w| !w.ptr_eq(&self.0) && w.strong_count() > 0);
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
                "stopping: no new tasks; running tasks may finish within {:.0} s (signal again to stop at once)",
                worker.settings.grace.as_secs_f64()
            );
        } else {
            tracing::warn!(worker = worker.worker, "stopping at once: cancelling running tasks");
            worker.stop_now();
        }
    }
}
