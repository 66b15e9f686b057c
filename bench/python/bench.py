#!/usr/bin/env python3
"""Python's side of `concur bench --python`: four kinds of work run under
four ways of running N tasks, timed, so the same grid can be set beside
concur's.

The experiment asks one question: when does running tasks "at the same
time" make them finish sooner? The answer depends on what the tasks spend
their time on, so there are four workloads, each scaled by --scale F:

  cpu    pure computation: max(1, round(500_000 * F)) rounds of
         `x += x; y += y` on integers starting at 1 (they grow into big
         integers, so each round costs more than the last)
  disk   max(1, round(5_000_000 * F)) lines of "python-learning\\n" written
         through a buffered writer to the task's own file in --dir, then
         flushed and fsync'd so the bytes really reach the disk
  net    one HTTP/1.1 GET of --url, reading the whole body; the server
         waits before answering, so the task mostly waits on the network
  sleep  sleep 2 s * F: waiting and nothing else

and four models, each running N tasks (-n) of one workload:

  serial     one task after another, on the main thread
  threads    one threading.Thread per task, all started, then all joined
  processes  one multiprocessing.Process per task, each with its own
             interpreter, all started, then all joined
  async      one coroutine per task, gathered on a single asyncio loop

What to expect on CPython (the GIL lets one thread run Python code at a
time):

  - sleep and net: threads and async overlap the waiting, so N tasks take
    about as long as one; serial takes N times as long; processes overlap
    too but pay for starting an interpreter per task.
  - cpu: threads are no faster than serial, because only the thread holding
    the GIL computes; processes are faster, up to the number of cores, since
    each has its own interpreter and its own GIL; async is serial, because a
    coroutine that never awaits never gives the loop back.
  - disk: somewhere between: the loop of millions of small buffered writes
    holds the GIL, while the system calls that move each full buffer to the
    kernel, and the fsync that waits for the disk, release it.

One run of a cell is timed from before its first task starts to after its
last one ends, start-up of threads, processes or the loop included: one wall
time for the N tasks together. --repeat K runs each cell K times; --repeat
auto (the default) runs it 3 times, or twice when its first run took over
10 s, as `concur bench` does. The runs of a workload's cells take turns
(serial, threads, processes, async, then the second run of each), so that
whatever drifts during the run falls on every model alike.

Run (the URL must answer 200; any small HTTP server will do):

    python3 bench/python/bench.py --workloads cpu,sleep --models serial,threads \\
        -n 4 --scale 0.1 --url http://127.0.0.1:8000/ --dir "$(mktemp -d)"

Prints one JSON document on stdout (schema "concur-bench-python/2", which
`concur bench --python` reads) and a line per run on stderr as it ends
(`cpu   serial    run 1/3:   47.700 s`, which `concur bench` reads as it
comes). Exits 2 on bad arguments, 1 if a task fails.
"""

import argparse
import asyncio
import http.client
import json
import math
import multiprocessing
import os
import platform
import signal
import statistics
import sys
import threading
import time
import urllib.parse

SCHEMA = "concur-bench-python/2"
WORKLOADS = ("cpu", "disk", "net", "sleep")
MODELS = ("serial", "threads", "processes", "async")

CPU_ROUNDS = 500_000
DISK_LINES = 5_000_000
DISK_LINE = b"python-learning\n"
SLEEP_S = 2.0

# --repeat auto: runs of a cell, and of a cell whose first run took longer
# than LONG_RUN_S.
AUTO_RUNS = 3
AUTO_RUNS_LONG = 2
LONG_RUN_S = 10.0

# A GET that takes longer than this has hung; the server's own delay is only
# 100 ms x scale, so the bound never cuts a healthy request short.
NET_TIMEOUT_S = 60.0


class TaskFailed(Exception):
    """A task did not do its work, or a cell could not run or clean up after
    all of its tasks."""


def describe(error):
    """The exception's type and message, e.g. "IsADirectoryError: [Errno 21]
    Is a directory: 'x'"; some exceptions (TimeoutError()) have no message."""
    if isinstance(error, TaskFailed):
        return str(error)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


# ---------------------------------------------------------------------------
# Workloads: what one task does. They are top-level functions taking only
# plain values so that multiprocessing can pickle a reference to them; under
# the 'spawn' start method the child imports this file and finds them by name.
# ---------------------------------------------------------------------------


def scaled(base, scale):
    """The count a workload does at `scale`: never zero, so a tiny scale still
    does some work."""
    return max(1, round(base * scale))


