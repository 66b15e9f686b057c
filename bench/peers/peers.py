#!/usr/bin/env python3
"""`concur worker` beside the task queues a user would pick instead, on one
real redis-server that this script starts on a free loopback port:

  concur        the `concur worker` binary (release build), as an operator
                runs it, serving the built-in `echo` task with no arguments
                (a no-op whose result, `[]`, is stored, as by default)
  concur-prefetch  the same with `--prefetch 64`: tasks fetched beyond the
                concurrency wait in the worker, so fetches and
                acknowledgements are batched even at concurrency 1
  apalis        apalis 1 with apalis-redis, defaults (`lock_tasks` on,
                batch 10): bench/peers/apalis, a Rust program of its own;
                an idle worker polls every --apalis-poll-ms (10 ms; pushes
                do not wake it, see bench/peers/apalis/src/main.rs)
  apalis-tuned  the same with `lock_tasks(false)`, batch 10
  rq            RQ: `rq worker` (C > 1: `rq worker-pool -n C`); RQ forks a
                work horse per job by default, and keeps results
  dramatiq      Dramatiq's Redis broker: `dramatiq -p P -t T`, P = min(C,
                cores) processes of T = C / P threads
  celery        Celery with its Redis broker, no result backend (its
                default): `celery worker -c C`, the prefork pool

Every task is a no-op. At each concurrency C (tasks at once: 1 and 50) and
for each system:

  drain    the tasks are enqueued first (BACKLOG of them, by the system's own
           producer), then a fresh worker is started and drains them; the
           rate is timed from a tenth of them done to nine tenths, so that
           the start-up of a pool of processes and the last stragglers do
           not count; a drain still going --budget seconds after its tenth
           is timed from the tenth to what it did by then. "Done" is what the system itself records: concur's
           `done` counter, apalis's done set, RQ's finished registry,
           Dramatiq's acknowledged messages (removed from `.msgs`), and for
           Celery, which keeps nothing without a result backend, the
           messages acknowledged — at the start of each task, its default.
  latency  pickup latency: an idle worker, one task pushed at a time, from
           just before the producer's push to the start of the handler (the
           handler reads the clock and pushes the difference to a list the
           script waits on); between pushes the script waits a random 5 to
           50 ms, so that a worker that polls is met at every phase of its
           poll. concur's binary has no such handler: its figure is the
           `started_at` of the task's result record, taken as the fetch
           returns (a few microseconds before the handler runs).

The cells take turns: each round measures every system at every
concurrency, starting with a different system each round, so a change in
the machine's load falls on all of them alike. Drains report the median of
the rounds (and their range); latencies pool the samples of all rounds.
`redis-benchmark -t lpush -q`, unpipelined, runs against the same server
once a round.

apalis-redis 1.0 moves every due task from its schedule to its queue in one
Lua `unpack`, which fails past about 8,000 elements: a backlog of more than
that pushed before its worker starts makes every fetch fail ("too many
results to unpack"). Its backlog is therefore at most 7,500, and concur's
drains use the same backlog so the two meet on equal terms; apalis's default
slows as the backlog grows (each lease is an `LREM` over the queue).

Run it through bench/peers/run, which makes the venv and builds the
programs. Prints a Markdown table; --json and --markdown write the results.
"""

import argparse
import importlib
import importlib.metadata
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from redis import Redis

HERE = Path(__file__).resolve().parent
PYTHON_DIR = HERE / "python"
LATENCY_LIST = "bench:latency"
# apalis-redis fails past about 8,000 tasks pushed before its worker starts.
APALIS_MAX_BACKLOG = 7_500
SYSTEMS = ["concur", "concur-prefetch", "apalis", "apalis-tuned", "rq", "dramatiq", "celery"]
# What `concur-prefetch` passes to `concur worker --prefetch`: its bench's
# figure (crates/concur-worker/benches/worker.rs).
PREFETCH = 64


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of this run's own, on a free loopback port, without
    persistence, in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="concur-peers-")
        self.port = free_port()
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        # redis-py 8 reads with a 5 s socket timeout by default, which would
        # cut short the BLPOP that waits for a pool of workers to start.
        self.client = Redis.from_url(self.url, socket_timeout=300)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.client.ping()
                break
            except Exception:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit("redis-server did not start")
                time.sleep(0.05)
        self.version = self.client.info("server")["redis_version"]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Workers:
    """Worker processes this script started, each in a session of its own so
    that its children (a pool, a work horse) stop with it."""

    def __init__(self, commands, env, log):
        self.log = open(log, "ab")
        self.processes = [
            subprocess.Popen(cmd, cwd=PYTHON_DIR, env=env, stdin=subprocess.DEVNULL,
                             stdout=self.log, stderr=self.log, start_new_session=True)
            for cmd in commands
        ]

    def alive(self):
        return any(p.poll() is None for p in self.processes)

    def stop(self):
        for sig, wait in [(signal.SIGTERM, 20), (signal.SIGKILL, 10)]:
            for p in self.processes:
                if p.poll() is None:
                    try:
                        os.killpg(p.pid, sig)
                    except ProcessLookupError:
                        pass
            deadline = time.monotonic() + wait
            for p in self.processes:
                try:
                    p.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
            if not self.alive():
                break
        self.log.close()


