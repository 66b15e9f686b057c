//! The HTTP server the `net` workload GETs from: a small page on
//! 127.0.0.1, sent after a fixed delay, so that a task spends its time the
//! way a real request does — waiting — without the internet.
//!
//! The server runs in a process of its own: this program's executable
//! started again with [`SERVER_ENV`] set, whose `main` reaches
//! [`serve_if_child`](crate::serve_if_child) first. A separate process keeps
//! the server's sockets out of the bench's file-descriptor budget (the
//! sweep holds 10,000 client sockets at once, and the server as many) and
//! its work off the bench's threads. It listens on a port the system picks,
//! reports it on its standard output, and serves until its standard input
//! closes — which happens when the bench drops the [`PageServer`] or dies
//! in any way — so it never outlives the bench. It leads a process group of
//! its own, like every child of the bench ([`children`](crate::children)).
//!
//! The server is tokio's accept loop with a task per connection: it must
//! hold thousands of delayed answers at once, which a thread per connection
//! could not do on a small machine.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::children;

/// The environment variable that makes this executable the page server; it
/// holds the per-response delay in microseconds.
pub(crate) const SERVER_ENV: &str = "CONCUR_LAB_PAGE_SERVER";

/// The page every GET receives: about half a kilobyte of HTML.
pub(crate) const PAGE: &str = concat!(
    "<!doctype html>\n<html><head><title>concur bench</title></head><body>\n",
    "<p>This page is served by <code>concur bench</code> on 127.0.0.1 after a fixed delay, ",
    "so that the net workload waits the way a real request does. The bench measures how long N ",
    "tasks take to fetch it one after another, in N threads, in N processes and on one event loop.</p>\n",
    "<p>Nothing here leaves this machine.</p>\n",
    "<!-- ..................................................................................... -->\n",
    "</body></html>\n"
);

/// The first line the server prints, before its address.
const READY: &str = "concur-lab page server listening on ";

/// How long the server may take to report its address.
const START_LIMIT: Duration = Duration::from_secs(30);

/// How long a stopped server may take to exit before it is killed.
const STOP_LIMIT: Duration = Duration::from_secs(5);

/// The connections the listening socket queues before the server accepts
/// them. The system caps it (`net.core.somaxconn`); asking for more keeps a
/// burst of thousands of connects from being dropped and retried a second
/// later.
const BACKLOG: u32 = 65_535;

/// Why the page server did not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServerError {
    #[error("could not start the bench's HTTP server process from {exe}: {detail}")]
    Spawn { exe: String, detail: String },
    #[error(
        "the bench's HTTP server process did not report its port ({detail}); \
         does `main` call `concur_lab::serve_if_child()` first?"
    )]
    NoPort { detail: String },
}

/// A running page server, stopped when dropped.
#[derive(Debug)]
pub(crate) struct PageServer {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
    delay: Duration,
}

impl PageServer {
    /// Starts a server that answers each GET after `delay`.
    pub(crate) fn start(delay: Duration) -> Result<PageServer, ServerError> {
        let exe = std::env::current_exe()
            .map_err(|e| ServerError::Spawn { exe: "this program".to_string(), detail: e.to_string() })?;
        let mut child = Command::new(&exe)
            .env(SERVER_ENV, delay.as_micros().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .map_err(|e| ServerError::Spawn { exe: exe.display().to_string(), detail: e.to_string() })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let mut server = PageServer { child, stdin, addr: SocketAddr::from(([127, 0, 0, 1], 0)), delay };
        // On error `server` drops here, which stops and reaps the process.
        server.addr = read_address(stdout)?;
        Ok(server)
    }

    /// The address it listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's URL, as handed to Python.
    pub(crate) fn url(&self) -> String {
        format!("http://{}/page", self.addr)
    }

    /// The per-response delay.
    pub(crate) fn delay(&self) -> Duration {
        self.delay
    }

    /// The server's process id: its processor time is the bench's own.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Reads the server's first line, with a time limit: a program whose `main`
/// does not serve might print anything, or nothing.
fn read_address(stdout: Option<std::process::ChildStdout>) -> Result<SocketAddr, ServerError> {
    let Some(stdout) = stdout else {
        return Err(ServerError::NoPort { detail: "its output could not be read".to_string() });
    };
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(read.map(|_| line));
    });
    let line = match receiver.recv_timeout(START_LIMIT) {
        Ok(Ok(line)) => line,
        Ok(Err(e)) => return Err(ServerError::NoPort { detail: format!("reading its output failed: {e}") }),
        Err(_) => return Err(ServerError::NoPort { detail: format!("nothing within {START_LIMIT:?}") }),
    };
    line.trim()
        .strip_prefix(READY)
        .and_then(|addr| addr.parse().ok())
        .ok_or_else(|| ServerError::NoPort { detail: format!("it printed {:?}", line.trim()) })
}

