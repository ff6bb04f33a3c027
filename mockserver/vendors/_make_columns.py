"""The columns: what filters and sorts read of an org's generated entries, without rendering them.

Per generated entry a few small integers (event kind, team, actor, rank of its targetId, createdAt delay),
drawn by the same recipe as the entry itself (``_make_events.sort_facts``), in arrays of a few bytes per
entry; built once per org, extended as the clock brings new entries. ``Ranks`` turns names into sort
ranks, and places values no org member has (injected entries) between them.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass
from typing import Any

from mockserver.engine.events import OrgStream
from mockserver.vendors._make_events import OrgFacts, facts, sort_facts

Primary = tuple[float, tuple[Any, ...]]
"""A field's rank, and the value itself when it has none (an injected entry's name no org member has): two
such values between the same neighbours are ordered by value."""


class Columns:
    """Sort and filter attributes of an org's generated entries, by position ``index - base``. createdAt
    needs every entry's time, which costs as much again, so it is only computed for that sort."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.kind = array("B")
        self.team = array("h")
        self.actor = array("H")
        self.target = array("I")
        self.delay = array("H")
        self._created = array("q")

    def __len__(self) -> int:
        return len(self.kind)

    def extend(self, stream: OrgStream, f: OrgFacts, end: int) -> None:
        picks = [sort_facts(stream, f, index) for index in range(self.base + len(self), end)]
        self.kind.extend([c.kind.index for c, _ in picks])
        self.team.extend([c.team for c, _ in picks])
        self.actor.extend([c.actor for c, _ in picks])
        self.delay.extend([c.delay_ms for c, _ in picks])
        self.target.extend([rank for _, rank in picks])

    def created(self, stream: OrgStream) -> array[int]:
        done, base, delay = len(self._created), self.base, self.delay
        self._created.extend([stream.ts(base + p) + delay[p] for p in range(done, len(self))])
        return self._created


def columns(stream: OrgStream, lo: int, hi: int) -> Columns:
    """The org's columns, covering indices ``[lo, hi)`` at least."""
    cols: Columns | None = stream.memo.get("make-columns")
    if cols is None or not cols.base <= lo <= cols.base + len(cols):  # first use, or the clock jumped
        cols = Columns(lo)
        stream.memo["make-columns"] = cols
    if cols.base + len(cols) < hi:
        cols.extend(stream, facts(stream), hi)
    return cols


@dataclass(frozen=True, slots=True)
class Ranks:
    """Sort ranks of what entries show, and the sorted values behind them (for injected entries)."""

    team: tuple[int, ...]
    """By team index; the last item (index -1) is the rank of "no team", after every team."""
    team_keys: tuple[tuple[str, int], ...]
    actor: tuple[int, ...]
    actor_keys: tuple[tuple[str, int], ...]
    targets: tuple[str, ...]


def ranks(stream: OrgStream) -> Ranks:
    found: Ranks | None = stream.memo.get("make-ranks")
    if found is None:
        f = facts(stream)
        team_keys = [(team.name, ident) for team, ident in zip(f.teams, f.team_ids, strict=True)]
        actor_keys = [(actor["name"], actor["id"]) for actor in f.actors]
        found = Ranks(team=(*_rank_of(team_keys), len(team_keys)), team_keys=tuple(sorted(team_keys)),
                      actor=_rank_of(actor_keys), actor_keys=tuple(sorted(actor_keys)),
                      targets=f.target_strings)
        stream.memo["make-ranks"] = found
    return found


def _rank_of(keys: list[tuple[str, int]]) -> tuple[int, ...]:
    order = sorted(range(len(keys)), key=keys.__getitem__)
    out = [0] * len(keys)
    for rank, n in enumerate(order):
        out[n] = rank
    return tuple(out)


def place(values: tuple[Any, ...], value: Any) -> Primary:
    """``value``'s rank among sorted ``values``; when it is not one of them, half-way between its neighbours,
    with the value to order it among others there."""
    try:
        n = bisect.bisect_left(values, value)
    except TypeError:  # an injected entry with a field of an unexpected type: sort it first
        return (-0.5, ())
    return (n, ()) if n < len(values) and values[n] == value else (n - 0.5, (value,))
