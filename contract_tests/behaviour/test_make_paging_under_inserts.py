"""Entries that arrive while a client pages by ``pg[last]`` never shift or duplicate the pages to come.

A client pages one day of an org by key, the way Make's official SDK does (``pg[last]`` = the uuid of the
last entry received, until a page is empty), sorted by time or by actor. Between two pages, hypothesis
injects entries through the engine: at random times of the day, sometimes on the time of the last entry
received, by people of the org or by someone new, whose name sorts anywhere. Every entry that existed
before paging must arrive once; an injected entry must arrive iff it sorts after the key of the page
it was injected behind; the order received must be the requested one.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mockserver import create_app
from mockserver.engine.events import Key
from mockserver.engine.windows import Window, format_iso_ms, parse_instant
from mockserver.settings import Settings

NOW = "2024-05-01T12:00:00Z"
DAY_START, DAY_END = "2024-04-20T00:00:00.000Z", "2024-04-20T23:59:59.999Z"
ORG, TOKEN = "5100231", "3ad50f3d-be28-411d-b467-3537d06e4c7b"
MAX_PAGES = 2_000
NAMES = ["Aaron Aardvark", "Mia Member", "Olivia Owner", "Zed Zulu", "Adam Admin"]


def order_key(sort_by: str, entry: dict[str, Any], key: Key) -> tuple[Any, ...]:
    field = (entry["actor"]["name"], entry["actor"]["id"]) if sort_by == "actor" else ()
    return (*field, key)


@pytest.mark.mock_only  # DESIGN.md "Stable cursors": Make documents nothing about inserts while paging
@pytest.mark.parametrize("sort_by", ["triggeredAt", "actor"])
@pytest.mark.parametrize("sort_dir", ["asc", "desc"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limit=st.integers(3, 40), data=st.data())
def test_entries_inserted_while_paging_by_key_never_shift_pages(sort_by: str, sort_dir: str, limit: int,
                                                                data: st.DataObject) -> None:
    app = create_app(Settings(now=NOW, log_level="warning"))
    stream = app.state.mock.runtimes["make"].streams[ORG]
    start, end = parse_instant(DAY_START, 0), parse_instant(DAY_END, 0) + 1
    key_of: dict[str, Key] = {}
    entry_of: dict[str, dict[str, Any]] = {}
    for key in stream.keys(Window(start, end)):
        entry = stream.event(key)
        key_of[entry["uuid"]], entry_of[entry["uuid"]] = key, entry
    existing = set(key_of)
    assert 150 < len(existing) < 250
    descending = sort_dir == "desc"
    params: dict[str, Any] = {"dateFrom": DAY_START, "dateTo": DAY_END, "pg[sortBy]": sort_by,
                              "pg[sortDir]": sort_dir, "pg[limit]": limit}
    received: list[str] = []
    must, must_not = set(), set()

    def ahead(uuid: str) -> bool:
        if not received:
            return True
        mine, last = (order_key(sort_by, entry_of[u], key_of[u]) for u in (uuid, received[-1]))
        return mine < last if descending else mine > last

    with TestClient(app) as client:
        for page_number in range(MAX_PAGES):
            for n in range(data.draw(st.integers(0, 2) if page_number < 8 else st.just(0), label="injections")):
                tie = received and data.draw(st.booleans(), label="on the last entry's time")
                ts = key_of[received[-1]][0] if tie else data.draw(st.integers(start, end - 1), label="time")
                template = entry_of[data.draw(st.sampled_from(sorted(existing)), label="template")]
                uuid = f"{page_number:08x}{n:04x}4{'e' * 19}"
                actor = {**template["actor"], "name": data.draw(st.sampled_from(NAMES), label="actor")}
                entry = {**template, "uuid": uuid, "triggeredAt": format_iso_ms(ts), "actor": actor}
                key_of[uuid], entry_of[uuid] = stream.inject(ts, entry), entry
                (must if ahead(uuid) else must_not).add(uuid)
            body = client.get(f"/api/v2/audit-logs/organization/{ORG}", params=params,
                              headers={"Authorization": f"Token {TOKEN}"}).json()
            page = [e["uuid"] for e in body["auditLogs"]]
            assert not [u for u in page if u not in key_of], "entries that never existed"
            received.extend(page)
            if not page:
                break
            params["pg[last]"] = page[-1]
        else:
            pytest.fail(f"still paging after {MAX_PAGES} pages")

    counts = Counter(received)
    assert not [u for u, n in counts.items() if n > 1], "entries received twice"
    assert not existing - set(counts), "entries that existed before paging were not received"
    assert not must - set(counts), "entries inserted ahead of the key were not received"
    assert not must_not & set(counts), "entries inserted behind the key were received"
    keys = [order_key(sort_by, entry_of[u], key_of[u]) for u in received]
    assert keys == sorted(keys, reverse=descending), f"pages are not in {sort_by} {sort_dir} order"
