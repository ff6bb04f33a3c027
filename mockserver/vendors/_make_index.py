"""Filtering, sorting and paging a year of Make entries in milliseconds.

Make sorts by seven fields and pages by offset or by key, so a request may need the whole filtered year
in order. Rendering 70,000 entries to sort them would take seconds; instead each org keeps **columns**
(_make_columns.py): per generated entry, the few small integers filters and sorts read. A query is then:

1. the generated entries of the window: a range of positions (time order is index order, so a query
   sorted by time without filters needs no columns at all);
2. filtered on the columns (and, for injected entries, on their decoded dicts: the same rules);
3. sorted by the field's rank with a stable sort, so ties stay in time order;
4. cached as a ``Selection`` (an array of rows in ascending order) per (org, its version, window,
   filters, sort): paging through it costs a slice or a bisection.

The order is total: (field rank, triggeredAt, source, sequence), ascending; ``desc`` reads it backwards.
A first build that must draw a year of columns takes about half a second on a slow machine (make.py runs
it in a worker thread); every later query of the org costs milliseconds.
``pg[last]`` is the entry's uuid; its position is found by bisection on that order, so it works even for
an entry that has aged out or does not match the filters, and inserts never shift the pages after it.
"""

from __future__ import annotations

import bisect
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mockserver.engine.events import INJECTED, Key, OrgStream
from mockserver.engine.windows import InstantError, Window, parse_instant
from mockserver.vendors._make_catalogue import BY_NAME, EVENT_NAMES, KINDS, NAME_RANK
from mockserver.vendors._make_columns import Columns, Primary, Ranks, columns, place, ranks
from mockserver.vendors._make_events import OrgFacts, as_id, facts, sort_facts
from mockserver.vendors._make_uuid import decode_uuid

SORT_FIELDS = ("createdAt", "triggeredAt", "eventName", "organization", "team", "actor", "targetId")
MAX_SELECTIONS = 6
"""Cached selections per org: each is an array of 8 bytes per entry (~0.6 MB for a year at 200 a day)."""

Row = int
"""A position in the columns (>= 0) for a generated entry, ``-seq`` for an injected one."""
SortKey = tuple[float, tuple[Any, ...], int, int, int]


@dataclass(frozen=True, slots=True)
class Query:
    """What selects and orders entries. Filter values are as the client sent them (None: no filter)."""

    teams: frozenset[str] | None = None
    events: frozenset[str] | None = None
    authors: frozenset[str] | None = None
    team_id: str | None = None
    """The team endpoint's team."""
    sort_by: str = "triggeredAt"


# -- filters -------------------------------------------------------------------------------------------------
def _same_id(value: str, ident: object) -> bool:
    number = as_id(value)
    return number is not None and number == as_id(ident)


def _team_matches(values: frozenset[str], team: dict[str, Any] | None) -> bool:
    return team is not None and any(_same_id(v, team.get("id")) or v == team.get("name") for v in values)


def _author_matches(values: frozenset[str], actor: dict[str, Any]) -> bool:
    email = str(actor.get("email", "")).lower()
    return any(_same_id(v, actor.get("id")) or v == actor.get("name") or v.lower() == email for v in values)


def matches(q: Query, entry: dict[str, Any]) -> bool:
    """The filters on a decoded entry (injected entries are filtered this way)."""
    team = entry.get("team")
    if q.team_id is not None and not _team_matches(frozenset({q.team_id}), team):
        return False
    if q.teams is not None and not _team_matches(q.teams, team):
        return False
    if q.events is not None and entry.get("eventName") not in q.events:
        return False
    return q.authors is None or _author_matches(q.authors, entry.get("actor") or {})


def _generated_filter(f: OrgFacts, q: Query) -> tuple[set[int] | None, set[int] | None, set[int] | None]:
    """The filters as sets of column values: team indices, kind indices, actor indices."""
    teams: set[int] | None = None
    for values in (q.teams, frozenset({q.team_id}) if q.team_id is not None else None):
        if values is not None:
            chosen = {n for n, obj in enumerate(f.team_objects) if _team_matches(values, obj)}
            teams = chosen if teams is None else teams & chosen
    kinds = None if q.events is None else {BY_NAME[name].index for name in q.events if name in BY_NAME}
    authors = None if q.authors is None else {n for n, a in enumerate(f.actors) if _author_matches(q.authors, a)}
    return teams, kinds, authors