class System:
    """One task queue: how to enqueue, count what is done, start workers
    and push a stamped task."""

    name = ""

    def __init__(self, server, args):
        self.server = server
        self.redis = server.client
        self.args = args
        self.env = dict(os.environ, PEERS_REDIS_URL=server.url, PYTHONPATH=str(PYTHON_DIR))

    def max_backlog(self):
        return None

    def enqueue(self, n):
        raise NotImplementedError

    def done(self):
        raise NotImplementedError

    def commands(self, concurrency):
        raise NotImplementedError

    def start_producer(self):
        """Called before the latency samples; `stop_producer` after."""

    def stop_producer(self):
        pass

    def push_stamped(self):
        raise NotImplementedError

    def sample(self, timeout):
        """Pushes one stamped task and returns its pickup latency (ns), or
        None if it did not start within `timeout` seconds."""
        self.push_stamped()
        answer = self.redis.blpop([LATENCY_LIST], timeout=timeout)
        return None if answer is None else int(answer[1])


class Concur(System):
    name = "concur"
    queue = "queue"

    def envelope(self, task_id):
        return json.dumps({"id": task_id, "task": "echo", "args": [], "enqueued_at": time.time()})

    def enqueue(self, n):
        pipe = self.redis.pipeline(transaction=False)
        for start in range(0, n, 1000):
            pipe.lpush(self.queue, *[self.envelope(uuid.uuid4().hex) for _ in range(min(1000, n - start))])
        pipe.execute()

    def done(self):
        return int(self.redis.hget("{queue}:stats", "done") or 0)

    def commands(self, concurrency):
        return [[self.args.concur, "worker", "--redis", self.server.url, "--concurrency", str(concurrency),
                 "--quiet"]]

    def sample(self, timeout):
        task_id = uuid.uuid4().hex
        payload = self.envelope(task_id)
        pushed = time.time_ns()
        self.redis.lpush(self.queue, payload)
        deadline = time.monotonic() + timeout
        key = "{queue}:result:" + task_id
        while time.monotonic() < deadline:
            record = self.redis.get(key)
            if record is not None:
                return round(json.loads(record)["started_at"] * 1e9) - pushed
            # The figure comes from the record, not from this poll: a slow
            # poll only spaces the samples, and leaves the CPU to the worker.
            time.sleep(0.001)
        return None


class ConcurPrefetch(Concur):
    name = "concur-prefetch"

    def commands(self, concurrency):
        return [command + ["--prefetch", str(PREFETCH)] for command in super().commands(concurrency)]


class Apalis(System):
    name = "apalis"
    lock_tasks = "true"
    queue = "peers"

    def max_backlog(self):
        return APALIS_MAX_BACKLOG

    def enqueue(self, n):
        subprocess.run([self.args.apalis, "enqueue", self.server.url, self.queue, str(n)], check=True,
                       stdout=subprocess.DEVNULL)

    def done(self):
        return self.redis.scard(f"{self.queue}:done")

    def commands(self, concurrency):
        return [[self.args.apalis, "work", self.server.url, self.queue, str(concurrency), self.lock_tasks, "10",
                 str(self.args.apalis_poll_ms)]]

    def start_producer(self):
        self.producer = subprocess.Popen([self.args.apalis, "produce", self.server.url, self.queue],
                                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)

    def stop_producer(self):
        self.producer.stdin.close()
        self.producer.wait(10)

    def push_stamped(self):
        # The producer reads the clock itself, right before its push.
        self.producer.stdin.write(b"\n")
        self.producer.stdin.flush()


class ApalisTuned(Apalis):
    name = "apalis-tuned"
    lock_tasks = "false"


