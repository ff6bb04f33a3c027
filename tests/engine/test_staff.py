from __future__ import annotations

import threading

from mockserver.engine.staff import make_staff
from mockserver.engine.world import Org, Team, User


def org(staff: int = 12, seed_org: str = "acme") -> Org:
    return Org(vendor="v", id=seed_org, name="Acme", domain="acme.example", plan=None, events_per_day=None,
               staff=staff, users=(User(id="u1", email="ada@acme.example", name="Ada", role="admin"),),
               teams=(Team(id="t1", name="Ops"), Team(id="t2", name="Dev")), credentials=(), extra={})


def test_named_users_come_first_then_generated_people_up_to_the_staff_size() -> None:
    staff = make_staff(1, org())
    assert len(staff.people) == 12
    assert staff.people[0].email == "ada@acme.example" and staff.people[0].role == "admin"
    assert all(p.email.endswith("@acme.example") for p in staff.people)
    assert len({p.email for p in staff.people}) == 12
    assert all(set(p.teams) <= {"t1", "t2"} and p.teams for p in staff.people)
    assert all(1 <= len(p.ips) <= 3 for p in staff.people)


def test_the_same_seed_and_org_give_the_same_staff_whichever_thread_asks() -> None:
    expected = make_staff(5, org())
    results = []
    threads = [threading.Thread(target=lambda: results.append(make_staff(5, org()))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4
    assert make_staff(6, org()) != expected
    assert make_staff(5, org(seed_org="globex")) != expected
