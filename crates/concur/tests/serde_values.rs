//! With the `serde` feature, the public value types go through serde and
//! come back equal: what a program stores or sends of a task's state, a
//! wait's mode, or why a call failed.

use std::fmt::Debug;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use concur::coro::GeneratorExit;
use concur::executor::{BuildError, SubmitError};
use concur::futures::{FutureError, ReturnWhen};
use concur::queue::{GetError, TaskDoneError, ZeroCapacity};
use concur::sync::ZeroParties;
use concur::thread::JoinStatus;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: T) -> String {
    let json = serde_json::to_string(&value).expect("serializes");
    let back: T = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, value, "through {json}");
    json
}

#[test]
fn future_values_round_trip() {
    assert_eq!(round_trip(ReturnWhen::FirstException), "\"FirstException\"");
    assert_eq!(round_trip(FutureError::Failed("the disk is full".into())), r#"{"Failed":"the disk is full"}"#);
    round_trip(FutureError::Timeout(Duration::from_millis(1500)));
    round_trip(FutureError::Cancelled);
}

#[test]
fn errors_round_trip() {
    round_trip(SubmitError::Broken("an initializer panicked".into()));
    round_trip(BuildError::ZeroWorkers);
    round_trip(ZeroCapacity);
    round_trip(ZeroParties);
    round_trip(GetError::Empty);
    round_trip(TaskDoneError);
    round_trip(GeneratorExit);
}

#[test]
fn join_statuses_round_trip() {
    assert_eq!(round_trip(JoinStatus::Finished), "\"Finished\"");
    round_trip(JoinStatus::TimedOut);
}

#[test]
fn a_panicked_thread_round_trips() {
    let panicked = concur::thread::spawn(|| panic!("boom")).join().unwrap_err();
    let concur::thread::JoinError::Panicked(panicked) = panicked else { panic!("a panic, not {panicked:?}") };
    let json = round_trip(panicked);
    assert!(json.contains("boom"), "{json}");
}

#[cfg(feature = "aio")]
#[test]
fn task_states_round_trip() {
    use concur::aio::TaskState;
    for state in [TaskState::Pending, TaskState::Running, TaskState::Done, TaskState::Cancelled] {
        round_trip(state);
    }
}
