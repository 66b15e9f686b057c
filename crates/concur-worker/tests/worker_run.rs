//! The run loop in this process against a real redis-server: the reference's
//! 5-3-1 scenario, bad payloads, retries and time limits, two workers on one
//! queue, a reap under a live worker, graceful and cut-short stops, Redis
//! killed and restarted under load, a start while Redis loads its data,
//! program tasks from a config file (and their process groups), delayed
//! tasks, prefetched tasks (held, returned on a stop or quiet), and the
//! `redis_tasks` example.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{cmd, wait_until, Ready, RedisServer};
use concur::aio;
use concur_worker::{
    DeadEntry, DeadKind, EnqueueOptions, Job, QueueConfig, ResultStatus, RetryPolicy, RunReport, Shutdown, TaskError,
    TaskResult, Worker, WorkerBuilder, WorkerError,
};
use serde_json::{json, Value};

/// A worker running on a thread of this test.
struct Running {
    stop: Shutdown,
    thread: JoinHandle<Result<RunReport, WorkerError>>,
}

fn start(builder: WorkerBuilder) -> Running {
    let worker = builder.build().expect("the worker builds");
    let stop = worker.shutdown_handle();
    let thread = std::thread::spawn(move || worker.run());
    Running { stop, thread }
}

impl Running {
    fn stop(self) -> RunReport {
        self.stop.stop();
        self.join()
    }

