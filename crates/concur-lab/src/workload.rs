//! The four kinds of work, and one task of each.
//!
//! | workload | one task at scale F | spends its time |
//! |---|---|---|
//! | `cpu` | max(1, round(500,000 × F)) rounds of `x = x + x; y = y + y` on big integers from 1 | computing |
//! | `disk` | max(1, round(5,000,000 × F)) lines of `python-learning\n` through an 8 KiB buffered writer to its own file, then `fsync` | writing |
//! | `net` | one HTTP/1.1 GET of the bench's own local page (`Connection: close`), whole body read | waiting on the server's delay |
//! | `sleep` | a sleep of 2 s × F | waiting |
//!
//! The sizes are those of `bench/python/bench.py`, and `cpu` does the very
//! additions Python's `x += x` does — a new big integer each time, not an
//! in-place shift — so the two columns compare like with like.
//!
//! Each task returns a count that the runner checks against
//! [`Task::expected`]: the bits of the two integers, the bytes written, the
//! bytes of the page. A task that did less work than asked fails its cell.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use num_bigint::BigUint;
use serde::{Deserialize, Serialize};

use crate::server::PAGE;
use crate::stop::Stop;

/// Rounds of `x += x; y += y` in one `cpu` task at scale 1.
pub(crate) const CPU_ROUNDS: u64 = 500_000;
/// Lines in one `disk` task at scale 1.
pub(crate) const DISK_LINES: u64 = 5_000_000;
/// The line the `disk` task writes.
pub(crate) const DISK_LINE: &[u8] = b"python-learning\n";
/// One `sleep` task at scale 1.
pub(crate) const SLEEP: Duration = Duration::from_secs(2);

/// How long one GET may take before it counts as hung: far above any delay
/// the server is given, so it never cuts a healthy request short.
const NET_TIMEOUT: Duration = Duration::from_secs(60);

/// A kind of work.
///
/// # Examples
///
/// ```
/// use concur_lab::Workload;
///
/// assert_eq!(Workload::ALL.map(Workload::name), ["cpu", "disk", "net", "sleep"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Workload {
    /// Big-integer additions.
    Cpu,
    /// Buffered writes to a file, then `fsync`.
    Disk,
    /// An HTTP GET of a local page that answers after a delay.
    Net,
    /// A sleep.
    Sleep,
}

impl Workload {
    /// Every workload, in report order.
    pub const ALL: [Workload; 4] = [Workload::Cpu, Workload::Disk, Workload::Net, Workload::Sleep];

    /// The name used on the command line and in the report.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(concur_lab::Workload::Sleep.name(), "sleep");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Workload::Cpu => "cpu",
            Workload::Disk => "disk",
            Workload::Net => "net",
            Workload::Sleep => "sleep",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `max(1, round(base × scale))`, the size rule both sides share.
pub(crate) fn scaled(base: u64, scale: f64) -> u64 {
    ((base as f64 * scale).round_ties_even() as u64).max(1)
}

/// One task, with everything it needs: it crosses to worker processes as
/// JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Task {
    Cpu { rounds: u64 },
    Disk { path: PathBuf, lines: u64 },
    Net { addr: SocketAddr },
    Sleep { seconds: f64 },
}

impl Task {
    /// The task of `workload` at `scale`; `path` is the `disk` task's file,
    /// `addr` the server of `net`.
    pub(crate) fn new(workload: Workload, scale: f64, path: PathBuf, addr: Option<SocketAddr>) -> Task {
        match workload {
            Workload::Cpu => Task::Cpu { rounds: scaled(CPU_ROUNDS, scale) },
            Workload::Disk => Task::Disk { path, lines: scaled(DISK_LINES, scale) },
            // Without a server the address is never dialled: the bench
            // starts one whenever `net` is asked.
            Workload::Net => Task::Net { addr: addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))) },
            Workload::Sleep => Task::Sleep { seconds: SLEEP.as_secs_f64() * scale },
        }
    }

    /// What [`run`](Self::run) returns when the task did all its work.
    pub(crate) fn expected(&self) -> u64 {
        match self {
            // Both integers end as 2^rounds: rounds + 1 bits each.
            Task::Cpu { rounds } => 2 * (rounds + 1),
            Task::Disk { lines, .. } => lines * DISK_LINE.len() as u64,
            Task::Net { .. } => PAGE.len() as u64,
            Task::Sleep { .. } => 0,
        }
    }

    /// Runs the task on this thread, blocking it. A requested `stop` ends
    /// it early, short of its work (which [`expected`](Self::expected)
    /// then tells).
    pub(crate) fn run(&self, stop: &Stop) -> Result<u64, TaskError> {
        match self {
            Task::Cpu { rounds } => Ok(cpu(*rounds, stop)),
            Task::Disk { path, lines } => disk(path, *lines, stop),
            Task::Net { addr } => get_page(*addr),
            Task::Sleep { seconds } => {
                // A sleep that a stop can cut short: a parked wait with a
                // timeout, as `thread::sleep` is.
                stop.sleep(Duration::from_secs_f64(*seconds));
                Ok(0)
            }
        }
    }
}

