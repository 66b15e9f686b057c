//! A `redis-server` of the test's own, on a free port, stopped on drop.
//!
//! Every test starts its own server so tests run in parallel without sharing
//! state and never depend on a server being up already. Nothing is persisted:
//! `--save ''` and `--appendonly no`, in a scratch directory removed on drop.

#![allow(dead_code)] // Each test file uses a different part of the harness.

pub(crate) mod cluster;

use std::io::{BufRead, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use concur_worker::protocol::{Connection, Fetched, Reaped, Task};
use concur_worker::QueueConfig;

/// How long a server may take to answer its first `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(15);

pub(crate) struct RedisServer {
    child: Child,
    pub(crate) port: u16,
    pub(crate) dir: PathBuf,
}

/// How the harness decides the server is ready.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Ready {
    /// A plain `PING` gets any reply (`+PONG`, or `-NOAUTH` with a password)
    /// but `-LOADING`: the server serves.
    Ping,
    /// A plain `PING` gets any reply, `-LOADING` included: the server is up,
    /// perhaps still loading its data.
    Up,
    /// The port accepts TCP connections (for a TLS-only server).
    Listening,
}

impl RedisServer {
    /// A plain server with no password.
    pub(crate) fn start() -> RedisServer {
        RedisServer::start_with(&[], Ready::Ping)
    }

    /// A server with extra arguments; `{dir}` in them is replaced by its
    /// scratch directory. Retries on another port if the chosen one was taken
    /// between choosing and binding.
    pub(crate) fn start_with(extra: &[&str], ready: Ready) -> RedisServer {
        for _ in 0..5 {
            if let Some(server) = RedisServer::try_start(free_port(), extra, ready) {
                return server;
            }
        }
        panic!("redis-server did not start on any of 5 free ports");
    }

    /// A server on a given port (to restart one where a client expects it).
    pub(crate) fn start_on(port: u16, extra: &[&str], ready: Ready) -> RedisServer {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(server) = RedisServer::try_start(port, extra, ready) {
                return server;
            }
            assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn try_start(port: u16, extra: &[&str], ready: Ready) -> Option<RedisServer> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "concur-worker-test-{}-{}-{port}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create the server's scratch directory");
        let dir_text = dir.display().to_string();
        let tls = ready == Ready::Listening;
        let port_text = port.to_string();
        let mut args: Vec<String> = if tls {
            vec!["--port".into(), "0".into(), "--tls-port".into(), port_text]
        } else {
            vec!["--port".into(), port_text]
        };
        args.extend(
            ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", &dir_text]
                .iter()
                .map(|s| s.to_string()),
        );
        args.extend(extra.iter().map(|a| a.replace("{dir}", &dir_text)));
        let child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run redis-server ({e}); install it: apt-get install -y redis-server"));
        let mut server = RedisServer { child, port, dir };
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = server.child.try_wait() {
                return None; // It exited: most likely the port was taken.
            }
            if server.answers(ready) {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn answers(&self, ready: Ready) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        if ready == Ready::Listening {
            return true;
        }
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        if stream.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut line = String::new();
        if std::io::BufReader::new(stream).read_line(&mut line).is_err() {
            return false;
        }
        // A server still reading its data answers `-LOADING`: it is up but
        // refuses commands, so it serves only after that.
        (line.starts_with('+') || line.starts_with('-')) && (ready == Ready::Up || !line.starts_with("-LOADING"))
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The server's process id, for a bench that reads its CPU time.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A plain connection for inspecting and writing keys as another program would.
    pub(crate) fn raw(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).expect("a valid URL");
        client.get_connection_with_timeout(Duration::from_secs(5)).expect("connect to the test server")
    }

    /// A queue client on this server.
    pub(crate) fn queue(&self, config: QueueConfig) -> Connection {
        Connection::connect(&self.url(), config).expect("connect to the test server")
    }

    /// Stops the server at once (SIGKILL), as a crash would.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("a bound address").port()
}

/// Waits until `check` holds, failing the test after `timeout`.
pub(crate) fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs a raw command on the server and returns its reply.
pub(crate) fn cmd<T: redis::FromRedisValue>(conn: &mut redis::Connection, args: &[&str]) -> T {
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    command.query(conn).unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// Runs the cases of a test file that owns `main` (`harness = false`), as
/// libtest would: those whose name holds the first argument that is not a
/// flag, each with its verdict and time, then the tally; the exit code fails
/// if any case did.
pub(crate) fn run_cases(cases: &[(&str, fn())]) -> std::process::ExitCode {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let (mut passed, mut failed) = (0, 0);
    for (name, case) in cases {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let started = std::time::Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(case));
        let verdict = if outcome.is_ok() { "ok" } else { "FAILED" };
        println!("test {name} ... {verdict} ({:.1} s)", started.elapsed().as_secs_f64());
        if outcome.is_ok() {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    println!("\ntest result: {passed} passed, {failed} failed");
    if failed == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

/// Reaps as a worker's reaper does over time: a first look, which only
/// marks workers whose heartbeat is missing, then a second one after `ttl`
/// (the dead workers' heartbeat TTL), which takes back their tasks.
pub(crate) fn reap_twice(queue: &mut Connection, ttl: Duration) -> Reaped {
    let first = queue.reap(ttl).expect("the first look");
    assert_eq!((first.returned, first.dead), (0, 0), "the first look took tasks back");
    std::thread::sleep(ttl + Duration::from_millis(20));
    queue.reap(ttl).expect("the second look")
}

/// The tasks of a fetch, failing the test on a malformed payload.
pub(crate) fn tasks(fetched: Vec<Fetched>) -> Vec<Task> {
    fetched
        .into_iter()
        .map(|f| match f {
            Fetched::Task(task) => task,
            Fetched::Malformed(bad) => panic!("unexpected malformed payload: {}", bad.reason),
        })
        .collect()
}

/// Stops `worker` on SIGINT and SIGTERM — first gracefully, then at once —
/// as a program embedding a worker does (the library installs no handler).
pub(crate) fn stop_on_signals(worker: &concur_worker::Worker) {
    let stop = worker.shutdown_handle();
    let mut signals = signal_hook::iterator::Signals::new([libc::SIGINT, libc::SIGTERM]).expect("the handler");
    std::thread::spawn(move || {
        for _ in signals.forever() {
            stop.escalate();
        }
    });
}

/// For a bench: `full` under `cargo bench` (which passes `--bench`), or
/// `CONCUR_BENCH_<name>` when set; `quick` under `cargo test --benches`,
/// which runs each bench once, unoptimised, only to see that it works.
pub(crate) fn bench_size(name: &str, full: usize, quick: usize) -> usize {
    let default = if std::env::args().any(|arg| arg == "--bench") { full } else { quick };
    std::env::var(format!("CONCUR_BENCH_{name}")).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
