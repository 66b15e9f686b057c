//! One registry, served by worker processes, called through a
//! `RemotePool`: a thousand calls from one client to four workers, a worker
//! killed with SIGKILL mid-way, Redis killed and restarted under a waiting
//! client, a future awaited before any worker exists, a client process
//! under a burst of signals, a dead-lettered call, and a sharded queue on a
//! Redis Cluster.
//!
//! A plain program rather than a libtest harness: the worker processes are
//! this very executable started again with `CONCUR_TEST_REMOTE_WORKER` set,
//! and the client under signals with `CONCUR_TEST_REMOTE_CLIENT` set, which
//! must reach `main` before anything else runs, as a program that serves
//! its own registry would. Each case prints its name; the program exits
//! non-zero if any fails.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::cluster::RedisCluster;
use common::{cmd, wait_until, Ready, RedisServer};
use concur::executor::{Function, Registry, Shutdown};
use concur::futures::{as_completed, wait, ConcurrentFuture, FutureError, ReturnWhen};
use concur_worker::{Client, EnqueueOptions, QueueConfig, RemotePool, Worker};

const CHILD: &str = "CONCUR_TEST_REMOTE_WORKER";
const CLIENT: &str = "CONCUR_TEST_REMOTE_CLIENT";
/// Every wait for futures is bounded by this, so a bug fails the case.
const PATIENCE: Duration = Duration::from_secs(120);

/// The functions both sides know, registered the same way on each.
struct Functions {
    registry: Registry,
    square: Function<u64, u64>,
    nap: Function<(u64, u64), u64>,
    boom: Function<String, u64>,
}

fn functions() -> Functions {
    let mut registry = Registry::new();
    let square = registry.register("square", |n: u64| n * n);
    let nap = registry.register("nap", |(n, ms): (u64, u64)| {
        std::thread::sleep(Duration::from_millis(ms));
        n
    });
    let boom = registry.register("boom", |why: String| -> u64 { panic!("{why}") });
    Functions { registry, square, nap, boom }
}

fn main() -> ExitCode {
    if let Ok(url) = std::env::var(CHILD) {
        return child(&url);
    }
    if let Ok(url) = std::env::var(CLIENT) {
        return signalled_client(&url);
    }
    let cases: [(&str, fn()); 10] = [
        ("a_thousand_submits_to_four_workers_all_come_back_right_without_polling", thousand_to_four),
        ("a_worker_killed_mid_way_leaves_no_future_unresolved", worker_killed),
        ("a_redis_restart_under_a_waiting_client_leaves_no_future_unresolved", redis_restarted),
        ("a_future_awaited_before_any_worker_runs_resolves_when_one_starts", awaited_before_a_worker),
        ("a_burst_of_signals_at_a_waiting_client_costs_its_listeners_no_reconnect", signals_at_the_client),
        ("lost_notifications_are_made_up_by_reading_the_results_after_the_listener_fails", lost_notifications),
        ("a_dead_lettered_call_fails_its_future_with_the_reason", dead_lettered),
        ("a_cancelling_shutdown_takes_back_the_calls_no_worker_took", cancelling_shutdown),
        ("a_sharded_queue_on_a_cluster_answers_every_call", sharded_cluster),
        ("the_three_places_example_gets_the_same_answers_everywhere", three_places_example),
    ];
    common::run_cases(&cases)
}

