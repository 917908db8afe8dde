"""The zygote: a warm interpreter forked from the runner before the runner reads any job (stdlib only).

Why: a child forked from the runner would carry the runner's memory, which holds the previous job's request and
reply (reachable through ``gc`` or frames, and as freed bytes in its heap). The zygote never receives job data. It
only ever receives descriptors (over a socket, SCM_RIGHTS) and forks:

* ``R`` + (job memfd, stdin, report, stdout, stderr): a child that runs a job. It is forked twice over, so that it
  is re-parented to the runner (PID 1), which waits for it and reaps it; the child reads its own job from the memfd.
* ``C`` + (result pipe): a cleaner, as the children's uid, that kills every process of that uid, empties the
  writable directories, resets what can carry state between runs, and writes whether the container is clean.

The zygote stays root like the runner; children and cleaners drop to the container's unprivileged uid, so neither
the runner nor the zygote can be signalled, traced or read by anything the code under test does.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import socket
import struct

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
        """A job's child with these descriptors; returns its pid (it is the runner's child)."""
        pid = self._ask(b"R", fds)
        if pid <= 0:
            raise ZygoteError(f"the zygote could not fork a child (errno {-pid})")
        return pid

    def clean(self, result_fd: int) -> bool:
        """Run a cleaner and wait until it is done (it writes its verdict to ``result_fd``); False if it could not
        be forked."""
        return self._ask(b"C", [result_fd]) == 0

    def _ask(self, op: bytes, fds: list[int]) -> int:
        try:
            socket.send_fds(self.sock, [op], fds)
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
    gc.collect()
    gc.freeze()  # children share these pages copy-on-write instead of touching them during collection
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 16, MAX_FDS)
        except OSError:
            return
        if not message:
            return  # the runner is gone
        try:
            if message == b"R" and len(fds) == 5:
                answer = _detached_child(sock, fds, uid)
            elif message == b"C" and len(fds) == 1:
                answer = _cleaner(sock, fds[0], uid)
            else:
                answer = -22  # EINVAL
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        sock.sendall(_PID.pack(answer))


def _detached_child(sock: socket.socket, fds: list[int], uid: int) -> int:
    """Fork a child through an intermediate that exits at once, so the child is re-parented to the runner.

    The child starts its set-up only once the intermediate is reaped (so the run finds nobody but the runner, the
    zygote and itself): it waits for end of file on a gate pipe whose write ends close as the intermediate exits
    and the zygote, having reaped it, closes its own. No polling, and no waiting for longer than that."""
    read_end, write_end = os.pipe()
    gate, gate_open = os.pipe()
    middle = os.fork()
    if middle == 0:
        try:
            os.close(read_end)
            try:
                grandchild = os.fork()
            except OSError as exc:
                grandchild = -(exc.errno or 11)
            if grandchild == 0:
                os.close(write_end)
                os.close(gate_open)
                sock.close()
                child.child_entry(fds, uid, gate)  # never returns
            os.write(write_end, _PID.pack(grandchild))
        finally:
            os._exit(0)
    os.close(write_end)
    os.close(gate)
    try:
        data = os.read(read_end, _PID.size)
        os.close(read_end)
        os.waitpid(middle, 0)
    finally:
        os.close(gate_open)  # the child may go on
    return int(_PID.unpack(data)[0]) if len(data) == _PID.size else -5  # EIO


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
