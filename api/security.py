"""Bearer API keys from the settings, and a per-key rate limit (kept in Redis, so every API process shares it)."""

from __future__ import annotations

import hmac
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import Forbidden, NotFound, RateLimited, Unauthorized
from api.services import Services, get_services

__all__ = ["ANONYMOUS", "Caller", "caller", "owned"]

ANONYMOUS = "anonymous"
_bearer = HTTPBearer(auto_error=False, description="An API key from SELFDEBUG_API_KEYS.")


def _key_name(services: Services, token: str) -> str | None:
    found = None
    for name, secret in services.settings.api_keys.items():
        # Compare with every key, always: the time taken must not tell which prefix matched.
        if hmac.compare_digest(secret.get_secret_value().encode(), token.encode()):
            found = name
    return found


async def caller(services: Annotated[Services, Depends(get_services)],
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The name of the calling key (after counting the request against its rate limit)."""
    if credentials is None:
        if not services.settings.allow_anonymous:
            raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
        name = ANONYMOUS
    else:
        found = _key_name(services, credentials.credentials)
        if found is None:
            raise Unauthorized("unknown API key")
        name = found
    settings = services.settings
    wait = await services.store.hit_rate(name, settings.rate_limit, settings.rate_window)
    if wait is not None:
        raise RateLimited(f"more than {settings.rate_limit} requests in {settings.rate_window}s", retry_after=wait)
    return name


Caller = Annotated[str, Depends(caller)]


class _Owned(Protocol):
    @property
    def owner(self) -> str: ...


OwnedT = TypeVar("OwnedT", bound=_Owned)


def owned(record: OwnedT | None, caller: str, what: str, record_id: str) -> OwnedT:
    """``record`` (a job or a batch, looked up by ``record_id``) if it exists and is the caller's: else 404 or 403."""
    if record is None:
        raise NotFound(f"{what} {record_id} not found")
    if record.owner != caller:
        raise Forbidden(f"this {what} belongs to another API key")
    return record
