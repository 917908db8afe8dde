"""Time from an editor's action to its edit: ``selfdebug lsp`` driven over stdio by an LSP client (as an editor
drives it), on a local service (``selfdebug serve`` and one ``selfdebug worker``), with the instant scripted model
(the editor side's own overhead: language server, SDK, API, queue, worker, sandbox) or the embedded SmolLM2.

Each round opens a module with one documented function, asks for the code actions there, runs *Self-debug this
function*, and records the seconds from sending the command to the ``workspace/applyEdit`` that replaces the
function (and to the command's end: the summary, after the final program's self-tests ran). A round whose job
leaves the function as it was (or whose program has no such function) has no edit: it is counted apart.

    .venv/bin/python benchmarks/bench_editor.py [--model scripted|embedded] [--rounds 5]
    .venv/bin/python benchmarks/bench_editor.py --smoke     # 2 scripted rounds (CI: it must finish)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Union

import httpx
from common.service_processes import free_port, selfdebug_processes
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.protocol import default_converter

TOKEN = "bench-editor-token-1"
# For the scripted model: its first program is wrong, its repair right (one repair round).
SCRIPTED = 'def add(a, b):\n    """Return the sum of a and b. (wrong first)"""\n    return a - b\n'
# For the embedded model: small HumanEval-style functions, each with a wrong body to repair.
EMBEDDED = [
    'def add(a: int, b: int) -> int:\n    """Return the sum of a and b.\n\n    >>> add(2, 3)\n    5\n    """\n'
    "    return a - b\n",
    'def is_even(n: int) -> bool:\n    """Return True if n is even, else False.\n\n    >>> is_even(4)\n    True\n'
    '    """\n    return n % 2 == 1\n',
    'def reverse(s: str) -> str:\n    """Return the string s reversed.\n\n    >>> reverse("abc")\n    \'cba\'\n'
    '    """\n    return s\n',
]


@contextlib.contextmanager
def _scripted_llm() -> Iterator[dict[str, str]]:
    code = ("import sys\nfrom selfdebug.llm.instant import scripted_model_server\nwith scripted_model_server() as s:\n"
            "    print(s.base_url, s.model, flush=True)\n    sys.stdin.read()\n")
    with subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as server:
        assert server.stdout is not None and server.stdin is not None
        url, model = server.stdout.readline().split()
        try:
            yield {"SELFDEBUG_LLM_BASE_URL": url, "SELFDEBUG_LLM_MODEL": model}
        finally:
            server.stdin.close()
            server.wait(timeout=10)


