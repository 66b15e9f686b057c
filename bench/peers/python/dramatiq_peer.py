"""Dramatiq's side of bench/peers: a Redis broker on PEERS_REDIS_URL, the
no-op actor and the stamped actor that answers with its pickup latency.
Workers run `dramatiq dramatiq_peer`."""

import os
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from redis import Redis

LATENCY_LIST = "bench:latency"

dramatiq.set_broker(RedisBroker(url=os.environ["PEERS_REDIS_URL"]))
answers = Redis.from_url(os.environ["PEERS_REDIS_URL"])


@dramatiq.actor
def noop():
    """Does nothing."""


@dramatiq.actor
def stamp(pushed_ns):
    """Answers how long after its push (Unix ns) it started."""
    started = time.time_ns()
    answers.rpush(LATENCY_LIST, started - pushed_ns)
