//! One list of errands through every kind of queue, to see the order each
//! hands them back.
//!
//! - `Queue`: first in, first out, the order they were put;
//! - `LifoQueue`: last in, first out, a stack;
//! - `PriorityQueue` of plain names: the smallest first (here, alphabetical);
//! - `PriorityQueue` of `Prioritized` entries: the most urgent first, and
//!   among equally urgent ones, the one that arrived first;
//! - `SimpleQueue`: first in, first out, without task tracking or a size
//!   limit.
//!
//! In Python, `(1, "pay rent")` and `(1, "call mum")` in a `PriorityQueue`
//! tie on the priority and are then ordered by their names (and items that
//! cannot be compared raise `TypeError`). Here `Prioritized` compares the
//! priority only, and equal priorities leave in arrival order: "pay rent",
//! put first, comes out first.
//!
//! Run with `cargo run -p concur --example queue_orders`.

use concur::queue::{LifoQueue, Prioritized, PriorityQueue, Queue, SimpleQueue};

/// The errands, in the order they are put, each with an urgency (1 = most).
const ERRANDS: [(&str, u8); 6] =
    [("water plants", 2), ("pay rent", 1), ("buy bread", 3), ("call mum", 1), ("fix bike", 2), ("read", 3)];

fn show(kind: &str, order: impl Iterator<Item = String>) {
    println!("{kind:<24} {}", order.collect::<Vec<_>>().join(", "));
}

fn main() {
    show("put order:", ERRANDS.iter().map(|(errand, _)| errand.to_string()));

    let fifo = Queue::unbounded();
    let lifo = LifoQueue::unbounded();
    let by_name = PriorityQueue::unbounded();
    let by_urgency = PriorityQueue::unbounded();
    let simple = SimpleQueue::new();
    for (errand, urgency) in ERRANDS {
        fifo.put(errand).expect("the queue is open");
        lifo.put(errand).expect("the queue is open");
        by_name.put(errand).expect("the queue is open");
        by_urgency.put_with_priority(errand, urgency).expect("the queue is open");
        simple.put(errand).expect("the queue is open");
    }

    // `drain` takes what is there now, in the order `get` would.
    show("Queue:", fifo.drain().map(str::to_owned));
    show("LifoQueue:", lifo.drain().map(str::to_owned));
    show("PriorityQueue (name):", by_name.drain().map(str::to_owned));
    show(
        "PriorityQueue (urgency):",
        by_urgency.drain().map(|Prioritized { priority, item }| format!("{priority}:{item}")),
    );
    show("SimpleQueue:", simple.drain().map(str::to_owned));
}
