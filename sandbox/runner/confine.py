"""What the runner does to a forked child, before the code under test runs, beyond rlimits (stdlib only).

Copied into the image beside ``runner.py``. Two things the container alone does not give under every runtime:

* signals: Linux drops signals that processes in a PID namespace send to its init unless init handles them, but
  gVisor (runsc) delivers them, so there a plain ``kill(1, SIGTERM)`` would end the runner. The runner ignores what
  it can (``IGNORED_SIGNALS``) and a seccomp filter keeps the child from signalling pid 1 at all (SIGKILL and
  SIGSTOP cannot be ignored);
* process count: runsc enforces neither the pids cgroup nor RLIMIT_NPROC inside the sandbox, and each forked
  interpreter costs it megabytes, so a fork bomb would take the whole sandbox down with an OOM kill. Where the
  kernel does not enforce the limit, the filter forbids new processes (threads stay allowed).
"""

from __future__ import annotations

import ctypes
import platform
import signal
import struct
from typing import Any

__all__ = ["IGNORED_SIGNALS", "install_seccomp", "prepare", "seccomp_filter"]

# SIGCHLD keeps its default (ignoring it would reap children before waitpid sees them); so do synchronous faults.
IGNORED_SIGNALS = sorted(
    set(signal.valid_signals())
    - {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD, signal.SIGCONT, signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE,
       signal.SIGILL, signal.SIGTRAP}
)

# Per machine: the audit arch, and the numbers of the calls the filter looks at.
_ARCH: dict[str, tuple[int, dict[str, tuple[int, ...]]]] = {
    "x86_64": (0xC000003E, {
        "signal": (62, 200, 234, 129, 297),  # kill tkill tgkill rt_sigqueueinfo rt_tgsigqueueinfo
        "deny": (101, 310, 311, 29, 64, 68),  # ptrace process_vm_readv/writev shmget semget msgget
        "fork": (57, 58), "clone": (56,), "clone3": (435,),
    }),
    "aarch64": (0xC00000B7, {
        "signal": (129, 130, 131, 138, 240),
        "deny": (117, 270, 271, 194, 190, 186),
        "fork": (), "clone": (220,), "clone3": (435,),
    }),
}
_LD, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, ..JGE.., ..JSET.., RET|K
_ALLOW = 0x7FFF0000  # SECCOMP_RET_ALLOW
_ERRNO = 0x00050000  # SECCOMP_RET_ERRNO | errno
_EPERM, _EAGAIN, _ENOSYS = 1, 11, 38
_CLONE_THREAD = 0x00010000
_X32_BIT = 0x40000000
_ARG0 = 16  # offset of the low 32 bits of the first argument in struct seccomp_data (little-endian)

Instruction = tuple[int, "int | str", "int | str", int]


def _assemble(program: list[Instruction | str]) -> bytes:
    """Classic BPF from instructions whose jump targets may be label names (the strings in ``program``)."""
    labels: dict[str, int] = {}
    code: list[Instruction] = []
    for item in program:
        if isinstance(item, str):
            labels[item] = len(code)
        else:
            code.append(item)

    def offset(target: int | str, pc: int) -> int:
        return labels[target] - pc - 1 if isinstance(target, str) else target

    return b"".join(struct.pack("HBBI", op, offset(jt, pc), offset(jf, pc), k)
                    for pc, (op, jt, jf, k) in enumerate(code))


def seccomp_filter(machine: str, *, processes: bool) -> bytes | None:
    """The child's seccomp program for ``machine`` (None where we have no syscall table). It makes fail:

    * kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo aimed at pid 1 (the runner) or -1 (EPERM);
    * ptrace and process_vm_readv/writev (EPERM): the runner's memory is none of the code's business;
    * shmget, semget, msgget (EPERM): System V IPC objects outlive their processes and would reach the next job;
    * with ``processes=False``, fork, vfork and clone without CLONE_THREAD (EAGAIN, as at a process limit), and
      clone3 (ENOSYS, so that libc falls back to clone, whose flags a filter can read);
    * any other architecture's calling convention, i386 or x32 on x86_64 (EPERM).
    """
    if machine not in _ARCH:
        return None
    arch, calls = _ARCH[machine]
    program: list[Instruction | str] = [
        (_LD, 0, 0, 4), (_JEQ, 0, "deny", arch),
        (_LD, 0, 0, 0), (_JGE, "deny", 0, _X32_BIT),
        *[(_JEQ, "deny", 0, nr) for nr in calls["deny"]],
        *[(_JEQ, "check_pid", 0, nr) for nr in calls["signal"]],
    ]
    if not processes:
        program += [*[(_JEQ, "no_process", 0, nr) for nr in calls["fork"]],
                    *[(_JEQ, "check_clone", 0, nr) for nr in calls["clone"]],
                    *[(_JEQ, "no_syscall", 0, nr) for nr in calls["clone3"]]]
    program += [
        (_RET, 0, 0, _ALLOW),
        "check_pid", (_LD, 0, 0, _ARG0), (_JEQ, "deny", 0, 1), (_JEQ, "deny", "allow", 0xFFFFFFFF),
        "check_clone", (_LD, 0, 0, _ARG0), (_JSET, "allow", "no_process", _CLONE_THREAD),
        "allow", (_RET, 0, 0, _ALLOW),
        "deny", (_RET, 0, 0, _ERRNO | _EPERM),
        "no_process", (_RET, 0, 0, _ERRNO | _EAGAIN),
        "no_syscall", (_RET, 0, 0, _ERRNO | _ENOSYS),
    ]
    return _assemble(program)


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


# processes -> (the program's buffer, its sock_fprog), built in the zygote before any fork: each child then makes
# two prctl calls and nothing else (ctypes objects made anew in every child cost it pages and time).
_PREPARED: dict[bool, tuple[ctypes.Array[ctypes.c_char], _SockFprog] | None] = {}
_PRCTL: list[Any] = []  # libc.prctl


def prepare() -> None:
    """Compile both programs and resolve prctl now, so that each forked child only loads its program."""
    for processes in (True, False):
        program = seccomp_filter(platform.machine(), processes=processes)
        if program is None:
            _PREPARED[processes] = None
            continue
        buffer = ctypes.create_string_buffer(program, len(program))
        _PREPARED[processes] = buffer, _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    _PRCTL[:] = [ctypes.CDLL(None, use_errno=True).prctl]


def install_seccomp(*, processes: bool) -> bool:
    """Load ``seccomp_filter`` into this process (inherited by all it starts); False if that was not possible."""
    if processes not in _PREPARED:
        prepare()
    prepared = _PREPARED[processes]
    if prepared is None:
        return False
    prctl = _PRCTL[0]
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0:
        return False
    return bool(prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(prepared[1]), 0, 0) == 0)