@contextlib.contextmanager
def _service(env: dict[str, str], logs: Path) -> Iterator[str]:
    """``selfdebug serve`` and one ``selfdebug worker``; the API's URL once it is ready (the worker's pool warm)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    commands = [["serve", "--port", str(port), "--log-level", "warning"],
                ["worker", "--concurrency", "2", "--loglevel", "WARNING", "--hostname",
                 f"bench-editor-{os.getpid()}@%h"]]

    def ready() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        return False

    with selfdebug_processes(commands, env, logs, ready=ready, timeout=180, stop_timeout=30):
        yield base


class _Editor(LanguageClient):
    """Just enough of an editor: it applies edits to its buffers and notes when."""

    def __init__(self) -> None:
        super().__init__("bench-editor", "1")
        self.buffers: dict[str, tuple[int, str]] = {}
        self.edited_at: float | None = None
        self.messages: list[str] = []


def _editor() -> _Editor:
    client = _Editor()
    converter = default_converter()

    def command_or_action(value: dict[str, object], _: object) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(value.get("command"), str) else types.CodeAction
        return converter.structure(value, kind)  # type: ignore[no-any-return]

    # lsprotocol reads a CodeAction that carries a Command as a Command: tell them apart by 'command'.
    client.protocol._converter.register_structure_hook(
        Union[types.Command, types.CodeAction], command_or_action)  # noqa: UP007 (the type as lsprotocol has it)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply(client: _Editor, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        client.edited_at = time.monotonic()
        for change in params.edit.document_changes or []:
            if isinstance(change, types.TextDocumentEdit):
                version, text = client.buffers[change.text_document.uri]
                lines = text.splitlines(keepends=True)
                for edit in change.edits:
                    assert isinstance(edit, types.TextEdit)
                    lines[edit.range.start.line:edit.range.end.line] = [edit.new_text]
                client.buffers[change.text_document.uri] = (version + 1, "".join(lines))
        return types.ApplyWorkspaceEditResult(applied=True)

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def create(client: _Editor, params: types.WorkDoneProgressCreateParams) -> None:
        return None

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def show(client: _Editor, params: types.ShowMessageParams) -> None:
        client.messages.append(params.message)

    for method in (types.PROGRESS, types.WINDOW_LOG_MESSAGE, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
                   "selfdebug/status"):
        client.feature(method)(lambda *_: None)
    return client


async def _round(client: _Editor, folder: Path, number: int, source: str) -> tuple[float | None, float, str]:
    path = folder / f"module_{number}.py"
    path.write_text(source)
    uri = path.as_uri()
    client.buffers[uri] = (1, source)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=source)))
    here = types.Position(line=1, character=4)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=here, end=here),
        context=types.CodeActionContext(diagnostics=[])))
    command = next(a for a in actions or [] if a.title == "Self-debug this function").command
    assert isinstance(command, types.Command), command
    client.edited_at = None
    started = time.monotonic()
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command=command.command,
                                                                            arguments=command.arguments))
    ended = time.monotonic() - started
    edit = client.edited_at - started if client.edited_at is not None else None
    return edit, ended, client.messages[-1] if client.messages else ""


async def _drive(base: str, rounds: list[str], folder: Path) -> list[tuple[float | None, float, str]]:
    client = _editor()
    await client.start_io(sys.executable, "-m", "selfdebug_cli", "lsp")
    capabilities = types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True),
        workspace=types.WorkspaceClientCapabilities(workspace_edit=types.WorkspaceEditClientCapabilities(
            document_changes=True)))
    await client.initialize_async(types.InitializeParams(
        capabilities=capabilities, root_uri=folder.as_uri(),
        initialization_options={"serverUrl": base, "apiKey": TOKEN, "maxIterations": 2}))
    client.initialized(types.InitializedParams())
    results = []
    try:
        for number, source in enumerate(rounds):
            results.append(await asyncio.wait_for(_round(client, folder, number, source), 600))
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["scripted", "embedded"], default="scripted")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="2 scripted rounds")
    args = parser.parse_args()
    if args.smoke:
        args.model, args.rounds = "scripted", 2
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    env = {"SELFDEBUG_REDIS_URL": redis_url, "SELFDEBUG_KEY_PREFIX": f"sdbe{os.getpid()}",
           "SELFDEBUG_QUEUE": f"sdbe{os.getpid()}", "SELFDEBUG_API_KEYS": f"bench:{TOKEN}",
           "SANDBOX_POOL_SIZE": "2", "SELFDEBUG_EXECUTIONS_POOL_SIZE": "1"}
    rounds = [SCRIPTED] * args.rounds if args.model == "scripted" else \
        [EMBEDDED[i % len(EMBEDDED)] for i in range(args.rounds)]
    with tempfile.TemporaryDirectory(prefix="bench-editor-") as tmp, contextlib.ExitStack() as stack:
        if args.model == "scripted":
            env.update(stack.enter_context(_scripted_llm()))
        else:  # no SELFDEBUG_LLM_BASE_URL: the worker serves the embedded model itself
            os.environ.pop("SELFDEBUG_LLM_BASE_URL", None)
        folder = Path(tmp)
        base = stack.enter_context(_service(env, folder))
        # A first round warms the language server's imports and the sandbox's path; it is not counted.
        warm = asyncio.run(_drive(base, [rounds[0]], folder))
        results = asyncio.run(_drive(base, rounds, folder))
    first = "none" if warm[0][0] is None else f"{warm[0][0]:.2f} s"
    print(f"model: {args.model}; warm-up round (not counted): edit {first}, end {warm[0][1]:.2f} s")
    for number, (edit, ended, message) in enumerate(results):
        print(f"round {number}: edit {'none' if edit is None else f'{edit:.2f} s'}, end {ended:.2f} s: {message}")
    edits = [e for e, _, _ in results if e is not None]
    ends = [e for _, e, _ in results]
    if edits:
        print(f"action -> edit: median {statistics.median(edits):.2f} s, mean {statistics.mean(edits):.2f} s, "
              f"{len(edits)}/{len(results)} rounds edited")
    print(f"action -> summary: median {statistics.median(ends):.2f} s, mean {statistics.mean(ends):.2f} s")
    if args.model == "scripted" and len(edits) != len(results):
        raise SystemExit("every scripted round must end in an edit")


if __name__ == "__main__":
    main()
