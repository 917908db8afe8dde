"""The zygote: a warm interpreter forked from the runner before the runner reads any job (stdlib only).

Why: a child forked from the runner would carry the runner's memory, which holds the previous job's request and
reply (reachable through ``gc`` or frames, and as freed bytes in its heap). The zygote never receives job data. It
only ever receives descriptors (over a socket, SCM_RIGHTS) and forks:

* ``R`` + (job memfd, stdin, report, stdout, stderr): a child that runs a job; it reads its own job from the memfd.
  The zygote answers the child's pid, waits for the child, and then sends its wait status: the runner learns of
  the exit from that second message (one ``select`` covers the child's pipes and this socket, with or without
  ``pidfd_open``), and the child costs one fork, not the two that re-parenting it to the runner would take.
  The child was forked ahead, as soon as the one before it was reaped: a *spare*, still root, that has done what
  needs no job (``child.ready_up``) and waits for its descriptors on a socket of its own. The fork and that set-up
  then happen while the runner cleans up and the host reads the reply, not while a job waits.
* ``C`` + (result pipe): a cleaner, as the children's uid, that kills every process of that uid, empties the
  writable directories, resets what can carry state between runs, and writes whether the container is clean.

The zygote stays root like the runner; children and cleaners drop to the container's unprivileged uid, so neither
the runner nor the zygote can be signalled, traced or read by anything the code under test does.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import random
import signal
import socket
import struct
import threading

import child  # type: ignore[import-not-found]
import clean  # type: ignore[import-not-found]
import confine  # type: ignore[import-not-found]

__all__ = ["Zygote"]

_PID = struct.Struct("q")
MAX_FDS = 8


class ZygoteError(Exception):
    """The zygote is gone or answered nonsense: the container can no longer be trusted."""


class Zygote:
    """The runner's handle on its zygote process."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock

    @classmethod
    def start(cls, uid: int) -> Zygote:
        """Fork the zygote now (call before reading any job)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            ours.close()
            try:
                serve(theirs, uid)
            finally:
                os._exit(0)
        theirs.close()
        return cls(pid, ours)

    def spawn(self, fds: list[int]) -> int:
        """A job's child with these descriptors; returns its pid. Once the socket is readable again, the child has
        exited and ``reaped`` gives its wait status (read it before asking the zygote anything else)."""
        pid = self._ask(b"R", fds)
        if pid <= 0:
            raise ZygoteError(f"the zygote could not fork a child (errno {-pid})")
        return pid

    def reaped(self) -> int:
        """The wait status of the child last spawned, which the zygote sends once it has reaped it (blocks until
        then)."""
        return self._receive()

    def clean(self, result_fd: int) -> bool:
        """Run a cleaner and wait until it is done (it writes its verdict to ``result_fd``); False if it could not
        be forked."""
        return self._ask(b"C", [result_fd]) == 0

    def _ask(self, op: bytes, fds: list[int]) -> int:
        try:
            socket.send_fds(self.sock, [op], fds)
        except OSError as exc:
            raise ZygoteError(f"the zygote is unreachable: {exc}") from exc
        return self._receive()

    def _receive(self) -> int:
        try:
            data = b""
            while len(data) < _PID.size:
                chunk = self.sock.recv(_PID.size - len(data))
                if not chunk:
                    raise ZygoteError("the zygote is gone")
                data += chunk
        except OSError as exc:
            raise ZygoteError(f"the zygote is unreachable: {exc}") from exc
        (value,) = _PID.unpack(data)
        return int(value)


class Spare:
    """A child forked ahead of its job, waiting for the job's descriptors on ``channel``."""

    def __init__(self, pid: int, channel: socket.socket) -> None:
        self.pid = pid
        self.channel = channel

    @classmethod
    def fork(cls, sock: socket.socket, uid: int) -> Spare | None:
        """Fork a spare (None at the process limit: the job's own request then forks it)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = _fork()
        except OSError:
            ours.close()
            theirs.close()
            return None
        if pid == 0:
            message = b""
            try:
                sock.close()
                ours.close()
                random.seed()  # what os.fork's hook would have done: no two runs share a stream
                child.ready_up()
                message, fds, _, _ = socket.recv_fds(theirs, 16, MAX_FDS)
                theirs.close()
                if message == b"R" and len(fds) == 5:
                    child.child_entry(fds, uid)  # never returns
            finally:
                os._exit(child.FATAL_EXIT if message else 0)  # no message: the zygote let it go
        theirs.close()
        return cls(pid, ours)

    def start(self, fds: list[int]) -> bool:
        """Hand the spare its job's descriptors; False if it is gone (then it is reaped)."""
        try:
            socket.send_fds(self.channel, [b"R"], fds)
            return True
        except OSError:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            _wait(self.pid)
            return False
        finally:
            self.channel.close()


