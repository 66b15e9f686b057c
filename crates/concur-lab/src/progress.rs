//! Progress bars on standard error, drawn by `indicatif` only when standard
//! error is a terminal, so piped or captured output stays clean.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One bar over every timed step of the run.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub(crate) fn new(steps: u64, wanted: bool) -> Progress {
        if !(wanted && std::io::stderr().is_terminal()) {
            return Progress { bar: ProgressBar::hidden() };
        }
        let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
        // A constant template: parsing it cannot fail.
        if let Ok(style) = ProgressStyle::with_template("{elapsed:>4} [{bar:28.cyan/blue}] {pos}/{len} {wide_msg}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar }
    }

    /// Says what runs now.
    pub(crate) fn start(&self, what: String) {
        self.bar.set_message(what);
    }

    /// One step done.
    pub(crate) fn step(&self) {
        self.bar.inc(1);
    }

    /// Clears the bar so the report prints on a clean screen.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
