//! The event loop beside raw tokio and Python's asyncio.
//!
//! - create_task + gather of 100,000 trivial tasks on one `EventLoop`,
//!   beside raw tokio on a current-thread runtime: `tokio::spawn` of each,
//!   then awaiting every `JoinHandle` (and the same through a `LocalSet`
//!   with `spawn_local`). `bench/python/aio.py` runs `asyncio.create_task` +
//!   `gather` the same way.
//! - Concurrent `sleep(1 s)`: wall time and peak memory of 100,000 and
//!   1,000,000 on the loop (`create_task(sleep(..))` of each, then
//!   `gather`), beside 1,000,000 on tokio's current-thread runtime
//!   (`tokio::spawn(tokio::time::sleep(..))`, then each handle awaited) and
//!   100,000 on Python's asyncio, in the same run. Each is measured in a
//!   child process (this bench run again with `CONCUR_BENCH_SLEEPERS` set;
//!   Python through `python3 -c`), so that the peak is the sleepers' alone;
//!   the million runs three times each, alternating, after one uncounted
//!   run, and the medians are printed (`measure_sleepers` says why). The
//!   load average is printed beside them. Run only these with
//!   `cargo bench -p concur --bench aio -- sleepers`.
//!
//! `main` is written out instead of `criterion_main!` for the child.
//! Results are in `docs/BENCHMARKS.md`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};

use concur::aio::{self, EventLoop};

mod support;

const TASKS: usize = 100_000;
const SLEEPERS_ENV: &str = "CONCUR_BENCH_SLEEPERS";

fn spawn_and_gather(c: &mut Criterion) {
    let mut group = c.benchmark_group("create_task + gather, 100,000 trivial tasks");
    group.throughput(Throughput::Elements(TASKS as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(6));

    let lp = EventLoop::new().unwrap();
    group.bench_function("concur::aio", |b| {
        b.iter(|| {
            let values = lp
                .run_until_complete(async {
                    let tasks: Vec<_> = (0..TASKS).map(|n| aio::create_task(async move { n })).collect();
                    aio::gather(tasks).await.unwrap()
                })
                .unwrap();
            assert_eq!(values.len(), TASKS);
        })
    });

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    group.bench_function("tokio current-thread spawn + join", |b| {
        b.iter(|| {
            // Spawned inside the runtime's context, as the loop's tasks are.
            let count =
                rt.block_on(async { join_each((0..TASKS).map(|n| tokio::spawn(async move { n })).collect()).await });
            assert_eq!(count, TASKS);
        })
    });

    let local = tokio::task::LocalSet::new();
    group.bench_function("tokio LocalSet spawn_local + join", |b| {
        b.iter(|| {
            let count = local.block_on(&rt, async {
                join_each((0..TASKS).map(|n| tokio::task::spawn_local(async move { n })).collect()).await
            });
            assert_eq!(count, TASKS);
        })
    });
    group.finish();
}

/// Awaits tokio's handles in order, as `gather` does its tasks; returns how
/// many finished.
async fn join_each<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> usize {
    let mut count = 0;
    for handle in handles {
        handle.await.unwrap();
        count += 1;
    }
    count
}

/// Peak resident memory of this process so far, in bytes (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Which runtime a sleepers child runs on.
const PEER_ENV: &str = "CONCUR_BENCH_SLEEPERS_PEER";

/// The child: `count` tasks each sleeping one second at once, on the loop
/// (or on tokio's current-thread runtime, for `peer` "tokio"); prints the
/// count, the wall time in seconds and the peak RSS in bytes.
///
/// `CONCUR_BENCH_SLEEP_MS` sets a shorter nap, to see the loop's own cost
/// without the second of sleep (and without the machine's load hiding in
/// it: the process's CPU time is printed too).
fn sleepers(count: usize, peer: Option<&str>) {
    let nap = std::env::var("CONCUR_BENCH_SLEEP_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(Duration::from_secs(1), Duration::from_millis);
    let start = Instant::now();
    let woke = match peer {
        Some("tokio") => {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let handles: Vec<_> = (0..count).map(|_| tokio::spawn(tokio::time::sleep(nap))).collect();
                join_each(handles).await
            })
        }
        // The same shape on both: each task is the sleep itself, whose
        // deadline is set when `sleep` is called, as tokio's is.
        _ => aio::run(async move {
            let tasks: Vec<_> = (0..count).map(|_| aio::create_task(aio::sleep(nap))).collect();
            aio::gather(tasks).await.unwrap().into_iter().filter(Result::is_ok).count()
        })
        .unwrap(),
    };
    let wall = start.elapsed();
    assert_eq!(woke, count);
    println!("{} {:.3} {} {:.3}", count, wall.as_secs_f64(), peak_rss().unwrap_or(0), cpu_seconds().unwrap_or(0.0));
}

