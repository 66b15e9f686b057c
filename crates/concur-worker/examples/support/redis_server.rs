//! A `redis-server` of the example's own, on a free port, for the examples
//! that run without a `--redis` URL.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A plain connection to `url`.
pub(crate) fn raw(url: &str) -> redis::RedisResult<redis::Connection> {
    redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(5))
}

/// Stops the example's own server when dropped.
pub(crate) struct ServerGuard(Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `redis-server` on a free port with nothing persisted, and waits
/// until it answers.
pub(crate) fn start_redis() -> Result<(ServerGuard, String), Box<dyn std::error::Error>> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start redis-server ({e}); install it, or pass --redis URL"))?;
    let mut guard = ServerGuard(child);
    let url = format!("redis://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while raw(&url).and_then(|mut c| redis::cmd("PING").query::<String>(&mut c)).is_err() {
        if Instant::now() > deadline || guard.0.try_wait()?.is_some() {
            return Err("redis-server did not answer within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("started redis-server on port {port}");
    Ok((guard, url))
}
