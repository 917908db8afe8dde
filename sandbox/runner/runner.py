"""The runner that lives inside each sandbox container (stdlib only).

It is the container's PID 1 and speaks newline-delimited JSON on its stdin and stdout, which the host reaches
through one attached socket, so a job costs no ``docker exec``. For each execution it forks a fresh child from
this already-warm interpreter, feeds it the program and the units (tests, stdin cases, call inputs or one
harness), and watches it from outside: wall time, output bytes, the way it died. The child reports each unit
as it starts and ends over a private pipe; a unit counts as passed only when such a report says so, never
because of an exit code. After every job it kills everything else in the container and empties the writable
directories, then tells the host whether it managed to prove the container clean.

Being PID 1 matters: the kernel drops signals that processes inside the namespace send to their init unless it
handles them, so the code under test cannot kill the runner, and orphans are re-parented here to be reaped.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import ctypes
import gc
import io
import json
import linecache
import os
import resource
import secrets
import select
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Beside this file in the image (on the host they are sandbox.runner.codec and sandbox.runner.confine).
import codec  # type: ignore[import-not-found]
import confine  # type: ignore[import-not-found]

# Warm the modules that generated programs import most, so each forked child finds them loaded.
for _name in ["bisect", "collections", "copy", "dataclasses", "datetime", "decimal", "fractions", "functools",
              "hashlib", "heapq", "itertools", "math", "operator", "random", "re", "statistics", "string", "typing",
              "unittest"]:
    with contextlib.suppress(ImportError):
        __import__(_name)

WORK_DIR = os.environ.get("SANDBOX_WORK_DIR", "/work")
# Every place the code under test can write; /dev/mqueue holds POSIX message queues, which outlive processes.
SCRATCH_DIRS = (WORK_DIR, "/tmp", "/dev/shm", "/dev/mqueue")
# The runner's own seed (the host sets it per container), so that a Python the code starts hashes as the code does.
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": WORK_DIR,
             "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")}
GRACE = 0.5  # seconds the watchdog allows past a unit's limit before it kills, so the in-child timer wins
# What one job may send back in all (reports, captured output, returned values), as a share of the container's
# memory: the runner holds it all, parsed and then serialised, beside a child that may still be alive.
REPLY_SHARE = 16
MIN_REPLY_BYTES = 1 << 20
MAX_TRACEBACK_LINES = 30
EXIT_POLL = 0.005  # seconds between exit checks where the kernel has no pidfd_open (gVisor)
# Past this many files in a job the container is replaced: gVisor enforces no inode limit on its tmpfs and keeps
# the memory of deleted files, so a file flood would shrink what later jobs can use.
MAX_FILES_CLEAN = 4096
RUNNER_RESERVE = 32 << 20  # bytes of the container's memory kept for the runner when the child's is capped by rlimit


class UnitTimeout(BaseException):
    """Raised inside the child when a unit runs past its wall-clock or CPU limit."""


class OutputLimit(BaseException):
    """Raised inside the child when a unit writes more than it may."""


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
        self.parts.append(text)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self.parts)


def safe_repr(value: Any, limit: int = codec.MAX_REPR) -> str:
    try:
        text = repr(value)
    except BaseException as exc:  # a hostile __repr__ must not break the report
        text = f"<repr failed: {type(exc).__name__}>"
    if len(text) > limit:
        text = text[: limit // 2] + "..." + text[-limit // 2 :]
    return text


def describe_exception(exc: BaseException) -> dict[str, Any]:
    """Type, message and the traceback lines that are in the user's code (file names like ``<solution>``)."""
    try:
        message = str(exc)
    except BaseException:
        message = "<str() failed>"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<")]
    lines = "".join(traceback.format_list(frames[-MAX_TRACEBACK_LINES:])).splitlines()
    return {"type": type(exc).__name__, "message": message[: codec.MAX_REPR], "traceback": lines}


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

    def __init__(self, req: dict[str, Any], report_fd: int, token: str) -> None:
        self.req = req
        self.limits: dict[str, Any] = req["limits"]
        self.report_fd = report_fd
        # Every report carries this per-child secret, so bytes that the code under test writes to the report
        # pipe on its own (it can find the descriptor) are not taken as results.
        self._token = token
        self.timer_fired = False  # set by the timer handler: a unit that swallowed its UnitTimeout still timed out
        # Bound now, before user code runs, so a program that rebinds builtins or modules cannot forge reports.
        self._write = os.write
        self._dumps = json.dumps
        self._clock = time.perf_counter
        self._setitimer = signal.setitimer

    def report(self, event: dict[str, Any]) -> None:
        data = (self._dumps({**event, "k": self._token}, default=safe_repr) + "\n").encode("utf-8", "replace")
        view = memoryview(data)
        while view:
            view = view[self._write(self.report_fd, view) :]

    @contextlib.contextmanager
    def limited(self, seconds: float) -> Iterator[None]:
        """Raise UnitTimeout in this process after ``seconds`` of wall time or of CPU time."""
        cpu = min(float(self.limits["cpu_time"]), seconds)
        self.timer_fired = False
        self._setitimer(signal.ITIMER_REAL, seconds)
        self._setitimer(signal.ITIMER_PROF, cpu)
        try:
            yield
        finally:
            self._setitimer(signal.ITIMER_REAL, 0)
            self._setitimer(signal.ITIMER_PROF, 0)

    def outcome(self, exc: BaseException) -> tuple[str, dict[str, Any]]:
        if isinstance(exc, UnitTimeout):
            return "timeout", {"message": str(exc)}
        if isinstance(exc, OutputLimit):
            return "output_limit", {"message": str(exc)}
        if isinstance(exc, MemoryError):
            return "memory", {"exception": describe_exception(exc)}
        status = "failed" if isinstance(exc, AssertionError) else "error"
        return status, {"exception": describe_exception(exc)}

    def run(self, indices: list[int]) -> None:
        req = self.req
        kind = req["kind"]
        namespace: dict[str, Any] = {"__name__": "__main__" if kind == "stdio" else "solution"}
        namespace["__builtins__"] = builtins
        program = req.get("program") or ""
        linecache.cache["<solution>"] = (len(program), None, program.splitlines(True), "<solution>")
        stdout, stderr = sys.stdout, sys.stderr
        if kind != "stdio":
            stdout = sys.stdout = CappedText(self.limits["output_bytes"])
            stderr = sys.stderr = CappedText(self.limits["output_bytes"])
        if kind != "harness":
            try:
                code = compile(program, "<solution>", "exec", dont_inherit=True)
                with self.limited(float(self.limits["test_timeout"])):
                    exec(code, namespace)
                if self.timer_fired:
                    raise UnitTimeout("time limit exceeded while loading (the code caught the timeout)")
            except BaseException as exc:
                status, detail = self.outcome(exc)
                self.report({"e": "load_error", "status": status, **detail, **self.captured(stdout, stderr)})
                return
        self.report({"e": "load"})
        for index in indices:
            if kind != "stdio":
                stdout = sys.stdout = CappedText(self.limits["output_bytes"])
                stderr = sys.stderr = CappedText(self.limits["output_bytes"])
            self.report({"e": "start", "i": index})
            started = self._clock()
            result: dict[str, Any] = {}
            try:
                with self.limited(float(self.limits["test_timeout"])):
                    result = self.run_unit(kind, index, namespace)
                status = "ok"
                if self.timer_fired:  # the code caught UnitTimeout and carried on: still a timeout
                    status, result = "timeout", {"message": "time limit exceeded (the code caught the timeout)"}
            except BaseException as exc:
                status, result = self.outcome(exc)
                if status == "failed" and kind == "tests":
                    result.update(explain_assertion(exc, req["tests"][index]["code"], f"<test {index}>"))
            duration = self._clock() - started
            captured = self.captured(stdout, stderr)
            self.report({"e": "end", "i": index, "status": status, "duration": duration, **result, **captured})

    def captured(self, stdout: Any, stderr: Any) -> dict[str, str]:
        if isinstance(stdout, CappedText):
            return {"stdout": stdout.getvalue(), "stderr": stderr.getvalue()}
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


