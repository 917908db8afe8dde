"""The child that runs the code under test (stdlib only; copied into the image beside ``runner.py``).

It is forked by the zygote (``zygote.py``), never by the runner: the zygote was forked before the runner read any
job, so nothing of another job is in this process's memory, not even as freed bytes. It reads its own job from a
sealed-off memfd, moves its descriptors into place, gives itself to the OOM killer, drops to the container's
unprivileged uid (the runner and the zygote stay root, out of its reach: their /proc entries, memory and
descriptors belong to another user), installs its seccomp filter, and only then runs the program.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]
import ast
import builtins
import contextlib
import fcntl
import io
import json
import linecache
import os
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import codec  # type: ignore[import-not-found]
import confine  # type: ignore[import-not-found]

WORK_DIR = os.environ.get("SANDBOX_WORK_DIR", "/work")
# PYTHONHASHSEED: the one this interpreter started with (the container's), so subprocesses hash alike.
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": WORK_DIR,
             "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")}
MAX_TRACEBACK_LINES = 30
RUNNER_RESERVE = 32 << 20  # bytes of the container's memory kept for the runner when the child's is capped by rlimit
FATAL_EXIT = 121  # the child could not be set up (e.g. could not drop privileges); the runner knows by its report
HIGH_FD = 100  # received descriptors are parked from here up while the low ones are laid out
# A call that returned a small value at once is reported with the ones after it, in one "ends" line, as long as
# none of them is held back longer than this (seconds) or more than HELD_MAX of them wait: one write and one parse
# for many calls instead of one each. A unit that starts while reports wait has its wall timer fire early to send
# them (see ``Child.run``), so the runner, which times each unit from the report before it, never sees one late by
# more than this.
HOLD_FOR = 0.002
HELD_MAX = 256
EARLY_ALARM = 0.001  # a wall-timer signal this long (seconds) before the unit's limit is not the limit
MEMORY_CGROUP: list[bool] = []  # whether oom_kills() sees the memory cgroup: found once by prepare()


class UnitTimeout(BaseException):
    """Raised inside the child when a unit runs past its wall-clock or CPU limit."""


class OutputLimit(BaseException):
    """Raised inside the child when a unit writes more than it may."""


class ProgramExit(BaseException):
    """A stdio program ended with ``sys.exit`` and a status other than 0 (the ``SystemExit`` is its cause)."""


# ---------------------------------------------------------------- child side


class CappedText(io.TextIOBase):
    """A stand-in for ``sys.stdout``/``sys.stderr`` that keeps what a unit prints, up to a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.size += len(text)
        if self.size > self.limit:
            raise OutputLimit(f"more than {self.limit} characters of output")
        self.parts.append(str.__str__(text))
        return len(text)

    def getvalue(self) -> str:
        return "".join(self.parts)


def plain(text: object, fallback: str) -> str:
    """An exact ``str`` (a subclass could slice or compare as it likes), or ``fallback``. The host checks again."""
    return str.__str__(text) if isinstance(text, str) else fallback


def type_name(value: object) -> str:
    """The class's real name: a metaclass can make ``type(x).__name__`` anything."""
    try:
        return plain(type.__dict__["__name__"].__get__(type(value)), "<unnamed>")
    except BaseException:
        return "<unnamed>"


def safe_repr(value: Any, limit: int = codec.MAX_REPR) -> str:
    try:
        text = plain(repr(value), "<repr is not text>")
    except BaseException as exc:  # a hostile __repr__ must not break the report
        text = f"<repr failed: {type_name(exc)}>"
    if len(text) > limit:
        text = text[: limit // 2] + "..." + text[-limit // 2 :]
    return text


# What the child's reports are written with (bound here, before any user code runs).
json_text = codec.json_writer(safe_repr)


def describe_exception(exc: BaseException) -> dict[str, Any]:
    """Type, message and the traceback lines that are in the user's code (file names like ``<solution>``)."""
    try:
        message = plain(str(exc), "<str() is not text>")
    except BaseException:
        message = "<str() failed>"
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<")]
        lines = "".join(traceback.format_list(frames[-MAX_TRACEBACK_LINES:])).splitlines()
    except BaseException:
        lines = []
    return {"type": type_name(exc), "message": message[: codec.MAX_REPR], "traceback": lines}


def explain_assertion(exc: BaseException, source: str, filename: str) -> dict[str, Any]:
    """For a failed ``assert left == right``: the assertion, the call's input, expected and actual values."""
    tb, frame, lineno = exc.__traceback__, None, 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            frame, lineno = tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next
    if frame is None:
        return {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    node = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.Assert) and n.lineno <= lineno <= (n.end_lineno or 0)),
        None,
    )
    if node is None:
        return {}
    info: dict[str, Any] = {"assertion": ast.unparse(node)[: codec.MAX_REPR]}
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return info

    def evaluate(expr: ast.expr) -> Any:
        code = compile(ast.Expression(expr), filename, "eval", dont_inherit=True)
        return eval(code, frame.f_globals, frame.f_locals)

    try:
        left, right = test.left, test.comparators[0]
        if isinstance(left, ast.Call):
            args = [safe_repr(evaluate(a), 200) for a in left.args]
            args += [f"{k.arg}={safe_repr(evaluate(k.value), 200)}" for k in left.keywords if k.arg]
            info["input"] = ", ".join(args)
        info["actual"] = safe_repr(evaluate(left))
        info["expected"] = safe_repr(evaluate(right))
    except Exception as err:
        info.setdefault("note", f"could not re-evaluate the assertion: {type(err).__name__}")
    return info


