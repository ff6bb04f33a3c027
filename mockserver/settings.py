"""One Settings object, from CLI flags, MOCKSERVER_* environment variables and defaults, in that
order of precedence, validated before anything starts. A bad value is one ``SettingsError`` line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mockserver.engine.events import MAX_EVENTS_PER_DAY
from mockserver.engine.live import MAX_DELAY_S, Live
from mockserver.engine.windows import InstantError, parse_instant

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class SettingsError(ValueError):
    """A setting the server cannot use; ``str()`` is one line naming it."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    seed: int = 0
    now: str | None = None
    """Freeze the clock at this ISO 8601 instant; None runs on real time."""
    events_per_day: int | None = None
    """Events per org per day when the world file does not say; None: each vendor's default."""
    world: Path | None = None
    """World file; None means the shipped fixtures/world.yaml."""
    log_level: str = "info"
    cache_mb: int = 48
    """Memory for rendered events and replayed answers, in MiB (0 disables caching)."""
    journal_size: int = 10_000
    """Requests the journal (GET /_mock/requests) keeps, oldest dropped first."""
    scenario: str | None = None
    """A fault plan to install at start: a shipped scenario's name or a YAML file's path."""
    rate_limits: bool = True
    """Enforce the vendors' rate limits (``--no-rate-limits`` switches every bucket off)."""
    control_token: str | None = None
    """When set, every /_mock call but health needs ``Authorization: Bearer <token>``."""
    ingestion_lag: float = 0.0
    """Seconds between an event's time and its visibility in the API (every org, unless the world says)."""
    lag_jitter: float = 0.0
    """Up to this many more seconds of ingestion lag, drawn per event."""
    out_of_order: float = 0.0
    """Fraction of events that arrive late, after events that happened after them."""
    out_of_order_delay: float = 300.0
    """Up to how many more seconds a late event waits."""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def live(self) -> Live:
        return Live(lag_ms=round(self.ingestion_lag * 1000), jitter_ms=round(self.lag_jitter * 1000),
                    out_of_order=self.out_of_order, out_of_order_delay_ms=round(self.out_of_order_delay * 1000))

    @property
    def frozen_at_ms(self) -> int | None:
        if self.now is None:
            return None
        return parse_instant(self.now, 0)

    def validated(self) -> Settings:
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port {self.port} is out of range 0-65535")
        if self.events_per_day is not None and not 1 <= self.events_per_day <= MAX_EVENTS_PER_DAY:
            raise SettingsError(f"events-per-day must be between 1 and {MAX_EVENTS_PER_DAY}, got {self.events_per_day}")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"log-level must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        if self.cache_mb < 0 or self.journal_size < 1:
            raise SettingsError("cache-mb must be >= 0 and journal-size >= 1")
        if self.now is not None:
            if self.now.strip().startswith("now"):
                raise SettingsError(f"now must be an absolute time, got {self.now!r}")
            try:
                parse_instant(self.now, 0)
            except InstantError as exc:
                raise SettingsError(f"now: {exc}") from None
        for name in ("ingestion_lag", "lag_jitter", "out_of_order_delay"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_DELAY_S:
                flag = name.replace("_", "-")
                raise SettingsError(f"{flag} must be between 0 and {MAX_DELAY_S} seconds, got {value}")
        if not 0 <= self.out_of_order <= 1:
            raise SettingsError(f"out-of-order must be a fraction between 0 and 1, got {self.out_of_order}")
        if self.control_token is not None and not self.control_token.strip():
            raise SettingsError("control-token must not be empty")
        if self.world is not None and not self.world.is_file():
            raise SettingsError(f"world file not found: {self.world}")
        return self


_INT_FIELDS = {"port", "seed", "events_per_day", "cache_mb", "journal_size"}
_FLOAT_FIELDS = {"ingestion_lag", "lag_jitter", "out_of_order", "out_of_order_delay"}
_BOOL_FIELDS = {"rate_limits"}
ENV_PREFIX = "MOCKSERVER_"


def from_sources(flags: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """Flags (None = not given) override MOCKSERVER_* variables, which override the defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name == "extra":
            continue
        raw = env.get(ENV_PREFIX + f.name.upper())
        if raw is not None and raw != "":
            values[f.name] = _convert(f.name, raw, f"{ENV_PREFIX}{f.name.upper()}")
        if flags.get(f.name) is not None:
            values[f.name] = flags[f.name]
    if "log_level" in values:
        values["log_level"] = str(values["log_level"]).lower()
    return replace(Settings(), **values).validated()


def _convert(name: str, raw: str, source: str) -> Any:
    if name in _INT_FIELDS:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{source} must be an integer, got {raw!r}") from None
    if name in _FLOAT_FIELDS:
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{source} must be a number, got {raw!r}") from None
        if value != value:
            raise SettingsError(f"{source} must be a number, got {raw!r}")
        return value
    if name in _BOOL_FIELDS:
        lowered = raw.strip().lower()
        if lowered not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            raise SettingsError(f"{source} must be true or false, got {raw!r}")
        return lowered in {"1", "true", "yes", "on"}
    if name == "world":
        return Path(raw)
    return raw
