"""RQ's side of bench/peers: the no-op task and the stamped task that
answers with its pickup latency. Workers import this module (`rq worker`
runs `rq_peer.noop` by name); PEERS_REDIS_URL names the server."""

import os
import time

from redis import Redis

LATENCY_LIST = "bench:latency"

# Made at import, before RQ forks the work horse; redis-py reconnects in
# the child by itself.
answers = Redis.from_url(os.environ["PEERS_REDIS_URL"])


def noop():
    """Does nothing; its result (None) is kept as RQ keeps results."""


def stamp(pushed_ns):
    """Answers how long after its push (Unix ns) it started."""
    started = time.time_ns()
    answers.rpush(LATENCY_LIST, started - pushed_ns)
