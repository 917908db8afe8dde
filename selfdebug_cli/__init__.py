"""The ``selfdebug`` command line, above everything it composes: the engine (``selfdebug``), the sandbox, the
service (``api``, ``workers``) and the client (``selfdebug_client``). Nothing below imports it.

``run`` is the console script; ``python -m selfdebug`` and ``python -m selfdebug_cli`` are the same command line.
Exit codes: ``selfdebug_cli.errors``."""

from selfdebug_cli.app import app, run
from selfdebug_cli.errors import ExitCode

__all__ = ["ExitCode", "app", "run"]