# -- selections ---------------------------------------------------------------------------------------------
class Selection:
    """Entries of a window that match a query, in ascending sort order. ``rows`` are positions from
    ``base`` (generated entries) or ``-seq`` (injected ones)."""

    def __init__(self, stream: OrgStream, base: int, cols: Columns | None, sort_by: str) -> None:
        self.stream, self.base, self.cols, self.sort_by = stream, base, cols, sort_by
        self.rows = array("q")
        self.injected: dict[int, tuple[Key, Any]] = {}
        self._primary = _generated_primary(sort_by, cols, stream, ranks(stream)) if cols is not None else None
        self._other = _injected_primary(sort_by, ranks(stream))

    def __len__(self) -> int:
        return len(self.rows)

    def engine_key(self, row: Row) -> Key:
        if row < 0:
            return self.injected[-row][0]
        index = self.base + row
        return (self.stream.ts(index), 0, index)

    def key(self, row: Row) -> SortKey:
        """The total order: (field rank, its value if it has no rank, triggeredAt, source, sequence)."""
        if row < 0:
            engine_key, entry = self.injected[-row]
            return (*self._other(entry, engine_key[0]), *engine_key)
        index = self.base + row
        return (self._primary(row) if self._primary else 0, (), self.stream.ts(index), 0, index)

    def index_key(self, index: int) -> SortKey:
        """The sort key of generated entry ``index``, inside this selection's columns or not."""
        cols, stream = self.cols, self.stream
        if self._primary is None:
            return (0, (), stream.ts(index), 0, index)
        if cols is not None and cols.base <= index < cols.base + len(cols):
            return (self._primary(index - cols.base), (), stream.ts(index), 0, index)
        c, target = sort_facts(stream, facts(stream), index)
        ts, r = stream.ts(index), ranks(stream)
        primary = {"createdAt": ts + c.delay_ms, "eventName": NAME_RANK[c.kind.index], "team": r.team[c.team],
                   "actor": r.actor[c.actor], "targetId": target}.get(self.sort_by, 0)
        return (primary, (), ts, 0, index)

    def page(self, *, offset: int, after: SortKey | None, limit: int, descending: bool) -> tuple[list[Row], bool]:
        """Up to ``limit`` rows from ``offset``, or strictly after the key ``after``; and whether more follow."""
        rows, n = self.rows, len(self.rows)
        if after is None:
            start = offset
        elif descending:
            start = n - bisect.bisect_left(rows, after, key=self.key)
        else:
            start = bisect.bisect_right(rows, after, key=self.key)
        stop = min(n, start + limit)
        if start >= stop:
            return [], False
        picked = [rows[n - 1 - p] for p in range(start, stop)] if descending else list(rows[start:stop])
        return picked, stop < n


def _generated_primary(sort_by: str, cols: Columns, stream: OrgStream, r: Ranks) -> Callable[[Row], int] | None:
    if sort_by == "createdAt":
        return cols.created(stream).__getitem__
    if sort_by == "eventName":
        kind = cols.kind
        return lambda row: NAME_RANK[kind[row]]
    if sort_by == "team":
        team = cols.team
        return lambda row: r.team[team[row]]
    if sort_by == "actor":
        actor = cols.actor
        return lambda row: r.actor[actor[row]]
    if sort_by == "targetId":
        return cols.target.__getitem__
    return None  # triggeredAt, organization (one org: every entry ties)


def _injected_primary(sort_by: str, r: Ranks) -> Callable[[dict[str, Any], int], Primary]:
    names = tuple(sorted(EVENT_NAMES))

    def primary(entry: dict[str, Any], ts: int) -> Primary:
        if sort_by == "createdAt":
            try:
                return (parse_instant(str(entry.get("createdAt")), ts), ())
            except InstantError:
                return (ts, ())
        if sort_by == "eventName":
            return place(names, entry.get("eventName"))
        if sort_by == "team":
            team = entry.get("team")
            return (len(r.team_keys), ()) if not team else place(r.team_keys, (team.get("name"), team.get("id")))
        if sort_by == "actor":
            actor = entry.get("actor") or {}
            return place(r.actor_keys, (actor.get("name"), actor.get("id")))
        if sort_by == "targetId":
            return place(r.targets, str(entry.get("targetId")))
        return (0, ())

    return primary


def injected_keys(stream: OrgStream, window: Window) -> tuple[Key, ...]:
    """Keys of the injected entries in ``window``. OrgStream has no public accessor for them yet; this
    is the one place that reads its private index."""
    return tuple(stream.injected_keys(Window(window.start_ms, window.end_ms)))


TIME_SORTS = ("triggeredAt", "organization")


@dataclass(frozen=True, slots=True)
class Plan:
    """What a selection depends on, besides the clock: its cache key."""

    version: int
    lo: int
    hi: int
    hidden: tuple[int, ...]
    injected: tuple[Key, ...]
    query: Query


def plan(stream: OrgStream, visible: Window, q: Query) -> Plan:
    """The selection of ``visible`` (a window ``OrgStream.visible`` clipped) that ``q`` asks for."""
    if visible.empty:
        return Plan(stream.version, 0, 0, (), (), q)
    lo = stream.first_index_at_or_after(visible.start_ms)
    hi = stream.first_index_at_or_after(visible.end_ms)
    return Plan(stream.version, lo, hi, _in_flight(stream, visible, lo, hi), injected_keys(stream, visible), q)


