"""RQ's side of bench/peers: the no-op task and the stamped task that
answers with its pickup latency. Workers import this module (`rq worker`
runs `rq_peer.noop` by name); PEERS_REDIS_URL names the server."""

import pickup


def noop():
    """Does nothing; its result (None) is kept as RQ keeps results."""


def stamp(pushed_ns):
    """Answers how long after its push (Unix ns) it started."""
    pickup.answer(pushed_ns)
