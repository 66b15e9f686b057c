//! A starting gun. Five runner threads park on one `Event`; the main thread
//! sets it once and all of them leave together. Each runner prints how long
//! after the signal it woke. A late runner, arriving after the signal, does
//! not wait at all: the flag stays set until `clear`.
//!
//! Run with `cargo run -p concur --example event_start`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use concur::sync::Event;
use concur::thread::{self, Builder};

fn main() {
    let gun = Arc::new(Event::new());
    let fired_at = Arc::new(parking_lot::Mutex::new(None::<Instant>));

    let runners: Vec<_> = (1..=5)
        .map(|lane| {
            let (gun, fired_at) = (gun.clone(), fired_at.clone());
            Builder::new()
                .name(format!("runner-{lane}"))
                .spawn(move || {
                    gun.wait();
                    let woke = Instant::now();
                    let fired = fired_at.lock().expect("the gun is fired before it is set");
                    (thread::current().name().to_owned(), woke.duration_since(fired))
                })
                .expect("the OS starts a thread")
        })
        .collect();

    // Give every runner time to reach the line, then fire.
    std::thread::sleep(Duration::from_millis(200));
    println!("runners waiting: gun set? {}", gun.is_set());
    *fired_at.lock() = Some(Instant::now());
    gun.set();

    for runner in runners {
        let (name, delay) = runner.join().expect("a runner does not panic");
        println!("{name} started {} µs after the signal", delay.as_micros());
    }

    let late = Instant::now();
    gun.wait();
    println!("a late runner did not wait: {} µs (the flag stays set)", late.elapsed().as_micros());

    gun.clear();
    let waited = gun.wait_timeout(Duration::from_millis(50));
    println!("after clear, wait_timeout(50 ms) returned {waited}: nobody fired again");
}
