//! How the lock-order graph reports a violation when nobody set a handler:
//! a `tracing` warning, never a line on standard error.
//!
//! A binary of its own: the handler is global to the process, and the other
//! lock-order tests set one to keep their expected reports quiet.

mod common;

use common::recorder::Recorder;
use concur::sync::{lock_order, Lock};

#[test]
fn a_violation_without_a_handler_is_a_tracing_warning_naming_both_sites() {
    if !lock_order::is_enabled() {
        // A release build without the `lock-order` feature has no checker.
        return;
    }
    let a = Lock::new().with_name("report-a");
    let b = Lock::new().with_name("report-b");
    let ((), events) = Recorder::capture(|| {
        {
            let _a = a.guard();
            let _b = b.guard();
        }
        let _b = b.guard();
        let _a = a.guard(); // closes the cycle a → b → a
    });
    let warnings: Vec<_> = events.iter().filter(|event| event.level == tracing::Level::WARN).collect();
    assert_eq!(warnings.len(), 1, "{events:?}");
    let warning = warnings[0];
    assert_eq!(warning.target, "concur::sync::lock_order");
    assert_eq!(warning.field("acquiring"), Some("Lock \"report-a\""));
    assert_eq!(warning.field("held"), Some("Lock \"report-b\""));
    assert!(warning.field("acquiring_at").is_some_and(|at| at.contains("sync_lock_order_report.rs")), "{warning:?}");
    assert!(warning.message().starts_with("lock order violation:"), "{warning:?}");
    assert!(lock_order::violations().iter().any(|v| v.acquiring().lock() == "Lock \"report-a\""));
}