class Rq(System):
    name = "rq"

    def queue(self):
        from rq import Queue
        return Queue("default", connection=self.redis)

    def enqueue(self, n):
        from rq import Queue
        queue = self.queue()
        for start in range(0, n, 500):
            queue.enqueue_many([Queue.prepare_data("rq_peer.noop") for _ in range(min(500, n - start))])

    def done(self):
        return self.redis.zcard("rq:finished:default")

    def commands(self, concurrency):
        rq = str(Path(sys.executable).parent / "rq")
        if concurrency == 1:
            return [[rq, "worker", "-u", self.server.url, "--logging_level", "WARNING", "default"]]
        return [[rq, "worker-pool", "-n", str(concurrency), "-u", self.server.url, "-l", "WARNING", "default"]]

    def start_producer(self):
        self.producer = self.queue()

    def push_stamped(self):
        self.producer.enqueue("rq_peer.stamp", time.time_ns())


class Imported(System):
    """A Python queue whose tasks are in python/MODULE.py, imported here
    (with the server's URL in the environment) to enqueue through the
    queue's own producer."""

    module = ""

    def tasks(self):
        os.environ["PEERS_REDIS_URL"] = self.server.url
        if str(PYTHON_DIR) not in sys.path:
            sys.path.insert(0, str(PYTHON_DIR))
        return importlib.import_module(self.module)

    def send(self, task, *args):
        raise NotImplementedError

    def enqueue(self, n):
        noop = self.tasks().noop
        for _ in range(n):
            self.send(noop)
        self.total = n

    def start_producer(self):
        self.producer = self.tasks().stamp

    def push_stamped(self):
        self.send(self.producer, time.time_ns())


class Dramatiq(Imported):
    name = "dramatiq"
    module = "dramatiq_peer"

    def send(self, task, *args):
        task.send(*args)

    def done(self):
        return self.total - self.redis.hlen("dramatiq:default.msgs")

    def commands(self, concurrency):
        processes = min(concurrency, os.cpu_count() or 1)
        threads = max(1, concurrency // processes)
        dramatiq = str(Path(sys.executable).parent / "dramatiq")
        return [[dramatiq, "dramatiq_peer", "--processes", str(processes), "--threads", str(threads)]]


class Celery(Imported):
    name = "celery"
    module = "celery_peer"

    def send(self, task, *args):
        task.delay(*args)

    def done(self):
        # Without a result backend Celery records nothing when a task ends;
        # a message leaves the queue when fetched and `unacked` when
        # acknowledged, which by default is as its task starts.
        return self.total - self.redis.llen("celery") - self.redis.hlen("unacked")

    def commands(self, concurrency):
        celery = str(Path(sys.executable).parent / "celery")
        return [[celery, "-A", "celery_peer", "worker", "-c", str(concurrency), "--loglevel", "WARNING"]]


KINDS = {kind.name: kind for kind in [Concur, ConcurPrefetch, Apalis, ApalisTuned, Rq, Dramatiq, Celery]}


def crossing(samples, level):
    """The time at which the done count of `samples` [(t, done)] reached
    `level`, by linear interpolation between the two polls around it."""
    previous = samples[0]
    for t, done in samples[1:]:
        if done >= level:
            t0, d0 = previous
            if done == d0:
                return t
            return t0 + (t - t0) * (level - d0) / (done - d0)
        previous = (t, done)
    return None


def drain(system, concurrency, backlog, log, budget, start_limit=120):
    """Tasks per second from a tenth of `backlog` done to nine tenths, or,
    when `budget` seconds pass after that tenth first, from the tenth to
    what is done by then; else a string saying why there is no figure. A
    worker gets `start_limit` seconds to do the first tenth (a pool of 50
    processes takes a while to start). Returns (rate or reason, note)."""
    system.redis.flushall()
    system.enqueue(backlog)
    workers = Workers(system.commands(concurrency), system.env, log)
    note = ""
    tenth = 0.1 * backlog
    try:
        samples = [(time.monotonic(), 0)]
        deadline = time.monotonic() + start_limit
        timing = False
        while True:
            done = system.done()
            now = time.monotonic()
            samples.append((now, done))
            if done >= backlog:
                break
            if not workers.alive():
                return f"the worker exited with {done} of {backlog} done (log: {log})", note
            if not timing and done >= tenth:
                timing, deadline = True, now + budget
            if now > deadline:
                if not timing or done < tenth + 10:
                    return f"{done} of {backlog} done after {now - samples[0][0]:.0f} s (log: {log})", note
                note = f"{done} of {backlog} done when the {budget:g} s budget ran out"
                break
            time.sleep(0.0005)
    finally:
        workers.stop()
    top = min(0.9 * backlog, samples[-1][1])
    return (top - tenth) / (crossing(samples, top) - crossing(samples, tenth)), note


def latency(system, concurrency, samples, rng, log):
    """`samples` pickup latencies (ns) of an idle worker, or a string saying
    why there are none."""
    system.redis.flushall()
    workers = Workers(system.commands(concurrency), system.env, log)
    system.start_producer()
    try:
        # The first task waits for the worker to be up: a pool of 50
        # processes takes seconds.
        if system.sample(120) is None:
            return f"no task started within 120 s (log: {log})"
        figures = []
        for _ in range(samples):
            time.sleep(rng.uniform(0.005, 0.050))
            figure = system.sample(10)
            if figure is None:
                return f"a task did not start within 10 s (log: {log})"
            figures.append(figure)
        return figures
    finally:
        system.stop_producer()
        workers.stop()


def redis_benchmark(port, requests):
    """LPUSH requests per second, unpipelined (`redis-benchmark -t lpush -q`)."""
    if shutil.which("redis-benchmark") is None:
        return "redis-benchmark is not installed"
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "lpush", "-q", "-n", str(requests)],
                         capture_output=True, text=True).stdout
    match = re.search(r"LPUSH: ([\d.]+) requests per second", out.replace("\r", "\n"))
    return float(match.group(1)) if match else f"redis-benchmark printed no rate: {out.strip()[-200:]}"


