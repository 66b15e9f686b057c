//! One lazily opened connection per thread through a `ThreadLocal`, as the
//! reference's `LazyConnection` does with `threading.local()`.
//!
//! A real TCP server on 127.0.0.1 (a port the OS picks) counts the
//! connections it accepts and echoes every line back. Four worker threads
//! share one `LazyConnection`; each opens its own connection the first time
//! it sends, then reuses it for its next lines. At the end the server has
//! seen exactly one connection per worker.
//!
//! Run with `cargo run -p concur --example thread_local_conn`.

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use concur::local::ThreadLocal;
use concur::thread::{self, Builder, JoinHandle};

const WORKERS: usize = 4;
const LINES_PER_WORKER: usize = 3;

/// One open connection: a writer and a line reader over the same socket.
struct Connection {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn open(address: SocketAddr) -> io::Result<Connection> {
        let writer = TcpStream::connect(address)?;
        // A bounded wait, so that a lost echo fails the example instead of hanging it.
        writer.set_read_timeout(Some(Duration::from_secs(10)))?;
        let reader = BufReader::new(writer.try_clone()?);
        Ok(Connection { writer, reader })
    }

    /// Sends one line and returns the server's echo of it.
    fn echo(&mut self, line: &str) -> io::Result<String> {
        writeln!(self.writer, "{line}")?;
        let mut echoed = String::new();
        self.reader.read_line(&mut echoed)?;
        Ok(echoed.trim_end().to_owned())
    }
}

/// A connection per thread, opened on first use: the reference's
/// `LazyConnection`, with the socket kept in a `ThreadLocal` instead of a
/// `threading.local()`.
struct LazyConnection {
    address: SocketAddr,
    local: ThreadLocal<RefCell<Option<Connection>>>,
}

impl LazyConnection {
    fn new(address: SocketAddr) -> LazyConnection {
        LazyConnection { address, local: ThreadLocal::new(|| RefCell::new(None)) }
    }

    /// Runs `f` with the calling thread's connection, opening it first if
    /// this thread has none.
    fn with<R>(&self, f: impl FnOnce(&mut Connection) -> io::Result<R>) -> io::Result<R> {
        self.local.with(|slot| {
            let mut slot = slot.borrow_mut();
            if slot.is_none() {
                *slot = Some(Connection::open(self.address)?);
            }
            // Just filled in above if it was empty.
            f(slot.as_mut().expect("the connection was just opened"))
        })
    }
}

/// Accepts connections forever, counting them, with one echo thread each.
fn serve(listener: TcpListener, accepted: Arc<AtomicUsize>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        accepted.fetch_add(1, Ordering::SeqCst);
        // Daemon threads: the process may end while they wait for input.
        let spawned = Builder::new().name("echo").daemon(true).spawn(move || {
            let mut writer = match stream.try_clone() {
                Ok(writer) => writer,
                Err(_) => return,
            };
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { return };
                if writeln!(writer, "{line}").is_err() {
                    return;
                }
            }
        });
        if let Err(error) = spawned {
            eprintln!("server: {error}");
        }
    }
}

fn main() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let accepted = Arc::new(AtomicUsize::new(0));
    {
        let accepted = Arc::clone(&accepted);
        Builder::new()
            .name("server")
            .daemon(true)
            .spawn(move || serve(listener, accepted))
            .expect("the OS starts a thread");
    }
    println!("server listening on {address}");

    let connection = Arc::new(LazyConnection::new(address));
    // Every worker stays alive until all have finished talking, so the
    // workers truly overlap, each over its own connection.
    let all_done = Arc::new(Barrier::new(WORKERS));
    let workers: Vec<JoinHandle<io::Result<u16>>> = (1..=WORKERS)
        .map(|n| {
            let (connection, all_done) = (Arc::clone(&connection), Arc::clone(&all_done));
            Builder::new().name(format!("worker-{n}")).spawn(move || -> io::Result<u16> {
                let me = thread::current();
                let mut ports = HashSet::new();
                for n in 1..=LINES_PER_WORKER {
                    let line = format!("line {n} from {}", me.name());
                    let (echo, port) =
                        connection.with(|conn| Ok((conn.echo(&line)?, conn.writer.local_addr()?.port())))?;
                    assert_eq!(echo, line, "the server echoes each line");
                    ports.insert(port);
                }
                all_done.wait();
                assert_eq!(ports.len(), 1, "every line of one thread went over one connection");
                let port = ports.into_iter().next().expect("one port");
                println!("{}: sent {LINES_PER_WORKER} lines over its own connection from local port {port}", me.name());
                Ok(port)
            })
        })
        .collect::<Result<_, _>>()
        .expect("the OS starts the workers");

    let mut ports = HashSet::new();
    for worker in workers {
        let port = worker.join().expect("the worker does not panic")?;
        ports.insert(port);
    }
    let seen = accepted.load(Ordering::SeqCst);
    println!("{WORKERS} threads used {} distinct connections; the server accepted {seen}", ports.len());
    assert_eq!(ports.len(), WORKERS);
    assert_eq!(seen, WORKERS, "exactly one connection per thread");
    println!("the server saw exactly one connection per thread");
    Ok(())
}
