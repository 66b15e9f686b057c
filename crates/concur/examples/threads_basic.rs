//! Threads from a closure and from a `Run` object: names, idents,
//! `is_alive`, `join` with and without a timeout, a panic returned by
//! `join`, a daemon thread nobody waits for, `Timer`s (one that fires, one
//! cancelled), and `concur::run` waiting for a thread that `main` never
//! joined.
//!
//! Run with `cargo run -p concur --example threads_basic`.

use std::time::Duration;

use concur::thread::{self, Builder, JoinError, JoinStatus, Run, Timer};

/// A thread object, like a Python `threading.Thread` subclass: `run` fills
/// in `said`, and `join` hands the object back so `main` can read it.
struct Countdown {
    from: u32,
    said: Vec<String>,
}

impl Run for Countdown {
    fn run(&mut self) {
        let me = thread::current();
        for n in (1..=self.from).rev() {
            self.said.push(format!("{} counts {n}", me.name()));
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn main() {
    concur::run(|| {
        let me = thread::current();
        println!("main runs as '{}' (ident {}, daemon: {})", me.name(), me.ident(), me.is_daemon());

        // A thread from a closure; its return value comes back from join().
        let squares = Builder::new()
            .name("squares")
            .spawn(|| {
                std::thread::sleep(Duration::from_millis(200));
                (1..=10_u32).map(|n| n * n).sum::<u32>()
            })
            .expect("the OS starts a thread");
        println!(
            "started '{}' (ident {}, daemon: {}), alive: {}",
            squares.name(),
            squares.ident(),
            squares.is_daemon(),
            squares.is_alive()
        );

        // A thread from a Run object, with a default name.
        let countdown = thread::spawn_run(Countdown { from: 3, said: Vec::new() });
        println!("started '{}' from a Run object", countdown.name());

        // A daemon thread: it loops forever, and concur::run will not wait for it.
        let heartbeat = Builder::new()
            .name("heartbeat")
            .daemon(true)
            .spawn(|| loop {
                std::thread::sleep(Duration::from_millis(50));
            })
            .expect("the OS starts a thread");

        let names: Vec<String> = thread::enumerate().iter().map(|t| t.name().to_owned()).collect();
        println!("{} threads alive: {names:?}", thread::active_count());

        // join(timeout) in Python: wait a little, then ask whether it ended.
        let status = squares.join_timeout(Duration::from_millis(10)).expect("not joining itself");
        println!(
            "after waiting 10 ms, 'squares' has {}",
            match status {
                JoinStatus::Finished => "finished",
                JoinStatus::TimedOut => "not finished yet",
            }
        );
        let squares_thread = squares.thread().clone();
        println!("'squares' returned {}", squares.join().expect("'squares' does not panic"));
        println!("'squares' alive after join: {}", squares_thread.is_alive());

        let countdown = countdown.join().expect("the countdown does not panic");
        for line in &countdown.said {
            println!("  {line}");
        }

        // A panic stays in its thread and comes back from join() as a value.
        // This one is on purpose: report it in one line, as Python's
        // threading.excepthook would, rather than as a failure with a
        // backtrace (which RUST_BACKTRACE=1 adds); any other panic keeps
        // the default report.
        let default_report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some("fragile") {
                eprintln!("(thread 'fragile' panicked, as planned: {})", concur::thread::panic_message(info.payload()));
            } else {
                default_report(info);
            }
        }));
        let fragile = Builder::new()
            .name("fragile")
            .spawn(|| -> u32 { panic!("the disk is full") })
            .expect("the OS starts a thread");
        match fragile.join() {
            Err(JoinError::Panicked(panicked)) => println!("join() reported: {panicked}"),
            other => println!("unexpected: {other:?}"),
        }

        // threading.Timer: a call on its own thread after a delay, unless
        // cancelled first.
        let reminder = Timer::start(Duration::from_millis(30), || "stretch your legs");
        let alarm = Timer::start(Duration::from_secs(3600), || "an hour has passed");
        println!("cancelled the hour-long alarm before it rang: {}", alarm.cancel());
        println!("the 30 ms reminder fired: {:?}", reminder.join().expect("the reminder does not panic"));
        println!("the alarm's join gives: {:?}", alarm.join().expect("the alarm does not panic"));

        // Not joined by main: concur::run waits for it, as Python's
        // interpreter waits for non-daemon threads at exit.
        Builder::new()
            .name("straggler")
            .spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                println!("'straggler' finishes after main's closure returned: concur::run waited for it");
            })
            .expect("the OS starts a thread");
        println!("main's closure returns now; 'heartbeat' alive: {}", heartbeat.is_alive());
    });
    let names: Vec<String> = thread::enumerate().iter().map(|t| t.name().to_owned()).collect();
    println!("after concur::run: still alive {names:?} (the daemon is left running)");
}
