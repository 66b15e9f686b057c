"""Celery's side of bench/peers: an app whose broker is the Redis on
PEERS_REDIS_URL (no result backend: Celery's default), the no-op task and
the stamped task that answers with its pickup latency. Workers run
`celery -A celery_peer worker`."""

import os

from celery import Celery

import pickup

app = Celery("celery_peer", broker=os.environ["PEERS_REDIS_URL"])


@app.task
def noop():
    """Does nothing."""


@app.task
def stamp(pushed_ns):
    """Answers how long after its push (Unix ns) it started."""
    pickup.answer(pushed_ns)