/// A worker process serving the registry, concurrency 4, a 1 s heartbeat,
/// until SIGINT/SIGTERM (or SIGKILL).
fn child(url: &str) -> ExitCode {
    let worker = Worker::builder()
        .redis(url)
        .registry(&functions().registry)
        .concurrency(4)
        .heartbeat_ttl(Duration::from_secs(1))
        .build();
    match worker.inspect(common::stop_on_signals).and_then(Worker::run) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("worker: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Worker processes, killed (SIGKILL) on drop.
struct Workers(Vec<Child>);

impl Workers {
    fn start(url: &str, n: usize) -> Workers {
        let exe = std::env::current_exe().expect("the test's own executable");
        Workers(
            (0..n)
                .map(|_| {
                    Command::new(&exe)
                        .env(CHILD, url)
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .expect("a worker process starts")
                })
                .collect(),
        )
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until every future is done, failing the case after [`PATIENCE`].
fn all_done<T>(futures: &[ConcurrentFuture<T>]) {
    let (done, pending) = wait(futures, ReturnWhen::AllCompleted, Some(PATIENCE));
    assert!(
        pending.is_empty(),
        "{} of {} futures still pending after {PATIENCE:?}",
        pending.len(),
        done.len() + pending.len()
    );
}

fn done_count<T>(futures: &[ConcurrentFuture<T>]) -> usize {
    futures.iter().filter(|f| f.is_done()).count()
}

fn thousand_to_four() {
    let server = RedisServer::start();
    let f = functions();
    let _workers = Workers::start(&server.url(), 4);
    let pool = RemotePool::connect(&server.url(), QueueConfig::default()).unwrap();
    let futures: Vec<_> = (0..1000u64).map(|n| pool.submit(&f.square, n).unwrap()).collect();
    // Whichever comes first: as_completed hands back each exactly once.
    let mut seen = HashSet::new();
    for done in as_completed(&futures, Some(PATIENCE)) {
        let done = done.expect("every call comes back within the patience");
        assert!(seen.insert(done.result().unwrap()), "a result came twice");
    }
    for (n, future) in futures.iter().enumerate() {
        let n = n as u64;
        assert_eq!(future.result_timeout(Duration::from_secs(1)), Ok(n * n));
    }
    // `map` (on a thread, so that the wait is bounded) and `.await` on the same pool.
    let (sent, mapped) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| sent.send(pool.map(&f.square, 1..=5).unwrap().collect::<Vec<_>>()).unwrap());
        let mapped = mapped.recv_timeout(PATIENCE).expect("map comes back within the patience");
        assert_eq!(mapped, [Ok(1), Ok(4), Ok(9), Ok(16), Ok(25)]);
    });
    let awaited = pool.submit(&f.square, 12).unwrap();
    assert_eq!(awaited.result_timeout(PATIENCE).map(|_| ()), Ok(()));
    assert_eq!(concur::aio::run(awaited).unwrap(), Ok(144));
    pool.shutdown(Shutdown::wait());
    assert_eq!(pool.outstanding(), 0);
    assert!(matches!(pool.submit(&f.square, 1), Err(concur::executor::SubmitError::ShutDown)));
    // No result key was polled: results were read only after a notification.
    let mut raw = server.raw();
    let stats: String = cmd(&mut raw, &["INFO", "commandstats"]);
    let calls = |command: &str| -> u64 {
        let line = stats.lines().find(|line| line.starts_with(&format!("cmdstat_{command}:"))).unwrap_or("");
        line.split(['=', ',']).nth(1).and_then(|n| n.parse().ok()).unwrap_or(0)
    };
    // The few GETs read shard declarations, one per connection made.
    assert!(calls("get") < 50, "result keys were polled with GET:\n{stats}");
    assert!(calls("blpop") > 0, "the client never blocked on its reply list:\n{stats}");
    // One MGET per batch of notified ids, never more than one per task.
    assert!(calls("mget") <= calls("blpop") && calls("mget") <= 1006, "{stats}");
    // Nothing is left behind in the reply list.
    let reply = format!("{{queue}}:reply:{}", pool.client_id());
    let left: i64 = cmd(&mut raw, &["LLEN", &reply]);
    assert_eq!(left, 0);
}

fn worker_killed() {
    let server = RedisServer::start();
    let f = functions();
    let mut workers = Workers::start(&server.url(), 4);
    let pool = RemotePool::connect(&server.url(), QueueConfig::default()).unwrap();
    let futures: Vec<_> = (0..400u64).map(|n| pool.submit(&f.nap, (n, 40)).unwrap()).collect();
    wait_until("a quarter of the calls are done", PATIENCE, || done_count(&futures) >= 100);
    // SIGKILL, with tasks in flight: a reaper returns them after the
    // victim's heartbeat has been missing a whole TTL.
    let victim = &mut workers.0[0];
    victim.kill().unwrap();
    victim.wait().unwrap();
    let killed_at = done_count(&futures);
    assert!(killed_at < 400, "every call was done before the kill; the case proves nothing");
    all_done(&futures);
    for (n, future) in futures.iter().enumerate() {
        assert_eq!(future.result(), Ok(n as u64), "call {n}");
    }
    // The victim held tasks, and they ran again elsewhere.
    let mut queue = Client::connect(&server.url(), QueueConfig::default()).unwrap();
    assert!(queue.status().unwrap().reaped > 0, "the killed worker held no task: the case proves nothing");
}

fn redis_restarted() {
    let dir = std::env::temp_dir().join(format!("concur-remote-pool-aof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_text = dir.display().to_string();
    let persistent = ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir_text.as_str()];
    let mut server = RedisServer::start_with(&persistent, Ready::Ping);
    let port = server.port;
    let f = functions();
    let _workers = Workers::start(&server.url(), 2);
    let pool = RemotePool::connect(&server.url(), QueueConfig::default()).unwrap();
    let futures: Vec<_> = (0..300u64).map(|n| pool.submit(&f.nap, (n, 30)).unwrap()).collect();
    wait_until("some calls are done", PATIENCE, || done_count(&futures) >= 30);
    server.kill();
    let during = done_count(&futures);
    std::thread::sleep(Duration::from_secs(2));
    let _restarted = RedisServer::start_on(port, &persistent, Ready::Ping);
    all_done(&futures);
    assert!(during < 300, "every call was done before the restart; the case proves nothing");
    for (n, future) in futures.iter().enumerate() {
        assert_eq!(future.result(), Ok(n as u64), "call {n}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `.await` on a call no worker can run yet: an `aio` event loop awaits the
/// future, and only then does a worker start; the listener that reads the
/// acknowledgement wakes the loop from its own thread.
fn awaited_before_a_worker() {
    let server = RedisServer::start();
    let f = functions();
    let pool = RemotePool::connect(&server.url(), QueueConfig::default()).unwrap();
    let future = pool.submit(&f.square, 7).unwrap();
    let (awaiting, started) = mpsc::channel();
    let (sent, outcome) = mpsc::channel();
    // The loop runs on a thread of its own, so that the wait for it is bounded.
    std::thread::spawn(move || {
        let awaited = concur::aio::run(async move {
            awaiting.send(future.is_done()).unwrap();
            future.await
        });
        let _ = sent.send(awaited);
    });
    let done_before = started.recv_timeout(PATIENCE).expect("the event loop starts");
    assert!(!done_before, "the call was done with no worker running: the case proves nothing");
    // Let the loop settle into the await before anything can run the call.
    std::thread::sleep(Duration::from_millis(300));
    let _workers = Workers::start(&server.url(), 1);
    let awaited = outcome.recv_timeout(PATIENCE).expect("the awaited future resolves within the patience");
    assert_eq!(awaited.unwrap(), Ok(49));
}

/// A client process waiting on remote calls gets a SIGUSR1 every
/// millisecond, first while no worker runs (its listener sits in `BLPOP`),
/// then while the results come in. A signal handler interrupts a socket
/// read that has a timeout (`EINTR`, `SA_RESTART` or not), which a
/// listener would take for a lost connection; the pool's threads block
/// signals, so its log shows no reconnect and every call comes back.
fn signals_at_the_client() {
    let server = RedisServer::start();
    let url = server.url();
    let exe = std::env::current_exe().expect("the test's own executable");
    let mut process = Command::new(&exe)
        .env(CLIENT, &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the client process starts");
    let (stdout, stderr) = (process.stdout.take().unwrap(), process.stderr.take().unwrap());
    let pid = process.id() as i32;
    // Killed on drop, should the case fail.
    let mut client = Workers(vec![process]);
    let (line, lines) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for read in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = line.send(read);
        }
    });
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut log);
        log
    });
    let ready = lines.recv_timeout(PATIENCE).expect("the client says it is ready");
    assert_eq!(ready, "ready");
    let signal = || {
        // SAFETY: kill(2) on the id of a child this process started and has
        // not reaped yet (a zombie at worst, which ignores it).
        unsafe { libc::kill(pid, libc::SIGUSR1) };
        std::thread::sleep(Duration::from_millis(1));
    };
    let quiet_until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < quiet_until {
        signal();
    }
    let _workers = Workers::start(&url, 2);
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = client.0[0].try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the client still waits after {PATIENCE:?}");
        signal();
    };
    // Both pipes are at their end once the client has exited.
    let log = log.join().unwrap();
    reader.join().unwrap();
    let said: Vec<String> = lines.try_iter().collect();
    assert!(status.success(), "the client failed ({status}): {said:?}\n{log}");
    let handled: usize = said
        .iter()
        .find_map(|line| line.strip_prefix("handled "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the client did not say how many signals it handled: {said:?}"));
    assert!(handled > 10, "only {handled} signals reached the client: the case proves nothing");
    assert!(!log.contains("lost Redis"), "a listener reconnected under the signals:\n{log}");
}

/// The client of [`signals_at_the_client`]: a program with a SIGUSR1
/// handler, a pool, and a thread of its own meant to take the signals.
/// Submits 200 calls, says "ready", waits for them (bounded), and says how
/// many signals it handled; the pool's log goes to stderr.
fn signalled_client(url: &str) -> ExitCode {
    static HANDLED: AtomicUsize = AtomicUsize::new(0);
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(false).init();
    // SAFETY: the handler only adds to an atomic, which is async-signal-safe.
    let registered = unsafe {
        signal_hook::low_level::register(libc::SIGUSR1, || {
            HANDLED.fetch_add(1, Ordering::Relaxed);
        })
    };
    registered.expect("the SIGUSR1 handler is installed");
    let f = functions();
    let pool = RemotePool::connect(url, QueueConfig::default()).expect("the pool connects");
    // The main thread blocks the signal too, so the kernel must choose
    // among the other threads, in the order they were made — the pool's
    // listeners first, unless they block it — as it does whenever the main
    // thread has a signal pending already. The catcher, made after the
    // pool, is left to take it.
    let stop = Arc::new(AtomicBool::new(false));
    let catcher = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    // SAFETY: sigset_t is a plain C struct that sigemptyset/sigaddset fill
    // in; pthread_sigmask only reads it.
    unsafe {
        let mut usr1: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut usr1);
        libc::sigaddset(&mut usr1, libc::SIGUSR1);
        libc::pthread_sigmask(libc::SIG_BLOCK, &usr1, std::ptr::null_mut());
    }
    let futures: Vec<_> = (0..200u64).map(|n| pool.submit(&f.nap, (n, 20)).unwrap()).collect();
    println!("ready");
    let (_, pending) = wait(&futures, ReturnWhen::AllCompleted, Some(PATIENCE));
    stop.store(true, Ordering::Relaxed);
    let _ = catcher.join();
    println!("handled {}", HANDLED.load(Ordering::Relaxed));
    if !pending.is_empty() {
        eprintln!("{} calls still pending after {PATIENCE:?}", pending.len());
        return ExitCode::FAILURE;
    }
    let wrong: Vec<_> =
        futures.iter().enumerate().filter(|(n, future)| future.result() != Ok(*n as u64)).map(|(n, _)| n).collect();
    if !wrong.is_empty() {
        eprintln!("calls {wrong:?} came back wrong");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn lost_notifications() {
    let server = RedisServer::start();
    let f = functions();
    let pool = RemotePool::connect(&server.url(), QueueConfig::default()).unwrap();
    let futures: Vec<_> = (0..50u64).map(|n| pool.submit(&f.square, n).unwrap()).collect();
    // The reply list is made a string, so every notification fails (the
    // scripts push with `pcall`) and the listener's BLPOP fails too: it
    // takes Redis for lost, and after each attempt reads the result keys.
    let reply = format!("{{queue}}:reply:{}", pool.client_id());
    let mut raw = server.raw();
    cmd::<()>(&mut raw, &["SET", &reply, "not a list"]);
    // A worker of the test's own finishes every task.
    let mut queue = server.queue(QueueConfig::default());
    queue.heartbeat("w1", Duration::from_secs(60)).unwrap();
    let tasks = common::tasks(queue.fetch("w1", 100, Duration::ZERO).unwrap());
    assert_eq!(tasks.len(), 50);
    let results: Vec<_> = tasks.iter().map(|t| serde_json::json!(t.args()[0].as_u64().unwrap().pow(2))).collect();
    let done: Vec<_> = tasks.iter().zip(&results).collect();
    queue.ack_many("w1", &done).unwrap();
    assert_eq!(cmd::<String>(&mut raw, &["GET", &reply]), "not a list", "no notification got through");
    all_done(&futures);
    for (n, future) in futures.iter().enumerate() {
        assert_eq!(future.result(), Ok((n * n) as u64), "call {n}");
    }
}

fn cancelling_shutdown() {
    let server = RedisServer::start();
    let f = functions();
    let pool = RemotePool::connect(&server.url(), QueueConfig::default()).unwrap();
    let futures: Vec<_> = (0..5u64).map(|n| pool.submit(&f.square, n).unwrap()).collect();
    assert!(!futures[0].cancel(), "a call in Redis counts as running");
    let (sent, stopped) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            pool.shutdown(Shutdown::wait().cancel_futures());
            sent.send(()).unwrap();
        });
        stopped.recv_timeout(PATIENCE).expect("the shutdown returns");
    });
    for future in &futures {
        assert_eq!(future.result_timeout(Duration::from_secs(1)), Err(FutureError::Cancelled));
    }
    assert_eq!(cmd::<i64>(&mut server.raw(), &["LLEN", "queue"]), 0, "the tasks were taken back");
    assert!(matches!(pool.submit(&f.square, 1), Err(concur::executor::SubmitError::ShutDown)));
}

