#!/usr/bin/env python3
"""Python's side of crates/concur/benches/coro.rs: a generator's send round
trip, and creating, starting and finishing a short generator.

Run: python3 bench/python/generators.py [--json]
Prints nanoseconds per operation (the median of several runs).
"""

import sys

from report import per_op_ns, show


def echo():
    n = 0
    while True:
        n = yield n + 1


def short():
    n = yield 1
    return n


def send_round_trip(n):
    g = echo()
    next(g)
    send = g.send
    for _ in range(n):
        send(7)


def create_start_finish(n):
    for _ in range(n):
        g = short()
        next(g)
        try:
            g.send(2)
        except StopIteration:
            pass


def main():
    show({
        "python": sys.version.split()[0],
        "generator send round trip (ns)": per_op_ns(send_round_trip, 1_000_000),
        "generator create, start, finish (ns)": per_op_ns(create_start_finish, 200_000),
    })


if __name__ == "__main__":
    main()
