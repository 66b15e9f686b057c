//! Runs every example and checks what it prints, so the examples stay true.
//!
//! `cargo test` builds the examples next to the tests; when a narrower command
//! did not, the first test builds them. The examples of a feature run when
//! it is on, as cargo builds them only then.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;
use std::time::{Duration, Instant};

/// `target/<profile>/examples`, found from this test binary's own path
/// (`target/<profile>/deps/examples-<hash>`).
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps").join("examples")
}

fn build_examples() {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        if examples_dir().join("threads_basic").exists() {
            return;
        }
        let status = Command::new(env!("CARGO"))
            .args(["build", "--package", "concur", "--examples"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the examples failed");
    });
}

/// Runs an example to the end (bounded) and returns its standard output.
fn run(name: &str) -> String {
    build_examples();
    let path = examples_dir().join(name);
    let mut child = Command::new(&path)
        .env_remove("RUST_BACKTRACE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("the example can be polled").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("example {name} did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("the example's output");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert!(
        output.status.success(),
        "example {name} failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn assert_has(output: &str, expected: &str) {
    assert!(output.contains(expected), "expected {expected:?} in:\n{output}");
}

#[test]
fn threads_basic() {
    let out = run("threads_basic");
    assert_has(&out, "'squares' returned 385");
    assert_has(&out, "join() reported: thread 'fragile' panicked: the disk is full");
    assert_has(&out, "cancelled the hour-long alarm before it rang: true");
    assert_has(&out, "the 30 ms reminder fired: Some(\"stretch your legs\")");
    assert_has(&out, "the alarm's join gives: None");
    assert_has(&out, "concur::run waited for it");
    assert_has(&out, "(the daemon is left running)");
}

#[test]
fn lock_counter() {
    let out = run("lock_counter");
    assert_has(&out, "with a Lock:    1000000 of 1000000 (0 additions lost)");
}

#[test]
fn rlock_nested() {
    let out = run("rlock_nested");
    assert_has(&out, "try_acquire says false");
    assert_has(&out, "checking 0, savings 1000, total 1000");
    assert_has(&out, "refused: RLock::release: RLock \"accounts\" is not held by the calling thread");
    assert_has(&out, "locked now: false");
}

#[test]
fn lock_order() {
    let out = run("lock_order");
    assert_has(&out, "thread-1 took (x, y) 10000 times");
    assert_has(&out, "thread-2 took (y, x) 10000 times");
    assert_has(&out, "y inside x: fine");
    assert_has(&out, "x inside y: refused, lock order violation: Lock \"x\" is being acquired at");
    if cfg!(debug_assertions) {
        assert_has(&out, "reported before any deadlock:\n  lock order violation: Lock \"a\" is being acquired at");
        assert_has(&out, "1 violation(s) on record");
    }
}

#[test]
fn event_start() {
    let out = run("event_start");
    for lane in 1..=5 {
        assert_has(&out, &format!("runner-{lane} started "));
    }
    assert_has(&out, "a late runner did not wait");
    assert_has(&out, "wait_timeout(50 ms) returned false");
}

#[test]
fn hide_and_seek() {
    let out = run("hide_and_seek");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out}");
    let speakers: Vec<&str> = lines[..6].iter().map(|l| l.split(':').next().unwrap().trim()).collect();
    assert_eq!(speakers, ["seeker", "hider", "seeker", "hider", "seeker", "hider"]);
    assert_eq!(lines[6], "game over after 6 turns");
}

#[test]
fn thread_local_conn() {
    let out = run("thread_local_conn");
    assert_has(&out, "the server saw exactly one connection per thread");
}

#[test]
fn roll_call() {
    let out = run("roll_call");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "roll call begins",
            "teacher: Ines?",
            "manager: Ines is present",
            "teacher: Tomas?",
            "manager: Tomas is absent",
            "teacher: Wen?",
            "manager: Wen is present",
            "teacher: Priya?",
            "manager: Priya is absent",
            "teacher: Oskar?",
            "manager: Oskar is present",
            "teacher: exit",
            "manager answered 5 names and left at 'exit'",
            "3 present, 2 absent; the lesson starts",
        ],
        "{out}"
    );
}

#[test]
fn queue_orders() {
    let out = run("queue_orders");
    assert_has(&out, "Queue:                   water plants, pay rent, buy bread, call mum, fix bike, read");
    assert_has(&out, "LifoQueue:               read, fix bike, call mum, buy bread, pay rent, water plants");
    assert_has(&out, "PriorityQueue (name):    buy bread, call mum, fix bike, pay rent, read, water plants");
    assert_has(
        &out,
        "PriorityQueue (urgency): 1:pay rent, 1:call mum, 2:water plants, 2:fix bike, 3:buy bread, 3:read",
    );
    assert_has(&out, "SimpleQueue:             water plants, pay rent, buy bread, call mum, fix bike, read");
}

#[test]
fn task_done_join() {
    let out = run("task_done_join");
    assert_has(&out, "3 producers put 6000 parcels");
    assert_has(&out, "join() returned with 6000 of 6000 parcels handled, 0 left in the queue");
    assert_has(&out, "put after shutdown refused, parcel 6000 handed back");
    assert_has(&out, "3 consumer threads and 1 async consumer stopped after taking 6000 parcels");
    assert_has(&out, "sum of parcel numbers: 17997000 (expected 17997000)");
}

