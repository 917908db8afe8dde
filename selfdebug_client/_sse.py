"""Reading Server-Sent Events line by line (the WHATWG rules the service's streams follow: ``id:``, ``event:``,
``data:`` lines, a blank line ends an event, ``:`` starts a comment)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["KEEP_ALIVE", "SSEDecoder", "ServerSentEvent"]


@dataclass(frozen=True)
class ServerSentEvent:
    id: str | None
    event: str
    data: str


KEEP_ALIVE = ServerSentEvent(id=None, event="", data="")  # a comment: the stream is alive, nothing happened


@dataclass
class SSEDecoder:
    """Feed it lines (without their line ends); it answers an event when one is complete, ``KEEP_ALIVE`` for a
    comment, else None."""

    _id: str | None = None
    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _seen: bool = False

    def feed(self, line: str) -> ServerSentEvent | None:
        if not line:
            if not self._seen:
                return None
            event = ServerSentEvent(id=self._id, event=self._event or "message", data="\n".join(self._data))
            self._id, self._event, self._data, self._seen = None, "", [], False
            return event
        if line.startswith(":"):
            return KEEP_ALIVE
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
            self._seen = True
        elif name == "event":
            self._event = value
            self._seen = True
        elif name == "id" and "\0" not in value:
            self._id = value
            self._seen = True
        return None  # retry: and unknown fields change nothing for us
