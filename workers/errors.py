"""The service's own failures (never a program failing its tests: that is a verdict, data).

Hierarchy::

    ServiceError
    ├── CapReached          an API key already has as many jobs (or batches) in flight as it may
    │   └── QuotaReached    an API key already stores as many jobs, bytes or batches as it may
    ├── SandboxFault        the sandbox could not run something (Docker refused or lost a container)
    ├── ModelNotAllowed     a job asks for a model outside the allowed ones
    └── JobTimeLimit        a job ran past its time limit and was stopped
"""

from __future__ import annotations

__all__ = ["CapReached", "JobTimeLimit", "ModelNotAllowed", "QuotaReached", "SandboxFault", "ServiceError"]


class ServiceError(Exception):
    """Base class of the errors the service raises on purpose."""


class CapReached(ServiceError):
    """Too many jobs or batches in flight for one API key."""


class QuotaReached(CapReached):
    """Too many jobs, bytes or batches stored for one API key; ``retry_after``: seconds until some expire."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SandboxFault(ServiceError):
    """The sandbox failed (as opposed to the code it ran): the job cannot go on meaningfully."""


class ModelNotAllowed(ServiceError):
    """A job names a model that is not allowed: no client is opened for it."""


class JobTimeLimit(ServiceError):
    """The job's time limit ran out."""
