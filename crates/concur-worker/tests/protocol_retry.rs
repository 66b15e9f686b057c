//! Retry backoff: exponential growth, jitter within its bounds, the cap, and
//! the due times the queue actually writes for a failing task.

mod common;

use std::time::{Duration, SystemTime};

use common::{cmd, RedisServer};
use concur_worker::protocol::{FailOutcome, Fetched};
use concur_worker::{EnqueueOptions, QueueConfig, RetryPolicy};

#[test]
fn the_step_doubles_from_initial_up_to_the_cap() {
    let policy = RetryPolicy { initial: Duration::from_millis(250), max: Duration::from_secs(10) };
    let steps: Vec<Duration> = (1..=8).map(|n| policy.step(n)).collect();
    let expected = [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000].map(Duration::from_millis);
    assert_eq!(steps, expected);
    for failures in [40, 1000, u32::MAX] {
        assert_eq!(policy.step(failures), Duration::from_secs(10), "after {failures} failures");
    }
    // A first step above the cap is capped too.
    let odd = RetryPolicy { initial: Duration::from_secs(60), max: Duration::from_secs(5) };
    assert_eq!(odd.step(1), Duration::from_secs(5));
}

#[test]
fn each_wait_lies_in_the_upper_half_of_its_step_and_jitter_spreads_it() {
    let policy = RetryPolicy { initial: Duration::from_secs(1), max: Duration::from_secs(600) };
    let mut previous_high = Duration::ZERO;
    for failures in 1..=12 {
        let (low, high) = policy.bounds(failures);
        assert_eq!((low, high), (policy.step(failures) / 2, policy.step(failures)));
        // Below the cap the ranges do not overlap: a later retry never waits less.
        if high < policy.max {
            assert!(low >= previous_high, "attempt {failures}: {low:?} < {previous_high:?}");
        }
        previous_high = high;
        let draws: Vec<Duration> = (0..1000).map(|_| policy.delay(failures)).collect();
        assert!(draws.iter().all(|d| *d >= low && *d <= high), "attempt {failures}: a draw outside {low:?}..={high:?}");
        // Uniform over the range: 1000 draws all in one tenth of it would be a broken jitter.
        let tenth = (high - low) / 10;
        let (min, max) = (*draws.iter().min().unwrap(), *draws.iter().max().unwrap());
        assert!(min < low + tenth && max > high - tenth, "attempt {failures}: draws only in {min:?}..{max:?}");
    }
}

#[test]
fn a_failing_task_is_due_later_after_each_failure_within_the_policy_bounds() {
    let server = RedisServer::start();
    let policy = RetryPolicy { initial: Duration::from_secs(4), max: Duration::from_secs(3600) };
    let config = QueueConfig { default_max_attempts: 8, retry: policy, ..QueueConfig::default() };
    let mut queue = server.queue(config);
    queue.enqueue("flaky", vec![], &EnqueueOptions::default()).unwrap();
    queue.heartbeat("w1", Duration::from_secs(60)).unwrap();
    let far = SystemTime::now() + Duration::from_secs(365 * 24 * 3600);
    let mut raw = server.raw();
    let mut previous = Duration::ZERO;
    for failures in 1..=7 {
        let Some(Fetched::Task(task)) = queue.fetch("w1", 1, Duration::ZERO).unwrap().pop() else {
            panic!("the task is pending before failure {failures}")
        };
        let before = SystemTime::now();
        let outcome = queue.fail("w1", &task, "down").unwrap();
        let after = SystemTime::now();
        let FailOutcome::Retrying { attempt, delay, due } = outcome else { panic!("{outcome:?}") };
        assert_eq!(attempt, failures);
        // The score written to Redis is the due time the call reported.
        let scored: Vec<String> = cmd(&mut raw, &["ZRANGE", "{queue}:delayed", "0", "0", "WITHSCORES"]);
        let score: f64 = scored[1].parse().unwrap();
        let due_secs = due.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64();
        assert!((score - due_secs).abs() < 0.001, "score {score} vs due {due_secs}");
        let (low, high) = policy.bounds(failures);
        assert!(delay >= low && delay <= high, "failure {failures}: {delay:?} outside {low:?}..={high:?}");
        let slack = Duration::from_millis(5);
        assert!(
            due + slack >= before + low && due <= after + high + slack,
            "failure {failures}: due outside the bounds"
        );
        assert!(delay >= previous, "failure {failures}: {delay:?} shorter than the previous {previous:?}");
        previous = delay;
        assert_eq!(queue.promote_due(far).unwrap().moved, 1);
    }
}
