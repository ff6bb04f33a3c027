"""The Datadog event recipe: the fast byte renderer is exactly the readable dict recipe, serialised."""

from __future__ import annotations

import orjson
import pytest

from mockserver import Settings, create_app
from mockserver.engine.rng import Rng, mix64
from mockserver.engine.windows import Window
from mockserver.vendors._datadog_events import KINDS, event_id, make_event, render_event


@pytest.fixture(scope="module")
def streams():  # type: ignore[no-untyped-def]
    app = create_app(Settings(now="2024-05-01T12:00:00Z", seed=11))
    return app.state.mock.runtimes["datadog"].streams


@pytest.mark.parametrize("org", ["acme", "globex"])
def test_render_event_is_exactly_make_event_serialised(streams, org: str) -> None:  # type: ignore[no-untyped-def]
    stream = streams[org]
    keys = list(stream.keys(Window(1_714_000_000_000, 1_714_000_000_000 + 30 * 86_400_000)))[:4000]
    seen_kinds = set()
    for ts, _, index in keys:
        event = make_event(stream, index, ts, Rng(mix64(stream.key + index)))
        seen_kinds.add((event["attributes"]["attributes"]["evt"]["name"], event["attributes"]["attributes"]["action"]))
        assert render_event(stream, index, ts, Rng(mix64(stream.key + index))) == orjson.dumps(event)
    assert len(seen_kinds) >= len({(k.evt, k.action) for k in KINDS}) - 1  # every kind of event was compared


def test_ids_are_unique_and_url_safe(streams) -> None:  # type: ignore[no-untyped-def]
    stream = streams["acme"]
    ids = [stream.event(key)["id"] for key in stream.keys(Window(1_714_000_000_000, 1_714_100_000_000))]
    assert len(ids) == len(set(ids)) > 1_000
    assert all(len(i) == 50 and i.isalnum() for i in ids)
    assert event_id(1, (1, 2, 3)) != event_id(2, (1, 2, 3))
