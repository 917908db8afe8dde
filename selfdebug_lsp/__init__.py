"""``selfdebug lsp``: a language server any editor can use (pygls, stdio). Code actions on a Python function —
*Self-debug this function*, *Trace and repair*, *Generate tests*, *Run tests in the sandbox* — run on a selfdebug
service through the SDK (``selfdebug_client``), with progress, cancellation, the repaired function applied as an
edit, and failing tests as diagnostics. README's "In your editor" says how each editor starts it.
"""

from selfdebug_lsp.actions import Actions, Target
from selfdebug_lsp.errors import Busy, FunctionChanged, LspError, NoFunction, NotConfigured
from selfdebug_lsp.server import COMMANDS, KIND, SelfDebugServer, create_server
from selfdebug_lsp.settings import SECTION, LspSettings

__all__ = [
    "COMMANDS",
    "KIND",
    "SECTION",
    "Actions",
    "Busy",
    "FunctionChanged",
    "LspError",
    "LspSettings",
    "NoFunction",
    "NotConfigured",
    "SelfDebugServer",
    "Target",
    "create_server",
    "serve",
]


def serve() -> None:
    """Serve on stdin/stdout until the editor says ``exit``."""
    create_server().start_io()