def child_entry(req: dict[str, Any], indices: list[int], fds: dict[str, int], stdin_path: str | None,
                token: str) -> None:
    """Set up the forked child's process state, then run. Never returns."""
    try:
        limits = req["limits"]
        child = Child(req, 3, token)
        os.setpgid(0, 0)
        for signum in confine.IGNORED_SIGNALS:
            with contextlib.suppress(OSError, ValueError):
                signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-big file becomes an OSError, not a silent death

        def on_timer(signum: int, _frame: object) -> None:
            child.timer_fired = True
            kind = "CPU" if signum == signal.SIGPROF else "wall"
            raise UnitTimeout(f"{kind} time limit exceeded")

        signal.signal(signal.SIGALRM, on_timer)
        signal.signal(signal.SIGPROF, on_timer)
        with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")  # the code under test, not the runner, is what the OOM killer should take
        stdin_fd = os.open(stdin_path or os.devnull, os.O_RDONLY)
        os.dup2(stdin_fd, 0)
        os.dup2(fds["out"], 1)
        os.dup2(fds["err"], 2)
        os.dup2(fds["report"], 3)
        os.closerange(4, 65536)
        cpu = int(limits["job_timeout"]) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
        resource.setrlimit(resource.RLIMIT_DATA, (limits["memory_bytes"], limits["memory_bytes"]))
        cgroups = oom_kills() is not None
        if not cgroups:
            # No memory cgroup in sight (gVisor): an OOM kill would take the whole sandbox and could not be told
            # apart from a crash, so cap the address space (gVisor enforces RLIMIT_AS, not RLIMIT_DATA) and let
            # running out be a MemoryError.
            space = max(int(limits["memory_bytes"]) - RUNNER_RESERVE, 64 << 20)
            resource.setrlimit(resource.RLIMIT_AS, (space, space))
        # Without a pids cgroup that applies inside (gVisor), no new processes at all: see confine.py.
        confine.install_seccomp(processes=cgroups)
        os.chdir(WORK_DIR)
        os.environ.clear()
        os.environ.update(CHILD_ENV)
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
        sys.argv = ["solution"]
        child.run(indices)
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
    finally:
        os._exit(0)


