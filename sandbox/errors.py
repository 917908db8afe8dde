"""Errors of the sandbox itself, never of the code under test.

A program that fails, hangs or floods is reported as a verdict (data). These exceptions mean *we* could not
run it::

    SandboxError
    ├── DockerUnavailable     no engine answers
    ├── ImageError            the sandbox image is missing and could not be built
    ├── ContainerError        a container did not start, died, or its runner broke the protocol
    └── PoolClosed            the pool was used after close()
"""

from __future__ import annotations

__all__ = ["ContainerError", "DockerUnavailable", "ImageError", "PoolClosed", "SandboxError"]


class SandboxError(Exception):
    """The sandbox failed (as opposed to the code it ran)."""


class DockerUnavailable(SandboxError):
    """No Docker engine answers."""


class ImageError(SandboxError):
    """The sandbox image is missing and could not be built."""


class ContainerError(SandboxError):
    """A container failed to start, died, or its runner broke the protocol."""


class PoolClosed(SandboxError):
    """The pool was used after it was closed."""
