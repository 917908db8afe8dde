"""The Celery app on Redis, configured so that a worker killed mid-job loses nothing.

* ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged only after its job ended, and
  a task whose process died is put back on the queue.
* The broker's visibility timeout is longer than the longest job (``ServiceSettings.broker_visibility_timeout``),
  so redelivery never overtakes a job still running; a duplicate delivery cannot run a job twice anyway, since
  only a ``queued`` job can be claimed.
* Our own heartbeat + sweeper (``workers.sweeper``) brings back a job whose worker died within ``stale_after``
  seconds, without waiting for the visibility timeout.
* Time limits: a job stops itself at its own limit (``JobSpec.time_limit``); Celery's hard ``time_limit`` is
  the backstop for a wedged process (prefork pool).

``celery -A workers.app worker`` works; ``selfdebug worker`` (``run_worker``) is the usual way to start one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_ready, worker_shutdown

from workers.execution import execute_job
from workers.runtime import Runtime
from workers.settings import ServiceSettings

__all__ = ["RUN_JOB", "celery_app", "make_celery", "run_worker"]

log = logging.getLogger(__name__)

RUN_JOB = "selfdebug.run_job"
_state: dict[str, Any] = {"runtime": None, "eager": False}
_lock = threading.Lock()


def make_celery(settings: ServiceSettings | None = None) -> Celery:
    """A Celery app for ``settings`` (from the environment if not given), with the job task registered."""
    settings = settings or ServiceSettings()
    app = Celery("selfdebug", broker=settings.redis_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_store_errors_even_if_ignored=False,
        task_default_queue=settings.queue,
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options={"visibility_timeout": int(settings.broker_visibility_timeout)},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_disable_rate_limits=True,
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
        task_time_limit=int(settings.task_time_limit),
        task_soft_time_limit=int(settings.task_time_limit - 30),
        broker_pool_limit=16,
    )
    app.conf["selfdebug_settings"] = settings

    # Not shared: a shared task (Celery's default) is added to every app finalized later in the process, so the app
    # that run_worker makes would get the import-time celery_app's run_job first (DuplicateTaskNameWarning at every
    # start) and run that task, bound to the other app and its settings, instead of its own.
    @app.task(name=RUN_JOB, shared=False, acks_late=True, reject_on_worker_lost=True, ignore_result=True,
              time_limit=int(settings.task_time_limit), soft_time_limit=int(settings.task_time_limit - 30))
    def run_job(job_id: str) -> str:
        runtime = runtime_for(app)
        return runtime.call(execute_job(runtime, job_id))

    return app


def sender(app: Celery) -> Callable[[str], None]:
    """A blocking function that puts a job id on the app's queue."""
    settings: ServiceSettings = app.conf["selfdebug_settings"]

    def send(job_id: str) -> None:
        app.send_task(RUN_JOB, args=[job_id], queue=settings.queue)

    return send


def runtime_for(app: Celery) -> Runtime:
    """This process's ``Runtime`` (created on first use, so a prefork child makes its own after the fork)."""
    with _lock:
        runtime: Runtime | None = _state["runtime"]
        if runtime is None:
            runtime = Runtime(app.conf["selfdebug_settings"], sender(app))
            runtime.start_background()
            _state["runtime"] = runtime
        return runtime


@worker_init.connect
def _watch(sender: Any = None, **_: Any) -> None:
    # kombu's Redis transport can die when the broker connection drops while it restores unacknowledged messages
    # ("Unrecoverable error: AttributeError ... 'hostname'", seen here when Redis restarted); Celery then stops the
    # worker, and that stop can itself hang on the broken connection, leaving a process that consumes nothing. Once
    # Celery has given up (a failure exit code), the process ends within failed_exit_after whatever happens: its
    # supervisor (compose's restart policy) starts a fresh one, and the sweeper runs again whatever was running.
    if sender is not None:
        settings: ServiceSettings = sender.app.conf["selfdebug_settings"]
        threading.Thread(target=_exit_when_failed, args=(sender, settings.failed_exit_after), daemon=True,
                         name="celery-watchdog").start()


def _exit_when_failed(worker: Any, grace: float) -> None:
    while not worker.exitcode:  # None while running; 0 for a requested shutdown
        time.sleep(0.5)
    time.sleep(grace)  # a stop that ends in time exits the process first, with this thread
    log.critical("the worker failed (exit code %s) and did not stop within %gs: exiting", worker.exitcode, grace)
    logging.shutdown()
    os._exit(int(worker.exitcode))


@worker_ready.connect
def _warm(sender: Any = None, **_: Any) -> None:
    # With the threads or solo pool the jobs run in this process: start the sandbox and the model now.
    if _state["eager"] and sender is not None:
        runtime = runtime_for(sender.app)
        threading.Thread(target=runtime.call, args=(runtime.warm(),), daemon=True, name="warm").start()


@worker_shutdown.connect
def _close(**_: Any) -> None:
    runtime = _state["runtime"]
    if runtime is not None:
        runtime.close()
        _state["runtime"] = None


def run_worker(settings: ServiceSettings | None = None, *, concurrency: int = 4, pool: str = "threads",
               loglevel: str = "INFO", hostname: str | None = None) -> None:
    """Start a worker in this process (blocks until it is stopped). ``pool``: threads (default: jobs share one
    sandbox pool and one LLM client), prefork or solo."""
    app = make_celery(settings)
    _state["eager"] = pool in ("threads", "solo")
    if loglevel.upper() != "DEBUG":  # one line per LLM request is noise at INFO
        for name in ("httpx", "httpx2"):
            logging.getLogger(name).setLevel(logging.WARNING)
    argv = ["worker", f"--concurrency={concurrency}", f"--pool={pool}", f"--loglevel={loglevel}",
            f"--queues={app.conf['selfdebug_settings'].queue}", "--without-gossip", "--without-mingle",
            "--without-heartbeat"]
    if hostname:
        argv.append(f"--hostname={hostname}")
    app.worker_main(argv)


celery_app = make_celery()
