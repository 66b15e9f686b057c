//! One function, three places to run: a `Registry` function counted on a
//! thread pool, then on a process pool of this machine, then on two
//! `concur worker` processes fed through Redis — the same function, the
//! same arguments, the same kind of future, and the same answers.
//!
//! ```text
//! cargo run -p concur-worker --example three_places [-- --redis redis://127.0.0.1:6379]
//! ```
//!
//! With no `--redis`, it starts a `redis-server` of its own on a free port
//! and stops it at the end. The two workers are this program started again
//! with `THREE_PLACES_WORKER` naming the server, as a real fleet would run
//! the program that holds the registry.

#[path = "support/redis_server.rs"]
mod redis_server;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use concur::executor::{ProcessPool, Registry, Shutdown, ThreadPool};
use concur::futures::{as_completed, ConcurrentFuture};
use concur_worker::{QueueConfig, RemotePool, Worker};

const WORKER_ENV: &str = "THREE_PLACES_WORKER";
const LIMITS: [u64; 6] = [20_000, 40_000, 60_000, 80_000, 100_000, 120_000];

/// The primes below `limit`, by trial division: CPU work worth sending away.
fn count_primes(limit: u64) -> usize {
    (2..limit).filter(|n| (2..*n).take_while(|d| d * d <= *n).all(|d| n % d != 0)).count()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Both pools' workers are this program: register, then serve if one.
    let mut registry = Registry::new();
    let primes = registry.register("count_primes", count_primes);
    registry.serve_if_worker();
    if let Ok(url) = std::env::var(WORKER_ENV) {
        return serve(&url, &registry);
    }
    let mut args = std::env::args().skip(1);
    let (url, own_server) = match (args.next().as_deref(), args.next()) {
        (Some("--redis"), Some(url)) => (url, None),
        (None, _) => {
            let (server, url) = redis_server::start_redis()?;
            (url, Some(server))
        }
        _ => return Err("usage: three_places [--redis URL]".into()),
    };

    // 1. Threads: the function itself, called on a thread pool.
    let threads = ThreadPool::new(2)?;
    let futures: Vec<_> = LIMITS.iter().map(|&n| threads.submit(move || count_primes(n)).unwrap()).collect();
    let on_threads = report("ThreadPool(2)", &futures)?;

    // 2. Processes: the registered function, by name, in two processes here.
    let processes = ProcessPool::new(2)?;
    let futures: Vec<_> = LIMITS.iter().map(|&n| processes.submit(&primes, n).unwrap()).collect();
    let in_processes = report("ProcessPool(2)", &futures)?;
    processes.shutdown(Shutdown::wait());

    // 3. A fleet: the same handle, through Redis, to two worker processes.
    let workers: Vec<Child> = (0..2).map(|_| start_worker(&url)).collect::<Result<_, _>>()?;
    let fleet = RemotePool::connect(&url, QueueConfig::named("primes"))?;
    let futures: Vec<_> = LIMITS.iter().map(|&n| fleet.submit(&primes, n).unwrap()).collect();
    let on_workers = report("RemotePool, 2 workers", &futures)?;
    fleet.shutdown(Shutdown::wait());
    for mut worker in workers {
        // SAFETY: kill(2) on a child of this process that has not been reaped yet.
        unsafe { libc::kill(worker.id() as i32, libc::SIGTERM) };
        worker.wait()?;
    }

    assert!(on_threads == in_processes && in_processes == on_workers, "the three places disagree");
    println!("the same {} answers in all three places", on_workers.len());
    drop(own_server);
    Ok(())
}

/// Prints the results as they complete, then returns them in order.
fn report(place: &str, futures: &[ConcurrentFuture<usize>]) -> Result<Vec<usize>, Box<dyn std::error::Error>> {
    let started = Instant::now();
    for done in as_completed(futures, Some(Duration::from_secs(120))) {
        let done = done?;
        let at = futures.iter().position(|f| std::ptr::eq(f, done)).unwrap_or_default();
        println!("  {place}: primes below {} = {}", LIMITS[at], done.result()?);
    }
    println!("{place}: {} calls in {:.2} s", futures.len(), started.elapsed().as_secs_f64());
    Ok(futures.iter().map(|f| f.result()).collect::<Result<_, _>>()?)
}

/// A worker of the fleet: serves the registry from the queue `primes` until
/// SIGTERM.
fn serve(url: &str, registry: &Registry) -> Result<(), Box<dyn std::error::Error>> {
    let worker = Worker::builder().redis(url).queue("primes").registry(registry).concurrency(2).build()?;
    let stop = worker.shutdown_handle();
    let mut signals = signal_hook::iterator::Signals::new([libc::SIGINT, libc::SIGTERM])?;
    std::thread::spawn(move || {
        for _ in signals.forever() {
            stop.escalate();
        }
    });
    worker.run()?;
    Ok(())
}

fn start_worker(url: &str) -> std::io::Result<Child> {
    Command::new(std::env::current_exe()?).env(WORKER_ENV, url).stdout(Stdio::null()).stderr(Stdio::null()).spawn()
}
