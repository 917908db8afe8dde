"""A sandbox's owner is known dead by its pid and start time, or by its own container's state; the reaper removes
exactly the containers of dead owners."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from sandbox import reap_orphans
from sandbox.image import connect
from sandbox.owners import owner_is_gone, owner_labels

pytestmark = pytest.mark.docker

# A label of this test run's own, so the reaper under test never touches anybody else's containers.
LABEL = f"selfdebug.test-owners-{os.getpid()}"


@pytest.fixture(scope="module")
def client() -> docker.DockerClient:
    return connect()


@pytest.fixture(scope="module")
def image(client: docker.DockerClient) -> str:
    # Any image with a shell that sleeps: the sandbox image (always present when these tests run).
    return "selfdebug-sandbox:latest"


@pytest.fixture
def started(client: docker.DockerClient, image: str) -> Iterator[Any]:
    """Start containers; remove them all at the end."""
    made: list[Any] = []

    def start(labels: dict[str, str] | None = None) -> Any:
        container = client.containers.run(image, ["sleep", "600"], detach=True, labels={**(labels or {}), LABEL: "1"},
                                          network_mode="none", entrypoint=[])
        made.append(container)
        return container

    yield start
    for container in made:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


def test_this_process_is_alive_and_its_pid_reused_is_not(client: docker.DockerClient) -> None:
    labels = owner_labels(client, LABEL, "pool")
    assert labels[f"{LABEL}.pid"] == str(os.getpid()) and labels[f"{LABEL}.started"].isdigit()
    assert not owner_is_gone(client, LABEL, labels)
    # The same pid, started at another time: another process now holds the pid.
    assert owner_is_gone(client, LABEL, {**labels, f"{LABEL}.started": "1"})
    assert owner_is_gone(client, LABEL, {**labels, f"{LABEL}.pid": str(_dead_pid())})
    assert owner_is_gone(client, LABEL, {**labels, f"{LABEL}.pid": "garbage"})
    # Older labels, with no start time: a live pid is taken as the owner.
    assert not owner_is_gone(client, LABEL, {k: v for k, v in labels.items() if not k.endswith(".started")})


def test_another_hosts_owner_is_never_judged_by_pid(client: docker.DockerClient) -> None:
    labels = {f"{LABEL}.host": socket.gethostname() + "-elsewhere", f"{LABEL}.pid": str(_dead_pid())}
    assert not owner_is_gone(client, LABEL, labels)


def test_an_owner_container_is_judged_by_its_state(client: docker.DockerClient, started: Any) -> None:
    owner = started()
    owner.reload()
    labels = {f"{LABEL}.host": owner.id[:12], f"{LABEL}.pid": "1",
              f"{LABEL}.container": owner.id, f"{LABEL}.container_started": owner.attrs["State"]["StartedAt"]}
    assert not owner_is_gone(client, LABEL, labels)
    # Restarted since (a crash and its restart policy): a new process, so the old sandboxes are orphans.
    assert owner_is_gone(client, LABEL, {**labels, f"{LABEL}.container_started": "2020-01-01T00:00:00Z"})
    owner.kill()
    assert owner_is_gone(client, LABEL, labels)
    owner.remove(force=True)
    assert owner_is_gone(client, LABEL, labels)


def test_the_reaper_removes_exactly_the_orphans(client: docker.DockerClient, started: Any) -> None:
    owner, gone_owner = started(), started()
    owner.reload()
    gone_owner.reload()

    def sandbox_of(container: Any) -> Any:
        return started({f"{LABEL}.host": container.id[:12], f"{LABEL}.pid": "1", f"{LABEL}.container": container.id,
                        f"{LABEL}.container_started": container.attrs["State"]["StartedAt"]})

    kept = [sandbox_of(owner), started(owner_labels(client, LABEL, "mine"))]
    dead_process = {f"{LABEL}.host": socket.gethostname(), f"{LABEL}.pid": str(_dead_pid())}
    doomed = [sandbox_of(gone_owner), started(dead_process)]
    gone_owner.kill()
    # The owners themselves carry only LABEL (no owner labels of their own): unsure, so kept.
    assert reap_orphans(client, LABEL) == len(doomed)
    left = {c.id for c in client.containers.list(all=True, filters={"label": LABEL})}
    assert {c.id for c in kept} <= left
    assert not {c.id for c in doomed} & left
