"""``selfdebug lsp``: the language server for editors (``selfdebug_lsp``), on stdin and stdout."""

from __future__ import annotations

from typing import Annotated

import typer

from selfdebug_cli.errors import ExitCode

__all__ = ["lsp"]


def lsp(
    stdio: Annotated[bool, typer.Option("--stdio", help="Serve on stdin/stdout (the only transport; accepted for "
                                        "clients that ask for it, such as vscode-languageclient).")] = True,
) -> None:
    """Serve the Language Server Protocol on stdin/stdout: code actions that self-debug, trace and repair,
    generate tests for and run the tests of a Python function on a selfdebug service (settings: the editor's
    selfdebug.serverUrl and selfdebug.apiKey, else SELFDEBUG_URL and SELFDEBUG_API_KEY)."""
    try:
        from selfdebug_lsp import serve  # here: only this command needs pygls
    except ImportError as exc:
        typer.echo(f"error: the language server needs the lsp extra: pip install 'selfdebug[lsp]' ({exc})",
                   err=True)
        raise typer.Exit(ExitCode.USAGE) from None
    serve()
