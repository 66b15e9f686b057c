#!/usr/bin/env python3
"""Python's ThreadPoolExecutor, timed the way crates/concur/benches/executor.rs
times concur's ThreadPool, so the two can be compared cell by cell.

  submit + result: a ThreadPoolExecutor(4) made once and reused; each run
      submits CALLS trivial calls (`lambda n: n * 2`, n = 0..CALLS-1), then
      takes result() of each future in submission order; the sum is checked

Like the Rust bench, each run makes 100,000 calls (CALLS); on two cores a run
takes about 1.5 seconds and the whole script (a warm-up run and RUNS timed
runs) about 10 seconds. Lower CALLS for a quicker run: the rate per second
stays comparable.

Run: python3 bench/python/executor.py [--json]
Prints thousands of calls per second (median of several runs; criterion's
Kelem/s for the Rust bench) and the microseconds per call that rate means.
"""

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from report import show

CALLS = 100_000
WORKERS = 4
RUNS = 5


def submit_and_result(pool):
    """Seconds to submit CALLS calls to `pool` and take every result."""
    double = lambda n: n * 2  # noqa: E731 -- the bench's trivial call
    start = time.perf_counter()
    futures = [pool.submit(double, n) for n in range(CALLS)]
    total = sum(f.result() for f in futures)
    elapsed = time.perf_counter() - start
    assert total == CALLS * (CALLS - 1)
    return elapsed


def main():
    with ThreadPoolExecutor(WORKERS) as pool:
        submit_and_result(pool)  # warm-up: starts the workers, as the Rust bench's warm-up does
        rates = [CALLS / submit_and_result(pool) for _ in range(RUNS)]
    rate = statistics.median(rates)
    results = {
        "python": sys.version.split()[0],
        "calls per run": CALLS,
        "ThreadPoolExecutor(4) submit+result (k calls/s)": rate / 1e3,
        "ThreadPoolExecutor(4) submit+result (us/call)": 1e6 / rate,
    }
    show(results)


if __name__ == "__main__":
    main()