/// User and system CPU time of this process so far, in seconds (Linux).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command's closing parenthesis; utime and stime are
    // the 12th and 13th of them, in clock ticks (100 a second on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Python's side: the same sleepers on asyncio, printed the same way.
const PYTHON_SLEEPERS: &str = r#"
import asyncio, resource, sys, time
count = int(sys.argv[1])
async def nap():
    await asyncio.sleep(1)
    return True
async def main():
    tasks = [asyncio.create_task(nap()) for _ in range(count)]
    return sum(await asyncio.gather(*tasks))
start = time.perf_counter()
woke = asyncio.run(main())
wall = time.perf_counter() - start
assert woke == count
usage = resource.getrusage(resource.RUSAGE_SELF)
print(count, "%.3f" % wall, usage.ru_maxrss * 1024, "%.3f" % (usage.ru_utime + usage.ru_stime))
"#;

/// The load average, to print beside a figure taken on a shared machine.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// What one sleepers child measured: wall and CPU seconds, peak RSS in MiB.
type Run = (f64, f64, f64);

/// One sleepers child, after printing its line; `None` (said) if it failed.
fn sleepers_child(who: &str, count: usize) -> Option<Run> {
    let mut command = match who {
        "Python asyncio" => {
            let mut command = std::process::Command::new("python3");
            command.args(["-c", PYTHON_SLEEPERS, &count.to_string()]);
            command
        }
        _ => {
            let mut command = std::process::Command::new(std::env::current_exe().unwrap());
            command.env(SLEEPERS_ENV, count.to_string());
            if who.starts_with("tokio") {
                command.env(PEER_ENV, "tokio");
            }
            command
        }
    };
    let before = load();
    let output = match command.output() {
        Ok(output) => output,
        Err(error) => {
            println!("{who} sleepers: could not start: {error}");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<f64> = text.split_whitespace().filter_map(|field| field.parse().ok()).collect();
    if let [_, wall, peak, cpu] = fields[..] {
        let peak_mib = peak / (1024.0 * 1024.0);
        println!(
            "sleepers/{who}/{count} concurrent sleep(1 s): wall {wall:.3} s, CPU {cpu:.3} s, \
             peak RSS {peak_mib:.1} MiB (load before: {before})"
        );
        Some((wall, cpu, peak_mib))
    } else {
        println!("{who} sleepers: the child failed: {}", String::from_utf8_lossy(&output.stderr));
        None
    }
}

/// The million sleepers, concur's and tokio's, in alternating runs after
/// one that is not counted; the 100,000 on concur and on Python once each.
///
/// The first process on a machine to take half a gigabyte can take twice
/// as long as the next (1.2 s of CPU where the next took 0.6 s: the kernel
/// reclaiming page cache for it), whichever runtime it is, so one run
/// warms up and the median of the rest is reported.
fn measure_sleepers() {
    const MILLION: usize = 1_000_000;
    const RUNS: usize = 3;
    sleepers_child("warm-up, not counted: concur::aio", MILLION);
    let mut runs: [(&str, Vec<Run>); 2] = [("concur::aio", Vec::new()), ("tokio current-thread", Vec::new())];
    for _ in 0..RUNS {
        for (who, figures) in &mut runs {
            figures.extend(sleepers_child(who, MILLION));
        }
    }
    for (who, figures) in runs {
        if figures.is_empty() {
            continue;
        }
        let of = |pick: fn(&Run) -> f64| support::median(&mut figures.iter().map(pick).collect::<Vec<_>>());
        let (wall, cpu, peak) = (of(|f| f.0), of(|f| f.1), of(|f| f.2));
        println!(
            "sleepers/{who}/{MILLION} median of {}: wall {wall:.3} s, CPU {cpu:.3} s, peak RSS {peak:.1} MiB",
            figures.len()
        );
    }
    sleepers_child("concur::aio", TASKS);
    sleepers_child("Python asyncio", TASKS);
}

criterion_group!(benches, spawn_and_gather);

fn main() {
    if let Ok(count) = std::env::var(SLEEPERS_ENV) {
        sleepers(count.parse().expect("a count of sleepers"), std::env::var(PEER_ENV).ok().as_deref());
        return;
    }
    // `cargo test --benches` runs this with `--bench` absent: keep it quick.
    // A filter that does not match "sleepers" skips them.
    if support::selects("sleepers") {
        measure_sleepers();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
