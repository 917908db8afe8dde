"""The embedded server really answers, and its death is named as a death: the exit signal, the log's path and its
last lines, a restart, and a call that fails with that reason only when the restarted server dies too."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sandbox import AsyncSandbox, Sandbox
from selfdebug.llm import EmbeddedModel, EmbeddedServer, EmbeddedServerCrashed, LLMSettings, Message
from selfdebug.llm.embedded.verify import verify_completion
from selfdebug.loop import Debugger
from selfdebug.options import DebugOptions
from selfdebug.problems import Problem
from selfdebug.record import StopReason

pytestmark = [pytest.mark.llm, pytest.mark.timeout(240)]

LONG: list[Message] = [{"role": "user", "content": "Write a long Python module with ten small functions."}]
PROBLEM = Problem(
    task_id="crash/double",
    prompt='def double(x: int) -> int:\n    """Return x multiplied by two."""\n',
    entry_point="double",
    given_tests=["assert double(3) == 6"],
)


def settings(**overrides: object) -> LLMSettings:
    return LLMSettings(max_tokens=160, embedded_context=2048, **overrides)  # type: ignore[arg-type]


def kill_when_busy(server: EmbeddedServer, sig: signal.Signals = signal.SIGSEGV) -> threading.Thread:
    """Kill the server once it is generating (its CPU time grows), as a fault on a completion would."""

    def cpu_ticks(pid: int) -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def run() -> None:
        pid = server.pid
        assert pid is not None
        start = cpu_ticks(pid)
        while server.running and cpu_ticks(pid) - start < 20:  # 0.2 s of CPU: past start-up, into generation
            threading.Event().wait(0.05)
        os.kill(pid, sig)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_setup_check_gets_a_real_completion_from_the_installed_build() -> None:
    done = subprocess.run([sys.executable, "-m", "selfdebug.llm.embedded", "check"],
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert "the embedded model answers:" in done.stdout and "tokens/s" in done.stdout


def test_a_real_completion_and_a_crash_during_one_named_with_its_signal_and_log() -> None:
    with EmbeddedServer(context=2048) as server:
        answer = verify_completion(server, max_tokens=8)
        assert answer.text.strip() and 0 < answer.completion_tokens <= 8 and answer.tokens_per_second > 0
        killer = kill_when_busy(server, signal.SIGILL)
        with pytest.raises(EmbeddedServerCrashed) as caught:
            verify_completion(server, max_tokens=400)
        killer.join()
    crash = caught.value
    assert crash.returncode == -signal.SIGILL and "killed by signal 4 (SIGILL)" in str(crash)
    assert "--level x86-64-v2" in str(crash)  # the fix is named
    assert crash.log_path is not None and Path(crash.log_path).is_file()  # the log is kept as evidence
    assert crash.log_path in str(crash) and crash.log_tail and "server log (last lines)" in str(crash)
    Path(crash.log_path).unlink()


def test_a_server_killed_mid_request_is_restarted_and_the_request_answered() -> None:
    async def go() -> tuple[EmbeddedModel, int]:
        async with EmbeddedModel.open(settings()) as model:
            first = model.server.pid
            assert first is not None
            killer = kill_when_busy(model.server)
            completion = await model.complete(LONG)
            killer.join()
            assert completion.text.strip()
            assert model.server.running and model.server.pid != first
            return model, first

    model, first = asyncio.run(go())
    assert model.restarts == 1 and model.last_crash is not None
    assert f"(pid {first}) was killed by signal 11 (SIGSEGV)" in model.last_crash.reason
    assert model.health() == {"embedded": True, "running": False, "restarts": 1,
                              "last_crash": model.last_crash.reason}  # stopped on exit


def test_a_job_whose_server_dies_again_after_its_restart_fails_naming_the_crash_and_the_restart(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def go() -> tuple[EmbeddedModel, object]:
        async with EmbeddedModel.open(settings()) as model:
            start = model.server.astart

            async def start_then_fault() -> None:  # the restarted server dies on its first completion too
                await start()
                kill_when_busy(model.server)

            monkeypatch.setattr(model.server, "astart", start_then_fault)
            kill_when_busy(model.server)
            debugger = Debugger(model, AsyncSandbox(sandbox=sandbox), DebugOptions(strategy="post_execution"))
            return model, await debugger.run(PROBLEM)

    model, record = asyncio.run(go())
    assert model.restarts == 1
    assert record.stop_reason == StopReason.LLM_ERROR  # type: ignore[attr-defined]
    error = record.error  # type: ignore[attr-defined]
    assert error.startswith("EmbeddedServerCrashed: the embedded model server (pid ")
    assert "killed by signal 11 (SIGSEGV)" in error and "restarted once after it first was killed by signal 11" in error
    assert "its log: " in error and "server log (last lines)" in error