    fn join(self) -> RunReport {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.thread.is_finished() {
            assert!(Instant::now() < deadline, "the worker did not stop within 60 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.thread.join().expect("the worker thread did not panic").expect("the worker ran")
    }
}

fn builder(server: &RedisServer) -> WorkerBuilder {
    Worker::builder().redis(&server.url())
}

fn status(server: &RedisServer) -> concur_worker::Status {
    server.queue(QueueConfig::default()).status().expect("status")
}

fn results(server: &RedisServer) -> Vec<TaskResult> {
    let ids: Vec<String> = cmd(&mut server.raw(), &["LRANGE", "{queue}:results", "0", "-1"]);
    let mut queue = server.queue(QueueConfig::default());
    ids.iter().filter_map(|id| queue.result(id).unwrap()).collect()
}

fn dead(server: &RedisServer) -> Vec<DeadEntry> {
    server.queue(QueueConfig::default()).dead_list(0, 100).unwrap()
}

#[test]
fn the_reference_scenario_runs_5_3_1_at_once_and_finishes_in_order_1_3_5() {
    let server = RedisServer::start();
    let unit = Duration::from_millis(400);
    let mut producer = server.raw();
    for n in ["5", "3", "1"] {
        let _: i64 = cmd(&mut producer, &["LPUSH", "queue", n]);
    }
    let worker = start(builder(&server).sleep_unit(unit));
    wait_until("the three tasks are done", Duration::from_secs(15), || status(&server).done == 3);
    let report = worker.stop();
    assert_eq!(report.done, 3);

    let mut finished = results(&server);
    finished.sort_by(|a, b| a.finished_at.total_cmp(&b.finished_at));
    let order: Vec<Value> = finished.iter().map(|r| r.result.clone().unwrap()).collect();
    assert_eq!(order, [json!(1), json!(3), json!(5)]);
    let first_start = finished.iter().map(|r| r.started_at).fold(f64::MAX, f64::min);
    let span = finished[2].finished_at - first_start;
    // 5 units at once, not 9 one after another (3.6 s); generous for a busy machine.
    assert!(span >= 5.0 * unit.as_secs_f64() - 0.05, "finished too early: {span:.2} s");
    assert!(span < 8.0 * unit.as_secs_f64(), "the three did not overlap: {span:.2} s");
}

#[test]
fn bad_payloads_are_dead_lettered_with_a_reason_while_the_worker_serves_on() {
    let server = RedisServer::start();
    let worker = start(builder(&server).handler("add", |job: Job| async move {
        let (a, b): (i64, i64) = job.args_as()?;
        Ok::<_, TaskError>(a + b)
    }));
    let mut producer = server.queue(QueueConfig::default());
    let big = vec![b'x'; 10 << 20];
    let bad: [(&[u8], DeadKind, &str); 9] = [
        (b"\xff\xfe not utf-8", DeadKind::Malformed, "not UTF-8"),
        (b"{not json", DeadKind::Malformed, "not JSON"),
        (&big, DeadKind::Malformed, "more than the queue's limit"),
        (b"[1, 2]", DeadKind::Malformed, "not a valid task"),
        (b"-5", DeadKind::Rejected, "must not be negative"),
        (b"1e300", DeadKind::Rejected, "longer than the task's time limit"),
        (br#"{"task":"nope","args":[1]}"#, DeadKind::Rejected, r#"no handler is registered for the task "nope""#),
        (br#"{"task":"sleep","args":["x"]}"#, DeadKind::Rejected, "must be a number"),
        (br#"{"task":"add","args":["a",1]}"#, DeadKind::Rejected, r#"do not fit the task "add""#),
    ];
    for (payload, _, _) in &bad {
        producer.enqueue_raw(payload).unwrap();
        producer.enqueue("add", vec![json!(2), json!(3)], &EnqueueOptions::default()).unwrap();
    }
    wait_until("every payload is dealt with", Duration::from_secs(20), || {
        let s = status(&server);
        s.dead == bad.len() as u64 && s.done == bad.len() as u64
    });
    let entries = dead(&server);
    for (payload, kind, reason) in &bad {
        let found = entries.iter().find(|e| e.kind == *kind && e.error.contains(reason));
        let entry = found.unwrap_or_else(|| panic!("no {kind:?} entry saying {reason:?}: {entries:#?}"));
        if *kind == DeadKind::Malformed {
            // Kept as pushed; a rejected task keeps its envelope instead.
            assert_eq!(entry.payload_size, payload.len() as u64);
        }
    }
    let huge = entries.iter().find(|e| e.payload_size == big.len() as u64).unwrap();
    assert!(huge.payload.is_none() && huge.payload_prefix.as_ref().is_some_and(|p| p.len() <= 256));
    let succeeded: Vec<TaskResult> =
        results(&server).into_iter().filter(|r| r.status == ResultStatus::Succeeded).collect();
    assert_eq!(succeeded.len(), bad.len());
    assert!(succeeded.iter().all(|r| r.result == Some(json!(5))));
    let report = worker.stop();
    assert_eq!((report.malformed, report.rejected, report.done), (4, 5, 9));
}

#[test]
fn failures_retry_with_backoff_and_time_limits_panics_and_rejections_end_in_the_dead_letter_list() {
    let server = RedisServer::start();
    let flaky_calls = Arc::new(AtomicU32::new(0));
    let calls = flaky_calls.clone();
    let config = QueueConfig {
        retry: RetryPolicy { initial: Duration::from_millis(50), max: Duration::from_millis(200) },
        ..QueueConfig::default()
    };
    let worker = start(
        builder(&server)
            .queue_config(config)
            .handler("flaky", move |job: Job| {
                let calls = calls.clone();
                async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    if job.attempt() < 3 {
                        return Err(TaskError::failed(format!("attempt {} failed", job.attempt())));
                    }
                    Ok(job.attempt())
                }
            })
            .handler("slow", |_job: Job| async move {
                aio::sleep(Duration::from_secs(30)).await?;
                Ok::<_, TaskError>(())
            })
            .handler("panics", |_job: Job| async move {
                if true {
                    panic!("the handler blew up");
                }
                Ok::<_, TaskError>(())
            })
            .handler("refuses", |_job: Job| async move { Err::<(), _>(TaskError::rejected("never with these")) }),
    );
    let mut producer = server.queue(QueueConfig::default());
    let options = |attempts: u32, timeout_ms: u64| EnqueueOptions {
        max_attempts: Some(attempts),
        timeout: Some(Duration::from_millis(timeout_ms)),
        ..EnqueueOptions::default()
    };
    let flaky = producer.enqueue("flaky", vec![], &options(5, 5_000)).unwrap();
    let start_time = Instant::now();
    let slow = producer.enqueue("slow", vec![], &options(2, 200)).unwrap();
    let panics = producer.enqueue("panics", vec![], &options(2, 5_000)).unwrap();
    let refuses = producer.enqueue("refuses", vec![], &options(5, 5_000)).unwrap();
    wait_until("all four tasks end", Duration::from_secs(20), || {
        [&flaky, &slow, &panics, &refuses].iter().all(|id| producer.result(id).unwrap().is_some())
    });
    assert!(start_time.elapsed() < Duration::from_secs(10), "a time limit of 200 ms was not kept");
    let report = worker.stop();

    let flaky = producer.result(&flaky).unwrap().unwrap();
    assert_eq!((flaky.status, flaky.attempts, flaky.result), (ResultStatus::Succeeded, 3, Some(json!(3))));
    assert_eq!(flaky_calls.load(Ordering::SeqCst), 3);
    for (id, attempts, error) in [
        (&slow, 2, "did not finish within its time limit of 0.2 s"),
        (&panics, 2, "the handler panicked: the handler blew up"),
        (&refuses, 1, "never with these"),
    ] {
        let result = producer.result(id).unwrap().unwrap();
        assert_eq!((result.status, result.attempts), (ResultStatus::Dead, attempts), "{result:?}");
        assert!(result.error.as_deref().is_some_and(|e| e.contains(error)), "{result:?}");
    }
    assert_eq!((report.retried, report.dead, report.rejected, report.done), (4, 2, 1, 1));
}

#[test]
fn two_workers_never_run_the_same_task_at_once() {
    let server = RedisServer::start();
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let runs: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let overlaps = Arc::new(AtomicU32::new(0));
    let tracker =
        |running: Arc<Mutex<HashSet<String>>>, runs: Arc<Mutex<HashMap<String, u32>>>, overlaps: Arc<AtomicU32>| {
            move |job: Job| {
                let (running, runs, overlaps) = (running.clone(), runs.clone(), overlaps.clone());
                async move {
                    if !running.lock().unwrap().insert(job.id().to_owned()) {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    *runs.lock().unwrap().entry(job.id().to_owned()).or_default() += 1;
                    let (ms,): (u64,) = job.args_as()?;
                    aio::sleep(Duration::from_millis(ms)).await?;
                    running.lock().unwrap().remove(job.id());
                    Ok::<_, TaskError>(())
                }
            }
        };
    let workers: Vec<Running> = (0..2)
        .map(|_| {
            start(
                builder(&server)
                    .concurrency(50)
                    .handler("track", tracker(running.clone(), runs.clone(), overlaps.clone())),
            )
        })
        .collect();
    let mut producer = server.queue(QueueConfig::default());
    let ids =
        producer.enqueue_many("track", (0..3000).map(|n| vec![json!(1 + n % 5)]), &EnqueueOptions::default()).unwrap();
    wait_until("every task is done", Duration::from_secs(60), || status(&server).done == 3000);
    let reports: Vec<RunReport> = workers.into_iter().map(Running::stop).collect();
    assert!(reports.iter().all(|r| r.done > 0), "both workers took part: {reports:?}");
    assert_eq!(overlaps.load(Ordering::SeqCst), 0);
    let runs = runs.lock().unwrap();
    assert!(ids.iter().all(|id| runs.get(id) == Some(&1)), "every task ran exactly once");
    assert_eq!(status(&server).reaped, 0);
}

#[test]
fn a_heartbeat_key_deleted_under_a_live_worker_does_not_get_its_tasks_run_twice() {
    let server = RedisServer::start();
    let runs: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let napper = |runs: Arc<Mutex<HashMap<String, u32>>>| {
        move |job: Job| {
            *runs.lock().unwrap().entry(job.id().to_owned()).or_default() += 1;
            async {
                aio::sleep(Duration::from_secs(3)).await?;
                Ok::<_, TaskError>(())
            }
        }
    };
    let ttl = Duration::from_secs(1);
    let first = start(builder(&server).concurrency(10).heartbeat_ttl(ttl).handler("nap", napper(runs.clone())));
    let mut producer = server.queue(QueueConfig::default());
    let ids = producer.enqueue_many("nap", (0..10).map(|_| vec![]), &EnqueueOptions::default()).unwrap();
    wait_until("the first worker holds all ten", Duration::from_secs(10), || status(&server).processing() == 10);
    let first_id = status(&server).workers[0].id.clone();
    // A second worker reaps every half TTL or so, while the first worker's
    // heartbeat key keeps vanishing (as under FLUSHALL or an eviction).
    let second = start(builder(&server).concurrency(10).heartbeat_ttl(ttl).handler("nap", napper(runs.clone())));
    let heartbeat = format!("{{queue}}:heartbeat:{first_id}");
    let mut raw = server.raw();
    let deleting = Instant::now();
    while deleting.elapsed() < Duration::from_millis(2500) {
        let _: i64 = cmd(&mut raw, &["DEL", &heartbeat]);
        std::thread::sleep(Duration::from_millis(150));
    }
    wait_until("all ten are done", Duration::from_secs(20), || status(&server).done == 10);
    let first = first.stop();
    let second = second.stop();
    assert_eq!((first.done, first.not_held, first.vanished), (10, 0, 0), "{first:?}");
    assert!(first.heartbeat_vanished > 0, "the first worker noticed its key was gone: {first:?}");
    assert_eq!(second.done, 0, "{second:?}");
    assert_eq!(status(&server).reaped, 0);
    let runs = runs.lock().unwrap();
    assert!(ids.iter().all(|id| runs.get(id) == Some(&1)), "a task ran twice: {runs:?}");
}

#[test]
fn a_stop_lets_running_tasks_finish_and_leaves_the_rest_pending() {
    let server = RedisServer::start();
    let started = Arc::new(AtomicU32::new(0));
    let counter = started.clone();
    let worker = start(builder(&server).concurrency(5).handler("nap", move |_job: Job| {
        counter.fetch_add(1, Ordering::SeqCst);
        async {
            aio::sleep(Duration::from_millis(400)).await?;
            Ok::<_, TaskError>(())
        }
    }));
    let mut producer = server.queue(QueueConfig::default());
    producer.enqueue_many("nap", (0..20).map(|_| vec![]), &EnqueueOptions::default()).unwrap();
    wait_until("five are running", Duration::from_secs(10), || started.load(Ordering::SeqCst) == 5);
    let report = worker.stop();
    assert_eq!(started.load(Ordering::SeqCst), 5, "no task started after the stop");
    assert_eq!((report.done, report.returned), (5, 0), "{report:?}");
    let s = status(&server);
    assert_eq!((s.pending, s.processing(), s.done, s.workers.len()), (15, 0, 5, 0));
}

#[test]
fn a_stop_cancels_and_returns_tasks_still_running_when_the_grace_period_ends() {
    let server = RedisServer::start();
    let worker = start(builder(&server).grace_period(Duration::from_millis(300)));
    let mut producer = server.queue(QueueConfig::default());
    let id = producer.enqueue("sleep", vec![json!(60)], &EnqueueOptions::default()).unwrap();
    wait_until("it runs", Duration::from_secs(10), || status(&server).processing() == 1);
    let stopping = Instant::now();
    let report = worker.stop();
    assert!(stopping.elapsed() < Duration::from_secs(5), "took {:?}", stopping.elapsed());
    assert_eq!((report.done, report.returned, report.retried), (0, 1, 0), "{report:?}");
    let s = status(&server);
    assert_eq!((s.pending, s.processing(), s.delayed, s.dead), (1, 0, 0, 0));
    let pending: Vec<String> = cmd(&mut server.raw(), &["LRANGE", "queue", "0", "-1"]);
    assert!(pending[0].contains(&id), "the same task is back: {pending:?}");
}

#[test]
fn a_stop_ends_an_idle_blocking_fetch_at_once() {
    let server = RedisServer::start();
    let worker = start(builder(&server).heartbeat_ttl(Duration::from_secs(60)));
    wait_until("the worker is registered", Duration::from_secs(10), || status(&server).workers.len() == 1);
    std::thread::sleep(Duration::from_millis(200));
    let stopping = Instant::now();
    worker.stop();
    // The fetch blocks up to 2 s; CLIENT UNBLOCK ends it far sooner.
    assert!(stopping.elapsed() < Duration::from_millis(1500), "took {:?}", stopping.elapsed());
}

#[test]
fn redis_killed_and_restarted_under_load_loses_and_repeats_nothing() {
    let dir = std::env::temp_dir().join(format!("concur-worker-aof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_text = dir.display().to_string();
    let persistent = ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir_text.as_str()];
    let mut server = RedisServer::start_with(&persistent, Ready::Ping);
    let port = server.port;
    let runs: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let counted = runs.clone();
    let worker = start(builder(&server).concurrency(50).handler("count", move |job: Job| {
        let runs = counted.clone();
        async move {
            *runs.lock().unwrap().entry(job.id().to_owned()).or_default() += 1;
            let (ms,): (u64,) = job.args_as()?;
            aio::sleep(Duration::from_millis(ms)).await?;
            Ok::<_, TaskError>(())
        }
    }));
    let mut producer = server.queue(QueueConfig::default());
    let ids =
        producer.enqueue_many("count", (0..3000).map(|n| vec![json!(5 + n % 20)]), &EnqueueOptions::default()).unwrap();
    wait_until("a sixth is done", Duration::from_secs(30), || status(&server).done >= 500);
    server.kill();
    std::thread::sleep(Duration::from_secs(1));
    let restarted = RedisServer::start_on(port, &persistent, Ready::Ping);
    wait_until("every task is done", Duration::from_secs(90), || {
        restarted.queue(QueueConfig::default()).status().is_ok_and(|s| s.done == 3000)
    });
    let report = worker.stop();
    assert!(report.reconnects > 0, "the worker noticed the outage: {report:?}");
    let runs = runs.lock().unwrap();
    let twice: Vec<&String> = ids.iter().filter(|id| runs.get(*id) != Some(&1)).collect();
    assert!(twice.is_empty(), "{} tasks did not run exactly once, e.g. {:?}", twice.len(), twice.first());
    let mut queue = restarted.queue(QueueConfig::default());
    assert!(ids.iter().all(|id| queue.result(id).unwrap().is_some_and(|r| r.status == ResultStatus::Succeeded)));
    let s = queue.status().unwrap();
    assert_eq!((s.pending, s.processing(), s.dead, s.delayed), (0, 0, 0, 0));
    drop(restarted);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_worker_started_while_redis_loads_its_data_waits_until_it_serves() {
    // A data file of 3,000 keys, which the server then loads at 1 ms a key
    // (its `key-load-delay`), answering clients every KiB it reads: at
    // least 3 s of `-LOADING`.
    let dir = std::env::temp_dir().join(format!("concur-worker-loading-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_text = dir.display().to_string();
    {
        let seed = RedisServer::start_with(&["--dir", &dir_text], Ready::Ping);
        let mut conn = seed.raw();
        let mut fill = redis::pipe();
        for n in 0..3000 {
            fill.set(format!("data:{n}"), n).ignore();
        }
        fill.query::<()>(&mut conn).unwrap();
        let saved: String = cmd(&mut conn, &["SAVE"]);
        assert_eq!(saved, "OK");
    }
    let slow_load = ["--key-load-delay", "1000", "--loading-process-events-interval-bytes", "1024"];
    let loading = RedisServer::start_with(&[&["--dir", dir_text.as_str()][..], &slow_load].concat(), Ready::Up);

    let err = builder(&loading).loading_wait(Duration::ZERO).build().unwrap_err();
    assert!(err.to_string().contains("cannot serve yet"), "{err}");
    let worker = start(builder(&loading)); // waits for the load to end
    let mut producer = loading.queue(QueueConfig::default());
    let id = producer.enqueue("echo", vec![json!("served")], &EnqueueOptions::default()).unwrap();
    wait_until("the task ran", Duration::from_secs(20), || producer.result(&id).unwrap().is_some());
    worker.stop();
    let size: u64 = cmd(&mut loading.raw(), &["DBSIZE"]);
    assert!(size >= 3000, "the data was loaded, not lost: {size} keys");
    drop(loading);
    let _ = std::fs::remove_dir_all(&dir);
}

fn write_config(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concur-worker-config-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tasks.json");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn programs_from_the_config_file_run_with_the_task_arguments_as_argv() {
    let server = RedisServer::start();
    let config = write_config(
        "programs",
        r#"{"tasks": {
            "show": {"program": "printf", "args": ["%s|%s"]},
            "fails": {"program": "sh", "args": ["-c", "echo broken >&2; exit 3"]},
            "hangs": {"program": "sleep", "timeout": 0.3}
        }}"#,
    );
    let worker = start(builder(&server).config_file(&config));
    let mut producer = server.queue(QueueConfig::default());
    let once = EnqueueOptions { max_attempts: Some(1), ..EnqueueOptions::default() };
    let show = producer.enqueue("show", vec![json!("; rm -rf /tmp/x"), json!(42)], &once).unwrap();
    let fails = producer.enqueue("fails", vec![], &once).unwrap();
    let started = Instant::now();
    let hangs = producer.enqueue("hangs", vec![json!(30)], &once).unwrap();
    let object = producer.enqueue("show", vec![json!({"a": 1}), json!(1)], &once).unwrap();
    wait_until("all four end", Duration::from_secs(20), || {
        [&show, &fails, &hangs, &object].iter().all(|id| producer.result(id).unwrap().is_some())
    });
    assert!(started.elapsed() < Duration::from_secs(10));
    worker.stop();

    let show = producer.result(&show).unwrap().unwrap();
    assert_eq!(show.result.unwrap()["stdout"], json!("; rm -rf /tmp/x|42"), "no shell saw the argument");
    for (id, error) in [
        (&fails, "exited with status 3: broken"),
        (&hangs, "time limit of 0.3 s"),
        (&object, "argument 1 of the task \"show\" is an object"),
    ] {
        let result = producer.result(id).unwrap().unwrap();
        assert!(result.error.as_deref().is_some_and(|e| e.contains(error)), "{result:?}");
    }
    let _ = std::fs::remove_dir_all(config.parent().unwrap());
}

#[test]
fn a_time_limit_kills_the_processes_a_program_started_too() {
    let server = RedisServer::start();
    // The script starts a long sleep in the background, writes its PID to
    // the file named by the task's argument (`$0`), and waits for it.
    let config = write_config(
        "group",
        r#"{"tasks": {"forks": {"program": "sh", "args": ["-c", "sleep 60 & echo $! > \"$0\"; wait"], "timeout": 0.5}}}"#,
    );
    let pid_file = config.parent().unwrap().join("child.pid");
    let worker = start(builder(&server).config_file(&config));
    let mut producer = server.queue(QueueConfig::default());
    let once = EnqueueOptions { max_attempts: Some(1), ..EnqueueOptions::default() };
    let id = producer.enqueue("forks", vec![json!(pid_file.display().to_string())], &once).unwrap();
    wait_until("the task ends", Duration::from_secs(20), || producer.result(&id).unwrap().is_some());
    worker.stop();
    let result = producer.result(&id).unwrap().unwrap();
    assert!(result.error.as_deref().is_some_and(|e| e.contains("time limit of 0.5 s")), "{result:?}");
    let pid = std::fs::read_to_string(&pid_file).unwrap().trim().to_owned();
    // Gone, or a zombie waiting for whoever adopted it: either way not running.
    wait_until("the background sleep is gone", Duration::from_secs(5), || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map_or(true, |stat| stat.rsplit(") ").next().is_some_and(|rest| rest.starts_with('Z')))
    });
    let _ = std::fs::remove_dir_all(config.parent().unwrap());
}

#[test]
fn a_missing_or_invalid_config_file_stops_the_build_and_touches_nothing() {
    let server = RedisServer::start();
    let err = builder(&server).config_file("/no/such/tasks.json").build().unwrap_err();
    assert!(err.is_bad_input() && err.to_string().contains("/no/such/tasks.json"), "{err}");
    let bad = write_config("invalid", r#"{"tasks": {"x": {"program": "true", "argz": []}}}"#);
    let err = builder(&server).config_file(&bad).build().unwrap_err();
    assert!(err.is_bad_input() && err.to_string().contains("argz"), "{err}");
    let keys: Vec<String> = cmd(&mut server.raw(), &["KEYS", "*"]);
    assert!(keys.is_empty(), "{keys:?}");
    let _ = std::fs::remove_dir_all(bad.parent().unwrap());
}

#[test]
fn delayed_tasks_run_when_due() {
    let server = RedisServer::start();
    let worker = start(builder(&server));
    let mut producer = server.queue(QueueConfig::default());
    let enqueued = Instant::now();
    let delay = EnqueueOptions { delay: Duration::from_millis(600), ..EnqueueOptions::default() };
    let id = producer.enqueue("echo", vec![json!("later")], &delay).unwrap();
    wait_until("it ran", Duration::from_secs(10), || producer.result(&id).unwrap().is_some());
    assert!(enqueued.elapsed() >= Duration::from_millis(600));
    worker.stop();
}

#[test]
fn the_redis_tasks_example_plays_the_reference_scenario() {
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().and_then(|deps| deps.parent()).unwrap().join("examples");
    if !examples.join("redis_tasks").exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--package", "concur-worker", "--example", "redis_tasks"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    let output = std::process::Command::new(examples.join("redis_tasks")).args(["--unit", "300"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("finished in the order 1, 3, 5"), "{stdout}");
    assert!(stdout.contains("3 tasks of 5, 3 and 1 units"), "{stdout}");
}

/// Counts the handlers running at once, and the most there ever were.
#[derive(Default)]
struct AtOnce {
    now: AtomicU32,
    most: AtomicU32,
    started: AtomicU32,
}

impl AtOnce {
    /// A handler that runs `ms` milliseconds, counted.
    fn handler(
        self: &Arc<Self>,
        ms: u64,
    ) -> impl Fn(Job) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), TaskError>>>> {
        let this = self.clone();
        move |_job: Job| {
            let this = this.clone();
            this.started.fetch_add(1, Ordering::SeqCst);
            let now = this.now.fetch_add(1, Ordering::SeqCst) + 1;
            this.most.fetch_max(now, Ordering::SeqCst);
            Box::pin(async move {
                let slept = aio::sleep(Duration::from_millis(ms)).await;
                this.now.fetch_sub(1, Ordering::SeqCst);
                slept?;
                Ok(())
            })
        }
    }
}

#[test]
fn a_prefetching_worker_holds_more_than_it_runs_and_runs_each_task_once() {
    let server = RedisServer::start();
    let counts = Arc::new(AtOnce::default());
    let worker = start(builder(&server).concurrency(2).prefetch(10).handler("nap", counts.handler(2)));
    let mut producer = server.queue(QueueConfig::default());
    producer.enqueue_many("nap", (0..300).map(|_| vec![]), &EnqueueOptions::default()).unwrap();
    let mut most_held = 0;
    wait_until("every task is done", Duration::from_secs(60), || {
        let s = status(&server);
        most_held = most_held.max(s.processing());
        s.done == 300
    });
    let report = worker.stop();
    assert_eq!((report.done, report.returned, report.not_held), (300, 0, 0), "{report:?}");
    assert_eq!(counts.started.load(Ordering::SeqCst), 300, "each task ran once");
    assert_eq!(counts.most.load(Ordering::SeqCst), 2, "never more than the concurrency at once");
    assert!((3..=12).contains(&most_held), "it held up to 2 running + 10 ahead, and more than 2: {most_held}");
    let s = status(&server);
    assert_eq!((s.pending, s.processing(), s.dead), (0, 0, 0));
}

#[test]
fn a_stop_sends_prefetched_tasks_back_to_pending_unstarted() {
    let server = RedisServer::start();
    let counts = Arc::new(AtOnce::default());
    let worker = start(builder(&server).concurrency(1).prefetch(5).handler("nap", counts.handler(400)));
    let mut producer = server.queue(QueueConfig::default());
    producer.enqueue_many("nap", (0..20).map(|_| vec![]), &EnqueueOptions::default()).unwrap();
    wait_until("one runs and five wait", Duration::from_secs(10), || {
        counts.started.load(Ordering::SeqCst) == 1 && status(&server).processing() == 6
    });
    let report = worker.stop();
    assert_eq!(counts.started.load(Ordering::SeqCst), 1, "no waiting task started after the stop");
    assert_eq!((report.done, report.returned), (1, 5), "{report:?}");
    let s = status(&server);
    assert_eq!((s.pending, s.processing(), s.done, s.dead), (19, 0, 1, 0));
}

#[test]
fn a_quiet_worker_sends_prefetched_tasks_back_without_waiting_for_the_running_one() {
    let server = RedisServer::start();
    let counts = Arc::new(AtOnce::default());
    let worker = start(
        builder(&server)
            .concurrency(1)
            .prefetch(5)
            .grace_period(Duration::from_millis(300))
            .handler("nap", counts.handler(30_000)),
    );
    let mut producer = server.queue(QueueConfig::default());
    producer.enqueue_many("nap", (0..20).map(|_| vec![]), &EnqueueOptions::default()).unwrap();
    wait_until("one runs and five wait", Duration::from_secs(10), || {
        counts.started.load(Ordering::SeqCst) == 1 && status(&server).processing() == 6
    });
    assert!(worker.stop.quiet());
    // Well before the running task's 30 s are over.
    wait_until("the five are back", Duration::from_secs(10), || {
        let s = status(&server);
        (s.pending, s.processing()) == (19, 1)
    });
    assert_eq!(counts.started.load(Ordering::SeqCst), 1);
    let report = worker.stop();
    assert_eq!(report.returned, 6, "the five waiting, then the running one cut short: {report:?}");
}