fn dead_lettered() {
    let server = RedisServer::start();
    let f = functions();
    let _workers = Workers::start(&server.url(), 1);
    let once = EnqueueOptions { max_attempts: Some(1), ..Default::default() };
    let pool = RemotePool::with_options(&server.url(), QueueConfig::default(), once).unwrap();
    let boom = pool.submit(&f.boom, "the disk is on fire".to_owned()).unwrap();
    let err = boom.result_timeout(PATIENCE).unwrap_err();
    let FutureError::Failed(message) = &err else { panic!("not a failure: {err:?}") };
    assert!(message.contains("dead-lettered"), "{message}");
    assert!(message.contains("the disk is on fire"), "{message}");
    // Arguments the function cannot take: rejected at once, whatever the attempts.
    let wrong = pool.submit_task("square", vec![serde_json::json!("seven")]).unwrap();
    let err = wrong.result_timeout(PATIENCE).unwrap_err();
    assert!(err.to_string().contains("do not fit"), "{err}");
    let mut queue = Client::connect(&server.url(), QueueConfig::default()).unwrap();
    assert_eq!(queue.status().unwrap().dead, 2);
}

fn sharded_cluster() {
    let cluster = RedisCluster::start_masters();
    let url = cluster.url();
    let mut admin = Client::connect(&url, QueueConfig::default()).unwrap();
    admin.set_shards(3).unwrap();
    let f = functions();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let worker = Worker::builder()
                .redis(&url)
                .registry(&f.registry)
                .concurrency(8)
                .heartbeat_ttl(Duration::from_secs(2))
                .build()
                .unwrap();
            let stop = worker.shutdown_handle();
            (stop, std::thread::spawn(move || worker.run()))
        })
        .collect();
    let pool = RemotePool::connect(&url, QueueConfig::default()).unwrap();
    let futures: Vec<_> = (0..300u64).map(|n| pool.submit(&f.square, n).unwrap()).collect();
    all_done(&futures);
    for (n, future) in futures.iter().enumerate() {
        assert_eq!(future.result(), Ok((n * n) as u64), "call {n}");
    }
    pool.shutdown(Shutdown::wait());
    for (stop, running) in workers {
        stop.stop();
        running.join().unwrap().unwrap();
    }
}

fn three_places_example() {
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().and_then(|deps| deps.parent()).unwrap().join("examples");
    if !examples.join("three_places").exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--package", "concur-worker", "--example", "three_places"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    let output = Command::new(examples.join("three_places")).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    for place in ["ThreadPool(2): 6 calls", "ProcessPool(2): 6 calls", "RemotePool, 2 workers: 6 calls"] {
        assert!(stdout.contains(place), "{stdout}");
    }
    assert!(stdout.contains("primes below 100000 = 9592"), "{stdout}");
    assert!(stdout.contains("the same 6 answers in all three places"), "{stdout}");
}