def cpu_task(scale):
    rounds = scaled(CPU_ROUNDS, scale)
    x = y = 1
    for _ in range(rounds):
        x += x
        y += y
    # A cheap proof that the loop ran to the end: 1 doubled `rounds` times
    # is 2**rounds.
    if x.bit_length() != rounds + 1 or x != y:
        raise TaskFailed(f"cpu task ended with a {x.bit_length()}-bit x after {rounds} rounds")


def disk_path(directory, model, index):
    return os.path.join(directory, f"task-{model}-{index}.txt")


def disk_task(scale, path):
    lines = scaled(DISK_LINES, scale)
    # Binary mode gives an io.BufferedWriter, the same layer as Rust's
    # BufWriter<File>: write() fills a buffer and only a full buffer becomes a
    # system call. Text mode would add an encoding layer on top.
    try:
        with open(path, "wb") as f:
            write = f.write
            for _ in range(lines):
                write(DISK_LINE)
            f.flush()
            # flush() only hands the bytes to the kernel; fsync waits until
            # the kernel has put them on the disk, which is the slow part a
            # disk-bound task waits on.
            os.fsync(f.fileno())
            size = os.fstat(f.fileno()).st_size
    except BaseException:
        # The cell removes the files after it is timed; this covers a task
        # that dies first, in a child process the cell never hears from. The
        # error that stopped the write is the one worth raising.
        remove_files([path])
        raise
    if size != lines * len(DISK_LINE):
        raise TaskFailed(f"{path} holds {size} bytes after writing {lines} lines")


def remove_files(paths):
    """Removes each file in `paths` that exists (None entries are skipped) and
    returns the errors met, so that one file that cannot be removed does not
    stop the others being removed."""
    problems = []
    for path in paths:
        if path is None:
            continue
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        except OSError as error:
            problems.append(error)
    return problems


