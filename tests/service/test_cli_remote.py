"""The command line against the real service (``selfdebug`` in a subprocess, as a user runs it): solve and run
with --server give what they give here (the same steps on stderr, the same program, the same folder, the same
exit codes); Ctrl-C cancels a remote solve's job and detaches a remote run, which a second run reattaches to;
``selfdebug jobs`` and ``selfdebug batches`` list, show and cancel."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from selfdebug.batch import load_records
from selfdebug_client import Client, JobStatus
from tests.service.conftest import KEYS
from tests.service.harness import ApiServer, free_port, wait_for
from tests.service.scripted import problem

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def env(service: ApiServer, service_env: dict[str, str]) -> dict[str, str]:
    """What a user's shell holds: the service, its key, and (for the local runs) the same model endpoint."""
    return {**os.environ, **service_env, "SELFDEBUG_URL": service.url, "SELFDEBUG_API_KEY": KEYS["alice"],
            "COLUMNS": "200", "NO_COLOR": "1", "SANDBOX_POOL_SIZE": "1"}


@pytest.fixture
def client(service: ApiServer) -> Iterator[Client]:
    with Client(service.url, KEYS["alice"]) as alice:
        yield alice


def selfdebug(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "selfdebug", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False)


# `python -m selfdebug ARGS` with Ctrl-C raising KeyboardInterrupt even where this test run was started as a background
# job without job control: such a job ignores SIGINT, its children inherit that, and Python then keeps ignoring it.
_WITH_CTRL_C = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                "sys.argv = ['selfdebug', *sys.argv[1:]]; runpy.run_module('selfdebug', run_name='__main__')")


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", _WITH_CTRL_C, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def stop(process: subprocess.Popen[str]) -> None:
    """Kill the command if it is still running and close its pipes (an open pipe left to the garbage collector is a
    ResourceWarning in whatever test runs next, and its event stream would hold a slot of the API's)."""
    if process.poll() is None:
        process.kill()
    process.communicate()


def steps(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("[")]


def test_solve_on_the_service_shows_what_a_local_solve_shows(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "add.json"
    path.write_text(json.dumps(problem("cli/add", wrong_first=True)))
    here_record, there_record = tmp_path / "here.json", tmp_path / "there.json"
    # SELFDEBUG_URL is set: --local runs the engine here anyway.
    here = selfdebug(env, "solve", str(path), "--local", "--record", str(here_record))
    there = selfdebug(env, "solve", str(path), "--record", str(there_record))
    assert here.returncode == there.returncode == 0, here.stderr + there.stderr
    assert there.stdout == here.stdout and "return a + b" in there.stdout
    assert steps(there.stderr) == steps(here.stderr), (here.stderr, there.stderr)
    assert "[0] program_generated: 2 lines" in steps(there.stderr)
    assert any(" evaluated: hidden tests by iteration: [False, True" in line for line in steps(here.stderr)), steps(
        here.stderr)
    assert json.loads(there_record.read_text())["final_program"] == json.loads(here_record.read_text())["final_program"]


def test_the_exit_codes_are_the_same_here_and_on_the_service(env: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(problem("cli/broken", llm_error=True)))  # the model endpoint answers 500
    here, there = selfdebug(env, "solve", str(broken), "--local"), selfdebug(env, "solve", str(broken))
    assert here.returncode == there.returncode == 3, here.stderr + there.stderr
    for done in (here, there):
        assert "error: the LLM endpoint failed" in done.stderr and done.stdout == ""
    stranger = selfdebug({**env, "SELFDEBUG_API_KEY": "not-a-real-key"}, "solve", str(broken))
    assert stranger.returncode == 4 and "401 unauthorized: unknown API key" in stranger.stderr
    nowhere = selfdebug(env, "solve", str(broken), "--server", f"http://127.0.0.1:{free_port()}")
    assert nowhere.returncode == 4 and "could not be reached" in nowhere.stderr
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({**problem("cli/huge"), "prompt": "def add(a, b):\n" + "#" * 60_000}))
    refused = selfdebug(env, "solve", str(huge))
    assert refused.returncode == 2 and "the service refused the request" in refused.stderr
    assert selfdebug(env, "run", "-d", "humaneval", "-o", str(tmp_path), "--seeds", str(huge)).returncode == 2
    unnamed = selfdebug({**env, "SELFDEBUG_URL": ""}, "jobs", "list")
    assert unnamed.returncode == 2 and "--server" in unnamed.stderr


