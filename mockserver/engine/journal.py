"""A bounded ring buffer of the requests served, for verification (``GET /_mock/requests``).

``JournalMiddleware`` is plain ASGI: it puts a ``RequestNote`` in the scope, which the vendor
pipeline fills (vendor, operation, credential id — never a secret), and records the status and
latency when the answer starts.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.engine.clock import Clock
from mockserver.engine.windows import format_iso_ms

SCOPE_KEY = "mockserver.note"


@dataclass(slots=True)
class RequestNote:
    vendor: str | None = None
    operation: str | None = None
    credential: str | None = None
    org: str | None = None
    fault: str | None = None


@dataclass(frozen=True, slots=True)
class JournalEntry:
    seq: int
    time: str
    time_ms: int
    method: str
    path: str
    query: str
    status: int
    latency_ms: float
    vendor: str | None
    operation: str | None
    credential: str | None
    org: str | None
    fault: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=max_entries)
        self._seq = 0
        self.capacity = max_entries

    def record(self, **fields: Any) -> None:
        self._seq += 1
        self._entries.append(JournalEntry(seq=self._seq, **fields))

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


class JournalMiddleware:
    """Records every HTTP request but those under ``skip_prefix`` (the control API's own calls)."""

    def __init__(self, app: ASGIApp, *, journal: Journal, clock: Clock, skip_prefix: str = "/_mock/") -> None:
        self.app = app
        self.journal = journal
        self.clock = clock
        self.skip_prefix = skip_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip_prefix):
            await self.app(scope, receive, send)
            return
        note = RequestNote()
        scope[SCOPE_KEY] = note
        started = time.perf_counter()
        status = 0

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            now = self.clock.now_ms()
            self.journal.record(
                time=format_iso_ms(now), time_ms=now, method=scope["method"], path=scope["path"],
                query=scope.get("query_string", b"").decode("latin-1"), status=status,
                latency_ms=round((time.perf_counter() - started) * 1000, 3), vendor=note.vendor,
                operation=note.operation, credential=note.credential, org=note.org, fault=note.fault)
