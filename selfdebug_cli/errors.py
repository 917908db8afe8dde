"""The command line's exit codes and its one way of failing, for local and remote runs alike.

=====  ===============  ==================================================================================
code   name             when
=====  ===============  ==================================================================================
0      ``OK``           the command did its work (a solved problem's program may still be wrong: its
                        verdict is data, shown, not an exit code)
1      (none)           an unexpected error: a bug, with its traceback
2      ``USAGE``        bad arguments or input: an option, a problem file, a dataset, a setting, or a
                        request the service refused as invalid (400, 413, 422)
3      ``FAULT``        the work could not finish: the sandbox or the LLM endpoint failed, or (remote) the
                        job or batch ended ``failed`` (its reason says which)
4      ``SERVICE``      (remote) the service could not be reached, or refused the request: unknown key
                        (401), another key's job (403), not found (404), conflict (409), still rate-limited
                        or unavailable after the retries (429, 503)
5      ``CANCELLED``    (remote) the job or batch was cancelled by someone else
130    ``INTERRUPTED``  Ctrl-C: a remote ``solve`` cancels its job first; a remote ``run`` leaves its batch
                        running (run it again to reattach)
=====  ===============  ==================================================================================
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import NoReturn

import typer

from sandbox import SandboxError
from selfdebug.errors import SelfDebugError
from selfdebug.llm import LLMError
from selfdebug_client import APIError, BadRequest, InvalidRequest, PayloadTooLarge, SelfDebugClientError

__all__ = ["CommandError", "ExitCode", "fail", "reported"]


class ExitCode(IntEnum):
    OK = 0
    USAGE = 2  # what typer itself returns for bad arguments: our input errors are the same kind of mistake
    FAULT = 3
    SERVICE = 4
    CANCELLED = 5
    INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process that Ctrl-C ended


class CommandError(Exception):
    """A command's failure: ``message`` for a person, ``code`` for the shell."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def fail(message: str, code: ExitCode) -> NoReturn:
    """Say what failed on stderr, in one line that starts with ``error:``, and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(int(code))


@contextmanager
def reported() -> Iterator[None]:
    """Turn the failures a command may meet into one line on stderr and their exit code (the one place that
    decides which failure is which code)."""
    try:
        yield
    except CommandError as exc:
        fail(exc.message, exc.code)
    except (SandboxError, LLMError) as exc:
        fail(f"{type(exc).__name__}: {exc}", ExitCode.FAULT)
    except SelfDebugError as exc:  # a dataset, a problem, samples, a run folder: the user's input
        fail(str(exc), ExitCode.USAGE)
    except (BadRequest, InvalidRequest, PayloadTooLarge) as exc:  # the service read the request and refused it
        fail(f"the service refused the request: {exc.detail}", ExitCode.USAGE)
    except APIError as exc:
        fail(f"the service answered {exc.status} {exc.code}: {exc.detail}", ExitCode.SERVICE)
    except SelfDebugClientError as exc:  # no answer at all, or a stream that kept breaking
        fail(f"the service could not be reached: {exc}", ExitCode.SERVICE)
    except KeyboardInterrupt:
        fail("interrupted", ExitCode.INTERRUPTED)
