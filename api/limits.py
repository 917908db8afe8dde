"""Request limits, in one place. Size, enforced before a route sees the body: a declared Content-Length over the
limit is refused at once, and a body streamed without one is counted as it arrives (413 either way). Then what a
request holds, checked alike on every route: a job's model, time limit and options (``check_job``, for a job and
for every job of a batch), each problem (``check_problem``: a job's, a batch's inline problems, every problem of a
JSONL text or upload) and an execution (``check_execution``). Each maximum is a setting (api.settings); beyond it,
422 naming the field, the maximum and the setting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import Invalid, error_response
from api.settings import APISettings
from selfdebug.llm import LLMSettings
from selfdebug.options import DebugOptions
from selfdebug.problems import Problem

__all__ = ["MAX_ENTRY_POINT_CHARS", "MAX_TASK_ID_CHARS", "BodySizeLimit", "check_execution", "check_job",
           "check_problem"]

MAX_TASK_ID_CHARS = 200  # names, not content: fixed (the schema says so too)
MAX_ENTRY_POINT_CHARS = 100


class BodySizeLimit:
    """ASGI middleware: at most ``default`` bytes per body, or ``by_path[path]`` for those paths."""

    def __init__(self, app: ASGIApp, *, default: int, by_path: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.by_path = dict(by_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        limit = self.by_path.get(scope["path"].rstrip("/"), self.default)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(limit, scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(limit, scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, f"the request body is larger than {limit} bytes")
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _most(where: str, value: float, most: float, what: str, setting: str | None) -> None:
    """422 when ``value`` is over ``most``, naming the field, the maximum and the setting that sets it."""
    if value > most:
        named = f" (SELFDEBUG_{setting.upper()})" if setting else ""
        raise Invalid(f"{where}: {_number(value)} {what}, more than the most allowed, {_number(most)}{named}")


def _texts(where: str, texts: Sequence[str], most_items: int, items_setting: str, what: str, most_chars: int,
           chars_setting: str) -> None:
    _most(where, len(texts), most_items, what, items_setting)
    for index, text in enumerate(texts):
        _most(f"{where}[{index}]", len(text), most_chars, "characters", chars_setting)


def check_job(settings: APISettings, model: str | None, time_limit: float | None, options: DebugOptions,
              where: str = "") -> float:
    """The time limit a job gets (its own, or the default), once its model, that limit and its options are checked
    (422)."""
    configured = LLMSettings().model if model is not None and not settings.allowed_models else None
    if not settings.model_allowed(model, configured):
        allowed = settings.allowed_models or ([configured] if configured else [])
        raise Invalid(f"model {model!r} is not one of {', '.join(allowed) or 'the configured model (send none)'}")
    limit = time_limit or settings.job_time_limit
    if limit > settings.max_job_time_limit:
        raise Invalid(f"time_limit may be at most {settings.max_job_time_limit:g} seconds")
    check_options(settings, options, where=f"{where}options")
    return limit


def check_options(settings: APISettings, options: DebugOptions, where: str = "options") -> None:
    """Every size a job's options set, at most its setting's maximum."""
    _most(f"{where}.max_iterations", options.max_iterations, settings.max_iterations, "rounds", "max_iterations")
    _most(f"{where}.num_tests", options.num_tests, settings.max_self_tests, "tests", "max_self_tests")
    _most(f"{where}.max_traces", options.max_traces, settings.max_traces, "traces", "max_traces")
    _most(f"{where}.trace_blocks", options.trace_blocks, settings.max_trace_blocks, "blocks", "max_trace_blocks")
    _most(f"{where}.repr_limit", options.repr_limit, settings.max_repr_limit, "characters", "max_repr_limit")
    if options.token_budget is not None:
        _most(f"{where}.token_budget", options.token_budget, settings.max_token_budget, "tokens",
              "max_token_budget")
    if options.time_budget is not None:
        _most(f"{where}.time_budget", options.time_budget, settings.max_job_time_limit, "seconds",
              "max_job_time_limit")


def check_problem(settings: APISettings, problem: Problem, where: str = "problem") -> None:
    """Every size a problem holds, at most its setting's maximum: the same for every route that takes problems."""
    s = settings
    _most(f"{where}.task_id", len(problem.task_id), MAX_TASK_ID_CHARS, "characters", None)
    _most(f"{where}.entry_point", len(problem.entry_point or ""), MAX_ENTRY_POINT_CHARS, "characters", None)
    _most(f"{where}.prompt", len(problem.prompt), s.max_prompt_chars, "characters", "max_prompt_chars")
    _texts(f"{where}.given_tests", problem.given_tests, s.max_given_tests, "max_given_tests", "tests",
           s.max_test_chars, "max_test_chars")
    _texts(f"{where}.tests", problem.tests, s.max_tests, "max_tests", "tests", s.max_test_chars, "max_test_chars")
    _most(f"{where}.test_setup", len(problem.test_setup), s.max_test_chars, "characters", "max_test_chars")
    _most(f"{where}.test", len(problem.test or ""), s.max_code_chars, "characters", "max_code_chars")
    _most(f"{where}.canonical_solution", len(problem.canonical_solution or ""), s.max_code_chars, "characters",
          "max_code_chars")
    _most(f"{where}.io_tests", len(problem.io_tests), s.max_io_tests, "tests", "max_io_tests")
    for index, case in enumerate(problem.io_tests):
        _most(f"{where}.io_tests[{index}].stdin", len(case.stdin), s.max_io_chars, "characters", "max_io_chars")
        _most(f"{where}.io_tests[{index}].stdout", len(case.stdout), s.max_io_chars, "characters", "max_io_chars")
    inputs = len(problem.base_inputs or ()) + len(problem.plus_inputs or ())
    _most(f"{where}.base_inputs and plus_inputs", inputs, s.max_inputs, "inputs", "max_inputs")
    _most(where, len(problem.model_dump_json()), s.max_problem_bytes, "bytes as JSON", "max_problem_bytes")


def check_execution(settings: APISettings, code: str, tests: Sequence[str] | None, check: str | None,
                    stdio: Sequence[tuple[str, str | None]] | None) -> None:
    """Every size an execution holds, at most its setting's maximum (the limits problems have)."""
    s = settings
    _most("code", len(code), s.max_code_chars, "characters", "max_code_chars")
    _most("check", len(check or ""), s.max_code_chars, "characters", "max_code_chars")
    if tests is not None:
        _texts("tests", tests, s.max_execution_tests, "max_execution_tests", "tests", s.max_test_chars,
               "max_test_chars")
    if stdio is not None:
        _most("stdio", len(stdio), s.max_execution_tests, "cases", "max_execution_tests")
        for index, (stdin, expected) in enumerate(stdio):
            _most(f"stdio[{index}].stdin", len(stdin), s.max_io_chars, "characters", "max_io_chars")
            _most(f"stdio[{index}].expected", len(expected or ""), s.max_io_chars, "characters", "max_io_chars")
