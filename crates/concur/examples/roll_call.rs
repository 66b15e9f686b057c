//! Roll call: two threads that talk only through queues.
//!
//! The teacher thread reads the class list aloud, one name at a time, by
//! putting it on a `Queue`. The manager thread sits in a `for name in &calls`
//! loop, checks each name against today's sign-in sheet and answers
//! "present" or "absent". The word `exit` ends the roll call and the
//! manager's loop.
//!
//! Neither thread touches the other's data: the sheet belongs to the manager,
//! the tally to the teacher. A second queue carries each answer back, so the
//! teacher calls the next name only after the last one was answered, and the
//! lines come out in the same order on every run, with no `sleep`.
//!
//! Run with `cargo run -p concur --example roll_call`.

use std::collections::HashSet;
use std::sync::Arc;

use concur::queue::Queue;
use concur::thread::Builder;

/// Everyone the teacher will call, in order.
const CLASS_LIST: [&str; 5] = ["Ines", "Tomas", "Wen", "Priya", "Oskar"];

/// Who signed in this morning: the manager's roster for the day.
const SIGNED_IN: [&str; 3] = ["Ines", "Wen", "Oskar"];

/// The word that ends the roll call.
const EXIT: &str = "exit";

/// Calls each name, waits for its answer, and returns `(present, absent)`.
fn teacher(calls: &Queue<&'static str>, answers: &Queue<bool>) -> (usize, usize) {
    let (mut present, mut absent) = (0, 0);
    for name in CLASS_LIST {
        println!("teacher: {name}?");
        calls.put(name).expect("the calls queue is never shut down");
        match answers.get().expect("the answers queue is never shut down") {
            true => present += 1,
            false => absent += 1,
        }
    }
    println!("teacher: {EXIT}");
    calls.put(EXIT).expect("the calls queue is never shut down");
    (present, absent)
}

/// Answers every name called until `exit`; returns how many it answered.
fn manager(calls: &Queue<&'static str>, answers: &Queue<bool>) -> usize {
    let sheet: HashSet<&str> = SIGNED_IN.into_iter().collect();
    let mut answered = 0;
    for name in calls {
        if name == EXIT {
            break;
        }
        let here = sheet.contains(name);
        println!("manager: {name} is {}", if here { "present" } else { "absent" });
        answered += 1;
        answers.put(here).expect("the answers queue is never shut down");
    }
    answered
}

fn main() {
    let calls = Arc::new(Queue::bounded(1).unwrap());
    let answers = Arc::new(Queue::bounded(1).unwrap());

    println!("roll call begins");
    let desk = {
        let (calls, answers) = (calls.clone(), answers.clone());
        Builder::new().name("manager").spawn(move || manager(&calls, &answers)).expect("the OS starts a thread")
    };
    let front = {
        let (calls, answers) = (calls.clone(), answers.clone());
        Builder::new().name("teacher").spawn(move || teacher(&calls, &answers)).expect("the OS starts a thread")
    };

    let (present, absent) = front.join().expect("the teacher does not panic");
    let answered = desk.join().expect("the manager does not panic");
    println!("manager answered {answered} names and left at '{EXIT}'");
    println!("{present} present, {absent} absent; the lesson starts");
}