/// How many rounds of `cpu`, or lines of `disk`, pass between two looks
/// at the stop: a relaxed atomic load, lost in the work between.
const STOP_EVERY: u64 = 1 << 12;

/// `rounds` of `x += x; y += y` from 1; returns the bits of both.
pub(crate) fn cpu(rounds: u64, stop: &Stop) -> u64 {
    let mut x = BigUint::from(1u8);
    let mut y = BigUint::from(1u8);
    for round in 0..rounds {
        if round % STOP_EVERY == 0 && stop.is_requested() {
            break;
        }
        // A fresh integer per addition, as CPython's `x += x` makes.
        x = &x + &x;
        y = &y + &y;
    }
    x.bits() + y.bits()
}

/// Writes `lines` lines to `path` through a buffered writer, then flushes
/// and fsyncs; returns the bytes written.
pub(crate) fn disk(path: &Path, lines: u64, stop: &Stop) -> Result<u64, TaskError> {
    let io_error = |doing: &str, error: io::Error| TaskError::from_io(doing, path, error);
    let file = File::create(path).map_err(|e| io_error("create", e))?;
    let mut writer = BufWriter::new(file);
    for line in 0..lines {
        if line % STOP_EVERY == 0 && stop.is_requested() {
            return Ok(line * DISK_LINE.len() as u64);
        }
        writer.write_all(DISK_LINE).map_err(|e| io_error("write", e))?;
    }
    let file = writer.into_inner().map_err(|e| io_error("write", e.into_error()))?;
    file.sync_all().map_err(|e| io_error("fsync", e))?;
    Ok(lines * DISK_LINE.len() as u64)
}

/// The request every `net` task sends.
pub(crate) fn request(addr: SocketAddr) -> String {
    format!("GET /page HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: concur-bench\r\nConnection: close\r\n\r\n")
}

/// One blocking GET of the page; returns the bytes of the body.
pub(crate) fn get_page(addr: SocketAddr) -> Result<u64, TaskError> {
    let failed = |doing: &str, error: io::Error| TaskError::Http { addr, detail: format!("{doing} failed: {error}") };
    let mut stream = TcpStream::connect_timeout(&addr, NET_TIMEOUT).map_err(|e| failed("connecting", e))?;
    stream.set_read_timeout(Some(NET_TIMEOUT)).map_err(|e| failed("setting a timeout", e))?;
    stream.write_all(request(addr).as_bytes()).map_err(|e| failed("sending the request", e))?;
    let mut response = Vec::with_capacity(PAGE.len() + 256);
    stream.read_to_end(&mut response).map_err(|e| failed("reading the response", e))?;
    body_length(addr, &response)
}

/// One GET of the page on the running event loop's reactor.
pub(crate) async fn get_page_async(addr: SocketAddr) -> Result<u64, TaskError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let failed = |doing: &str, error: io::Error| TaskError::Http { addr, detail: format!("{doing} failed: {error}") };
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| failed("connecting", e))?;
        stream.write_all(request(addr).as_bytes()).await.map_err(|e| failed("sending the request", e))?;
        let mut response = Vec::with_capacity(PAGE.len() + 256);
        stream.read_to_end(&mut response).await.map_err(|e| failed("reading the response", e))?;
        body_length(addr, &response)
    };
    match tokio::time::timeout(NET_TIMEOUT, exchange).await {
        Ok(result) => result,
        Err(_) => Err(TaskError::Http { addr, detail: format!("no full answer within {NET_TIMEOUT:?}") }),
    }
}

