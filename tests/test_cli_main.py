"""``python -m selfdebug`` is the ``selfdebug`` console script: the same commands, help and error handling."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from selfdebug_cli import app
from selfdebug_cli.evaluate import _rare_collections

COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
CONSOLE_SCRIPT = Path(sys.executable).with_name("selfdebug")
# A fixed width, so that both spellings lay their help out alike.
ENV = {**os.environ, "COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"}


def _run(command: list[str], *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, *args], capture_output=True, text=True, check=False, timeout=60,
                          env={**ENV, **env})


def _module(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "selfdebug"], *args, **env)


def test_every_command_is_there() -> None:
    assert COMMANDS == ["batches", "evaluate", "jobs", "lsp", "report", "run", "serve", "solve", "worker"]
    done = _module("--help")
    assert done.returncode == 0, done.stderr
    assert "Usage: python -m selfdebug [OPTIONS] COMMAND" in done.stdout
    for name in COMMANDS:
        assert f" {name} " in done.stdout, name


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="the package is not installed with its console script")
@pytest.mark.parametrize("args", [(), *((name,) for name in COMMANDS)], ids=["top", *COMMANDS])
def test_help_matches_the_console_script(args: tuple[str, ...]) -> None:
    module = _module(*args, "--help")
    script = _run([str(CONSOLE_SCRIPT)], *args, "--help")
    assert module.returncode == script.returncode == 0, module.stderr + script.stderr
    # Word for word: the longer program name pads the lines differently.
    assert module.stdout.replace("python -m selfdebug", "selfdebug").split() == script.stdout.split()


def test_without_arguments_it_prints_help_and_exits_as_usage_error() -> None:
    module = _module()
    assert module.returncode == 2  # no_args_is_help: click's usage exit
    assert "Usage: python -m selfdebug" in module.stdout + module.stderr


def test_a_bad_setting_is_one_line_as_with_the_console_script() -> None:
    done = _module("worker", SELFDEBUG_HEARTBEAT_INTERVAL="-1")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: SELFDEBUG_HEARTBEAT_INTERVAL: Input should be greater"), done.stderr
    assert "Traceback" not in done.stderr


def test_a_command_runs() -> None:
    done = _module("report", "--help")
    assert done.returncode == 0
    missing = _module("evaluate", "--dataset", "humaneval", "--samples", "/nonexistent/samples.jsonl")
    assert missing.returncode == 2, missing.stderr  # the CLI's own input error, not a crash
    assert missing.stderr.startswith("error: "), missing.stderr


def test_evaluate_makes_collections_rare_only_while_it_runs() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), _rare_collections():
        assert gc.get_threshold() == (50_000, 20, 100)
        raise RuntimeError("the command failed")
    assert gc.get_threshold() == before  # a caller in the same process (a test, a notebook) keeps its own
