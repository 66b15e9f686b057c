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
//! keeps it readable when debugging and lets any serde type through. A
//! message is at most [`MAX_FRAME`] (1 GiB): arguments or a result longer
//! than that fail their call, and a peer that announces a longer message is
//! refused before anything is allocated for it.

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
    Failed(CallError),
}

/// Why a registered function gave no value: what [`Registry::call`]
/// returns, and what a process-pool worker sends back.
///
/// # Examples
///
/// ```
/// use concur::executor::{CallError, Registry};
///
/// let mut registry = Registry::new();
/// registry.register("half", |n: u32| n / 2);
/// let err = registry.call("double", serde_json::json!(4)).unwrap_err();
/// assert!(matches!(err, CallError::Unknown(_)));
/// assert_eq!(err.to_string(), r#"no function is registered under the name "double""#);
/// ```
///
/// # Python
///
/// The exception a `ProcessPoolExecutor` call raises: here the panic, or
/// why the call could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CallError {
    /// The function panicked; the panic's message.
    Panicked(String),
    /// No function is registered under this name.
    Unknown(String),
    /// The arguments could not be read as the function's argument type.
    BadArguments(String),
    /// The result could not be written as JSON.
    BadResult(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Panicked(message) => write!(f, "the function panicked: {message}"),
            CallError::Unknown(name) => write!(f, "no function is registered under the name {name:?}"),
            CallError::BadArguments(error) => write!(f, "the arguments do not fit the function: {error}"),
            CallError::BadResult(error) => write!(f, "the result could not be written as JSON: {error}"),
        }
    }
}

impl std::error::Error for CallError {}

impl CallError {
    pub(crate) fn describe(&self, function: &str) -> String {
        match self {
            CallError::Panicked(message) => message.clone(),
            CallError::Unknown(name) => {
                format!("the worker has no function named {name:?}: register it before `serve_if_worker`")
            }
            CallError::BadArguments(error) => {
                format!("the worker could not read the arguments of {function:?}: {error}")
            }
            CallError::BadResult(error) => {
                format!("the worker could not send back the result of {function:?}: {error}")
            }
        }
    }
}

/// The longest message either side sends or accepts: 1 GiB of JSON. The
/// length prefix could claim up to 4 GiB; a peer that claims more than this
/// is broken, and is refused before anything is allocated for it.
pub(crate) const MAX_FRAME: usize = 1 << 30;

/// A message serialized, ready to send.
///
/// # Errors
///
/// `InvalidInput` if it is longer than [`MAX_FRAME`]: the caller answers
/// that the value is too large, and the connection stays usable.
pub(crate) fn encode<T: Serialize>(message: &T) -> io::Result<Vec<u8>> {
    let bytes = serde_json::to_vec(message).map_err(io::Error::other)?;
    if bytes.len() > MAX_FRAME {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, over_limit(bytes.len())));
    }
    Ok(bytes)
}

pub(crate) fn send(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    // `encode` kept it under `MAX_FRAME`, which fits the 4-byte prefix.
    let len =
        u32::try_from(bytes.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, over_limit(bytes.len())))?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(bytes)?;
    out.flush()
}

pub(crate) fn write_frame<T: Serialize>(out: &mut impl Write, message: &T) -> io::Result<()> {
    send(out, &encode(message)?)
}

/// Reads one message.
///
/// # Errors
///
/// `InvalidData` for a length over [`MAX_FRAME`] (nothing is allocated for
/// it) or bytes that are not the expected JSON; `UnexpectedEof` if the peer
/// closed the connection, before or during the message.
pub(crate) fn read_frame<T: DeserializeOwned>(input: &mut impl Read) -> io::Result<T> {
    let mut len = [0; 4];
    input.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(io::ErrorKind::InvalidData, over_limit(len)));
    }
    // The buffer grows as bytes arrive, so a peer that claims a length and
    // sends less costs only what it sent.
    let mut bytes = Vec::with_capacity(len.min(64 * 1024));
    input.take(len as u64).read_to_end(&mut bytes)?;
    if bytes.len() < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the connection closed {} bytes into a message of {len}", bytes.len()),
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn over_limit(len: usize) -> String {
    format!("a message of {len} bytes is over the limit of {MAX_FRAME} bytes (1 GiB) between a pool and its workers")
}

