//! What a loop shares with the threads that hold its [`LoopHandle`]s: the
//! sending end of an unbounded tokio channel a task of the loop receives
//! from, and the loop's open and running flags.
//!
//! [`LoopHandle`]: super::LoopHandle

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;

use super::error::LoopError;

/// Work sent to the loop from another thread, run on the loop's thread.
pub(crate) struct Message(Box<dyn FnOnce() + Send>);

impl Message {
    pub(crate) fn run(self) {
        (self.0)()
    }
}

/// What a loop shares with its handles.
pub(crate) struct Remote {
    sender: mpsc::UnboundedSender<Message>,
    pub(super) closed: AtomicBool,
    pub(crate) running: AtomicBool,
}

impl Remote {
    pub(crate) fn new(sender: mpsc::UnboundedSender<Message>) -> Remote {
        Remote { sender, closed: AtomicBool::new(false), running: AtomicBool::new(false) }
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    pub(super) fn send(&self, work: Box<dyn FnOnce() + Send>) -> Result<(), LoopError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(LoopError::Closed);
        }
        self.sender.send(Message(work)).map_err(|_| LoopError::Closed)
    }
}
