"""A worker starts cleanly: one job task, registered once, on the app the worker runs (no DuplicateTaskNameWarning)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest
import redis

from tests.service.harness import WorkerProcess
from workers import RUN_JOB, ServiceSettings, make_celery

CONSOLE_SCRIPT = Path(sys.executable).with_name("selfdebug")
SELFDEBUG = [str(CONSOLE_SCRIPT)] if CONSOLE_SCRIPT.exists() else [sys.executable, "-m", "selfdebug"]


def test_every_app_has_its_own_job_task() -> None:
    first = make_celery(ServiceSettings(queue="first"))
    second = make_celery(ServiceSettings(queue="second"))
    for app in (first, second):
        app.finalize()  # a task shared between apps makes the later one warn here (an error under pytest)
        task = app.tasks[RUN_JOB]
        assert inspect.getclosurevars(task.run).nonlocals["app"] is app  # its own settings, not another app's


@pytest.mark.docker  # the threads pool starts its sandbox pool at once
@pytest.mark.parametrize("command", [[*SELFDEBUG, "worker"], [sys.executable, "-m", "workers"]],
                         ids=["selfdebug worker", "python -m workers"])
def test_a_worker_starts_without_a_duplicate_task(command: list[str], service_env: dict[str, str],
                                                  redis_db: redis.Redis) -> None:
    with WorkerProcess(service_env, concurrency=1, name="start", command=command) as worker:
        worker.ready(warm=False)
    log = worker.log_path.read_text(errors="replace")
    assert "DuplicateTaskNameWarning" not in log, log
    assert log.count(f". {RUN_JOB}") == 1, log  # Celery's banner lists the task once
