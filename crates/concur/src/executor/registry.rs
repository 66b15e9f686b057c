//! The functions a process pool may run, and the loop a worker process runs
//! them in.
//!
//! A worker is the program's own executable started again, with the
//! environment variable [`WORKER_ENV`] naming a Unix socket to serve. Its
//! `main` must call [`Registry::serve_if_worker`] before doing anything else:
//! in a worker that call connects to the socket, answers calls until the
//! pool closes it, and exits; in the parent it returns at once.
//!
//! The wire format is a 4-byte big-endian length, then that many bytes of
//! JSON: a [`Request`] from the pool, a [`Response`] from the worker. JSON
//! keeps it readable when debugging and lets any serde type through.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::marker::PhantomData;
use std::os::unix::net::UnixStream;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::thread_pool::panic_message;

/// The environment variable that makes a started executable a worker: it
/// holds the path of the socket to serve.
pub const WORKER_ENV: &str = "CONCUR_PROCESS_WORKER";

/// A call from the pool to a worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Request {
    /// Run `function` with `args`.
    Call { function: String, args: Value },
    /// Run the initializer once, before any call.
    Init { function: String, args: Value },
}

/// A worker's answer to one [`Request`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Response {
    /// The worker has read a call and starts it: sent before the outcome,
    /// so that the pool knows whether a worker that died had begun.
    Started,
    Done(Value),
    /// The call could not run, or did not finish: the message says why.
    Failed(Failure),
}

/// How a call failed in the worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Failure {
    Panicked(String),
    Unknown(String),
    BadArguments(String),
    BadResult(String),
}

impl Failure {
    pub(crate) fn describe(&self, function: &str) -> String {
        match self {
            Failure::Panicked(message) => message.clone(),
            Failure::Unknown(name) => {
                format!("the worker has no function named {name:?}: register it before `serve_if_worker`")
            }
            Failure::BadArguments(error) => format!("the worker could not read the arguments of {function:?}: {error}"),
            Failure::BadResult(error) => format!("the worker could not send back the result of {function:?}: {error}"),
        }
    }
}

pub(crate) fn write_frame<T: Serialize>(out: &mut impl Write, message: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec(message).map_err(io::Error::other)?;
    let len = u32::try_from(bytes.len()).map_err(|_| io::Error::other("a message over 4 GiB"))?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(&bytes)?;
    out.flush()
}

