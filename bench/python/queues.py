#!/usr/bin/env python3
"""Python's queues, timed the way crates/concur/benches/queue.rs times
concur's, so the two can be compared cell by cell.

  throughput: queue.Queue(1024) moving items from P producer threads to C
      consumer threads (threading), 1P/1C and 2P/2C; producer p puts
      p, p+P, p+2P, ..., each consumer gets its share, and the sum is checked
  priority: queue.PriorityQueue put of 1000 scrambled keys ((i * 7919) % 1000,
      the Rust bench's keys), then 1000 get_nowait, on one thread

Like the Rust bench, each transfer run moves 1,000,000 items (ITEMS); the
whole script takes about 15 seconds on two cores. Lower ITEMS for a
quicker run: the rate per second stays comparable.

Run: python3 bench/python/queues.py [--json]
Prints millions of items per second (median of several runs) and nanoseconds
per put+get (median of several runs).
"""

import queue
import statistics
import sys
import threading
import time

from report import show

ITEMS = 1_000_000
CAPACITY = 1024
TRANSFER_RUNS = 5
PRIORITY_BATCH = 1000
PRIORITY_ROUNDS = 200
PRIORITY_RUNS = 7


def transfer(producers, consumers):
    """Seconds to move ITEMS items from `producers` threads to `consumers`
    threads through one queue.Queue(CAPACITY)."""
    q = queue.Queue(CAPACITY)
    sums = [0] * consumers

    def produce(p):
        put = q.put
        for i in range(p, ITEMS, producers):
            put(i)

    def consume(c):
        get = q.get
        share = ITEMS // consumers + (1 if c < ITEMS % consumers else 0)
        total = 0
        for _ in range(share):
            total += get()
        sums[c] = total

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    threads += [threading.Thread(target=consume, args=(c,)) for c in range(consumers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    assert sum(sums) == ITEMS * (ITEMS - 1) // 2
    return elapsed


def million_items_per_second(producers, consumers):
    """Median rate of TRANSFER_RUNS transfers, in millions of items per second."""
    return statistics.median(ITEMS / transfer(producers, consumers) / 1e6 for _ in range(TRANSFER_RUNS))


def priority_ns():
    """Median time per put+get over PRIORITY_RUNS runs of PRIORITY_ROUNDS
    batches, in ns."""
    keys = [(i * 7919) % PRIORITY_BATCH for i in range(PRIORITY_BATCH)]
    q = queue.PriorityQueue()
    put, get = q.put, q.get_nowait
    samples = []
    for _ in range(PRIORITY_RUNS):
        start = time.perf_counter_ns()
        for _ in range(PRIORITY_ROUNDS):
            for k in keys:
                put(k)
            for _ in range(PRIORITY_BATCH):
                get()
        samples.append((time.perf_counter_ns() - start) / (PRIORITY_ROUNDS * PRIORITY_BATCH))
    return statistics.median(samples)


def main():
    results = {
        "python": sys.version.split()[0],
        "items per transfer run": ITEMS,
        "queue.Queue(1024) 1P/1C (M items/s)": million_items_per_second(1, 1),
        "queue.Queue(1024) 2P/2C (M items/s)": million_items_per_second(2, 2),
        "queue.PriorityQueue put+get, 1000 keys (ns/item)": priority_ns(),
    }
    show(results)


if __name__ == "__main__":
    main()
