//! The reference's last program, made reliable: a producer pushes the bare
//! integers 5, 3 and 1 to the Redis list `queue` (as `redis-cli LPUSH queue
//! 5` would), and a worker runs each as the built-in `sleep` task on its
//! event loop, all three at once. They finish in the order 1, 3, 5, after
//! about 5 units in all — not 9, as one after another would take.
//!
//! A unit is a second in the reference; here it is 200 ms unless
//! `--unit MS` says otherwise, so the example runs in about a second.
//!
//! ```text
//! cargo run -p concur-worker --example redis_tasks [-- --redis redis://127.0.0.1:6379] [--unit 200]
//! ```
//!
//! With no `--redis`, it starts a `redis-server` of its own on a free port
//! and stops it at the end. With one, it uses the list `queue` there.

#[path = "support/redis_server.rs"]
mod redis_server;

use std::time::{Duration, Instant};

use redis_server::{raw, start_redis};

use concur_worker::protocol::Connection;
use concur_worker::{QueueConfig, Worker};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut url = None;
    let mut unit = Duration::from_millis(200);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--redis" => url = args.next(),
            "--unit" => unit = Duration::from_millis(args.next().ok_or("--unit needs a number of ms")?.parse()?),
            other => return Err(format!("unknown argument {other:?}; use --redis URL and --unit MS").into()),
        }
    }
    let mut own_server = None;
    let url = match url {
        Some(url) => url,
        None => {
            let (server, url) = start_redis()?;
            own_server = Some(server);
            url
        }
    };

    // The producer: plain pushes of bare integers, as the reference does them.
    let mut producer = Connection::connect(&url, QueueConfig::default())?;
    let start = Instant::now();
    for n in [5, 3, 1] {
        producer.enqueue_raw(n.to_string().as_bytes())?;
        println!("pushed {n} to the list queue");
    }

    // The worker: a consumer thread feeding a background event loop.
    let worker = Worker::builder().redis(&url).sleep_unit(unit).build()?;
    let stop = worker.shutdown_handle();
    let running = std::thread::spawn(move || worker.run());

    // Watch the results arrive: the ids of finished tasks, newest first.
    let mut seen = Vec::new();
    let deadline = Instant::now() + unit * 20 + Duration::from_secs(10);
    while seen.len() < 3 && Instant::now() < deadline {
        let mut ids: Vec<String> = redis::cmd("LRANGE").arg("{queue}:results").arg(0).arg(-1).query(&mut raw(&url)?)?;
        ids.reverse();
        for id in ids.into_iter().skip(seen.len()) {
            let Some(result) = producer.result(&id)? else { continue };
            let n = result.result.unwrap_or_default();
            println!("sleep {n} finished after {:.2} s", start.elapsed().as_secs_f64());
            seen.push(n);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.stop();
    let report = running.join().map_err(|_| "the worker panicked")??;
    let elapsed = start.elapsed().as_secs_f64();
    let units = elapsed / unit.as_secs_f64();
    let order: Vec<String> = seen.iter().map(ToString::to_string).collect();
    println!("finished in the order {}", order.join(", "));
    println!(
        "{} tasks of 5, 3 and 1 units took {elapsed:.2} s = {units:.1} units of {} ms (one after another: 9 units)",
        report.done,
        unit.as_millis()
    );
    drop(own_server);
    Ok(())
}
