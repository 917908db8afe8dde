"""The batch work queue: priorities, tasks that add tasks, the first error."""

from __future__ import annotations

import threading

import pytest

from selfdebug.scheduling import WorkQueue


def test_one_worker_takes_the_lowest_priority_first_and_ties_in_order() -> None:
    queue, done = WorkQueue(1), []
    for priority, name in [((1, 5.0), "b"), ((0, 1.0), "a"), ((1, 5.0), "c"), ((1, -2.0), "first of 1")]:
        queue.add(priority, lambda name=name: done.append(name))
    queue.run()
    assert done == ["a", "first of 1", "b", "c"]


def test_tasks_may_add_tasks_and_every_worker_helps() -> None:
    queue, threads, lock = WorkQueue(3), set(), threading.Lock()
    barrier = threading.Barrier(3, timeout=5)

    def leaf() -> None:
        with lock:
            threads.add(threading.current_thread().name)
        barrier.wait()  # only passes if three workers run at once

    def root() -> None:
        for _ in range(3):
            queue.add((1,), leaf)

    queue.add((0,), root)
    queue.run()
    assert len(threads) == 3


def test_the_first_error_stops_the_rest_and_is_raised() -> None:
    queue, done = WorkQueue(1), []

    def fail() -> None:
        raise RuntimeError("boom")

    queue.add((0,), fail)
    queue.add((1,), lambda: done.append("later"))
    with pytest.raises(RuntimeError, match="boom"):
        queue.run()
    assert done == []


def test_a_producer_adds_tasks_that_run_while_it_still_produces() -> None:
    queue, done = WorkQueue(1), []
    first_ran = threading.Event()

    def produce() -> None:
        queue.add((1,), lambda: (done.append("first"), first_ran.set()))
        # Only passes if the one worker runs the first task while the producer is still running.
        assert first_ran.wait(timeout=5), "no worker ran a task while the producer was still producing"
        queue.add((0,), lambda: done.append("second"))

    queue.run(produce)
    assert done == ["first", "second"]


def test_a_failing_producer_stops_the_queue_and_its_error_is_raised() -> None:
    queue = WorkQueue(2)

    def produce() -> None:
        raise ValueError("cannot read the cache")

    with pytest.raises(ValueError, match="cannot read the cache"):
        queue.run(produce)
    assert queue.stopped


def test_a_producer_sees_the_queue_stopped_after_a_task_fails() -> None:
    queue, seen = WorkQueue(1), []
    failed = threading.Event()

    def fail() -> None:
        failed.set()
        raise RuntimeError("boom")

    def produce() -> None:
        queue.add((0,), fail)
        assert failed.wait(timeout=5)
        for _ in range(500):  # the worker records the error just after the task raised
            if queue.stopped:
                break
            threading.Event().wait(0.01)
        seen.append(queue.stopped)

    with pytest.raises(RuntimeError, match="boom"):
        queue.run(produce)
    assert seen == [True]
