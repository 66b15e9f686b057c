"""What the bench scripts share: the median time per operation, and printing
results as an aligned table, or as JSON with --json, so the Rust side can
read them."""

import json
import statistics
import sys
import time

RUNS = 7


def per_op_ns(body, iterations, runs=RUNS):
    """Median time per iteration of `body(iterations)` over `runs` runs, in ns."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        body(iterations)
        samples.append((time.perf_counter_ns() - start) / iterations)
    return statistics.median(samples)


def show(results):
    """Prints `results` (name -> value) as JSON with --json, else a table."""
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    for name, value in results.items():
        if isinstance(value, str):
            shown = value
        elif isinstance(value, int):
            shown = f"{value:10d}"
        elif value < 100:
            shown = f"{value:10.3f}"
        else:
            shown = f"{value:10.1f}"
        print(f"{name:50} {shown}")
