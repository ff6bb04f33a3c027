"""Fault plans as data: parsing and validation of the plan format.

A plan is ``{seed?, description?, rules: [{name?, match?, when?, action}]}`` (README, "Fault plans").
``parse_plan`` checks every key eagerly; a bad plan is one ``PlanError`` line naming the rule and the
field: ``rules[2] (flaky).action.status: must be one of 429, 500, 502, 503, 504``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any

from mockserver.engine._fault_types import (
    ACTIONS,
    FIRST_MS,
    LAST_MS,
    MATCH_KEYS,
    MAX_COUNT,
    MAX_RULES,
    MAX_SEED,
    METHODS,
    Action,
    FaultPlan,
    Match,
    Param,
    PlanError,
    Rule,
    When,
)
from mockserver.engine.windows import InstantError, parse_instant

WHEN_KEYS = ("probability", "every", "first", "after", "before")
RULE_KEYS = ("name", "match", "when", "action")
READ_ONLY_KEYS = ("matched", "fired")
"""Counters ``GET /_mock/faults`` shows; accepted and ignored in a plan, so what GET shows can be PUT back."""
PLAN_KEYS = ("seed", "description", "rules")
_ANY = object()
"""An omitted key (which matches anything or takes the default); an explicit null is an error."""


def parse_plan(data: Any, known: Mapping[str, Collection[str]] | None = None) -> FaultPlan:
    """The plan ``data`` (decoded JSON or YAML) describes. ``known``: vendor name -> its operationIds;
    when given, ``match.vendor`` and ``match.operation`` must name one."""
    if not isinstance(data, Mapping):
        raise PlanError("plan: must be an object with a 'rules' list")
    _no_unknown(data, PLAN_KEYS, "plan")
    seed = _as_int(data["seed"]) if "seed" in data else None
    if "seed" in data and (seed is None or not 0 <= seed <= MAX_SEED):
        raise PlanError(f"seed: must be an integer between 0 and {MAX_SEED}")
    description = data.get("description")
    if "description" in data and not isinstance(description, str):
        raise PlanError("description: must be a string")
    if "rules" not in data:
        raise PlanError("rules: required; a list of rules (empty for none)")
    raw_rules = data["rules"]
    if not isinstance(raw_rules, list):
        raise PlanError("rules: must be a list")
    if len(raw_rules) > MAX_RULES:
        raise PlanError(f"rules: at most {MAX_RULES} rules")
    rules: list[Rule] = []
    for index, raw in enumerate(raw_rules):
        rule = _rule(index, raw, known)
        for other, earlier in enumerate(rules):
            if earlier.name == rule.name:
                raise PlanError(f"rules[{index}].name: {rule.name!r} is already the name of rules[{other}]")
        rules.append(rule)
    return FaultPlan(rules=tuple(rules), seed=seed, description=description)


def _no_unknown(data: Mapping[Any, Any], allowed: tuple[str, ...], where: str,
                shown: tuple[str, ...] | None = None) -> None:
    for key in data:
        if key not in allowed:
            raise PlanError(f"{where}.{key}: unknown key; expected one of {', '.join(shown or allowed)}")


def _rule(index: int, raw: Any, known: Mapping[str, Collection[str]] | None) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(raw, Mapping):
        raise PlanError(f"{where}: must be an object with an 'action'")
    name = raw.get("name", f"rule-{index}")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise PlanError(f"{where}.name: must be a non-empty string of at most 100 characters")
    if "name" in raw:
        where = f"{where} ({name})"
    _no_unknown(raw, RULE_KEYS + READ_ONLY_KEYS, where, RULE_KEYS)
    for key in READ_ONLY_KEYS:  # what GET shows, accepted back and ignored
        count = _as_int(raw.get(key, 0))
        if count is None or count < 0:
            raise PlanError(f"{where}.{key}: must be an integer >= 0 (a counter GET shows; ignored)")
    if "action" not in raw:
        raise PlanError(f"{where}.action: required; an object with a 'type'")
    return Rule(name=name, match=_match(raw.get("match", _ANY), f"{where}.match", known),
                when=_when(raw.get("when", _ANY), f"{where}.when"), action=_action(raw["action"], f"{where}.action"))


def _section(raw: Any, where: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if raw is _ANY:
        return {}
    if not isinstance(raw, Mapping):
        raise PlanError(f"{where}: must be an object with keys among {', '.join(keys)}")
    _no_unknown(raw, keys, where)
    return raw


def _match(raw: Any, where: str, known: Mapping[str, Collection[str]] | None) -> Match:
    section = _section(raw, where, MATCH_KEYS)
    values: dict[str, str] = {}
    for key, value in section.items():
        if not isinstance(value, str) or not value:
            raise PlanError(f"{where}.{key}: must be a non-empty string")
        values[key] = value
    if "method" in values and values["method"] not in METHODS:
        raise PlanError(f"{where}.method: must be one of {', '.join(METHODS)}")
    if known is not None:
        vendor = values.get("vendor")
        if vendor is not None and vendor not in known:
            raise PlanError(f"{where}.vendor: unknown vendor {vendor!r}; known: {', '.join(sorted(known))}")
        operation = values.get("operation")
        operations = known[vendor] if vendor is not None else {op for ops in known.values() for op in ops}
        if operation is not None and operation not in operations:
            raise PlanError(f"{where}.operation: unknown operationId {operation!r}; known: "
                            f"{', '.join(sorted(operations))}")
    return Match(**values)


def _when(raw: Any, where: str) -> When:
    section = _section(raw, where, WHEN_KEYS)
    probability = section.get("probability")
    if "probability" in section and not _number_in(probability, 0, 1):
        raise PlanError(f"{where}.probability: must be a number between 0 and 1")
    counts: dict[str, int | None] = {}
    for key in ("every", "first"):
        counts[key] = value = _as_int(section[key]) if key in section else None
        if key in section and (value is None or not 1 <= value <= MAX_COUNT):
            raise PlanError(f"{where}.{key}: must be an integer between 1 and {MAX_COUNT}")
    after = _instant(section.get("after", _ANY), f"{where}.after")
    before = _instant(section.get("before", _ANY), f"{where}.before")
    if after is not None and before is not None and before <= after:
        raise PlanError(f"{where}.before: must be later than after")
    return When(probability=None if probability is None else float(probability), every=counts["every"],
                first=counts["first"], after_ms=after, before_ms=before)


def _instant(value: Any, where: str) -> int | None:
    if value is _ANY:
        return None
    if isinstance(value, datetime):  # YAML reads an unquoted timestamp as a datetime
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return round(moment.timestamp() * 1000)
    if isinstance(value, date):
        return round(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    if not isinstance(value, str) or value.strip().startswith("now"):
        raise PlanError(f"{where}: must be an ISO 8601 date-time such as 2024-05-01T12:00:00Z")
    try:
        ms = parse_instant(value.strip().upper(), 0)  # RFC 3339 allows a lower-case t and z
    except InstantError:
        ms = None
    if ms is None or not FIRST_MS <= ms <= LAST_MS:
        raise PlanError(f"{where}: must be an ISO 8601 date-time such as 2024-05-01T12:00:00Z")
    return ms


def _action(raw: Any, where: str) -> Action:
    if not isinstance(raw, Mapping):
        raise PlanError(f"{where}: must be an object with a 'type'")
    kind = raw.get("type")
    if kind not in ACTIONS:
        raise PlanError(f"{where}.type: must be one of {', '.join(ACTIONS)}")
    specs = ACTIONS[kind]
    _no_unknown(raw, ("type", *specs), where)
    params: dict[str, Any] = {}
    for key, spec in specs.items():
        value = raw.get(key, _ANY)
        if value is None and spec.choices:
            choices = ", ".join(map(str, spec.choices))
            raise PlanError(f'{where}.{key}: must be one of {choices} (quote "null" in YAML)')
        if value is _ANY:
            if spec.default is None and not spec.optional:
                raise PlanError(f"{where}.{key}: required for a {kind} action")
            if spec.default is not None:
                params[key] = spec.default
            continue
        params[key] = _param(value, spec, f"{where}.{key}")
    if kind == "latency":
        _check_latency(params, where)
    elif kind == "status":
        if "retry_after" in params and params["status"] != 429:
            raise PlanError(f"{where}.retry_after: only for status 429")
        if params["status"] == 429:
            params.setdefault("retry_after", 1)
    return Action(type=kind, params=params)


def _param(value: Any, spec: Param, where: str) -> Any:
    if spec.choices:
        if value not in spec.choices or isinstance(value, bool):
            raise PlanError(f"{where}: must be one of {', '.join(str(choice) for choice in spec.choices)}")
        return value
    top = f"below {spec.high:g}" if spec.high_open else f"at most {spec.high:g}"
    if spec.integer:
        number = _as_int(value)
        if number is None or not spec.low <= number <= spec.high:
            raise PlanError(f"{where}: must be an integer, at least {spec.low:g} and {top}")
        return number
    if not _number_in(value, spec.low, spec.high) or (spec.high_open and value >= spec.high):
        raise PlanError(f"{where}: must be a number, at least {spec.low:g} and {top}")
    return value


def _check_latency(params: dict[str, Any], where: str) -> None:
    uniform = ("min_ms" in params, "max_ms" in params)
    if "ms" in params and any(uniform):
        raise PlanError(f"{where}.ms: give either ms (fixed) or min_ms and max_ms (uniform), not both")
    if "ms" not in params and not all(uniform):
        missing = "max_ms" if uniform[0] else "min_ms"
        raise PlanError(f"{where}.{missing}: required for a latency action (or give ms for a fixed latency)")
    if all(uniform) and params["min_ms"] > params["max_ms"]:
        raise PlanError(f"{where}.max_ms: must be at least min_ms")


def _as_int(value: Any) -> int | None:
    """``value`` as an int if it is an integer (JSON's 2.0 included), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def _number_in(value: Any, low: float, high: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