def percentile(values, q):
    ordered = sorted(values)
    return ordered[round((len(ordered) - 1) * q)]


def versions(args):
    found = {}
    for package in ["rq", "dramatiq", "celery", "kombu", "redis"]:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    lock = HERE / "apalis" / "Cargo.lock"
    if lock.exists():
        for name, version in re.findall(r'name = "(apalis|apalis-redis)"\nversion = "([^"]+)"', lock.read_text()):
            found[name] = version
    try:
        found["concur"] = subprocess.run([args.concur, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return found


def markdown(results):
    """The results as Markdown: one table per concurrency."""
    lines = []
    rb = [r for r in results["redis_benchmark_lpush"] if isinstance(r, float)]
    for concurrency in results["concurrency"]:
        cells = [c for c in results["cells"] if c["concurrency"] == concurrency]
        ours = next((c for c in cells if c["system"] == "concur"), None)
        ours_rate = ours and ours.get("drain_median")
        ours_p50 = ours and ours.get("latency_p50_ms")
        lines += [f"Concurrency {concurrency}:", "",
                  "| system | backlog | drain (tasks/s) | runs min–max | concur ÷ it | pickup p50 | p99 | its p50 ÷ concur's |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for c in cells:
            rate = c.get("drain_median")
            if rate:
                shown = f"{rate:,.0f}"
                spread = f"{min(c['drain']):,.0f}–{max(c['drain']):,.0f}"
                if c.get("drain_notes"):
                    spread += " (budget ran out: " + "; ".join(c["drain_notes"]) + ")"
                versus = f"{ours_rate / rate:.2f}×" if ours_rate and c is not ours else "—"
            else:
                shown, spread, versus = "failed", "; ".join(c["drain_failures"])[:120], "—"
            if c.get("latency_p50_ms") is not None:
                p50, p99 = f"{c['latency_p50_ms']:.3f} ms", f"{c['latency_p99_ms']:.3f} ms"
                slower = f"{c['latency_p50_ms'] / ours_p50:.2f}×" if ours_p50 and c is not ours else "—"
            else:
                p50, p99, slower = "failed", (c.get("latency_failure") or "")[:120], "—"
            lines.append(f"| {c['system']} | {c['backlog']:,} | {shown} | {spread} | {versus} | {p50} | {p99} | {slower} |")
        lines.append("")
    if rb:
        lines.append(f"`redis-benchmark -t lpush -q` (unpipelined, 50 clients), same server: "
                     f"{statistics.median(rb):,.0f} requests/s (median of {len(rb)}).")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concur", required=True, help="the concur binary (release build)")
    parser.add_argument("--apalis", required=True, help="the apalis-peer binary")
    parser.add_argument("--apalis-poll-ms", type=int, default=10,
                        help="how often an idle apalis worker looks for tasks (ms; default 10)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="which, comma-separated")
    parser.add_argument("--concurrency", default="1,50", help="tasks at once, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--samples", type=int, default=100, help="latency samples per cell and round")
    parser.add_argument("--rust-backlog", type=int, default=APALIS_MAX_BACKLOG,
                        help="tasks per drain for concur and apalis")
    parser.add_argument("--python-backlog", type=int, default=1_000,
                        help="tasks per drain for the Python queues at concurrency 1 (5× at higher concurrency)")
    parser.add_argument("--budget", type=float, default=30,
                        help="seconds a drain is timed for at most, from a tenth done; a slower one is timed over "
                        "what it did by then")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--markdown", help="write the table here")
    parser.add_argument("--logs", default=None, help="folder for the workers' logs")
    args = parser.parse_args()
    args.concur, args.apalis = (str(Path(p).resolve()) for p in (args.concur, args.apalis))
    systems = args.systems.split(",")
    unknown = [s for s in systems if s not in KINDS]
    if unknown:
        parser.error(f"unknown system(s) {', '.join(unknown)}; known: {', '.join(SYSTEMS)}")
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    logs = Path(args.logs or tempfile.mkdtemp(prefix="concur-peers-logs-"))
    logs.mkdir(parents=True, exist_ok=True)

    server = RedisServer()
    rng = random.Random(19)
    results = {
        "schema": "concur-peers/1",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_before": os.getloadavg(),
        "redis_version": server.version,
        "versions": versions(args),
        "apalis_poll_ms": args.apalis_poll_ms,
        "rounds": args.rounds,
        "samples": args.samples,
        "concurrency": concurrencies,
        "redis_benchmark_lpush": [],
        "cells": [],
    }
    cells = {}
    for concurrency in concurrencies:
        for name in systems:
            system = KINDS[name](server, args)
            if name in ("concur", "concur-prefetch", "apalis", "apalis-tuned"):
                backlog = args.rust_backlog
            else:
                backlog = args.python_backlog * (1 if concurrency == 1 else 5)
            if system.max_backlog():
                backlog = min(backlog, system.max_backlog())
            cell = {"system": name, "concurrency": concurrency, "backlog": backlog, "drain": [],
                    "drain_failures": [], "latency_ns": [], "latency_failure": None}
            cells[name, concurrency] = (system, cell)
            results["cells"].append(cell)
    try:
        for round_ in range(args.rounds):
            rate = redis_benchmark(server.port, 100_000)
            results["redis_benchmark_lpush"].append(rate)
            print(f"round {round_ + 1}/{args.rounds}: redis-benchmark LPUSH {rate}", file=sys.stderr, flush=True)
            order = systems[round_ % len(systems):] + systems[:round_ % len(systems)]
            for concurrency in concurrencies:
                for name in order:
                    system, cell = cells[name, concurrency]
                    log = logs / f"{name}-c{concurrency}.log"
                    outcome, note = drain(system, concurrency, cell["backlog"], log, args.budget)
                    if isinstance(outcome, float):
                        cell["drain"].append(outcome)
                        shown = f"{outcome:,.0f} tasks/s" + (f" ({note})" if note else "")
                        if note:
                            cell.setdefault("drain_notes", []).append(note)
                    else:
                        cell["drain_failures"].append(outcome)
                        shown = f"failed: {outcome}"
                    print(f"  drain    {name:<12} c={concurrency:<3} {cell['backlog']:>6} tasks: {shown}",
                          file=sys.stderr, flush=True)
            for concurrency in concurrencies:
                for name in order:
                    system, cell = cells[name, concurrency]
                    if cell["latency_failure"]:
                        continue
                    log = logs / f"{name}-c{concurrency}-latency.log"
                    outcome = latency(system, concurrency, args.samples, rng, log)
                    if isinstance(outcome, list):
                        cell["latency_ns"] += outcome
                        shown = f"p50 {percentile(outcome, 0.5) / 1e6:.3f} ms, p99 {percentile(outcome, 0.99) / 1e6:.3f} ms"
                    else:
                        cell["latency_failure"] = outcome
                        shown = f"failed: {outcome}"
                    print(f"  latency  {name:<12} c={concurrency:<3}: {shown}", file=sys.stderr, flush=True)
    finally:
        server.stop()
    for cell in results["cells"]:
        if cell["drain"]:
            cell["drain_median"] = statistics.median(cell["drain"])
        if cell["latency_ns"]:
            cell["latency_p50_ms"] = percentile(cell["latency_ns"], 0.5) / 1e6
            cell["latency_p99_ms"] = percentile(cell["latency_ns"], 0.99) / 1e6
    results["load_after"] = os.getloadavg()
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    table = markdown(results)
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(table)


if __name__ == "__main__":
    main()