def test_ctrl_c_cancels_a_remote_solve_s_job(env: dict[str, str], client: Client, tmp_path: Path) -> None:
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(problem("cli/nap", "nap")))  # its self-tests sleep 30 s in the sandbox
    process = start(env, "solve", str(path))
    try:
        job = wait_for(lambda: next(iter(client.jobs.list(status=JobStatus.RUNNING)), None), 30, "the job to run")
        time.sleep(0.5)  # the command has its answer: it follows the events now (it cancels either way)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)  # patient: the machine may be loaded
    finally:
        stop(process)
    assert process.returncode == 130, stderr
    assert f"cancelled job {job.id}" in stderr and "error: interrupted" in stderr
    assert client.jobs.wait(job, timeout=20).status is JobStatus.CANCELLED


def _problems_file(tmp_path: Path, slow: float = 0.0) -> Path:
    path = tmp_path / "toy.jsonl"
    path.write_text("".join(json.dumps(problem(f"toy/{i}", wrong_first=i == 1, slow=slow)) + "\n" for i in range(3)))
    return path


def test_run_on_the_service_writes_a_local_run_s_folder_and_reattaches(env: dict[str, str], client: Client,
                                                                       tmp_path: Path) -> None:
    dataset, out = _problems_file(tmp_path), tmp_path / "out"
    args = ("run", "-d", str(dataset), "-s", "none,post_execution", "-o", str(out), "--max-iterations", "1")
    done = selfdebug(env, *args)
    assert done.returncode == 0, done.stderr
    assert "| post_execution/detail | 3 | 66.7 | 100.0 |" in done.stdout, done.stdout
    folder = out / "toy"
    for label in ("none", "post_execution-detail"):
        records = load_records(folder / label / "results.jsonl")
        assert sorted(r.task_id for r in records) == ["toy/0", "toy/1", "toy/2"]
        state = json.loads((folder / label / "batch.json").read_text())
        assert state["complete"] and state["status"] == "succeeded" and state["server"] == client.base_url
        assert json.loads((folder / label / "options.json").read_text())["max_iterations"] == 1
    assert (folder / "report.md").read_text().startswith("# Self-debugging on toy")
    assert (folder / "pass_at_1.png").read_bytes()[:4] == b"\x89PNG"
    report = selfdebug(env, "report", str(folder))
    assert report.returncode == 0 and "| none | 3 |" in report.stdout
    batches = [b.id for b in client.batches.list()]
    assert len(batches) == 2
    again = selfdebug(env, *args)  # everything is here: nothing is submitted
    assert again.returncode == 0 and again.stdout == done.stdout
    assert [b.id for b in client.batches.list()] == batches
    other = selfdebug(env, *args[:-1], "2")
    assert other.returncode == 2 and "other options" in other.stderr