# ---------------------------------------------------------------- runner side


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


def kill_everything_else() -> None:
    """SIGKILL every process this runner may signal (all but itself and init), then reap the zombies.

    kill(-1) is repeated until nothing is left: a process forked while the first one was walking the process
    list (a fork bomb) can escape it.
    """
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        if other_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(-1, signal.SIGKILL)
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            if not other_pids():
                return
            pid = 0
        if pid == 0:
            time.sleep(0.002)


def sysv_ipc_ids() -> dict[str, list[int]]:
    """The System V shared memory segments, semaphore sets and message queues in this IPC namespace."""
    found: dict[str, list[int]] = {}
    for kind in ("shm", "sem", "msg"):
        with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/sysvipc/{kind}") as fh:
            found[kind] = [int(line.split()[1]) for line in fh.readlines()[1:] if line.strip()]
    return found


def other_pids() -> list[int]:
    me = os.getpid()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (me, 1)]


def empty_dir(path: str) -> int:
    """Remove everything in ``path``; return how many files and directories there were.

    Iterative and never raising: the code may nest directories thousands deep or chmod them to 0. Whatever
    cannot be removed stays, and ``is_clean`` then reports the container unclean.
    """
    count = 0
    stack: list[tuple[str, bool]] = [(path, False)]  # (directory, its entries already handled)
    while stack:
        current, emptied = stack.pop()
        if emptied:
            if current != path:
                with contextlib.suppress(OSError):
                    os.rmdir(current)
            continue
        with contextlib.suppress(OSError):
            os.chmod(current, 0o700)
        stack.append((current, True))
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            count += 1
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                stack.append((entry.path, False))
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
    return count


def is_clean(files_made: int) -> tuple[bool, str]:
    if files_made > MAX_FILES_CLEAN:
        return False, f"the job made {files_made} files (the sandbox kernel may keep memory for them)"
    others = other_pids()
    if others:
        return False, f"processes left: {others[:5]}"
    ipc = {kind: ids for kind, ids in sysv_ipc_ids().items() if ids}
    if ipc:
        return False, f"System V IPC objects left: {ipc}"
    for path in SCRATCH_DIRS:
        with contextlib.suppress(OSError):
            if os.listdir(path):
                return False, f"{path} is not empty"
    return True, ""


