"""The runner that lives inside each sandbox container (stdlib only).

It is the container's PID 1 and speaks newline-delimited JSON on its stdin and stdout, which the host reaches
through one attached socket, so a job costs no ``docker exec``. For each execution it has the zygote fork a fresh
child (``zygote.py``: a warm interpreter forked before any job, so the child holds nothing of any other job), sends
it the program and the units (tests, stdin cases, call inputs or one harness) in a memfd of its own, and watches it
from outside: wall time, output bytes, the way it died. The child reports each unit as it starts and ends over a
private pipe; a unit counts as passed only when such a report says so, never because of an exit code (a stdio
program that exits with status 0 has ended normally, and the host judges what it printed). After every
child a cleaner kills everything the code left and empties the writable directories, and the runner tells the host
whether the container was proven clean.

The runner and the zygote run as root with only the capabilities to change uid and to signal; every child drops to
the container's own unprivileged uid (``SANDBOX_CHILD_UID``, distinct per container), so the code under test can't
signal, trace or read them, nor open their descriptors (``/proc/1/fd``), under runc or gVisor alike. Being PID 1
also matters: orphans are re-parented here to be reaped.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import json
import os
import secrets
import select
import signal
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Beside this file in the image (on the host they are sandbox.runner.codec and sandbox.runner.confine).
import child  # type: ignore[import-not-found]
import clean as clean_mod  # type: ignore[import-not-found]
import codec  # type: ignore[import-not-found]
import confine  # type: ignore[import-not-found]
from zygote import Zygote, ZygoteError  # type: ignore[import-not-found]

# Warm the modules that generated programs import most, so each forked child finds them loaded.
for _name in ["bisect", "collections", "copy", "dataclasses", "datetime", "decimal", "fractions", "functools",
              "hashlib", "heapq", "itertools", "math", "operator", "random", "re", "statistics", "string", "typing",
              "unittest"]:
    with contextlib.suppress(ImportError):
        __import__(_name)

GRACE = 0.5  # seconds the watchdog allows past a unit's limit before it kills, so the in-child timer wins
# What one job may send back in all (reports, captured output, returned values), as a share of the container's
# memory: the runner holds it all, parsed and then serialised, beside a child that may still be alive.
REPLY_SHARE = 16
MIN_REPLY_BYTES = 1 << 20
MAX_REPORT_LINE = 1 << 24  # a report line longer than this is not one of the child's own (those are bounded)
PIPE_BYTES = 1 << 20  # the report pipe's buffer: a large returned value crosses in fewer wake-ups
CLEAN_TIMEOUT = 10.0  # seconds the cleaner may take before the container is declared unclean
CLEAN_ATTEMPTS = 3
KILL_FOR = 2.0  # seconds to keep killing what a child left before giving up on the container
DEFAULT_CHILD_UID = 10001


# The C scanner itself: json.loads costs more in its wrappers than in parsing.
_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
# The child's JSON writer: it gives back the very text the child sent for a value it parsed.
_JSON_TEXT = codec.json_writer(json.JSONEncoder().default)


def parse_report(data: bytes | bytearray) -> Any:
    """One JSON value that is the whole of ``data`` (UTF-8, no surrounding space, as the child writes them), parsed by
    the C scanner without json.loads's wrappers: a big evaluation parses two of these a call, a hundred thousand
    calls a pass. Raises ValueError (or RecursionError) for anything else."""
    text = data.decode("utf-8")
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        raise ValueError("no JSON value") from None
    if end != len(text):
        raise ValueError("more than one JSON value")
    return value


class RunnerFailure(Exception):
    """The sandbox itself failed (not the code under test): the host retries on a fresh container."""


def child_uid() -> int:
    """The uid the code under test runs as: the container's own (set by the host), never the runner's."""
    value = os.environ.get("SANDBOX_CHILD_UID", "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_CHILD_UID


# ---------------------------------------------------------------- runner side


class ByteBudget:
    """Bytes the children of one job may still send the runner, over all their units and pipes."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.left = total


