"""A bad setting stops any command with one line naming the environment variable, and never echoes its value."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _selfdebug(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from selfdebug_cli import run; run()", *args], capture_output=True,
                          text=True, check=False, timeout=60, env={**os.environ, **env})


@pytest.mark.parametrize("args, env, expected", [
    (("serve",), {"SELFDEBUG_API_KEYS": "demo:s3cr"}, "SELFDEBUG_API_KEYS: Value error, the token of key 'demo'"),
    (("worker",), {"SELFDEBUG_HEARTBEAT_INTERVAL": "-1"}, "SELFDEBUG_HEARTBEAT_INTERVAL: Input should be greater"),
    (("solve", "-e", "f", "def f(): ..."), {"SANDBOX_POOL_SIZE": "0"}, "SANDBOX_POOL_SIZE: Input should be greater"),
], ids=["api", "worker", "sandbox"])
def test_a_bad_setting_is_one_clear_line(args: tuple[str, ...], env: dict[str, str], expected: str) -> None:
    done = _selfdebug(*args, **env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {expected}"), done.stderr
    assert "Traceback" not in done.stderr and "s3cr" not in done.stderr  # a key stays secret


def test_evaluate_uses_a_container_per_core_unless_the_pool_size_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox import SandboxSettings
    from selfdebug_cli.evaluate import _pool_per_core

    monkeypatch.delenv("SANDBOX_POOL_SIZE", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(8)))
    assert _pool_per_core(SandboxSettings()).pool_size == 8
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert _pool_per_core(SandboxSettings()).pool_size == 2  # never fewer than the service's default
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(500)))
    assert _pool_per_core(SandboxSettings()).pool_size == 64  # SandboxSettings' own bound
    monkeypatch.setenv("SANDBOX_POOL_SIZE", "3")
    assert _pool_per_core(SandboxSettings()).pool_size == 3
