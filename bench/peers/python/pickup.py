"""What the Python peers' stamped tasks share: each answers how long after
its push it started, on the list bench/peers/peers.py waits on, through a
connection to PEERS_REDIS_URL made in the process that runs the task (RQ
forks a work horse per task; a connection made before the fork would be
shared with the parent)."""

import os
import time

from redis import Redis

LATENCY_LIST = "bench:latency"

_answers = {}


def answer(pushed_ns):
    """Pushes the time since `pushed_ns` (Unix ns), read first."""
    started = time.time_ns()
    pid = os.getpid()
    if pid not in _answers:
        _answers[pid] = Redis.from_url(os.environ["PEERS_REDIS_URL"])
    _answers[pid].rpush(LATENCY_LIST, started - pushed_ns)
