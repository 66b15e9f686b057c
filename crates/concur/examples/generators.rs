//! Generators with `send`: values go out at each pause and come back in.
//!
//! 1. A range that jumps ahead by whatever the caller sends into it.
//! 2. A running average: a sub-generator that is sent numbers and yields the
//!    mean so far, delegated to with `yield_from`, which hands back its
//!    return value — the count and the final mean — when it is closed off by
//!    a `None`.
//!
//! Run with `cargo run -p concur --example generators`.

use concur::coro::{Generator, State};

/// Counts up from 0 below `end`; a value sent in skips that many numbers.
fn jumping_range(end: u32) -> Generator<u32, u32, ()> {
    Generator::with_input(move |co| async move {
        let mut n = 0;
        while n < end {
            let skip = co.yield_(n).await?;
            n += 1 + skip;
        }
        Ok(())
    })
}

/// Yields the mean of the numbers sent so far; `None` ends it, returning
/// how many numbers there were and their mean.
fn averager() -> Generator<f64, Option<f64>, (u32, f64)> {
    Generator::with_input(|co| async move {
        let (mut count, mut total) = (0u32, 0.0);
        let mut mean = 0.0;
        while let Some(value) = co.yield_(mean).await? {
            count += 1;
            total += value;
            mean = total / f64::from(count);
        }
        Ok((count, mean))
    })
}

/// Runs one averager per group through `yield_from`, collecting each one's
/// result.
fn grouped_averages(groups: usize) -> Generator<f64, Option<f64>, Vec<(u32, f64)>> {
    Generator::with_input(move |co| async move {
        let mut results = Vec::new();
        for _ in 0..groups {
            results.push(co.yield_from(averager()).await?);
        }
        Ok(results)
    })
}

fn main() {
    // 1. The jumping range.
    let mut range = jumping_range(20);
    let mut seen = Vec::new();
    let mut step = range.start().expect("starts");
    let skips = [0, 0, 3, 0, 5, 0, 0];
    let mut sent = skips.iter();
    while let State::Yielded(n) = step {
        seen.push(n);
        step = range.send(*sent.next().unwrap_or(&0)).expect("runs");
    }
    println!("jumping range below 20, sending skips {skips:?}: {seen:?}");

    // 2. Running averages of two groups through yield_from.
    let heights = [[1.60, 1.75, 1.82], [1.55, 1.70, 0.0]];
    let mut groups = grouped_averages(2);
    groups.start().expect("starts");
    for group in heights {
        for h in group.into_iter().filter(|&h| h > 0.0) {
            if let State::Yielded(mean) = groups.send(Some(h)).expect("runs") {
                println!("  sent {h:.2}, running mean {mean:.3}");
            }
        }
        // `None` ends this group's averager; the delegating generator
        // starts the next one.
        match groups.send(None).expect("runs") {
            State::Yielded(_) => println!("group done, next group"),
            State::Complete(results) => {
                for (i, (count, mean)) in results.iter().enumerate() {
                    println!("group {i}: {count} values, mean {mean:.3}");
                }
            }
        }
    }
}
