//! Many generators at once: CPython's `conjoin_tests` Knight's Tour creates
//! tens of thousands; here 10,000, half delegating, driven round-robin with
//! every value checked exactly.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::coro::{run_case, StopCounting};
use concur::coro::{Generator, State};

/// Sums what it is sent, yielding `(id, sum so far)` each time; returns the
/// sum when a [`StopCounting`] is thrown in.
fn counter(id: usize, dropped: Rc<Cell<usize>>) -> Generator<(usize, u64), u64, u64> {
    struct CountDrop(Rc<Cell<usize>>);
    impl Drop for CountDrop {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    Generator::with_input(move |co| async move {
        let _count = CountDrop(dropped);
        let mut total = 0;
        loop {
            match co.yield_((id, total)).await {
                Ok(n) => total += n,
                Err(e) if e.downcast_ref::<StopCounting>().is_some() => return Ok(total),
                Err(e) => return Err(e),
            }
        }
    })
}

// test_generators.py: conjoin_tests' Knight's Tour ("creating 10s of
// thousands of generators"): 10,000 generators, half of them delegating
// through yield_from, driven round-robin (alternating direction) with
// distinct values; every yield and every return value checked exactly, and
// every body dropped once.
#[test]
fn ten_thousand_generators_round_robin() {
    const GENERATORS: usize = 10_000;
    const ROUNDS: u64 = 20;
    run_case(|| {
        let dropped = Rc::new(Cell::new(0));
        let mut gens: Vec<Generator<(usize, u64), u64, u64>> = (0..GENERATORS)
            .map(|id| {
                let sub = counter(id, dropped.clone());
                if id % 2 == 0 {
                    sub
                } else {
                    Generator::with_input(move |co| async move { Ok(co.yield_from(sub).await? * 10) })
                }
            })
            .collect();
        for (id, g) in gens.iter_mut().enumerate() {
            assert_eq!(g.start().unwrap(), State::Yielded((id, 0)));
        }
        let mut expected = vec![0u64; GENERATORS];
        let mut sends = 0u64;
        for round in 1..=ROUNDS {
            let order: Box<dyn Iterator<Item = usize>> =
                if round % 2 == 0 { Box::new(0..GENERATORS) } else { Box::new((0..GENERATORS).rev()) };
            for id in order {
                let n = round * GENERATORS as u64 + id as u64;
                expected[id] += n;
                assert_eq!(
                    gens[id].send(n).unwrap(),
                    State::Yielded((id, expected[id])),
                    "generator {id}, round {round}"
                );
                sends += 1;
            }
        }
        assert_eq!(sends, ROUNDS * GENERATORS as u64);
        assert_eq!(dropped.get(), 0);
        for (id, g) in gens.iter_mut().enumerate() {
            let want = if id % 2 == 0 { expected[id] } else { expected[id] * 10 };
            assert_eq!(g.throw(StopCounting("done")).unwrap(), State::Complete(want), "generator {id}");
            assert!(g.is_finished());
        }
        assert_eq!(dropped.get(), GENERATORS);
    });
}
