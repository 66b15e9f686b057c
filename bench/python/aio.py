#!/usr/bin/env python3
"""Python's side of crates/concur/benches/aio.rs: asyncio.create_task +
gather of 100,000 trivial tasks, and 100,000 concurrent sleep(1) with their
wall time and peak memory.

Run: python3 bench/python/aio.py [--json]
"""

import asyncio
import resource
import statistics
import sys
import time

from report import show

TASKS = 100_000
RUNS = 5


async def trivial(n):
    return n


async def spawn_and_gather():
    tasks = [asyncio.create_task(trivial(n)) for n in range(TASKS)]
    values = await asyncio.gather(*tasks)
    assert len(values) == TASKS


def gather_ms():
    samples = []
    loop = asyncio.new_event_loop()
    for _ in range(RUNS):
        start = time.perf_counter()
        loop.run_until_complete(spawn_and_gather())
        samples.append((time.perf_counter() - start) * 1000)
    loop.close()
    return statistics.median(samples)


async def sleepers():
    async def nap():
        await asyncio.sleep(1)
        return True

    tasks = [asyncio.create_task(nap()) for _ in range(TASKS)]
    return sum(await asyncio.gather(*tasks))


def main():
    gathered = gather_ms()
    start = time.perf_counter()
    woke = asyncio.run(sleepers())
    wall = time.perf_counter() - start
    assert woke == TASKS
    # ru_maxrss is in KiB on Linux; it includes the gather runs above, which
    # need less than the sleepers.
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    show({
        "python": sys.version.split()[0],
        "create_task + gather, 100,000 tasks (ms)": gathered,
        "100,000 concurrent sleep(1): wall (s)": wall,
        "100,000 concurrent sleep(1): peak RSS (MiB)": peak_mib,
    })


if __name__ == "__main__":
    main()
