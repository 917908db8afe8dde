"""The HTTP API (FastAPI): jobs with streamed progress, batches, direct executions, health and metrics.
``create_app`` builds it; ``selfdebug serve`` serves it."""

from api.app import create_app
from api.errors import APIError, ErrorBody
from api.server import serve
from api.settings import APISettings

__all__ = ["APIError", "APISettings", "ErrorBody", "create_app", "serve"]
