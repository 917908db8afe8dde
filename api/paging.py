"""The query parameters every listing takes: how many items a page holds, and where it starts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

__all__ = ["DEFAULT_PAGE", "MAX_PAGE", "Cursor", "Limit"]

DEFAULT_PAGE = 20
MAX_PAGE = 100  # items on one page; fixed, as the other sizes of the API's contract

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Most items on the page (at most {MAX_PAGE}).")]
Cursor = Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$", description="The previous page's next_cursor; "
                                     "none: the first page.", examples=["42"])]