#[test]
fn thread_pool() {
    let out = run("thread_pool");
    assert_has(&out, "submitted 3 calls; is_done() at once: false, false, false");
    assert_has(&out, "result() of 1+..+n for n = 10, 100, 1000: 55, 5050, 500500");
    assert_has(&out, "is_done() after result(): true, true, true");
    assert_has(&out, "map(n * n) over 1, 4, 8 (8 finishes first): 1, 16, 64");
    assert_has(&out, "as_completed over eggs, tea, toast (submitted in that order): toast, tea, eggs");
    assert_has(&out, "put 8 jobs and 3 stop sentinels");
    assert_has(&out, "join() returned: 0 items unfinished");
    for worker in 0..3 {
        assert_has(&out, &format!("worker-{worker} took its sentinel and stopped"));
    }
    assert_has(&out, "the workers ran 8 jobs in all");
    assert_has(&out, "primes below 10000: 1229\n");
    assert_has(&out, "primes below 80000: 7837\n");
    assert_has(
        &out,
        "primes below 10000, 20000, 30000, 40000, 50000, 60000, 70000, 80000: \
         1229, 2262, 3245, 4203, 5133, 6057, 6935, 7837",
    );
    assert_has(&out, "both pools agree: true");
}

#[cfg(all(unix, feature = "process-pool"))]
#[test]
fn process_pool() {
    let out = run("process_pool");
    assert_has(&out, "all three agree: primes below 150000 = 13848");
    assert_has(&out, "a crashing call: worker process ");
    assert_has(&out, "was killed by signal 6 (SIGABRT)");
    assert_has(&out, "the pool goes on: primes below 1000 = 168");
}

#[test]
fn generators() {
    let out = run("generators");
    assert_has(&out, "[0, 1, 2, 6, 7, 13, 14, 15, 16, 17, 18, 19]");
    assert_has(&out, "group 0: 3 values, mean 1.723");
    assert_has(&out, "group 1: 2 values, mean 1.625");
}

#[cfg(feature = "aio")]
#[test]
fn aio_basics() {
    let out = run("aio_basics");
    assert_has(&out, "created task 'kettle': state Pending, done() false\n");
    assert_has(
        &out,
        "run_until_complete(kettle):\n  kettle: started, state Running; heating for 200 ms\n  kettle: boiled\n  \
         done callback: 'kettle' ended Done with \"hot water\"\nrun_until_complete returned \"hot water\" after ",
    );
    assert_has(&out, "state now: Done\n");
    assert_has(
        &out,
        "  main: created the toast task and the jam future\n  toast: in the toaster\n  \
         main: 50 ms later the toast task is Running\n  jam: opened (only now, when awaited)\n  toast: browned\n",
    );
    assert_has(&out, "aio::run returned \"toast and jam\" after ");
}

#[cfg(feature = "aio")]
#[test]
fn aio_gather_wait() {
    let out = run("aio_gather_wait");
    assert_has(&out, "gather(salad 600 ms, soup 200 ms, bread 400 ms) -> [\"salad\", \"soup\", \"bread\"] after ");
    assert_has(&out, "  Ok(tea)\n  Err(the task was cancelled: out of cake)\n  Ok(coffee)\n");
    assert_has(&out, "done [\"letter\"], pending [\"sofa\", \"books\"]\n");
    assert_has(&out, "wait(AllCompleted, timeout 400 ms) after ");
    assert_has(&out, "done [\"books\"], pending [\"sofa\"]\n");
    assert_has(&out, "after the timeout the sofa is Running, not cancelled\n");
    assert_has(&out, "done [\"sofa\"], pending []\n");
    assert_has(&out, "the value is still in the task: result() = \"sofa\"\n");
}

#[cfg(feature = "aio")]
#[test]
fn aio_task_states() {
    let out = run("aio_task_states");
    assert_has(
        &out,
        "main: created 'worker': Pending\n  worker: started, my state is Running\n\
         main: after sleep(0) 'worker' is Running (paused at its await)\n  worker: woke up, still Running; returning 42\n  \
         done callback: 'worker' is Done\nmain: awaited 'worker': Done, value 42\n",
    );
    assert_has(
        &out,
        "  done callback: 'idle' is Cancelled\nmain: after sleep(0) 'idle' is Cancelled; its body started: false\n",
    );
    assert_has(&out, "main: awaiting it gives: the task was cancelled: not needed after all\n");
    assert_has(&out, "right after: Running, cancelling() = 1\n");
    assert_has(
        &out,
        "  download: my await returned \"the task was cancelled: the user pressed stop\"; deleting the partial file\n  \
         done callback: 'download' is Cancelled\nmain: after sleep(0) 'download' is Cancelled\n",
    );
    assert_has(&out, "main: cancel again -> false (it has finished)\n");
    assert_has(&out, "main: awaiting it gives: the task was cancelled: the user pressed stop\n");
    assert_has(&out, "  done callback: 'survey' is Done\nmain: 'survey' is Done with 3 answers\n");
}

#[cfg(feature = "aio")]
#[test]
fn aio_background_loop() {
    let out = run("aio_background_loop");
    let jobs: Vec<&str> = out.lines().filter(|line| line.starts_with("  job ")).collect();
    assert_eq!(jobs.len(), 6, "{out}");
    for (index, line) in jobs.iter().enumerate() {
        assert!(line.starts_with(&format!("  job {} ran on 'aio-loop' from ", index % 3 + 1)), "{line}\n{out}");
    }
    assert_has(&out, "all 3 finished after ");
    assert_has(&out, "wall time: blocking callbacks ");
    assert_has(&out, "stopped the loop; its handle now says closed: true\n");
}
