"""compose.yaml brought up for real, on the offline base image (compose.offline.yaml: no registry here), and a job
submitted through it: Redis, the API and a worker in containers, the sandboxes on the host's engine, the scripted
model on the host reached as host.docker.internal."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from sandbox.image import OFFLINE_BASE, connect, make_offline_base
from tests.llm.scripted_server import ScriptedOpenAIServer
from tests.service.harness import free_port, iter_sse, wait_for
from tests.service.scripted import problem, scripted_model_server
from tests.service.test_compose import ROOT, compose_command

# The first test also waits for the images to build (minutes on a cold cache).
pytestmark = [pytest.mark.docker, pytest.mark.timeout(1200)]

TOKEN = "compose-token-0001"
# The host's own added certificate authorities (here: the egress proxy between containers and PyPI), so that pip
# inside the image build trusts what the host trusts.
LOCAL_AUTHORITIES = Path("/usr/local/share/ca-certificates")


def _bridge_gateway(client: docker.DockerClient) -> str:
    """The host's address on Docker's default bridge: what host-gateway (host.docker.internal) resolves to."""
    config = client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    # Docker 20.10's API leaves Gateway out when it was not configured: the engine takes the subnet's first address.
    return str(config.get("Gateway") or next(ipaddress.ip_network(config["Subnet"]).hosts()))


def _extra_authorities() -> str:
    return "".join(path.read_text() for path in sorted(LOCAL_AUTHORITIES.glob("*.crt")))


class Stack:
    """One compose project of this test's own (its own name, port, image tag and volume)."""

    def __init__(self, llm: ScriptedOpenAIServer) -> None:
        self.name = f"selfdebug-test-{secrets.token_hex(3)}"
        self.port = free_port()
        self.env = {
            **os.environ,
            "SELFDEBUG_API_KEYS": f"ci:{TOKEN}",
            "SELFDEBUG_VERSION": "compose-test",
            "SELFDEBUG_PORT": str(self.port),
            "SELFDEBUG_LLM_BASE_URL": f"http://host.docker.internal:{llm.port}/v1",
            "SELFDEBUG_LLM_MODEL": llm.model,
            "SELFDEBUG_LLM_API_KEY": "unused",
            "SELFDEBUG_WORKER_CONCURRENCY": "2",
            "SELFDEBUG_EXTRA_CA_CERTS": _extra_authorities(),
        }

    def compose(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        files = ["-f", str(ROOT / "compose.yaml"), "-f", str(ROOT / "compose.offline.yaml")]
        return subprocess.run([*compose_command(), "-p", self.name, *files, *args], capture_output=True, text=True,
                              check=False, env=self.env, cwd=ROOT, timeout=timeout)

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "--tail", "40").stdout[-6000:]

    def containers(self, client: docker.DockerClient) -> list[Any]:
        return list(client.containers.list(all=True, filters={"label": f"com.docker.compose.project={self.name}"}))


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Stack, httpx.Client]]:
    client = connect()
    try:
        client.images.get(OFFLINE_BASE)
    except docker.errors.ImageNotFound:
        make_offline_base(client)
    with scripted_model_server(host=_bridge_gateway(client)) as llm:
        stack = Stack(llm)
        try:
            # The image builds take a few minutes the first time (Debian's packages, then PyPI), then are cached.
            up = stack.compose("up", "--detach", "--build", timeout=1200)
            assert up.returncode == 0, up.stderr[-4000:]
            with httpx.Client(base_url=f"http://127.0.0.1:{stack.port}",
                              headers={"Authorization": f"Bearer {TOKEN}"}, timeout=90) as http:

                def ready() -> bool:
                    try:
                        return http.get("/readyz").status_code == 200
                    except httpx.TransportError:
                        return False

                try:
                    wait_for(ready, 180, "the composed service to be ready", interval=1)
                except AssertionError as exc:
                    raise AssertionError(f"{exc}\n{stack.logs()}") from None
                yield stack, http
        finally:
            down = stack.compose("down", "--volumes", "--timeout", "30")
            assert down.returncode == 0, down.stderr[-2000:]
            assert stack.containers(client) == []


def test_a_job_goes_through_the_composed_service(stack: tuple[Stack, httpx.Client]) -> None:
    compose, http = stack
    ready = http.get("/readyz").json()
    assert ready["status"] == "ready" and all(check["ok"] for check in ready["checks"].values()), ready
    reply = http.post("/v1/jobs", params={"wait": 60}, json={"problem": problem(wrong_first=True)})
    assert reply.status_code == 200, reply.text
    job = reply.json()
    assert job["status"] == "succeeded", compose.logs()
    assert job["final_program"] == "def add(a, b):\n    return a + b\n"
    assert job["verdict"]["passed"] is True
    assert len(job["record"]["attempts"]) >= 2  # the wrong first program was run, then repaired
    with http.stream("GET", f"/v1/jobs/{job['id']}/events") as response:
        events = list(iter_sse(response))
    assert events[-1]["event"] == "status" and json.loads(events[-1]["data"])["status"] == "succeeded"
    assert "executed" in {event["event"] for event in events}


def test_the_composed_api_runs_code_in_a_sandbox(stack: tuple[Stack, httpx.Client]) -> None:
    _, http = stack
    reply = http.post("/v1/executions", json={"code": "def f(x):\n    return 2 * x\n",
                                                 "tests": ["assert f(2) == 4", "assert f(3) == 7"]})
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert [t["verdict"] for t in result["tests"]] == ["passed", "failed"]
    assert result["tests"][1]["actual"] == "6"


def test_redis_keeps_an_append_only_file(stack: tuple[Stack, httpx.Client]) -> None:
    compose, _ = stack
    done = compose.compose("exec", "-T", "redis", "redis-cli", "config", "get", "appendonly")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["appendonly", "yes"]


def test_a_crashed_worker_container_comes_back_and_leaves_no_sandbox_behind(stack: tuple[Stack, httpx.Client]) -> None:
    compose, http = stack
    client = connect()
    worker = next(c for c in compose.containers(client) if c.labels["com.docker.compose.service"] == "worker")
    worker.reload()
    started = worker.attrs["State"]["StartedAt"]
    owned = {"label": f"selfdebug.sandbox.container={worker.id}"}
    pool = {c.id for c in client.containers.list(sparse=True, filters=owned)}
    assert pool, "the worker's warm sandboxes carry its container id"
    os.kill(worker.attrs["State"]["Pid"], signal.SIGKILL)  # a crash: no shutdown, the pool is left running

    def restarted() -> bool:
        worker.reload()
        return bool(worker.attrs["State"]["Running"]) and worker.attrs["State"]["StartedAt"] != started

    wait_for(restarted, 60, "the restart policy to bring the worker back", interval=0.5)
    # The new worker process finds the old process's sandboxes orphaned (same container, restarted) and removes them.
    def reaped() -> bool:
        return not pool & {c.id for c in client.containers.list(all=True, sparse=True)}

    wait_for(reaped, 60, "the crashed worker's sandboxes to be removed", interval=0.5)
    job = http.post("/v1/jobs", params={"wait": 90}, json={"problem": problem("demo/after-crash")}).json()
    assert job["status"] == "succeeded", compose.logs()
