"""Who owns a sandbox container, written on it as labels, so that a reaper can tell a live owner from a dead one.

An owner is a process: its host name, pid and start time (a pid alone is reused: a worker restarted in its
container is pid 1 again). When the owner itself runs in a container on the same engine (compose), that
container's id is written too, and a reaper anywhere on the engine removes the sandboxes of an owner container
that is gone or stopped: the owner's own host name and pids are out of every other process's sight.
"""

from __future__ import annotations

import functools
import os
import re
import socket
from collections.abc import Mapping
from pathlib import Path

import docker.errors
from docker.client import DockerClient

__all__ = ["owner_is_gone", "owner_labels"]

# Docker bind-mounts /etc/hostname, /etc/hosts and /etc/resolv.conf from /var/lib/docker/containers/<id>/.
_CONTAINER_MOUNT = re.compile(r"/containers/([0-9a-f]{64})/(?:hostname|hosts|resolv\.conf)\s")


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
    return stat[stat.rindex(")") + 2:].split()[19]


@functools.cache
def _own_container_id() -> str | None:
    try:
        mounts = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return None
    found = _CONTAINER_MOUNT.search(mounts)
    return found.group(1) if found else None


def _container_on(client: DockerClient) -> tuple[str, str] | None:
    """This process's container id and its start, if it runs in a container of ``client``'s engine."""
    own = _own_container_id()
    if own is None:
        return None
    try:
        return own, str(client.containers.get(own).attrs["State"]["StartedAt"])
    except docker.errors.DockerException:
        return None  # another engine's container (DOCKER_HOST elsewhere): its id means nothing there


def owner_labels(client: DockerClient, label: str, pool_id: str) -> dict[str, str]:
    """The labels of a container that this process (pool ``pool_id``) starts on ``client``'s engine."""
    pid = os.getpid()
    labels = {label: "1", f"{label}.pool": pool_id, f"{label}.host": socket.gethostname(), f"{label}.pid": str(pid),
              f"{label}.started": _start_time(pid) or ""}
    container = _container_on(client)
    if container is not None:
        labels[f"{label}.container"], labels[f"{label}.container_started"] = container
    return labels


def owner_is_gone(client: DockerClient, label: str, labels: Mapping[str, str]) -> bool:
    """Whether the owner named by a container's ``labels`` is certainly dead (unsure means alive)."""
    container = labels.get(f"{label}.container")
    if container and container != _own_container_id():
        try:
            state = client.containers.get(container).attrs["State"]
        except docker.errors.NotFound:
            return True
        except docker.errors.DockerException:
            return False
        # Stopped, or restarted since (a worker killed and brought back by its restart policy): its sandboxes
        # belong to a process that no longer exists.
        return not state.get("Running") or state.get("StartedAt") != labels.get(f"{label}.container_started")
    if labels.get(f"{label}.host") != socket.gethostname():
        return False  # another host's (or container's) process: not ours to judge
    pid = labels.get(f"{label}.pid", "")
    if not pid.isdigit():
        return True
    started = _start_time(int(pid))
    if started is None:
        return True
    # Older labels carry no start time: the pid being alive is all we can go on.
    return bool(labels.get(f"{label}.started")) and labels[f"{label}.started"] != started
