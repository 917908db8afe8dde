"""Every benchmark also runs here in a smoke size, so a rename or a moved import can't break one unnoticed: each
must finish and print its ratio line (the full sizes stay manual)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(name: str, *args: str, timeout: float = 1800) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ}, check=False)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.llm
@pytest.mark.timeout(1900)  # the native build is compiled once (about 9 minutes), then cached
def test_bench_embedded_smoke() -> None:
    out = run_benchmark("bench_embedded.py", "--smoke")
    assert re.search(r"portable [\d.]+ tok/s  native [\d.]+ tok/s  portable/native [\d.]+$", out.strip()), out
