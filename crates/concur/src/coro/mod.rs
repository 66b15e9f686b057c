//! Generators: functions that pause at each `yield` and pick up where they
//! left off — and can be sent a value at each pause.
//!
//! A generator produces a sequence lazily: the caller asks for one value,
//! the body runs until it yields it, and waits there until asked again. With
//! [`Generator::send`], the caller also hands a value *in* at each pause, so
//! a generator can hold a conversation: a running average fed numbers, a
//! parser fed lines, a state machine fed events. Python builds its
//! coroutines, and once built asyncio, on exactly this.
//!
//! ```
//! use concur::coro::{Generator, State};
//!
//! // A range that jumps ahead by whatever is sent in.
//! let mut jumpy = Generator::with_input(|co| async move {
//!     let mut n = 0;
//!     while n < 100 {
//!         let jump: u32 = co.yield_(n).await?;
//!         n += 1 + jump;
//!     }
//!     Ok(n)
//! });
//! assert_eq!(jumpy.start().unwrap(), State::Yielded(0));
//! assert_eq!(jumpy.send(0).unwrap(), State::Yielded(1));
//! assert_eq!(jumpy.send(9).unwrap(), State::Yielded(11));
//! assert_eq!(jumpy.send(200).unwrap(), State::Complete(212));
//! ```
//!
//! The body is an `async` block that awaits its own yields
//! ([`Co::yield_`], [`Co::yield_from`]) and nothing else; the generator's
//! calls drive it directly, with no executor and no thread.
//!
//! # The engine, chosen by measurement
//!
//! Two ways to pause a function were prototyped on the project's 2-core
//! machine; the stackful row is from that prototype (a plain loop of 10
//! million sends; 10,000 generators created, started and finished). The
//! other two rows are medians of five runs of `cargo bench -p concur --bench
//! coro` and `bench/python/generators.py`, taken in one session on
//! 2026-11-25:
//!
//! | engine | send round trip | create, start and finish a short generator | unsafe code |
//! |---|---|---|---|
//! | stackful, `corosensei` (prototype) | 2.8 ns | 9–12 µs (a stack is mapped per generator) | in the crate, per platform |
//! | `async` body polled by hand (this module) | 6.5 ns (6.3–7.4) | 38 ns (35–51) | none |
//! | Python 3.11 generator, for scale | 42 ns (40–65) | 246 ns (219–400) | — |
//!
//! The stackful engine is about twice as fast per send but hundreds of
//! times slower to create, and a program with many short generators —
//! Python's usual use — pays creation far more often than it sends. The
//! polled body is plain safe Rust and six to seven times faster than Python
//! both per send and per generator, so it is the engine here. Its cost: the
//! body writes `.await` after each yield, and a generator stays on the
//! thread that made it.
//!
//! # Looking inside: which sub-generator runs
//!
//! Python's `gi_yieldfrom` names the generator a paused `yield from` is
//! delegating to. The engine keeps that in the generator's hand-over slot,
//! set by [`Co::yield_from`] for as long as it runs, so
//! [`Generator::yielding_from`] answers it from outside. It is a view, a
//! [`SubGenerator`], not the sub-generator itself: `yield_from` owns the
//! sub-generator (the body moved it in), and lending it out would let a
//! caller resume it behind its parent's back. The view gives what
//! introspection needs — the sub-generator's [`name`](SubGenerator::name),
//! Python's `gi_name`, and what it is delegating to in turn.
//!
//! # Python
//!
//! | Python | concur |
//! |---|---|
//! | `def gen(): ... x = yield v ... return r` | `Generator::with_input(\|co\| async move { let x = co.yield_(v).await?; ... Ok(r) })`; `Generator::new` for one that is only iterated |
//! | `next(g)` | [`Generator::resume`] ([`Generator::start`] for the first) |
//! | `g.send(v)`, `g.throw(e)`, `g.close()` | [`Generator::send`], [`Generator::throw`], [`Generator::close`] |
//! | `yield from sub` | [`Co::yield_from`] |
//! | `g.gi_yieldfrom`, `g.gi_name` | [`Generator::yielding_from`] (a [`SubGenerator`] view), [`Generator::name`] |
//! | `StopIteration.value` | [`State::Complete`] |
//! | `for x in g` | `for x in g` (items are `Result`s: the body's error is the last) |
//! | `GeneratorExit`, `RuntimeError` from a misused generator | [`GeneratorExit`], [`GeneratorError`] |

mod generator;

pub use generator::{Co, Generator, GeneratorError, GeneratorExit, State, SubGenerator, Thrown};