class Watch:
    """Watches one child from the runner side: its report pipe, its stdout/stderr, its deadlines."""

    def __init__(self, req: dict[str, Any], indices: list[int], job_deadline: float, budget: ByteBudget, *,
                 batch: bool = False) -> None:
        self.budget = budget
        self.batch = batch  # the child may report returned calls together, in "ends" lines
        self.token = secrets.token_hex(16)
        self.req = req
        self.limits = req["limits"]
        self.indices = indices
        self.position = {index: k for k, index in enumerate(indices)}
        self.job_deadline = job_deadline
        self.results: dict[int, dict[str, Any]] = {}
        self.current: int | None = None
        self.unit_started = time.monotonic()
        self.loaded = False
        self.ready = False  # the child reported that its set-up is done and the user's code is next
        self.load_error: dict[str, Any] | None = None
        self.killed_for: str | None = None
        self.out = bytearray()
        self.err = bytearray()
        self.report_buf = bytearray()
        self.pid = 0
        self.pending_value: dict[str, Any] | None = None  # an "end" whose value is the next line
        digest_over = req.get("digest_over")
        self.digest_over = digest_over if type(digest_over) is int and digest_over >= 0 else None

    def spawn(self, zygote: Zygote, stdin: bytes) -> int:
        """Have the zygote fork the child; it reads this job from a memfd of its own (a fresh one per child, so a
        child can't rewrite what the next child of the same job reads)."""
        job = memfd("job", json.dumps({"req": self.req, "indices": self.indices, "token": self.token,
                                      "batch": self.batch}).encode())
        stdin_fd = memfd("stdin", stdin)
        pipes = {name: os.pipe() for name in ("report", "out", "err")}
        with contextlib.suppress(OSError):  # not everywhere (gVisor may refuse): then the default size
            fcntl.fcntl(pipes["report"][1], fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        try:
            pid: int = zygote.spawn([job, stdin_fd, pipes["report"][1], pipes["out"][1], pipes["err"][1]])
        except BaseException:
            for read_end, _ in pipes.values():
                os.close(read_end)
            raise
        finally:
            for fd in (job, stdin_fd, *(write_end for _, write_end in pipes.values())):
                os.close(fd)
        self.fds = {read_end: name for name, (read_end, _) in pipes.items()}
        self.pid = pid
        return pid

    def deadline(self) -> float:
        unit = self.unit_started + float(self.limits["test_timeout"]) + GRACE
        return min(unit, self.job_deadline)

    def kill(self, reason: str) -> None:
        """Kill the child and its process group (descendants that left the group are the cleaner's)."""
        if self.killed_for is None:
            self.killed_for = reason
        for target in (-self.pid, self.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(target, signal.SIGKILL)

    def take_reports(self, *, newline: bool) -> None:
        """Handle what is complete in the report buffer: event lines, and after an "end" that announced a value of
        ``v`` bytes, exactly that many bytes and a newline (a packed value may hold newlines of its own).
        ``newline``: whether the bytes just added hold one; without it and without a value pending, nothing new
        can be complete, and the buffer is not searched again (a long line arriving in pieces stays linear)."""
        buf = self.report_buf
        if self.pending_value is None and not newline:
            return
        start = 0
        while True:
            pending = self.pending_value
            if pending is not None:
                size = pending.get("v")
                end = start + size if type(size) is int and size >= 0 else buf.find(b"\n", start)
                if end < 0 or len(buf) <= end:
                    break
                self.on_value(buf[start:end] if buf[end] == 0x0A else None)
                start = end + 1
                continue
            end = buf.find(b"\n", start)
            if end < 0:
                break
            self.on_report(buf[start:end])
            start = end + 1
        del buf[:start]

    def on_report(self, line: bytes | bytearray) -> None:
        if len(line) > MAX_REPORT_LINE:
            return
        try:
            event = parse_report(line)
        except (ValueError, RecursionError):
            # Not ours: something in the child wrote to the report pipe (a line of "[" nests past the parser's
            # depth). Only well-formed events with the child's token count.
            return
        if not isinstance(event, dict) or event.pop("k", None) != self.token:
            return
        kind = event.pop("e", None)
        # The child's own clock can be fooled (the code may catch its timeout and carry on), so the runner
        # also times each phase itself.
        overran = time.monotonic() - self.unit_started > float(self.limits["test_timeout"])
        if kind == "load" and overran:
            self.load_error = {"status": "timeout", "message": "time limit exceeded while loading"}
        elif kind == "load":
            self.loaded = True
            self.next_unit(None)
        elif kind == "ready":
            self.ready = True
        elif kind == "load_error":
            self.load_error = event
        elif kind == "start" and event.get("i") in self.indices:
            self.current = event["i"]
            self.unit_started = time.monotonic()
        elif kind == "ends" and self.batch:
            self.on_ends(event.get("r"), overran)
        elif kind == "end" and event.get("i") == self.current and self.current is not None:
            for field in ("digest", "bytes"):  # the runner's own fields: whatever the child says there is dropped
                event.pop(field, None)
            if overran and event.get("status") == "ok":
                event.update(status="timeout", message="time limit exceeded (the code caught the timeout)")
            if "v" in event:
                self.pending_value = event  # the unit ends when its value has come
            else:
                self.settle(event)

    def on_ends(self, entries: Any, overran: bool) -> None:
        """Calls that returned, reported together: ``[index, duration, value]`` each, in the order they ran. The
        first is timed from the report before it, as any unit; the child held none of them back longer than
        ``child.HOLD_FOR``."""
        if type(entries) is not list:
            return
        for entry in entries:
            if not (type(entry) is list and len(entry) == 3 and entry[0] == self.current and self.current is not None):
                return  # not in order: what follows can't be placed
            event = {"i": entry[0], "status": "ok", "duration": entry[1], "value": entry[2]}
            try:
                event["bytes"] = len(_JSON_TEXT(entry[2]))  # what it took the child to send
            except (RecursionError, ValueError, TypeError):
                event = {"i": entry[0], "status": "error", "message": "the report of the returned value was broken"}
            if overran and event["status"] == "ok":
                event.update(status="timeout", message="time limit exceeded (the code caught the timeout)")
            self.settle(event)
            overran = False  # the next one started as this one's report came

    def settle(self, event: dict[str, Any]) -> None:
        """A unit's result is in; the next unit starts now (the child runs them in order, with no event between)."""
        index = event.pop("i")
        self.results[index] = event
        self.next_unit(index)

    def next_unit(self, finished: int | None) -> None:
        position = 0 if finished is None else self.position[finished] + 1
        self.current = self.indices[position] if position < len(self.indices) else None
        self.unit_started = time.monotonic()

    def on_value(self, line: bytes | bytearray | None) -> None:
        """The ``v`` bytes after an "end" that announced them (None: no newline after them): the value's JSON, or
        its packed form (``codec.packed``). Over ``digest_over`` bytes only their sha256 goes back (``digest``),
        taken here from the bytes the child sent: the host compares it with the digest of the expected value's
        bytes, so equal digests mean the very bytes of the expected value. The child never computes a digest.
        Packed bytes are only ever digested: the runner never decodes them."""
        event, self.pending_value = self.pending_value or {}, None
        size = event.pop("v", None)
        packed = line is not None and line.startswith(codec.PACKED)
        if line is None or type(size) is not int or len(line) != size or (
                packed and (self.digest_over is None or size <= self.digest_over)):
            event.update(status="error", message="the report of the returned value was broken")
            event.pop("value", None)
        elif codec.digested(line, self.digest_over):
            # (The child packs only numbers it checked are finite; a false claim can only fail its own output.)
            event["digest"] = hashlib.sha256(line).hexdigest()
            event["bytes"] = size
            self.budget.left += size  # nothing of it is kept for the reply
        elif size > MAX_REPORT_LINE:
            event.update(status="output_limit", message=f"the returned value took more than {MAX_REPORT_LINE} bytes")
        else:
            try:
                event["value"] = parse_report(line)
                event["bytes"] = size
            except (ValueError, RecursionError):
                event.update(status="error", message="the report of the returned value was broken")
        self.settle(event)

    def drain(self, fd: int) -> bool:
        """Read what is ready on ``fd``; return False at end of file."""
        try:
            data = os.read(fd, PIPE_BYTES)
        except OSError:
            return False
        if not data:
            return False
        self.budget.left -= len(data)
        if self.budget.left < 0:  # many units that each stayed under their own limits still add up
            self.killed_for = self.killed_for or "output_limit"
            return False
        name = self.fds[fd]
        if name == "report":
            self.report_buf += data
            self.take_reports(newline=b"\n" in data)
        else:
            buf = self.out if name == "out" else self.err
            room = int(self.limits["output_bytes"]) - len(self.out) - len(self.err)
            buf += data[: max(room, 0)]  # keep no more than the limit, though the kill comes a moment later
            if len(data) > room:
                self.killed_for = self.killed_for or "output_limit"
        return True

    def watch(self, zygote: Zygote) -> tuple[int, float]:
        """Follow the child until it exits; return its wait status and the time spent. The zygote, its parent,
        sends that status once it has reaped the child, so one select() on the pipes and the zygote's socket
        covers everything."""
        started = self.unit_started = time.monotonic()
        open_fds = set(self.fds)
        exited = zygote.sock.fileno()
        try:
            while True:
                now = time.monotonic()
                if self.killed_for is not None or now >= self.deadline():
                    self.kill(self.killed_for or "timeout")
                wait = max(0.0, min(self.deadline() - now, 1.0))
                ready, _, _ = select.select([*open_fds, exited], [], [], wait)
                for fd in ready:
                    if fd != exited and not self.drain(fd):
                        open_fds.discard(fd)
                        os.close(fd)
                if exited in ready:
                    break
            status = zygote.reaped()
            # The child is gone; what it wrote before dying is still in the pipes (unless a descendant holds them).
            # Bounded: a descendant that still holds a pipe could otherwise keep this loop fed forever.
            for fd in list(open_fds):
                for _ in range(64):
                    if not select.select([fd], [], [], 0)[0] or not self.drain(fd):
                        break
        finally:
            for fd in open_fds:
                os.close(fd)
        return status, time.monotonic() - started

    def death(self, status: int, oom_before: int | None) -> dict[str, Any]:
        """Explain why the child ended while a unit (or the load) was still running."""
        if self.killed_for == "timeout":
            return {"status": "timeout", "message": "wall time limit exceeded; the process was killed"}
        if self.killed_for == "output_limit":
            return {"status": "output_limit", "message": "too much output; the process was killed"}
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig == signal.SIGKILL and (child.oom_kills() or 0) > (oom_before or 0):
                return {"status": "memory", "message": "killed by the out-of-memory killer"}
            if sig == signal.SIGXCPU:
                return {"status": "timeout", "message": "CPU time limit exceeded"}
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            return {"status": "error", "message": f"the process was killed by signal {name}"}
        code = os.WEXITSTATUS(status)
        return {"status": "error", "message": f"the process exited with code {code} before reporting a result"}


def run_child(zygote: Zygote, req: dict[str, Any], indices: list[int], job_deadline: float, stdin: bytes, *,
              budget: ByteBudget, results: dict[int, dict[str, Any]], extra: dict[str, Any],
              batch: bool = False) -> int:
    """Run ``indices`` in one child; fill ``results``; return how many units it settled (at least one, except
    with ``batch``: 0 when the child died with its first unsettled unit unexplained, see below)."""
    watch = Watch(req, indices, job_deadline, budget, batch=batch)
    oom_before = child.oom_kills()
    watch.spawn(zygote, stdin)
    status, elapsed = watch.watch(zygote)
    if not watch.ready and watch.killed_for is None:
        # It died before any of the user's code ran (it says "ready" first): the sandbox failed, not the code.
        # Told by the report, never by an exit status, which the code can choose.
        raise RunnerFailure(f"a child died while being set up ({exit_text(status)}; see the container's log)")
    extra["killed"] = extra.get("killed", False) or watch.killed_for is not None
    output = {"stdout": watch.out.decode("utf-8", "replace"), "stderr": watch.err.decode("utf-8", "replace")}
    if req["kind"] == "stdio":
        index = indices[0]
        if watch.load_error is not None:
            results[index] = {**watch.load_error, **output, "duration": elapsed}
        elif watch.loaded:
            results[index] = {"status": "ok", **output, "duration": elapsed}
        elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            # Exit status 0 is a normal end for a stdio program (``os._exit(0)`` after its output, too): what it
            # printed is judged on the host. A child whose own run broke off exits 1, never 0.
            ended = elapsed <= float(req["limits"]["test_timeout"])
            results[index] = {"status": "ok", **output, "duration": elapsed} if ended else {
                "status": "timeout", "message": "time limit exceeded", **output, "duration": elapsed}
        else:
            results[index] = {**watch.death(status, oom_before), **output, "duration": elapsed}
        if watch.killed_for:
            results[index].update(watch.death(status, oom_before))
        return 1
    extra.setdefault("stdout", "")
    extra["stdout"] += output["stdout"]
    extra.setdefault("stderr", "")
    extra["stderr"] += output["stderr"]
    results.update(watch.results)
    if watch.load_error is not None:
        for index in indices:
            results.setdefault(index, {**watch.load_error, "duration": 0.0, "during": "load"})
        return len(indices)
    if not watch.loaded:
        reason = watch.death(status, oom_before)
        for index in indices:
            results.setdefault(index, {**reason, "duration": elapsed, "during": "load"})
        return len(indices)
    settled = 0
    for index in indices:
        if index in results:
            settled += 1
            continue
        if index == watch.current or watch.current is None:
            if batch:
                # The child may have held this unit's report back when it died (a hard death leaves no time to
                # send it): the death may belong to a later unit. The caller runs the rest in a child that
                # reports unit by unit, where it is told right.
                return settled
            results[index] = {**watch.death(status, oom_before), "duration": time.monotonic() - watch.unit_started}
            settled += 1
        break
    return max(settled, 1)


def exit_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


def run_job(zygote: Zygote, janitor: Janitor, req: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
    kind = req["kind"]
    counts = {"tests": len(req.get("tests") or []), "stdio": len(req.get("cases") or []),
              "calls": len(req.get("inputs") or []), "harness": 1}
    if kind not in counts:
        return {"error": f"unknown kind {kind!r}"}
    total = counts[kind]
    job_deadline = started + float(req["limits"]["job_timeout"])
    results: dict[int, dict[str, Any]] = {}
    extra: dict[str, Any] = {}
    pending = list(range(total))
    files_made = 0
    clean, why = True, ""
    budget = ByteBudget(max(int(req["limits"]["memory_bytes"]) // REPLY_SHARE, MIN_REPLY_BYTES))
    batch = kind == "calls"  # until a child dies hard: then unit by unit, so the death goes to the right unit
    while pending:
        if time.monotonic() >= job_deadline:
            for index in pending:
                results[index] = {"status": "timeout", "message": "the job's wall time ran out before this test",
                                  "duration": 0.0}
            break
        if budget.left < 0:
            for index in pending:
                results[index] = {"status": "output_limit", "duration": 0.0,
                                  "message": f"the run sent back more than {budget.total} bytes before this test"}
            break
        stdin = (req["cases"][pending[0]].get("stdin") or "").encode() if kind == "stdio" else b""
        settled = run_child(zygote, req, pending if kind != "stdio" else pending[:1], job_deadline, stdin,
                            budget=budget, results=results, extra=extra, batch=batch)
        batch = batch and settled > 0
        made, clean, why = janitor.after_child()
        files_made += made
        pending = pending[settled:]
        if not clean:
            break  # the rest would run in a container that may carry this run's leftovers
    if clean and files_made > clean_mod.MAX_FILES_CLEAN:
        clean, why = False, f"the job made {files_made} files (the sandbox kernel may keep memory for them)"
    for index in pending:
        results.setdefault(index, {"status": "error", "duration": 0.0, "sandbox": True,
                                   "message": f"not run: the sandbox could not be cleaned ({why})"})
    return {
        "results": [results[i] for i in range(total)],
        "killed": extra.get("killed", False),
        "clean": clean,
        "unclean_reason": why,
        "stdout": extra.get("stdout", ""),
        "stderr": extra.get("stderr", ""),
        "duration": time.monotonic() - started,
    }


class Janitor:
    """Leaves the container as the next run must find it: after each child, kills what is left of the children's
    uid, and if the child touched any writable directory has a cleaner (same uid, forked by the zygote) empty them.

    "Touched" is read from the directories' own ctime, mtime, mode and inode, which the runner can stat without any
    right over their contents: an entry added or removed, a chmod, a utime or an extended attribute all change the
    ctime, which no process can set back. A child that touched none of them leaves nothing to clean, and the usual
    run costs no cleaner at all.
    """

    def __init__(self, zygote: Zygote, uid: int) -> None:
        self.zygote = zygote
        self.uid = uid
        self.baseline: tuple[object, ...] | None = None

    def after_child(self) -> tuple[int, bool, str]:
        """Return (files removed, clean, why not)."""
        kill_all_of(self.zygote, self.uid)
        if self.baseline is not None and roots_state() == self.baseline:
            return 0, True, ""
        result = self.clean()
        self.baseline = roots_state() if result[1] else None
        return result

    def clean(self) -> tuple[int, bool, str]:
        for _ in range(CLEAN_ATTEMPTS):
            kill_all_of(self.zygote, self.uid)
            read_end, write_end = os.pipe()
            try:
                started = self.zygote.clean(write_end)
                os.close(write_end)
                write_end = -1
                ready = select.select([read_end], [], [], CLEAN_TIMEOUT)[0] if started else []
                line = os.read(read_end, 1 << 16) if ready else b""
            finally:
                os.close(read_end)
                if write_end >= 0:
                    os.close(write_end)
            reap(self.zygote)
            if started:
                try:
                    verdict = json.loads(line)
                    return int(verdict["files"]), bool(verdict["clean"]), str(verdict["reason"])
                except (ValueError, KeyError, TypeError):
                    return 0, False, "the cleaner did not report"
        return 0, False, "no cleaner could be started (process limit)"


def roots_state() -> tuple[object, ...]:
    """What the runner can see of the writable directories without reading them."""
    state: list[object] = []
    for path in clean_mod.SCRATCH_DIRS:
        try:
            info = os.stat(path, follow_symlinks=False)
        except OSError as exc:
            state.append(exc.errno)
            continue
        state.append((info.st_ino, info.st_mode, info.st_ctime_ns, info.st_mtime_ns))
    return tuple(state)


def kill_all_of(zygote: Zygote, uid: int) -> None:
    """SIGKILL every process of the children's uid and reap them, so a cleaner can be forked even after a fork
    bomb filled the process table. Repeated: a bomb forks while the list is walked (its size is bounded by the
    pids limit). Done only when not even a zombie of that uid is left: killed processes become zombies a moment
    after the kill, and one left unreaped would hold a slot of the pids limit and show in the next run's /proc."""
    deadline = time.monotonic() + KILL_FOR
    while True:
        reap(zygote)
        left = clean_mod.processes_of(uid, zombies=True)
        if not left or time.monotonic() > deadline:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # a zombie ignores it; the next reap collects it
        time.sleep(0.001)


def reap(zygote: Zygote) -> None:
    """Collect every exited child (killed code re-parented here); the zygote among them means it died."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid == zygote.pid:
            raise RunnerFailure("the zygote died")


def harden_self() -> None:
    """Make this process non-dumpable (the code under test, same uid, then cannot ptrace it or read its memory) and
    deaf to the signals it can ignore."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_dumpable = 4
        libc.prctl(pr_set_dumpable, 0, 0, 0, 0)
    for signum in confine.IGNORED_SIGNALS:
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signum, signal.SIG_IGN)


def main() -> None:
    harden_self()
    uid = child_uid()
    zygote = Zygote.start(uid)  # before the first request: the zygote never holds any job's data
    janitor = Janitor(zygote, uid)
    janitor.after_child()  # the directories as every run will find them (times and modes reset): the baseline
    stdin = sys.stdin.buffer
    out = sys.stdout.buffer
    for line in stdin:
        req: Any = None
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "ping":
                reply: dict[str, Any] = {"ok": True, "uid": uid, "runner_uid": os.getuid(), "pid": os.getpid(),
                                         "zygote": zygote.pid, "isolated": os.getuid() != uid}
            elif op == "run":
                reply = run_job(zygote, janitor, req)
            elif op == "exit":
                return
            else:
                reply = {"error": f"unknown op {op!r}"}
        except (RunnerFailure, ZygoteError) as exc:
            reply = {"error": f"runner failure: {exc}"}
        except Exception as exc:
            reply = {"error": f"runner failure: {type(exc).__name__}: {exc}"}
        reply["id"] = req.get("id") if isinstance(req, dict) else None
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


def memfd(name: str, data: bytes) -> int:
    """A memory file holding ``data``, positioned at its start (closed on exec; passed by descriptor)."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


if __name__ == "__main__":
    main()
