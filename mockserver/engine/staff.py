"""An org's fixed staff: the world's named users plus people made with Faker, once per org.

A real org has a fixed set of people who act again and again, so events pick from this staff; Faker
runs here only, never per request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from mockserver.engine.rng import Rng, stable_key
from mockserver.engine.world import Org, Team


@dataclass(frozen=True, slots=True)
class Person:
    index: int
    id: str
    number: int
    uuid: str
    name: str
    email: str
    role: str
    ips: tuple[str, ...]
    teams: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Staff:
    people: tuple[Person, ...]
    teams: tuple[Team, ...]


_faker = None


def _get_faker() -> object:
    global _faker
    if _faker is None:
        from faker import Faker  # imported on first use: it costs ~0.2 s of start-up

        _faker = Faker("en_US")
    return _faker


_LOCK = threading.Lock()


def make_staff(seed: int, org: Org) -> Staff:
    """The same staff for the same seed and org, whichever thread asks first (Faker is shared state)."""
    with _LOCK:
        return _make_staff(seed, org)


def _make_staff(seed: int, org: Org) -> Staff:
    faker = _get_faker()
    key = stable_key(seed, org.vendor, org.id, "staff")
    faker.seed_instance(key)  # type: ignore[attr-defined]
    rng = Rng(key)
    teams = org.teams
    people: list[Person] = []
    taken = set()
    for user in org.users:
        taken.add(user.email.lower())
        people.append(Person(index=len(people), id=user.id, number=100_000 + len(people), uuid=rng.uuid4(),
                             name=user.name, email=user.email, role=user.role,
                             ips=_ips(faker, rng), teams=tuple(user.teams) or _some_teams(rng, teams)))
    while len(people) < max(org.staff, len(org.users), 1):
        first = faker.first_name()  # type: ignore[attr-defined]
        last = faker.last_name()  # type: ignore[attr-defined]
        email = f"{first}.{last}@{org.domain}".lower()
        if email in taken:
            email = f"{first}.{last}{len(people)}@{org.domain}".lower()
        taken.add(email)
        n = len(people)
        people.append(Person(index=n, id=f"{stable_key(key, n) % 10**9:09d}", number=100_000 + n,
                             uuid=rng.uuid4(), name=f"{first} {last}", email=email, role="member",
                             ips=_ips(faker, rng), teams=_some_teams(rng, teams)))
    return Staff(people=tuple(people), teams=teams)


def _ips(faker: object, rng: Rng) -> tuple[str, ...]:
    return tuple(faker.ipv4_public() for _ in range(1 + rng.below(3)))  # type: ignore[attr-defined]


def _some_teams(rng: Rng, teams: tuple[Team, ...]) -> tuple[str, ...]:
    if not teams:
        return ()
    first = rng.below(len(teams))
    chosen = [teams[first].id]
    if len(teams) > 1 and rng.chance(0.3):
        chosen.append(teams[(first + 1) % len(teams)].id)
    return tuple(chosen)
