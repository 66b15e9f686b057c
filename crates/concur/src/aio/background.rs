//! A loop on a thread of its own: [`spawn_background`].

use super::error::LoopError;
use super::event_loop::EventLoop;
use super::handle::LoopHandle;
use crate::thread::{self, JoinHandle};

/// Starts an event loop on a thread of its own (named `aio-loop`), running
/// until [`LoopHandle::stop`]; returns its handle and the thread. The loop
/// is closed when it stops.
///
/// # Errors
///
/// [`LoopError::Start`] if the thread or the loop cannot start.
///
/// # Examples
///
/// ```
/// let (handle, thread) = concur::aio::spawn_background().unwrap();
/// let answer = handle.run_coroutine_threadsafe(async { 42 }).unwrap();
/// assert_eq!(answer.result(), Ok(42));
/// handle.stop();
/// thread.join().unwrap().unwrap();
/// ```
///
/// # Python
///
/// The recipe of a thread whose target is `loop.run_forever()`, and
/// `run_coroutine_threadsafe` / `call_soon_threadsafe` into it.
pub fn spawn_background() -> Result<(LoopHandle, JoinHandle<Result<(), LoopError>>), LoopError> {
    let (ready, handle) = std::sync::mpsc::channel();
    let thread = thread::Builder::new()
        .name("aio-loop")
        .daemon(true)
        .spawn(move || {
            let lp = match EventLoop::new() {
                Ok(lp) => lp,
                Err(error) => {
                    let _ = ready.send(Err(error.clone()));
                    return Err(error);
                }
            };
            let _ = ready.send(Ok(lp.handle()));
            lp.run_forever()?;
            lp.close()
        })
        .map_err(|e| LoopError::Start(e.to_string()))?;
    match handle.recv() {
        Ok(Ok(handle)) => Ok((handle, thread)),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(LoopError::Start("the loop's thread ended before its loop started".to_string())),
    }
}
