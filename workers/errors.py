"""The service's own failures (never a program failing its tests: that is a verdict, data).

Hierarchy::

    ServiceError
    ├── CapReached          an API key already has as many jobs (or batches) in flight as it may
    ├── SandboxFault        the sandbox could not run something (Docker refused or lost a container)
    └── JobTimeLimit        a job ran past its time limit and was stopped
"""

from __future__ import annotations

__all__ = ["CapReached", "JobTimeLimit", "SandboxFault", "ServiceError"]


class ServiceError(Exception):
    """Base class of the errors the service raises on purpose."""


class CapReached(ServiceError):
    """Too many jobs or batches in flight for one API key."""


class SandboxFault(ServiceError):
    """The sandbox failed (as opposed to the code it ran): the job cannot go on meaningfully."""


class JobTimeLimit(ServiceError):
    """The job's time limit ran out."""