def cached(stream: OrgStream, p: Plan) -> Selection | None:
    found: Selection | None = stream.memo.get("make-selections", {}).get(p)
    return found


def select(stream: OrgStream, p: Plan) -> Selection:
    """The selection ``p`` describes, from the cache or built (safe to call from a worker thread: builds
    of one org take turns)."""
    with stream.memo.setdefault("make-lock", threading.Lock()):
        cache: OrderedDict[Plan, Selection] = stream.memo.setdefault("make-selections", OrderedDict())
        found = cache.get(p)
        if found is None:
            found = cache[p] = _build(stream, p)
            while len(cache) > MAX_SELECTIONS:
                cache.popitem(last=False)
        return found


def cost(stream: OrgStream, p: Plan) -> int:
    """How many entries building ``p`` must draw (0 when time order suffices or the columns are there)."""
    if _plain(p.query):
        return 0
    cols: Columns | None = stream.memo.get("make-columns")
    if cols is None or not cols.base <= p.lo <= cols.base + len(cols):
        return p.hi - p.lo
    return max(0, p.hi - cols.base - len(cols))


def _plain(q: Query) -> bool:
    return q == Query(sort_by=q.sort_by) and q.sort_by in TIME_SORTS


def _in_flight(stream: OrgStream, visible: Window, lo: int, hi: int) -> tuple[int, ...]:
    """Generated entries of the window that live arrival still holds back (engine/live.py)."""
    as_of = visible.as_of_ms
    if as_of is None or lo >= hi:
        return ()
    start = max(lo, stream.first_index_at_or_after(as_of - stream.live.max_delay_ms + 1))
    return tuple(i for i in range(start, hi) if stream.visible_at((stream.ts(i), 0, i)) > as_of)


def _build(stream: OrgStream, p: Plan) -> Selection:
    q, lo, hi, hidden = p.query, p.lo, p.hi, set(p.hidden)
    if lo >= hi and not p.injected:
        return Selection(stream, lo, None, q.sort_by)
    cols = None if _plain(q) else columns(stream, lo, hi)  # time order needs no columns: it is index order
    base = lo if cols is None else cols.base
    positions: Iterable[int] = range(lo - base, hi - base)
    if cols is not None:
        teams, kinds, authors = _generated_filter(facts(stream), q)
        for wanted, column in ((kinds, cols.kind), (teams, cols.team), (authors, cols.actor)):
            if wanted is not None:
                positions = [n for n in positions if column[n] in wanted]
    if hidden:
        positions = [n for n in positions if n + base not in hidden]
    rows = list(positions)
    selection = Selection(stream, base, cols, q.sort_by)
    for key in p.injected:
        entry = stream.event_dict(key)
        if key[1] == INJECTED and matches(q, entry):
            selection.injected[key[2]] = (key, entry)
    if selection._primary is not None:
        rows.sort(key=selection._primary)  # stable: equal ranks stay in time order
    for seq in sorted(selection.injected, key=lambda s: selection.key(-s)):
        rows.insert(bisect.bisect_right(rows, selection.key(-seq), key=selection.key), -seq)
    selection.rows = array("q", rows)
    return selection


def key_of_uuid(selection: Selection, uuid: str) -> SortKey | None:
    """The sort key of the org's entry ``uuid`` (generated or injected, in the selection or not)."""
    stream = selection.stream
    index = decode_uuid(stream.key, uuid)
    if index is not None:
        return selection.index_key(index)
    wanted = uuid.replace("-", "").lower()
    for key in injected_keys(stream, Window(0, 1 << 62)):
        entry = stream.event_dict(key)
        if str(entry.get("uuid", "")).replace("-", "").lower() == wanted:
            probe = Selection(stream, selection.base, selection.cols, selection.sort_by)
            probe.injected[key[2]] = (key, entry)
            return probe.key(-key[2])
    return None


def summaries(selection: Selection) -> Iterable[dict[str, Any]]:
    """The eventName, team and actor of the entries of ``selection`` (each distinct combination once for
    generated entries, read from the columns): what the filters endpoints list."""
    rows = selection.rows
    generated = [row for row in rows if row >= 0]
    if generated:
        stream, f = selection.stream, facts(selection.stream)
        cols = selection.cols or columns(stream, selection.base + min(generated), selection.base + max(generated) + 1)
        shift = selection.base - cols.base
        seen = {(cols.kind[p], cols.team[p], cols.actor[p]) for p in (row + shift for row in generated)}
        for kind, team, actor in sorted(seen):
            summary: dict[str, Any] = {"eventName": KINDS[kind].name, "actor": f.actors[actor]}
            if team >= 0:
                summary["team"] = f.team_objects[team]
            yield summary
    for row in rows:
        if row < 0:
            yield selection.injected[-row][1]
