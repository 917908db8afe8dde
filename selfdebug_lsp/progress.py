"""A job's events as the editor's progress: one short line per step, and a rough percentage."""

from __future__ import annotations

from dataclasses import dataclass

from selfdebug_client import JobEvent, JobVerdict

__all__ = ["Step", "describe_event", "describe_verdict"]


@dataclass(frozen=True)
class Step:
    message: str
    percentage: int | None = None


def describe_verdict(verdict: JobVerdict | None) -> str:
    """``hidden tests passed``, ``visible tests failed``, or that none judged it."""
    if verdict is None or verdict.passed is None:
        return "no tests of yours judged it"
    where = {"hidden_tests": "your tests", "visible_tests": "the docstring's examples"}.get(verdict.source,
                                                                                         verdict.source)
    return f"{where} {'passed' if verdict.passed else 'failed'}"


def describe_event(event: JobEvent, max_iterations: int) -> Step | None:
    """What the editor shows for ``event``; None for an event that changes nothing it shows."""
    data, rounds = event.data, max(max_iterations, 1)
    iteration = event.iteration or 0
    share = 40 + int(50 * iteration / rounds)
    match event.kind:
        case "status" if event.status is not None and not event.terminal:
            return Step(f"job {event.status.value}", 2 if event.status.value == "queued" else 5)
        case "program_generated":
            return Step("program written", 20)
        case "tests_generated":
            return Step(f"{data.get('usable', len(data.get('tests', [])))} self-tests", 35)
        case "executed":
            return Step(f"{data.get('passed', 0)}/{data.get('total', 0)} self-tests passed", share)
        case "trace_recorded":
            return Step(f"traced {len(data.get('traces', []))} runs", share)
        case "feedback_sent":
            return Step(f"repair {iteration}: asking the model", share)
        case "program_repaired":
            kept = "" if data.get("kept", True) else " (not kept)"
            return Step(f"repair {iteration}: program rewritten{kept}", min(share + 5, 95))
        case "guard":
            return Step(str(data.get("reason") or "guard"), min(share + 5, 95))
        case "evaluated":
            verdicts = data.get("hidden_by_iteration") or []
            if not verdicts:
                return None
            return Step(f"final program: your tests {'passed' if verdicts[-1] else 'failed'}", 97)
        case "status" if event.terminal:
            return Step(f"{event.status.value if event.status else 'ended'}: {describe_verdict(event.verdict)}", 100)
    return None
