"""Every sandboxed run hashes strings with the same seed (``SANDBOX_HASH_SEED``, default 0), so a verdict that
depends on set order (MBPP/480's ``max(set(s), key=s.count)`` with ties) is the same in every container."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from sandbox import Sandbox, SandboxSettings

# Set order, a tie broken by set order, a str hash itself, and the hash in a process the program starts.
PROGRAM = """
import subprocess, sys

def order():
    s = "abcdefgh" * 2
    words = list({"apple", "pear", "fig", "kiwi", "plum", "lime"})
    again = subprocess.run([sys.executable, "-c", "print(hash('selfdebug'))"], capture_output=True, text=True)
    return words, max(set(s), key=s.count), hash("selfdebug"), int(again.stdout)
"""
SMALL: dict[str, Any] = {"pool_size": 1, "test_timeout": 10.0, "job_timeout": 20.0}
RUNS = 3
OTHER_SEED = 3  # one whose order and tie-break differ from seed 0's (checked below, not assumed)


def _order(settings: SandboxSettings) -> list[Any]:
    """What the program returns in a fresh pool, that is in a newly started container."""
    with Sandbox(settings) as box:
        result = box.run_calls(PROGRAM, "order", [[]])
    test = result.tests[0]
    assert test.passed, test
    return list(test.output)


def _host_hash(seed: int) -> int:
    done = subprocess.run([sys.executable, "-c", "print(hash('selfdebug'))"], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}, timeout=30)
    return int(done.stdout)


@pytest.mark.docker
def test_the_same_program_gives_the_same_output_in_every_container() -> None:
    outputs = [_order(SandboxSettings(**SMALL)) for _ in range(RUNS)]
    assert all(output == outputs[0] for output in outputs), outputs
    words, winner, in_child, in_subprocess = outputs[0]
    assert in_child == in_subprocess == _host_hash(0)  # the documented default, in the runner and below it
    assert sorted(words) == ["apple", "fig", "kiwi", "lime", "pear", "plum"] and winner in "abcdefgh"


@pytest.mark.docker
def test_another_seed_gives_another_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_HASH_SEED", str(OTHER_SEED))
    settings = SandboxSettings(**SMALL)
    assert settings.hash_seed == OTHER_SEED
    first, second = _order(settings), _order(settings)
    assert first == second
    default = _order(SandboxSettings(**SMALL, hash_seed=0))
    assert first[0] != default[0] and first[1] != default[1], (first, default)
    assert first[2] == first[3] == _host_hash(OTHER_SEED)


def test_the_seed_is_a_setting_in_pythons_range() -> None:
    assert SandboxSettings().hash_seed == 0
    assert SandboxSettings(hash_seed=2**32 - 1).hash_seed == 2**32 - 1
    for bad in (-1, 2**32):
        with pytest.raises(ValueError, match="hash_seed"):
            SandboxSettings(hash_seed=bad)