class Child:
    """Everything that happens in the forked child: load the program, run each unit, report."""

    def __init__(self, req: dict[str, Any], report_fd: int, token: str, *, batch: bool = False) -> None:
        self.req = req
        self.batch = batch and req.get("kind") == "calls"  # the runner asks for "ends" lines (see HOLD_FOR)
        self.held: list[str] = []  # reports of returned calls not yet sent: "[index,duration,value]"
        self.held_since = 0.0  # when the first of them was held (perf_counter)
        self.unit_deadline = 0.0  # when the running unit's own wall limit ends (perf_counter)
        self.limits: dict[str, Any] = req["limits"]
        self.report_fd = report_fd
        # Every report carries this per-child secret, so bytes that the code under test writes to the report
        # pipe on its own (it can find the descriptor) are not taken as results.
        self._token = token
        self.timer_fired = False  # set by the timer handler: a unit that swallowed its UnitTimeout still timed out
        self.armed = False  # a unit (or the load) runs under its timers: only then does a timer's signal count
        # Bound now, before user code runs, so a program that rebinds builtins or modules cannot forge reports.
        self._write = os.write
        self._dumps = json_text
        self._packed = codec.packed
        over = req.get("digest_over")
        self._digest_over = over if type(over) is int and over >= 0 else None
        self._clock = time.perf_counter
        self._setitimer = signal.setitimer

    def report(self, event: dict[str, Any]) -> None:
        """One event line; a returned value follows it as ``v`` bytes (its length announced) and a newline, so the
        runner can take its digest from the bytes without parsing them (see runner.py). In a run that asks for
        digests, a long list of numbers goes packed (``codec.packed``) when that is longer than ``digest_over``,
        so it will be digested: JSON text for a million floats would cost seconds."""
        event = {**event, "k": self._token}
        value = b""
        if "packed" in event:
            value = event.pop("packed") + b"\n"
            event["v"] = len(value) - 1
        elif "value" in event:
            value = (self._dumps(event.pop("value")) + "\n").encode("utf-8", "replace")
            event["v"] = len(value) - 1
        self._send((self._dumps(event) + "\n").encode("utf-8", "replace") + value)

    def _send(self, data: bytes) -> None:
        """Write all of ``data`` to the report pipe."""
        view = memoryview(data)
        while view:
            view = view[self._write(self.report_fd, view) :]

    def hold(self, index: int, duration: float, result: dict[str, Any]) -> bool:
        """Hold a returned call's report for the next "ends" line; False if its value must go alone (over
        ``digest_over``, for the runner to digest)."""
        text = self._dumps(result["value"])
        if self._digest_over is not None and len(text) > self._digest_over:
            return False
        if not self.held:
            self.held_since = self._clock()
        self.held.append(f"[{index},{duration!r},{text}]")
        if len(self.held) >= HELD_MAX or self._clock() - self.held_since >= HOLD_FOR:
            self.send_held()
        return True

    def send_held(self) -> None:
        """Send the held reports as one "ends" line (only ever between units, or from the timer while one runs)."""
        held = self.held
        if not held:
            return
        data = ('{"e":"ends","k":"' + self._token + '","r":[' + ",".join(held) + "]}\n").encode("utf-8", "replace")
        held.clear()
        self._send(data)

    @contextlib.contextmanager
    def limited(self, seconds: float) -> Iterator[None]:
        """Raise UnitTimeout in this process after ``seconds`` of wall time or of CPU time."""
        cpu = min(float(self.limits["cpu_time"]), seconds)
        self.timer_fired = False
        self.armed = True
        self._setitimer(signal.ITIMER_REAL, seconds)  # each unit sets them anew; between units they are ignored
        self._setitimer(signal.ITIMER_PROF, cpu)
        try:
            yield
        finally:
            self.armed = False

    def disarm(self) -> None:
        self._setitimer(signal.ITIMER_REAL, 0)
        self._setitimer(signal.ITIMER_PROF, 0)

    def outcome(self, exc: BaseException) -> tuple[str, dict[str, Any]]:
        if isinstance(exc, UnitTimeout):
            return "timeout", {"message": str(exc)}
        if isinstance(exc, OutputLimit):
            return "output_limit", {"message": str(exc)}
        if isinstance(exc, MemoryError):
            return "memory", {"exception": describe_exception(exc)}
        if isinstance(exc, ProgramExit) and exc.__cause__ is not None:
            return "error", {"message": str(exc), "exception": describe_exception(exc.__cause__)}
        status = "failed" if isinstance(exc, AssertionError) else "error"
        return status, {"exception": describe_exception(exc)}

    def load(self, code: Any, namespace: dict[str, Any], *, stdio: bool) -> None:
        """Run the program's top level. A stdio program ends as a script does: once its threads are done too, and
        it may end with ``sys.exit()``, ``exit()``, ``quit()`` or ``raise SystemExit``: status 0 (the code None, 0 or
        False) is a normal end, as for a contest judge; any other status raises ``ProgramExit``. Anywhere else a
        ``SystemExit`` stays an error like any other exception."""
        try:
            exec(code, namespace)
        except SystemExit as exc:
            if not stdio:
                raise
            status = exit_status(exc)
            if status != 0:
                shown = str(status) if abs(status) < 1 << 31 else "out of range"
                raise ProgramExit(f"the program exited with status {shown} (SystemExit)") from exc
        if stdio:
            join_threads()

    def loaded(self, program: str, namespace: dict[str, Any], stdout: Any, stderr: Any, *, stdio: bool) -> bool:
        """Run the program's top level within the unit limits; False (and a "load_error" report) if it failed."""
        try:
            code = compile(program, "<solution>", "exec", dont_inherit=True)
            with self.limited(float(self.limits["test_timeout"])):
                self.load(code, namespace, stdio=stdio)
            if self.timer_fired:
                raise UnitTimeout("time limit exceeded while loading (the code caught the timeout)")
        except BaseException as exc:
            status, detail = self.outcome(exc)
            self.report({"e": "load_error", "status": status, **detail, **self.captured(stdout, stderr)})
            return False
        return True

    def run(self, indices: list[int]) -> None:
        req = self.req
        kind = req["kind"]
        namespace: dict[str, Any] = {"__name__": "__main__" if kind == "stdio" else "solution"}
        namespace["__builtins__"] = builtins
        program = req.get("program") or ""
        linecache.cache["<solution>"] = (len(program), None, program.splitlines(True), "<solution>")
        stdout: Any = sys.stdout  # CappedText but in stdio runs
        stderr: Any = sys.stderr
        if kind != "stdio":
            stdout = sys.stdout = CappedText(self.limits["output_bytes"])
            stderr = sys.stderr = CappedText(self.limits["output_bytes"])
        if kind != "harness" and not self.loaded(program, namespace, stdout, stderr, stdio=kind == "stdio"):
            return
        self.report({"e": "load"})
        # A big evaluation runs a hundred thousand units a pass, most of them a call that returns at once: the loop
        # below costs what it costs per unit, so it keeps to the few steps each one needs (no context manager; the
        # capture streams made anew only after a unit wrote to them).
        seconds = float(self.limits["test_timeout"])
        cpu = min(float(self.limits["cpu_time"]), seconds)
        setitimer, clock, held, batch = self._setitimer, self._clock, self.held, self.batch
        for index in indices:
            if kind != "stdio" and (stdout.size or stderr.size or sys.stdout is not stdout or sys.stderr is not stderr):
                stdout = sys.stdout = CappedText(self.limits["output_bytes"])
                stderr = sys.stderr = CappedText(self.limits["output_bytes"])
            # No "start" event: the runner takes a unit to start when the one before it (or the load) ends.
            started = clock()
            result: dict[str, Any] = {}
            try:
                self.timer_fired = False
                self.unit_deadline = started + seconds
                if held:  # reports wait: should this unit take long, the wall timer first fires to send them
                    setitimer(signal.ITIMER_REAL, min(seconds, max(HOLD_FOR - (started - self.held_since), 1e-4)))
                else:
                    setitimer(signal.ITIMER_REAL, seconds)  # each unit sets them anew; between units ignored
                setitimer(signal.ITIMER_PROF, cpu)
                self.armed = True
                try:
                    result = self.run_unit(kind, index, namespace)
                finally:
                    self.armed = False
                status = "ok"
                if self.timer_fired:  # the code caught UnitTimeout and carried on: still a timeout
                    status, result = "timeout", {"message": "time limit exceeded (the code caught the timeout)"}
            except BaseException as exc:
                status, result = self.outcome(exc)
                if status == "failed" and kind == "tests":
                    result.update(explain_assertion(exc, req["tests"][index]["code"], f"<test {index}>"))
            duration = clock() - started
            captured = self.captured(stdout, stderr)
            if batch and status == "ok" and not captured and "value" in result and self.hold(index, duration, result):
                continue
            self.send_held()
            self.report({"e": "end", "i": index, "status": status, "duration": duration, **result, **captured})
        self.send_held()
        self.disarm()

    def captured(self, stdout: Any, stderr: Any) -> dict[str, str]:
        if isinstance(stdout, CappedText):  # only what was written: most units write nothing
            return {name: stream.getvalue() for name, stream in (("stdout", stdout), ("stderr", stderr)) if stream.size}
        for stream in (stdout, stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        return {}

    def run_unit(self, kind: str, index: int, namespace: dict[str, Any]) -> dict[str, Any]:
        req = self.req
        if kind == "tests":
            filename = f"<test {index}>"
            source = req["tests"][index]["code"]
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            exec(compile(source, filename, "exec", dont_inherit=True), namespace)
            return {}
        if kind == "calls":
            function = namespace.get(req["entry_point"])
            if not callable(function):
                raise NameError(f"the program defines no function named {req['entry_point']!r}")
            args = codec.decode(req["inputs"][index])
            value = function(*args)
            over = self._digest_over
            if over is not None:
                packed = self._packed(value)
                if packed is not None and len(packed) > over:
                    return {"packed": packed}
            return {"value": codec.encode(value)}
        if kind == "harness":
            emitted: list[Any] = []
            scope = {"__name__": "__main__", "__builtins__": builtins, "PROGRAM": req.get("program") or "",
                     "PAYLOAD": req.get("payload"), "emit": emitted.append}
            source = req["harness"]
            linecache.cache["<harness>"] = (len(source), None, source.splitlines(True), "<harness>")
            exec(compile(source, "<harness>", "exec", dont_inherit=True), scope)
            if not emitted:
                raise RuntimeError("the harness finished without calling emit()")
            return {"value": emitted[-1]}
        return {}  # stdio: the program already ran while loading; its stdout is the result


def exit_status(exc: SystemExit) -> int:
    """The status the interpreter would exit with: an integer code is the status (None is 0); any other code is
    written to stderr and the status is 1."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return int.__int__(code)  # the plain value, whatever an int subclass overrides (False is 0, True is 1)
    with contextlib.suppress(Exception):
        sys.stderr.write(str(code) + "\n")
    return 1


def join_threads() -> None:
    """Wait for every thread the program started that is no daemon, as the interpreter does before it exits (contest
    solutions run ``main`` in a thread with a bigger stack)."""
    current = threading.current_thread()
    while pending := [t for t in threading.enumerate() if t is not current and not t.daemon and t.is_alive()]:
        pending[0].join()


def read_all(fd: int) -> bytes:
    """The whole content of a (memfd) descriptor, from its start."""
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def give_to_oom_killer() -> None:
    # While still root, this process owns its /proc files even though it is not dumpable; after the uid drop it
    # would not. Raising the score needs no privilege; it makes the code under test, not the runner, what the OOM
    # killer takes. (No open(): a text file object costs the child more than the write.)
    with contextlib.suppress(OSError):
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        try:
            os.write(fd, b"1000")
        finally:
            os.close(fd)


def drop_privileges(uid: int) -> None:
    """Become ``uid`` for good (real, effective and saved ids; no supplementary groups; no capabilities left)."""
    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (uid, uid, uid):
        raise PermissionError(f"could not become uid {uid}")
    if uid != 0:
        try:
            os.setuid(0)
        except PermissionError:
            return
        raise RuntimeError("the child could become root again")  # it must never run user code like that


def set_limits(child: Child, limits: dict[str, Any]) -> None:
    """The per-unit timers (raising ``UnitTimeout`` in the child) and the child's resource limits."""

    def on_timer(signum: int, _frame: object) -> None:
        if not child.armed:
            return  # the last unit's timer, between units
        if signum == _signal.SIGALRM:
            left = child.unit_deadline - child._clock()
            if left > EARLY_ALARM:
                # Before the unit's limit: the early tick of a unit that started while reports were held (or a
                # stray alarm). Send them, and set the timer again for the rest of the unit's time.
                child.send_held()
                child._setitimer(_signal.ITIMER_REAL, left)
                return
        child.timer_fired = True
        kind = "CPU" if signum == signal.SIGPROF else "wall"
        raise UnitTimeout(f"{kind} time limit exceeded")

    # _signal's own signal(): signal.signal converts to and from enums, which costs each child dozens of pages.
    _signal.signal(_signal.SIGALRM, on_timer)
    _signal.signal(_signal.SIGPROF, on_timer)
    cpu = int(limits["job_timeout"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_DATA, (limits["memory_bytes"], limits["memory_bytes"]))


def ready_up() -> None:
    """What a child sets up before it has a job (the zygote forks it ahead, see zygote.py): its own process group,
    SIGXFSZ ignored (a too-big file becomes an OSError, not a silent death), and its OOM score."""
    os.setpgid(0, 0)
    _signal.signal(_signal.SIGXFSZ, _signal.SIG_IGN)
    give_to_oom_killer()


def child_entry(fds: list[int], uid: int) -> None:
    """Set up the forked child's process state from the descriptors the runner sent, then run. Never returns.
    (Its signals, environment and seccomp program were prepared in the zygote, the rest in ``ready_up``.)"""
    try:
        # Out of the way first (the received numbers are arbitrary), then into their places; everything else the
        # zygote held, its socket included, is closed.
        job_fd, stdin_fd, report_fd, out_fd, err_fd = (fcntl.fcntl(fd, fcntl.F_DUPFD, HIGH_FD) for fd in fds)
        os.closerange(0, HIGH_FD)
        job = json.loads(read_all(job_fd))
        req, indices, token, batch = job["req"], job["indices"], job["token"], job.get("batch") is True
        limits = req["limits"]
        for fd, target in ((stdin_fd, 0), (out_fd, 1), (err_fd, 2), (report_fd, 3)):
            os.dup2(fd, target)
        os.closerange(4, 65536)
        child = Child(req, 3, token, batch=batch)

        set_limits(child, limits)
        cgroups = MEMORY_CGROUP[0] if MEMORY_CGROUP else oom_kills() is not None
        if not cgroups:
            # No memory cgroup in sight (gVisor): an OOM kill would take the whole sandbox and could not be told
            # apart from a crash, so cap the address space (gVisor enforces RLIMIT_AS, not RLIMIT_DATA) and let
            # running out be a MemoryError.
            space = max(int(limits["memory_bytes"]) - RUNNER_RESERVE, 64 << 20)
            resource.setrlimit(resource.RLIMIT_AS, (space, space))
        drop_privileges(uid)
    except BaseException as exc:  # nothing of the user's has run: this is the sandbox failing
        with contextlib.suppress(BaseException):
            os.write(2, f"child set-up failed: {type(exc).__name__}: {exc}\n".encode())
        os._exit(FATAL_EXIT)
    status = 1
    try:
        # Without a pids cgroup that applies inside (gVisor), no new processes at all: see confine.py.
        confine.install_seccomp(processes=cgroups)
        os.chdir(WORK_DIR)
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
        sys.argv = ["solution"]
        child.report({"e": "ready"})
        child.run(indices)
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
        status = 0
    finally:
        # 0 only when the run got to its end: the runner takes a stdio child's exit status 0 as a normal end
        # (``os._exit(0)`` in the program, too), so a run that broke off (its report pipe closed under it, say)
        # must not look like one.
        os._exit(status)


def prepare() -> None:
    """Find out once, in the zygote, what every child would otherwise find out anew: whether this container's
    memory cgroup is in sight (it stays so for the container's life)."""
    MEMORY_CGROUP[:] = [oom_kills() is not None]


def oom_kills() -> int | None:
    """How many times the kernel's OOM killer has acted in this container's memory cgroup (None: not visible)."""
    for path, key in (("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),
                      ("/sys/fs/cgroup/memory.events", "oom_kill")):
        try:
            with open(path) as fh:
                for line in fh:
                    name, _, value = line.partition(" ")
                    if name == key:
                        return int(value)
        except OSError:
            continue
    return None
