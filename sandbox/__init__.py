"""Run untrusted Python in warm, locked-down Docker containers and report per-test verdicts."""

from sandbox.errors import ContainerError, DockerUnavailable, ImageError, PoolClosed, SandboxError
from sandbox.executor import AsyncSandbox, Sandbox
from sandbox.image import build_image, ensure_image
from sandbox.models import ExceptionInfo, Judged, Limits, RunResult, StdioCase, TestResult, Verdict
from sandbox.pool import ContainerPool, reap_orphans
from sandbox.settings import SandboxSettings
from sandbox.tracing import Trace, TraceBlock, TraceException, render_trace, trace_program, trace_program_async

__all__ = [
    "AsyncSandbox",
    "ContainerError",
    "ContainerPool",
    "DockerUnavailable",
    "ExceptionInfo",
    "ImageError",
    "Judged",
    "Limits",
    "PoolClosed",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "SandboxSettings",
    "StdioCase",
    "TestResult",
    "Trace",
    "TraceBlock",
    "TraceException",
    "Verdict",
    "build_image",
    "ensure_image",
    "reap_orphans",
    "render_trace",
    "trace_program",
    "trace_program_async",
]
