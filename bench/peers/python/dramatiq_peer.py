"""Dramatiq's side of bench/peers: a Redis broker on PEERS_REDIS_URL, the
no-op actor and the stamped actor that answers with its pickup latency.
Workers run `dramatiq dramatiq_peer`."""

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker

import pickup

dramatiq.set_broker(RedisBroker(url=os.environ["PEERS_REDIS_URL"]))


@dramatiq.actor
def noop():
    """Does nothing."""


@dramatiq.actor
def stamp(pushed_ns):
    """Answers how long after its push (Unix ns) it started."""
    pickup.answer(pushed_ns)