type Entry = Arc<dyn Fn(Value) -> Result<Value, CallError> + Send + Sync>;

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
            let args: A = serde_json::from_value(args).map_err(|e| CallError::BadArguments(e.to_string()))?;
            let result = panic::catch_unwind(AssertUnwindSafe(|| function(args)))
                .map_err(|payload| CallError::Panicked(panic_message(&*payload)))?;
            serde_json::to_value(result).map_err(|e| CallError::BadResult(e.to_string()))
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

    /// Calls the function registered as `name` here, in this process and
    /// thread, with arguments and result as JSON: what a worker process
    /// does with each call, for anything else that serves the same
    /// functions (a `concur worker`, say). A panic is caught and returned.
    ///
    /// # Errors
    ///
    /// [`CallError::Unknown`] for a name not registered,
    /// [`CallError::BadArguments`] for arguments that do not fit,
    /// [`CallError::Panicked`] if the function panicked,
    /// [`CallError::BadResult`] for a result that cannot be JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    ///
    /// let mut registry = concur::executor::Registry::new();
    /// registry.register("add", |(a, b): (i64, i64)| a + b);
    /// assert_eq!(registry.call("add", json!([2, 3])), Ok(json!(5)));
    /// assert!(registry.call("add", json!("two")).is_err());
    /// ```
    ///
    /// # Python
    ///
    /// Looking a function up by name and calling it, as a pool's worker
    /// does with an unpickled one.
    pub fn call(&self, name: &str, args: Value) -> Result<Value, CallError> {
        match self.functions.get(name) {
            Some(entry) => entry(args),
            None => Err(CallError::Unknown(name.to_owned())),
        }
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
                    tracing::error!(pid = std::process::id(), error = %err, "a process-pool worker lost its pool's connection");
                    1
                }
            },
            Err(err) => {
                tracing::error!(pid = std::process::id(), ?socket, error = %err, "a process-pool worker cannot reach its pool");
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
            let response = match self.call(&function, args) {
                Ok(value) => Response::Done(value),
                Err(failure) => Response::Failed(failure),
            };
            let bytes = match encode(&response) {
                Err(too_long) if too_long.kind() == io::ErrorKind::InvalidInput => {
                    encode(&Response::Failed(CallError::BadResult(too_long.to_string())))?
                }
                encoded => encoded?,
            };
            send(stream, &bytes)?;
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

#[cfg(test)]
mod tests {
    use std::io::{self, Write};
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    use super::{encode, read_frame, send, Response, MAX_FRAME};

    fn pair() -> (UnixStream, UnixStream) {
        let (ours, theirs) = UnixStream::pair().expect("a socket pair");
        // A reader that waits for bytes that never come fails the test
        // instead of hanging it.
        ours.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        (ours, theirs)
    }

    #[test]
    fn a_4_gib_length_is_refused_before_anything_is_read_or_allocated() {
        let (mut ours, mut theirs) = pair();
        // A peer announcing u32::MAX bytes, and sending none of them.
        theirs.write_all(&u32::MAX.to_be_bytes()).unwrap();
        let err = read_frame::<Response>(&mut ours).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let message = err.to_string();
        assert!(message.contains("4294967295 bytes is over the limit of 1073741824 bytes"), "{message}");
        drop(theirs);
    }

    #[test]
    fn a_length_just_over_the_limit_is_refused_and_one_at_it_is_read() {
        let (mut ours, mut theirs) = pair();
        theirs.write_all(&(MAX_FRAME as u32 + 1).to_be_bytes()).unwrap();
        assert_eq!(read_frame::<Response>(&mut ours).unwrap_err().kind(), io::ErrorKind::InvalidData);
        // At the limit the length is taken: the reader waits for the bytes,
        // and the peer's close ends the wait.
        let (mut ours, mut theirs) = pair();
        theirs.write_all(&(MAX_FRAME as u32).to_be_bytes()).unwrap();
        theirs.write_all(b"{").unwrap();
        drop(theirs);
        let err = read_frame::<Response>(&mut ours).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("1 bytes into a message of 1073741824"), "{err}");
    }

    #[test]
    fn a_message_goes_through() {
        let (mut ours, mut theirs) = pair();
        send(&mut theirs, &encode(&Response::Started).unwrap()).unwrap();
        assert!(matches!(read_frame::<Response>(&mut ours), Ok(Response::Started)));
    }
}
