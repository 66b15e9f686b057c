#!/usr/bin/env python3
"""Python's threading primitives, timed the way crates/concur/benches/sync.rs
times concur's, so the two can be compared cell by cell.

  uncontended acquire+release: threading.Lock and threading.RLock, both as
      `with lock:` and as acquire()/release()
  ping-pong: two threads passing the turn through two threading.Event objects

Run: python3 bench/python/primitives.py [--json]
Prints nanoseconds per acquire+release and microseconds per round trip (the
median of several runs).
"""

import sys
import threading

from report import per_op_ns, show


def with_lock(lock):
    def body(n):
        for _ in range(n):
            with lock:
                pass
    return body


def acquire_release(lock):
    def body(n):
        acquire, release = lock.acquire, lock.release
        for _ in range(n):
            acquire()
            release()
    return body


def ping_pong(rounds):
    """One side sets `ping` and waits for `pong`; a partner thread does the
    reverse. Each side clears the event it waited on, as the Rust bench does."""
    ping, pong = threading.Event(), threading.Event()

    def partner():
        for _ in range(rounds):
            ping.wait()
            ping.clear()
            pong.set()

    t = threading.Thread(target=partner)
    t.start()
    for _ in range(rounds):
        ping.set()
        pong.wait()
        pong.clear()
    t.join()


def main():
    results = {
        "python": sys.version.split()[0],
        "threading.Lock with (ns)": per_op_ns(with_lock(threading.Lock()), 1_000_000),
        "threading.Lock acquire/release (ns)": per_op_ns(acquire_release(threading.Lock()), 1_000_000),
        "threading.RLock with (ns)": per_op_ns(with_lock(threading.RLock()), 1_000_000),
        "threading.Event ping-pong round trip (us)": per_op_ns(ping_pong, 20_000) / 1000,
    }
    show(results)


if __name__ == "__main__":
    main()