def open_pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` exits, or None where the kernel lacks pidfd_open."""
    try:
        return os.pidfd_open(pid)
    except OSError:  # gVisor answers ENOSYS: the watcher then polls waitpid every EXIT_POLL seconds
        return None


class ByteBudget:
    """Bytes the children of one job may still send the runner, over all their units and pipes."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.left = total


class Watch:
    """Watches one child from the runner side: its report pipe, its stdout/stderr, its deadlines."""

    def __init__(self, req: dict[str, Any], indices: list[int], job_deadline: float, budget: ByteBudget) -> None:
        self.budget = budget
        self.token = secrets.token_hex(16)
        self.req = req
        self.limits = req["limits"]
        self.indices = indices
        self.job_deadline = job_deadline
        self.results: dict[int, dict[str, Any]] = {}
        self.current: int | None = None
        self.unit_started = time.monotonic()
        self.loaded = False
        self.load_error: dict[str, Any] | None = None
        self.killed_for: str | None = None
        self.out = bytearray()
        self.err = bytearray()
        self.report_buf = bytearray()

    def spawn(self, stdin_path: str | None) -> int:
        pipes = {name: os.pipe() for name in ("report", "out", "err")}
        pid = os.fork()
        if pid == 0:
            for read_end, _ in pipes.values():
                os.close(read_end)
            child_entry(self.req, self.indices, {k: w for k, (_, w) in pipes.items()}, stdin_path, self.token)
        for _, write_end in pipes.values():
            os.close(write_end)
        self.fds = {read_end: name for name, (read_end, _) in pipes.items()}
        return pid

    def deadline(self) -> float:
        unit = self.unit_started + float(self.limits["test_timeout"]) + GRACE
        return min(unit, self.job_deadline)

    def kill(self, reason: str) -> None:
        """Kill the child and everything it started (its descendants may have left its process group)."""
        if self.killed_for is None:
            self.killed_for = reason
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)

    def on_report(self, line: bytes | bytearray) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return  # not ours: something in the child wrote to the report pipe; only well-formed events count
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
        elif kind == "load_error":
            self.load_error = event
        elif kind == "start" and event.get("i") in self.indices:
            self.current = event["i"]
            self.unit_started = time.monotonic()
        elif kind == "end" and event.get("i") == self.current:
            if overran and event.get("status") == "ok":
                event.update(status="timeout", message="time limit exceeded (the code caught the timeout)")
            self.results[event.pop("i")] = event
            self.current = None

    def drain(self, fd: int) -> bool:
        """Read what is ready on ``fd``; return False at end of file."""
        try:
            data = os.read(fd, 1 << 16)
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
            if b"\n" in data:
                *lines, rest = self.report_buf.split(b"\n")
                self.report_buf = bytearray(rest)
                for line in lines:
                    self.on_report(line)
        else:
            buf = self.out if name == "out" else self.err
            room = int(self.limits["output_bytes"]) - len(self.out) - len(self.err)
            buf += data[: max(room, 0)]  # keep no more than the limit, though the kill comes a moment later
            if len(data) > room:
                self.killed_for = self.killed_for or "output_limit"
        return True

    def watch(self, pid: int) -> tuple[int, float]:
        """Follow the child until it exits; return its wait status and the time spent."""
        started = self.unit_started = time.monotonic()
        open_fds = set(self.fds)
        exited = open_pidfd(pid)  # readable once the child has exited, so one select() covers everything
        status: int | None = None
        try:
            while True:
                now = time.monotonic()
                if self.killed_for is not None or now >= self.deadline():
                    self.kill(self.killed_for or "timeout")
                wait = max(0.0, min(self.deadline() - now, 1.0 if exited is not None else EXIT_POLL))
                ready, _, _ = select.select([*open_fds, *([] if exited is None else [exited])], [], [], wait)
                for fd in ready:
                    if fd != exited and not self.drain(fd):
                        open_fds.discard(fd)
                        os.close(fd)
                if exited is None:
                    done, polled = os.waitpid(pid, os.WNOHANG)
                    if done:
                        status = polled
                        break
                elif exited in ready:
                    break
            # The child is gone; what it wrote before dying is still in the pipes (unless a descendant holds them).
            # Bounded: a descendant that still holds a pipe could otherwise keep this loop fed forever.
            for fd in list(open_fds):
                for _ in range(64):
                    if not select.select([fd], [], [], 0)[0] or not self.drain(fd):
                        break
            if status is None:
                _, status = os.waitpid(pid, 0)
        finally:
            if exited is not None:
                os.close(exited)
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
            if sig == signal.SIGKILL and (oom_kills() or 0) > (oom_before or 0):
                return {"status": "memory", "message": "killed by the out-of-memory killer"}
            if sig == signal.SIGXCPU:
                return {"status": "timeout", "message": "CPU time limit exceeded"}
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            return {"status": "error", "message": f"the process was killed by signal {name}"}
        code = os.WEXITSTATUS(status)
        return {"status": "error", "message": f"the process exited with code {code} before reporting a result"}


def run_child(req: dict[str, Any], indices: list[int], job_deadline: float, stdin_path: str | None, *,
              budget: ByteBudget, results: dict[int, dict[str, Any]], extra: dict[str, Any]) -> int:
    """Run ``indices`` in one child; fill ``results``; return how many units it settled (at least one)."""
    watch = Watch(req, indices, job_deadline, budget)
    oom_before = oom_kills()
    pid = watch.spawn(stdin_path)
    status, elapsed = watch.watch(pid)
    extra["killed"] = extra.get("killed", False) or watch.killed_for is not None
    output = {"stdout": watch.out.decode("utf-8", "replace"), "stderr": watch.err.decode("utf-8", "replace")}
    if req["kind"] == "stdio":
        index = indices[0]
        if watch.load_error is not None:
            results[index] = {**watch.load_error, **output, "duration": elapsed}
        elif watch.loaded:
            results[index] = {"status": "ok", **output, "duration": elapsed}
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
            results[index] = {**watch.death(status, oom_before), "duration": time.monotonic() - watch.unit_started}
            settled += 1
        break
    return max(settled, 1)


def run_job(req: dict[str, Any]) -> dict[str, Any]:
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
    budget = ByteBudget(max(int(req["limits"]["memory_bytes"]) // REPLY_SHARE, MIN_REPLY_BYTES))
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
        stdin_path = None
        if kind == "stdio":
            stdin_path = os.path.join("/tmp", ".stdin")
            with open(stdin_path, "w") as fh:
                fh.write(req["cases"][pending[0]].get("stdin") or "")
            os.chmod(stdin_path, 0o400)
        settled = run_child(req, pending if kind != "stdio" else pending[:1], job_deadline, stdin_path,
                            budget=budget, results=results, extra=extra)
        kill_everything_else()
        files_made += sum(empty_dir(path) for path in SCRATCH_DIRS)
        pending = pending[settled:]
    clean, why = is_clean(files_made)
    return {
        "results": [results[i] for i in range(total)],
        "killed": extra.get("killed", False),
        "clean": clean,
        "unclean_reason": why,
        "stdout": extra.get("stdout", ""),
        "stderr": extra.get("stderr", ""),
        "duration": time.monotonic() - started,
    }


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
    stdin = sys.stdin.buffer
    out = sys.stdout.buffer
    gc.collect()
    gc.freeze()  # children share these pages copy-on-write instead of touching them during collection
    for line in stdin:
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "ping":
                reply: dict[str, Any] = {"ok": True, "uid": os.getuid(), "pid": os.getpid()}
            elif op == "run":
                reply = run_job(req)
            elif op == "exit":
                return
            else:
                reply = {"error": f"unknown op {op!r}"}
        except Exception as exc:
            reply = {"error": f"runner failure: {type(exc).__name__}: {exc}"}
        reply["id"] = req.get("id") if isinstance(req, dict) else None
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