impl Drop for PageServer {
    fn drop(&mut self) {
        // Closing its input is the server's signal to exit; if it has not
        // within the limit, its group is killed.
        drop(self.stdin.take());
        let deadline = Instant::now() + STOP_LIMIT;
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = children::stop_group(&mut self.child, Duration::ZERO);
    }
}

/// Why the page server process stopped serving: what
/// [`serve_if_child`](crate::serve_if_child) returns in that process.
///
/// # Examples
///
/// ```
/// let error = concur_lab::ServeError::BadDelay("soon".into());
/// assert!(error.to_string().contains("delay in microseconds"));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The environment variable did not hold a delay.
    #[error("concur-lab page server: {SERVER_ENV} must hold the delay in microseconds, not {0:?}")]
    BadDelay(String),
    /// The socket or the runtime failed.
    #[error("concur-lab page server: {0}")]
    Io(#[from] std::io::Error),
}

/// In the server process, serves until standard input closes and returns
/// how it went; anywhere else, returns `None` at once.
pub(crate) fn serve_if_server() -> Option<Result<(), ServeError>> {
    let delay = std::env::var_os(SERVER_ENV)?;
    std::env::remove_var(SERVER_ENV);
    let micros = delay.to_string_lossy().into_owned();
    Some(match micros.parse() {
        Ok(micros) => serve(Duration::from_micros(micros)).map_err(ServeError::from),
        Err(_) => Err(ServeError::BadDelay(micros)),
    })
}

fn serve(delay: Duration) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let listener = socket.listen(BACKLOG)?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{READY}{}", listener.local_addr()?)?;
        stdout.flush()?;
        drop(stdout);

        let (closed, parent_gone) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            // Read until end of file: the parent closed the pipe, or died.
            let _ = std::io::copy(&mut std::io::stdin().lock().take(u64::MAX), &mut std::io::sink());
            let _ = closed.send(());
        });
        tokio::select! {
            () = accept_loop(listener, delay) => {}
            _ = parent_gone => {}
        }
        Ok(())
    })
}

async fn accept_loop(listener: tokio::net::TcpListener, delay: Duration) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream, delay));
            }
            // Out of descriptors, say: give the open connections time to
            // finish, then accept again.
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

async fn answer(mut stream: tokio::net::TcpStream, delay: Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut request = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    let complete = loop {
        if request.windows(4).any(|w| w == b"\r\n\r\n") {
            break true;
        }
        if request.len() > 16 * 1024 {
            break false;
        }
        match tokio::time::timeout(Duration::from_secs(30), stream.read(&mut chunk)).await {
            Ok(Ok(read)) if read > 0 => request.extend_from_slice(&chunk[..read]),
            _ => break false,
        }
    };
    if !complete {
        return;
    }
    let response = if request.starts_with(b"GET ") {
        tokio::time::sleep(delay).await;
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{PAGE}",
            PAGE.len()
        )
    } else {
        "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