def test_ctrl_c_detaches_a_remote_run_and_running_it_again_reattaches(env: dict[str, str], client: Client,
                                                                      tmp_path: Path) -> None:
    # Slow enough that the run is still going when the signal comes, however long the polling below takes.
    dataset, out = _problems_file(tmp_path, slow=5.0), tmp_path / "out"
    args = ("run", "-d", str(dataset), "-s", "none", "-o", str(out), "-c", "1")
    process = start(env, *args)
    try:
        batch = wait_for(lambda: next(iter(client.batches.list()), None), 30, "the batch")
        wait_for(lambda: client.batches.get(batch).done >= 1, 60, "a job of the batch to end")
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        stop(process)
    assert process.returncode == 130, stderr
    assert f"detached from batch {batch.id}" in stderr
    assert client.batches.get(batch).status.value == "running"  # it runs on
    state = json.loads((out / "toy" / "none" / "batch.json").read_text())
    assert state["batch_id"] == batch.id and not state["complete"]
    again = selfdebug(env, *args)
    assert again.returncode == 0, again.stderr
    assert [b.id for b in client.batches.list()] == [batch.id]  # reattached, not started again
    assert len(load_records(out / "toy" / "none" / "results.jsonl")) == 3


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_jobs_and_batches_commands(env: dict[str, str], client: Client, service: ApiServer) -> None:
    ended = client.jobs.submit(problem("cmd/ended"), {"strategy": "none"}, wait=30)
    slow = client.jobs.submit(problem("cmd/nap", "nap"))  # its self-tests sleep 30 s in the sandbox
    listed = selfdebug(env, "jobs", "list", "--json")
    assert listed.returncode == 0 and [j["id"] for j in _json_lines(listed.stdout)] == [slow.id, ended.id]
    table = selfdebug(env, "jobs", "list", "--limit", "1")
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["JOB", "STATUS", "CREATED", "STRATEGY", "VERDICT", "BATCH", "TASK"]
    assert len(lines) == 2 and lines[1].startswith(slow.id)
    shown = selfdebug(env, "jobs", "show", ended.id)
    assert shown.returncode == 0 and "status:   succeeded" in shown.stdout and "return a + b" in shown.stdout
    assert "passed (hidden_tests)" in shown.stdout
    whole = json.loads(selfdebug(env, "jobs", "show", ended.id, "--json").stdout)
    assert whole["record"]["final_program"] == ended.final_program
    cancel = selfdebug(env, "jobs", "cancel", slow.id)
    assert cancel.returncode == 0 and cancel.stdout.startswith(f"job {slow.id}: ")
    assert client.jobs.wait(slow, timeout=20).status is JobStatus.CANCELLED
    conflict = selfdebug(env, "jobs", "cancel", ended.id)
    assert conflict.returncode == 4 and "409 conflict" in conflict.stderr
    other = selfdebug({**env, "SELFDEBUG_API_KEY": KEYS["bob"]}, "jobs", "show", ended.id)
    assert other.returncode == 4 and "403 forbidden" in other.stderr
    missing = selfdebug(env, "jobs", "show", "0" * 32, "--server", service.url)
    assert missing.returncode == 4 and "404 not_found" in missing.stderr

    batch = client.batches.submit(problems=[problem(f"cmd/b{i}", "nap") for i in range(2)], concurrency=1)
    rows = selfdebug(env, "batches", "list").stdout.splitlines()
    assert rows[0].split() == ["BATCH", "STATUS", "CREATED", "DONE", "STRATEGY", "SOURCE"]
    assert rows[1].startswith(batch.id) and " 0/2 " in rows[1]
    assert [j["batch_id"] for j in _json_lines(selfdebug(env, "jobs", "list", "--batch", batch.id, "--json")
                                               .stdout)] == [batch.id, batch.id]
    cancelled = selfdebug(env, "batches", "cancel", batch.id)
    assert cancelled.returncode == 0 and cancelled.stdout.startswith(f"batch {batch.id}: ")
    client.batches.wait(batch, timeout=30)
    shown = selfdebug(env, "batches", "show", batch.id)
    assert "status:   cancelled" in shown.stdout and "| strategy |" in shown.stdout
    assert json.loads(selfdebug(env, "batches", "show", batch.id, "--json").stdout)["report"]["problems"] == 2
    assert [b["id"] for b in _json_lines(selfdebug(env, "batches", "list", "--json", "--status", "cancelled")
                                         .stdout)] == [batch.id]