def serve(sock: socket.socket, uid: int) -> None:
    """The zygote's loop. Never returns normally."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)  # the runner's request and reply stream are none of the zygote's business
    os.dup2(null, 1)
    os.close(null)
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as fh:
        fh.write("999")  # below the children (1000), above the runner: OOM takes code under test first
    # What every child would otherwise set up anew, done once here and inherited through fork: the signals the
    # runner ignores back to their defaults (the zygote needs no such shield: it is not PID 1, and the children's
    # uid cannot signal it), the children's environment, and the seccomp program compiled.
    for signum in confine.IGNORED_SIGNALS:
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signum, signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(child.CHILD_ENV)
    confine.prepare()
    child.prepare()
    gc.collect()
    gc.freeze()  # children share these pages copy-on-write instead of touching them during collection
    spare = Spare.fork(sock, uid)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 16, MAX_FDS)
        except OSError:
            return
        if not message:
            return  # the runner is gone
        try:
            if message == b"R" and len(fds) == 5:
                answer, spare = _child(sock, fds, uid, spare), None
            elif message == b"C" and len(fds) == 1:
                answer = _cleaner(sock, fds[0], uid)
            else:
                answer = -22  # EINVAL
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        sock.sendall(_PID.pack(answer))
        if message == b"R" and answer > 0:
            sock.sendall(_PID.pack(_wait(answer)))
        if spare is None:
            spare = Spare.fork(sock, uid)  # the next job's child, while the runner cleans up after this one


# fork(2) through libc, with the GIL held as os.fork holds it, but without CPython's after-fork work in the child:
# the Python hooks of ``threading`` and ``random`` there rebuild their state from scratch, which touches (and so
# copies) about 170 of the zygote's pages, most of what a child costs. The zygote has exactly one thread, so what
# that work repairs (locks held by other threads, their states, the GIL's owner) cannot need repair here: the one
# thread goes on in the child with its interpreter state as it was. ``Spare.fork`` does the one part that matters to
# the code under test, a fresh seed for ``random``.
_LIBC = ctypes.PyDLL(None, use_errno=True)
_FORK = _LIBC.fork
_FORK.restype = ctypes.c_int
_FORK.argtypes = []


def _fork() -> int:
    if threading.active_count() != 1:  # never: but then only CPython's own fork is safe
        return os.fork()
    pid = int(_FORK())
    if pid < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return pid


def _child(sock: socket.socket, fds: list[int], uid: int, spare: Spare | None) -> int:
    """Start a job's child (the spare, or a new one if it is gone); return its pid, or a negative errno."""
    for _ in range(2):
        if spare is None:
            spare = Spare.fork(sock, uid)
        if spare is None:
            return -11  # EAGAIN: at the process limit (a fork bomb not yet reaped); the runner's job fails over
        if spare.start(fds):
            return spare.pid
        spare = None
    return -5  # EIO


def _wait(pid: int) -> int:
    """Wait for a job's child to exit (the runner kills it at its deadline) and return its wait status."""
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue


def _cleaner(sock: socket.socket, result_fd: int, uid: int) -> int:
    try:
        pid = os.fork()
    except OSError as exc:  # at the process limit (a fork bomb not yet reaped): the runner retries
        return -(exc.errno or 11)
    if pid == 0:
        sock.close()
        clean.cleaner_entry(result_fd, uid)  # never returns
    os.waitpid(pid, 0)
    return 0