pub(crate) fn read_frame<T: DeserializeOwned>(input: &mut impl Read) -> io::Result<T> {
    let mut len = [0; 4];
    input.read_exact(&mut len)?;
    let mut bytes = vec![0; u32::from_be_bytes(len) as usize];
    input.read_exact(&mut bytes)?;
    serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

type Entry = Arc<dyn Fn(Value) -> Result<Value, Failure> + Send + Sync>;

/// The functions worker processes may run, by name.
///
/// Register every function the program will send to a
/// [`ProcessPool`](super::ProcessPool), then call
/// [`serve_if_worker`](Self::serve_if_worker) — both at the very start of
/// `main`, since a worker runs `main` from the top until that call. Only
/// registered functions can run in a worker: nothing that comes over the
/// socket names code that was not compiled in and registered.
///
/// # Examples
///
/// ```
/// use concur::executor::Registry;
///
/// fn square(n: u64) -> u64 {
///     n * n
/// }
///
/// let mut registry = Registry::new();
/// let square = registry.register("square", square);
/// registry.serve_if_worker(); // returns at once: this is not a worker
/// assert_eq!(square.name(), "square");
/// ```
#[derive(Default, Clone)]
pub struct Registry {
    functions: HashMap<String, Entry>,
}

impl Registry {
    /// An empty registry.
    ///
    /// # Examples
    ///
    /// ```
    /// let registry = concur::executor::Registry::new();
    /// assert!(registry.names().is_empty());
    /// ```
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers `function` under `name` and returns the typed handle a pool
    /// submits it with. Registering a name again replaces the function.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut registry = concur::executor::Registry::new();
    /// let add = registry.register("add", |(a, b): (i32, i32)| a + b);
    /// assert_eq!(add.name(), "add");
    /// ```
    pub fn register<A, R>(&mut self, name: &str, function: fn(A) -> R) -> Function<A, R>
    where
        A: DeserializeOwned + 'static,
        R: Serialize + 'static,
    {
        let entry: Entry = Arc::new(move |args: Value| {
            let args: A = serde_json::from_value(args).map_err(|e| Failure::BadArguments(e.to_string()))?;
            let result = panic::catch_unwind(AssertUnwindSafe(|| function(args)))
                .map_err(|payload| Failure::Panicked(panic_message(&*payload)))?;
            serde_json::to_value(result).map_err(|e| Failure::BadResult(e.to_string()))
        });
        self.functions.insert(name.to_string(), entry);
        Function { name: Arc::from(name), _types: PhantomData }
    }

    /// The registered names, sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut registry = concur::executor::Registry::new();
    /// registry.register("b", |()| ());
    /// registry.register("a", |()| ());
    /// assert_eq!(registry.names(), ["a", "b"]);
    /// ```
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.functions.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// In a worker process, serves calls until the pool closes the
    /// connection, then exits the process; anywhere else, returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// // In `main`, after registering, before anything else:
    /// concur::executor::Registry::new().serve_if_worker();
    /// ```
    pub fn serve_if_worker(&self) {
        let Some(socket) = std::env::var_os(WORKER_ENV) else { return };
        // A pool the worker itself makes must start its own workers.
        std::env::remove_var(WORKER_ENV);
        let code = match UnixStream::connect(&socket) {
            Ok(mut stream) => match self.serve(&mut stream) {
                Ok(()) => 0,
                Err(err) => {
                    eprintln!("concur worker {}: lost the pool's connection: {err}", std::process::id());
                    1
                }
            },
            Err(err) => {
                eprintln!("concur worker {}: cannot reach the pool at {socket:?}: {err}", std::process::id());
                1
            }
        };
        std::process::exit(code);
    }

    /// Answers requests until the pool closes the stream.
    fn serve(&self, stream: &mut UnixStream) -> io::Result<()> {
        loop {
            let request: Request = match read_frame(stream) {
                Ok(request) => request,
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(err) => return Err(err),
            };
            let (function, args) = match request {
                Request::Call { function, args } => {
                    write_frame(stream, &Response::Started)?;
                    (function, args)
                }
                Request::Init { function, args } => (function, args),
            };
            let response = match self.functions.get(&function) {
                Some(entry) => match entry(args) {
                    Ok(value) => Response::Done(value),
                    Err(failure) => Response::Failed(failure),
                },
                None => Response::Failed(Failure::Unknown(function)),
            };
            write_frame(stream, &response)?;
        }
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").field("functions", &self.names()).finish()
    }
}

/// A registered function: its name, and the types of its argument and
/// result, so a pool can only be handed arguments it can send.
///
/// # Examples
///
/// ```
/// let mut registry = concur::executor::Registry::new();
/// let shout: concur::executor::Function<String, String> = registry.register("shout", |s: String| s.to_uppercase());
/// assert_eq!(shout.name(), "shout");
/// ```
pub struct Function<A, R> {
    name: Arc<str>,
    _types: PhantomData<fn(A) -> R>,
}

impl<A, R> Function<A, R> {
    /// The name it was registered under.
    ///
    /// # Examples
    ///
    /// See [`Function`].
    ///
    /// ```
    /// # let mut registry = concur::executor::Registry::new();
    /// let f = registry.register("f", |x: u8| x);
    /// assert_eq!(f.name(), "f");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn shared_name(&self) -> Arc<str> {
        Arc::clone(&self.name)
    }
}

impl<A, R> Clone for Function<A, R> {
    fn clone(&self) -> Self {
        Function { name: Arc::clone(&self.name), _types: PhantomData }
    }
}

impl<A, R> fmt::Debug for Function<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Function").field(&self.name).finish()
    }
}
