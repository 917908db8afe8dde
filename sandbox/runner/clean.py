"""The cleaner: after each child, as the children's uid, leave nothing of the run behind (stdlib only).

It runs as the same unprivileged uid as the code under test, so it may kill all of that code's processes (a
``kill(-1)`` from it reaches exactly those) and delete all of its files, without the runner needing any right over
files. Then it resets what the writable directories themselves carry between runs (extended attributes, mode,
times) and checks the result; its verdict goes back to the runner as one JSON line.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from typing import Any

import child  # type: ignore[import-not-found]

__all__ = ["ROOT_MODE", "ROOT_TIME", "cleaner_entry", "empty_dir", "is_clean", "reset_root"]

WORK_DIR = child.WORK_DIR
# Every place the code under test can write; /dev/mqueue holds POSIX message queues, which outlive processes.
SCRATCH_DIRS = (WORK_DIR, "/tmp", "/dev/shm", "/dev/mqueue")
OWNED_ROOTS = (WORK_DIR, "/tmp", "/dev/shm")  # tmpfs mounts that belong to the children's uid
ROOT_MODE = 0o700
ROOT_TIME = 0  # every run finds its directories with the same times, whatever the last run did to them
KILL_FOR = 2.0  # seconds to keep killing (a fork bomb forks while kill(-1) walks the process list)
# Past this many files in a job the container is replaced: gVisor enforces no inode limit on its tmpfs and keeps
# the memory of deleted files, so a file flood would shrink what later jobs can use.
MAX_FILES_CLEAN = 4096


def cleaner_entry(result_fd: int, uid: int) -> None:
    """Clean up after a child as ``uid`` and write ``{"clean", "reason", "files"}`` to ``result_fd``. Never returns."""
    verdict: dict[str, Any]
    try:
        child.drop_privileges(uid)
        left = kill_all_of(uid)
        files = sum(empty_dir(path) for path in SCRATCH_DIRS)
        for path in OWNED_ROOTS:
            reset_root(path)
        clean, why = is_clean(files, uid) if not left else (False, f"processes left: {left[:5]}")
        verdict = {"clean": clean, "reason": why, "files": files}
    except BaseException as exc:
        verdict = {"clean": False, "reason": f"the cleaner failed: {type(exc).__name__}: {exc}", "files": 0}
    try:
        os.write(result_fd, json.dumps(verdict).encode() + b"\n")
    finally:
        os._exit(0)


def processes_of(uid: int, *, zombies: bool = False) -> list[int]:
    """Processes of ``uid`` other than this one: the live ones, and with ``zombies`` the dead not yet reaped."""
    me, found = os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        if not zombies and fields.get("State", "").strip().startswith("Z"):
            continue
        real = fields.get("Uid", "").split()
        if real and int(real[0]) == uid:
            found.append(int(name))
    return found


def kill_all_of(uid: int) -> list[int]:
    """SIGKILL every process of ``uid`` (this one's own uid) until none is left; return any that survived."""
    deadline = time.monotonic() + KILL_FOR
    while True:
        left = processes_of(uid)
        if not left or time.monotonic() > deadline:
            return left
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)  # every process this uid may signal, never this one
        time.sleep(0.002)


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


def reset_root(path: str) -> None:
    """Give a writable root back its extended attributes (none), mode and times: a run may set them as a message
    to the next one."""
    with contextlib.suppress(OSError):
        for name in os.listxattr(path, follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.removexattr(path, name, follow_symlinks=False)
    with contextlib.suppress(OSError):
        os.chmod(path, ROOT_MODE)
    with contextlib.suppress(OSError):
        os.utime(path, (ROOT_TIME, ROOT_TIME), follow_symlinks=False)


def root_state(path: str) -> str:
    """What differs in ``path`` from a reset root ('' if nothing)."""
    try:
        info = os.lstat(path)
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as exc:
        return f"{path}: {exc}"
    if names:
        return f"{path} has extended attributes {names[:5]}"
    if info.st_mode & 0o7777 != ROOT_MODE:
        return f"{path} has mode {info.st_mode & 0o7777:o}"
    if int(info.st_mtime) != ROOT_TIME:
        return f"{path} has a changed modification time"
    return ""


def sysv_ipc_ids() -> dict[str, list[int]]:
    """The System V shared memory segments, semaphore sets and message queues in this IPC namespace."""
    found: dict[str, list[int]] = {}
    for kind in ("shm", "sem", "msg"):
        with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/sysvipc/{kind}") as fh:
            found[kind] = [int(line.split()[1]) for line in fh.readlines()[1:] if line.strip()]
    return found


def is_clean(files_made: int, uid: int) -> tuple[bool, str]:
    if files_made > MAX_FILES_CLEAN:
        return False, f"the job made {files_made} files (the sandbox kernel may keep memory for them)"
    others = processes_of(uid)
    if others:
        return False, f"processes left: {others[:5]}"
    ipc = {kind: ids for kind, ids in sysv_ipc_ids().items() if ids}
    if ipc:
        return False, f"System V IPC objects left: {ipc}"
    for path in SCRATCH_DIRS:
        with contextlib.suppress(OSError):
            if os.listdir(path):
                return False, f"{path} is not empty"
    for path in OWNED_ROOTS:
        changed = root_state(path)
        if changed:
            return False, changed
    return True, ""