class Target:
    """The parts of an http:// URL a GET needs."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"--url must be an http:// URL with a host, got {url!r}")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"--url has a port that is not a number from 0 to 65535: {url!r}") from None
        self.host = parts.hostname
        self.port = port or 80
        self.host_header = parts.netloc.rpartition("@")[2]
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def net_task(url):
    # http.client speaks HTTP/1.1 and sends the Host header itself; with
    # Connection: close it is the same request the async form writes by hand,
    # one connection per GET, so both models pay for connecting.
    target = Target(url)
    conn = http.client.HTTPConnection(target.host, target.port, timeout=NET_TIMEOUT_S)
    try:
        conn.request("GET", target.path, headers={"Connection": "close"})
        response = conn.getresponse()
        # read() raises IncompleteRead if the body is shorter than promised.
        response.read()
    except (OSError, http.client.HTTPException) as error:
        raise TaskFailed(f"GET {url} failed: {describe(error)}") from error
    finally:
        conn.close()
    if response.status != 200:
        raise TaskFailed(f"GET {url} answered {response.status} {response.reason}, not 200")


def sleep_task(scale):
    time.sleep(SLEEP_S * scale)


def run_task(workload, scale, url, path):
    """Runs one task of `workload` to the end, on the calling thread."""
    if workload == "cpu":
        cpu_task(scale)
    elif workload == "disk":
        disk_task(scale, path)
    elif workload == "net":
        net_task(url)
    else:
        sleep_task(scale)


# The async forms. Only sleep and net have real ones: they await, and while
# one task awaits the loop runs the others. cpu and disk run inline exactly as
# written above, with no await inside, so each holds the loop until it ends
# and the N tasks run one after another: the point of including them.


async def net_task_async(url):
    target = Target(url)
    reader, writer = await asyncio.open_connection(target.host, target.port)
    try:
        request = f"GET {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\nConnection: close\r\n\r\n"
        writer.write(request.encode("ascii"))
        await writer.drain()
        # With Connection: close the server ends the response by closing, so
        # reading to end-of-stream reads the whole body whatever its framing.
        response = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, separator, body = response.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if not separator or len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise TaskFailed(f"GET {url} did not answer with an HTTP response (got {status_line!r})")
    if parts[1] != "200":
        raise TaskFailed(f"GET {url} answered {status_line!r}, not 200")
    length = content_length(head)
    if length is not None and len(body) != length:
        raise TaskFailed(f"GET {url} sent {len(body)} body bytes of the {length} it announced")


def content_length(head):
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return int(value.strip())
            except ValueError:
                raise TaskFailed(f"the response's Content-Length {value.strip()!r} is not a number") from None
    return None


async def run_task_async(workload, scale, url, path):
    if workload == "net":
        try:
            await asyncio.wait_for(net_task_async(url), NET_TIMEOUT_S)
        # TimeoutError is an OSError, so it must be caught first.
        except TimeoutError:
            raise TaskFailed(f"GET {url} got no full answer within {NET_TIMEOUT_S:g} s") from None
        except OSError as error:
            raise TaskFailed(f"GET {url} failed: {describe(error)}") from error
    elif workload == "sleep":
        await asyncio.sleep(SLEEP_S * scale)
    else:
        run_task(workload, scale, url, path)


# ---------------------------------------------------------------------------
# Models: how N tasks are run. Each returns the wall time in seconds, from
# before the first task starts to after the last one ends.
# ---------------------------------------------------------------------------


def run_serial(workload, n, scale, url, paths):
    # The baseline every other model is measured against: no overlap at all.
    start = time.perf_counter()
    for i in range(n):
        run_task(workload, scale, url, paths[i])
    return time.perf_counter() - start


def run_threads(workload, n, scale, url, paths):
    # A thread's exception only reaches threading.excepthook, which prints it
    # and moves on; each thread keeps its own here so join can report it.
    errors = [None] * n

    def task(i):
        try:
            run_task(workload, scale, url, paths[i])
        except BaseException as error:
            errors[i] = error

    start = time.perf_counter()
    threads = [threading.Thread(target=task, args=(i,), name=f"{workload}-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    failed = [(i, e) for i, e in enumerate(errors) if e is not None]
    if failed:
        i, error = failed[0]
        raise TaskFailed(f"{len(failed)} of {n} threads failed; task {i}: {describe(error)}") from error
    return elapsed


def run_in_child(workload, scale, url, path, index):
    """The target of each child process. A child cannot hand an exception to
    its parent, so it says what went wrong on stderr and exits with code 1,
    which the parent checks."""
    try:
        run_task(workload, scale, url, path)
    except Exception as error:
        sys.exit(f"task {index} ({workload}) failed in process {os.getpid()}: {describe(error)}")


def run_processes(workload, n, scale, url, paths):
    # Each process runs its own interpreter with its own GIL, which is why
    # this is the model where cpu work scales with cores in Python, and why
    # each task pays for starting one (a fork, or a fresh interpreter that
    # imports this file under 'spawn').
    start = time.perf_counter()
    processes = [
        multiprocessing.Process(target=run_in_child, args=(workload, scale, url, paths[i], i), name=f"{workload}-{i}")
        for i in range(n)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    elapsed = time.perf_counter() - start
    failed = [(i, p.exitcode) for i, p in enumerate(processes) if p.exitcode != 0]
    if failed:
        ends = ", ".join(f"task {i} {how_process_ended(code)}" for i, code in failed)
        raise TaskFailed(f"{len(failed)} of {n} processes failed ({ends}); a task that raised said why above")
    return elapsed


def how_process_ended(exitcode):
    # multiprocessing reports a child killed by a signal as minus the signal's
    # number.
    if exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


def run_async(workload, n, scale, url, paths):
    async def gather_all():
        await asyncio.gather(*(run_task_async(workload, scale, url, paths[i]) for i in range(n)))

    # The loop's own start and close are inside the time, as thread and
    # process start-up are for the other models.
    start = time.perf_counter()
    asyncio.run(gather_all())
    return time.perf_counter() - start


RUNNERS = {
    "serial": run_serial,
    "threads": run_threads,
    "processes": run_processes,
    "async": run_async,
}


def runs_wanted(repeat, first_run_s):
    """How many runs a cell gets: `repeat`, or under "auto" 3, or 2 when its
    first run took over LONG_RUN_S."""
    if repeat != "auto":
        return repeat
    if first_run_s is not None and first_run_s > LONG_RUN_S:
        return AUTO_RUNS_LONG
    return AUTO_RUNS


def time_run(workload, model, args):
    """Times one run of a (workload, model) cell; removes its files after."""
    paths = [disk_path(args.dir, model, i) if workload == "disk" else None for i in range(args.n)]
    # Removing the files is not part of the work being timed, and it runs
    # on failure too, so --dir is left as it was found.
    try:
        elapsed = RUNNERS[model](workload, args.n, args.scale, args.url, paths)
    except BaseException:
        # The task's failure is the error to report; a file that cannot be
        # removed as well is only worth a line.
        for problem in remove_files(paths):
            print(f"bench.py: could not remove a task's file: {problem}", file=sys.stderr)
        raise
    problems = remove_files(paths)
    if problems:
        raise TaskFailed(f"could not remove a task's file: {problems[0]}")
    return elapsed


def time_workload(workload, args):
    """Times every model's cell of `workload`, their runs taking turns;
    returns {model: [times]}."""
    times = {model: [] for model in args.models}
    while True:
        ran = False
        for model in args.models:
            done = times[model]
            wanted = runs_wanted(args.repeat, done[0] if done else None)
            if len(done) >= wanted:
                continue
            ran = True
            try:
                done.append(time_run(workload, model, args))
            except Exception as error:
                raise TaskFailed(f"under {model}: {describe(error)}") from error
            # The count is known once the first run is: say it as it stands.
            wanted = runs_wanted(args.repeat, done[0])
            print(f"{workload:5} {model:9} run {len(done)}/{wanted}: {done[-1]:8.3f} s", file=sys.stderr, flush=True)
        if not ran:
            return times


# ---------------------------------------------------------------------------
# Arguments and output.
# ---------------------------------------------------------------------------


def choices(text, valid, what):
    """Splits a comma-separated list and checks each name against `valid`."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError(f"no {what}s given; choose from {', '.join(valid)}")
    for name in names:
        if name not in valid:
            raise ValueError(f"unknown {what} {name!r}; choose from {', '.join(valid)}")
    if len(set(names)) != len(names):
        raise ValueError(f"a {what} is named twice in {text!r}; name each once")
    return names


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Times cpu, disk, net and sleep tasks run serially, on threads, on processes and on asyncio.",
    )
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=f"comma-separated, from {','.join(WORKLOADS)}")
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, from {','.join(MODELS)}")
    parser.add_argument("-n", type=int, default=10, help="tasks per cell (default 10)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every workload's size (default 1.0)")
    parser.add_argument(
        "--repeat",
        default="auto",
        help="runs of each cell, or auto: 3, or 2 for a cell whose first run takes over 10 s (default auto)",
    )
    parser.add_argument("--url", help="page to GET for the net workload; must answer 200")
    parser.add_argument("--dir", help="existing directory for the disk workload's files")
    args = parser.parse_args(argv)

    try:
        args.workloads = choices(args.workloads, WORKLOADS, "workload")
        args.models = choices(args.models, MODELS, "model")
    except ValueError as error:
        parser.error(str(error))
    if args.n < 1:
        parser.error(f"-n must be at least 1, got {args.n}")
    if not (args.scale > 0 and math.isfinite(args.scale)):
        parser.error(f"--scale must be a finite number above 0, got {args.scale}")
    if args.repeat != "auto":
        try:
            args.repeat = int(args.repeat)
        except ValueError:
            parser.error(f"--repeat must be a whole number or auto, got {args.repeat!r}")
        if args.repeat < 1:
            parser.error(f"--repeat must be at least 1, got {args.repeat}")
    if "net" in args.workloads:
        if args.url is None:
            parser.error("the net workload needs --url (the page to GET), or leave net out of --workloads")
        try:
            Target(args.url)
        except ValueError as error:
            parser.error(str(error))
    if args.dir is not None and not os.path.isdir(args.dir):
        parser.error(f"--dir {args.dir!r} is not an existing directory; create it first")
    if "disk" in args.workloads and args.dir is None:
        parser.error("the disk workload needs --dir (an existing directory), or leave disk out of --workloads")
    return args


def usable_cores():
    # The cores this process may run on, which a container or taskset can
    # make fewer than the machine has.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def main(argv=None):
    args = parse_args(argv)
    cells = []
    for workload in args.workloads:
        try:
            times = time_workload(workload, args)
        except Exception as error:
            print(f"bench.py: the {workload} workload failed: {error}", file=sys.stderr)
            return 1
        for model in args.models:
            cells.append(
                {
                    "workload": workload,
                    "model": model,
                    "times_s": times[model],
                    "median_s": statistics.median(times[model]),
                }
            )
    document = {
        "schema": SCHEMA,
        "python": platform.python_version(),
        "cores": usable_cores(),
        "n": args.n,
        "scale": args.scale,
        "repeat": args.repeat,
        "cells": cells,
    }
    # Nothing reaches stdout before this line, and that matters: a forked
    # child flushes its copy of any unwritten stdout buffer when it exits,
    # which would print it once per process.
    print(json.dumps(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
