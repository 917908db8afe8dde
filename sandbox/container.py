"""One sandbox container and the line protocol to the runner inside it.

The container is created with stdin open and no TTY; the host attaches to it once, before starting it, and
then every request is one JSON line written to the runner's stdin and every reply one JSON line on its stdout.
Docker multiplexes the attached output into frames (8-byte header: stream, 0, 0, 0, big-endian size).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import struct
import time
import uuid
from typing import Any

import docker.errors
from docker.client import DockerClient

from sandbox.errors import ContainerError
from sandbox.settings import MiB, SandboxSettings

__all__ = ["Container", "container_config", "new_child_uid"]

WORK_DIR = "/work"
SANDBOX_UID = 10001
CHILD_UID_BASE = 1_000_000  # above the ids of real users and of the usual subordinate-id ranges
CHILD_UID_SPAN = 1_000_000_000
SHM_BYTES = 16 * MiB
SHM_INODES = 2048
_STDOUT = 1
_MAX_LOG = 64 * 1024
_ABORT_POLL = 0.5  # seconds a reply wait may go without checking whether the run was aborted
# Under gVisor the pids cgroup counts the sandbox kernel's own host threads (about 40 idle, more under load), not
# the processes of the code under test, which the runner's seccomp filter bounds instead (see runner/confine.py);
# the container's `pids` setting there would starve the sandbox kernel and kill the container.
RUNSC_HOST_TASKS = 512


def new_child_uid() -> int:
    """A uid of the container's own for the code under test. Per-user kernel counters (inotify instances, POSIX
    message-queue bytes, RLIMIT_NPROC) are shared by every process of a uid across containers when there is no
    user namespace: a distinct uid per container keeps one run from exhausting them for runs elsewhere."""
    return CHILD_UID_BASE + secrets.randbelow(CHILD_UID_SPAN)


def container_config(settings: SandboxSettings, image: str, labels: dict[str, str],
                     child_uid: int = SANDBOX_UID) -> dict[str, Any]:
    """The ``docker create`` options that make a container a sandbox.

    The runner starts as root with only CAP_SETUID, CAP_SETGID and CAP_KILL (no-new-privileges, every other
    capability dropped), so that each child it starts can drop to ``child_uid`` and neither it nor anything it does
    can reach the runner (see runner/runner.py). The writable directories belong to ``child_uid``.
    """
    tmpfs = f"rw,nosuid,nodev,noexec,size={settings.disk_bytes},nr_inodes={settings.disk_inodes}"
    owned = f"{tmpfs},uid={child_uid},gid={child_uid},mode=0700"
    shm = f"rw,nosuid,nodev,noexec,size={SHM_BYTES},nr_inodes={SHM_INODES},uid={child_uid},gid={child_uid},mode=0700"
    return {
        "image": image,
        "stdin_open": True,
        "tty": False,
        "detach": True,
        "network_mode": "none",
        "read_only": True,
        "user": "0:0",
        "cap_drop": ["ALL"],
        "cap_add": ["SETUID", "SETGID", "KILL"],
        "security_opt": ["no-new-privileges"],
        "mem_limit": settings.memory_bytes,
        "memswap_limit": settings.memory_bytes,  # no swap: memory over the limit is an OOM kill, not slowness
        "pids_limit": settings.pids if settings.runtime == "runc" else max(settings.pids, RUNSC_HOST_TASKS),
        "nano_cpus": int(settings.cpus * 1e9),
        "tmpfs": {WORK_DIR: owned, "/tmp": owned, "/dev/shm": shm},  # /dev/shm too: Docker's own has no inode limit
        # Nothing from the host. The hash seed must be there when the runner's interpreter starts: its hash secret
        # is fixed then, and every child the zygote forks for a run inherits it.
        "environment": {"PYTHONHASHSEED": str(settings.hash_seed), "SANDBOX_CHILD_UID": str(child_uid)},
        "runtime": settings.runtime,
        "labels": labels,
        "ulimits": [docker.types.Ulimit(name="nofile", soft=settings.open_files, hard=settings.open_files)],
        "working_dir": WORK_DIR,
    }


class Container:
    """A started sandbox container with its runner answering on an attached socket."""

    def __init__(self, client: DockerClient, settings: SandboxSettings, image: str, labels: dict[str, str]) -> None:
        self.settings = settings
        self.jobs = 0
        self.dirty = False  # set when the container can no longer be trusted to run another job
        self._aborted = False
        self._buffer = bytearray()
        self._frame_left = 0
        self._frame_stream = 0
        self._log = bytearray()
        try:
            self.child_uid = new_child_uid()
            self._container = client.containers.create(**container_config(settings, image, labels, self.child_uid))
        except docker.errors.DockerException as exc:
            raise ContainerError(f"could not create a sandbox container: {exc}") from exc
        self.id: str = self._container.id or ""
        try:
            raw = client.api.attach_socket(self.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            self._raw = raw  # a SocketIO over the socket: both must be closed to release the descriptor
            self._sock: socket.socket = getattr(raw, "_sock", raw)
            self._container.start()
            hello = self.request({"op": "ping"}, timeout=settings.start_timeout)
            if not hello.get("isolated") or hello.get("uid") != self.child_uid:
                raise ContainerError(f"the runner does not run code as a uid of its own: {hello}")
        except (docker.errors.DockerException, OSError, ContainerError) as exc:
            self.remove()
            raise ContainerError(f"sandbox container {self.id[:12]} did not start: {exc}") from exc

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait up to ``timeout`` seconds for its reply."""
        request_id = uuid.uuid4().hex
        line = json.dumps({**payload, "id": request_id}).encode() + b"\n"
        deadline = time.monotonic() + timeout
        try:
            self._sock.settimeout(min(timeout, 30.0))
            self._sock.sendall(line)
            while True:
                reply = self._read_line(deadline)
                if reply.get("id") == request_id:
                    break
        except (OSError, ValueError) as exc:
            self.dirty = True
            raise ContainerError(f"runner in {self.short_id} broke off: {exc}; {self.log_tail()}") from exc
        if "error" in reply:
            self.dirty = True
            raise ContainerError(f"runner in {self.short_id} failed: {reply['error']}")
        return reply

    def _read_line(self, deadline: float) -> dict[str, Any]:
        scanned = 0  # bytes already searched for the newline: a 100 MB reply must not be searched once per recv
        while True:
            end = self._buffer.find(b"\n", scanned)
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return dict(json.loads(line))
            scanned = len(self._buffer)
            self._fill(deadline)

    def _fill(self, deadline: float) -> None:
        """Read one chunk of the multiplexed stream into the stdout buffer (or the stderr log)."""
        if self._frame_left == 0:
            header = self._recv_exact(8, deadline)
            self._frame_stream = header[0]
            (self._frame_left,) = struct.unpack(">I", header[4:])
            return
        chunk = self._recv(min(self._frame_left, 1 << 20), deadline)
        self._frame_left -= len(chunk)
        if self._frame_stream == _STDOUT:
            self._buffer += chunk
        else:
            self._log = (self._log + chunk)[-_MAX_LOG:]

    def _recv_exact(self, size: int, deadline: float) -> bytes:
        data = bytearray()
        while len(data) < size:
            data += self._recv(size - len(data), deadline)
        return bytes(data)

    def _recv(self, size: int, deadline: float) -> bytes:
        """Some bytes of the reply. Waits in short slices so that ``abort()`` from another thread always ends the
        wait promptly, whatever happened to the socket meanwhile."""
        while True:
            if self._aborted:
                raise ConnectionError("the run was aborted")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply in time")
            self._sock.settimeout(min(left, _ABORT_POLL))
            try:
                chunk = self._sock.recv(size)
            except TimeoutError:
                continue
            if not chunk:
                raise ConnectionError("the runner closed its output (the container died?)")
            return chunk

    def abort(self) -> None:
        """Stop whatever the container is running, from any thread: the thread waiting for its reply raises
        ``ContainerError`` at once (at the latest after a short poll), and the container is removed."""
        self._aborted = True
        with contextlib.suppress(OSError, AttributeError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv right away
        self.remove()

    def log_tail(self) -> str:
        text = self._log.decode("utf-8", "replace").strip()
        return f"runner stderr: {text[-2000:]}" if text else "runner wrote nothing to stderr"

    def state(self) -> dict[str, Any]:
        """Docker's view of the container (status, OOM-killed, exit code)."""
        try:
            self._container.reload()
        except docker.errors.DockerException:
            return {"Status": "gone"}
        return dict(self._container.attrs.get("State", {}))

    def remove(self) -> None:
        """Kill and delete the container; safe to call twice."""
        self.dirty = True
        for stream in (getattr(self, "_raw", None), getattr(self, "_sock", None)):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            self._container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.DockerException:
            # Removal can race with the engine's own cleanup; the reaper catches whatever this leaves.
            pass