/// Checks a whole HTTP response: status 200, a body as long as its
/// `Content-Length`. Returns the body's length.
pub(crate) fn body_length(addr: SocketAddr, response: &[u8]) -> Result<u64, TaskError> {
    let bad = |detail: String| TaskError::Http { addr, detail };
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad(format!("the response ({} bytes) has no end of headers", response.len())))?;
    let head = String::from_utf8_lossy(&response[..head_end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if !(status.starts_with("HTTP/1.1 200") || status.starts_with("HTTP/1.0 200")) {
        return Err(bad(format!("the server answered {status:?} instead of 200 OK")));
    }
    let body = response.len() - head_end - 4;
    let declared = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok());
    match declared {
        Some(length) if length == body => Ok(body as u64),
        Some(length) => Err(bad(format!("the body has {body} bytes where Content-Length says {length}"))),
        None => Err(bad("the response has no Content-Length".to_string())),
    }
}

/// Why one task failed. It crosses back from worker processes as JSON, so
/// it holds text, not the original `io::Error`.
///
/// # Examples
///
/// ```
/// use concur_lab::TaskError;
///
/// let full = TaskError::DiskFull { path: "/tmp/x/task-serial-0.txt".into(), detail: "No space left on device".into() };
/// assert!(full.to_string().starts_with("the disk is full"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum TaskError {
    /// The disk ran out of space (or of quota) while a `disk` task wrote.
    #[error("the disk is full: writing {} failed ({detail}); free some space or run with a smaller --scale", path.display())]
    DiskFull {
        /// The file being written.
        path: PathBuf,
        /// The system's words.
        detail: String,
    },
    /// Another input or output error of a `disk` task.
    #[error("could not {doing} {}: {detail}", path.display())]
    Io {
        /// The step: "create", "write", "fsync".
        doing: String,
        /// The file.
        path: PathBuf,
        /// The system's words.
        detail: String,
    },
    /// A `net` task's GET failed or got a wrong answer.
    #[error("the GET of http://{addr}/page failed: {detail}")]
    Http {
        /// The bench server's address.
        addr: SocketAddr,
        /// What went wrong.
        detail: String,
    },
}

impl TaskError {
    fn from_io(doing: &str, path: &Path, error: io::Error) -> TaskError {
        let full = error.kind() == io::ErrorKind::StorageFull
            || matches!(error.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT));
        if full {
            TaskError::DiskFull { path: path.to_path_buf(), detail: error.to_string() }
        } else {
            TaskError::Io { doing: doing.to_string(), path: path.to_path_buf(), detail: error.to_string() }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    #[test]
    fn sizes_follow_the_shared_rule() {
        assert_eq!(scaled(CPU_ROUNDS, 1.0), 500_000);
        assert_eq!(scaled(CPU_ROUNDS, 0.01), 5_000);
        assert_eq!(scaled(DISK_LINES, 1e-9), 1, "never below one");
        assert_eq!(scaled(5, 0.5), 2, "halves go to even, as Python's round() does");
        assert_eq!(scaled(7, 0.5), 4);
    }

    #[test]
    fn cpu_doubles_both_integers() {
        // 2^r has r + 1 bits: the task did every addition.
        let stop = Stop::new();
        assert_eq!(cpu(1, &stop), 4);
        assert_eq!(cpu(100, &stop), 202);
        stop.request();
        assert!(cpu(1_000_000, &stop) < 202, "a requested stop ends the work");
        assert_eq!(Task::Cpu { rounds: 100 }.expected(), 202);
    }

    #[test]
    fn disk_writes_every_line_and_a_full_disk_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        let stop = Stop::new();
        assert_eq!(disk(&path, 1000, &stop), Ok(16_000));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1000);
        assert!(text.lines().all(|line| line == "python-learning"));

        // /dev/full answers every write with ENOSPC.
        if std::path::Path::new("/dev/full").exists() {
            let error = disk(std::path::Path::new("/dev/full"), 10_000, &stop).unwrap_err();
            assert!(matches!(error, TaskError::DiskFull { .. }), "{error:?}");
            assert!(error.to_string().contains("--scale"), "the message says what to do: {error}");
        }
    }

    #[test]
    fn responses_are_checked() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 8));
        let good = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
        assert_eq!(body_length(addr, good), Ok(5));
        let short = b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nhello";
        assert!(body_length(addr, short).unwrap_err().to_string().contains("9"));
        let refused = b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n";
        assert!(body_length(addr, refused).unwrap_err().to_string().contains("503"));
        assert!(body_length(addr, b"HTTP/1.1 200 OK\r\n").is_err(), "no end of headers");
        assert!(body_length(addr, b"HTTP/1.1 200 OK\r\n\r\nhello").is_err(), "no length");
    }
}
