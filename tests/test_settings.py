from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.settings import Settings, SettingsError, from_sources


def test_defaults() -> None:
    settings = from_sources({}, {})
    assert (settings.host, settings.port, settings.seed, settings.now) == ("127.0.0.1", 8080, 0, None)
    assert settings.frozen_at_ms is None


def test_flags_override_environment_which_overrides_defaults() -> None:
    env = {"MOCKSERVER_PORT": "9000", "MOCKSERVER_SEED": "5", "MOCKSERVER_LOG_LEVEL": "WARNING"}
    assert from_sources({}, env).port == 9000
    assert from_sources({"port": 9100, "seed": None}, env).port == 9100
    assert from_sources({"seed": None}, env).seed == 5
    assert from_sources({}, env).log_level == "warning"


def test_now_freezes_the_clock() -> None:
    assert from_sources({"now": "2024-05-01T12:00:00Z"}, {}).frozen_at_ms == 1_714_564_800_000


@pytest.mark.parametrize(("flags", "message"), [
    ({"port": -1}, "port -1 is out of range"), ({"log_level": "LOUD"}, "log-level must be one of"),
    ({"world": Path("/nope.yaml")}, "world file not found"), ({"now": "soon"}, "now: "),
    ({"ingestion_lag": -1.0}, "ingestion-lag must be between 0 and 604800 seconds"),
    ({"out_of_order": 1.5}, "out-of-order must be a fraction between 0 and 1"),
    ({"control_token": "  "}, "control-token must not be empty"),
])
def test_invalid(flags: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        from_sources(flags, {})


def test_settings_are_immutable() -> None:
    with pytest.raises(AttributeError):
        Settings().port = 1  # type: ignore[misc]


def test_control_plane_settings_from_the_environment() -> None:
    env = {"MOCKSERVER_RATE_LIMITS": "off", "MOCKSERVER_INGESTION_LAG": "2.5", "MOCKSERVER_OUT_OF_ORDER": "0.1",
           "MOCKSERVER_CONTROL_TOKEN": "t0ken", "MOCKSERVER_SCENARIO": "chaos"}
    settings = from_sources({}, env)
    assert settings.rate_limits is False and settings.control_token == "t0ken" and settings.scenario == "chaos"
    assert settings.live.lag_ms == 2500 and settings.live.out_of_order == 0.1
    assert from_sources({"rate_limits": None}, {}).rate_limits is True
    with pytest.raises(SettingsError, match="MOCKSERVER_RATE_LIMITS must be true or false, got 'maybe'"):
        from_sources({}, {"MOCKSERVER_RATE_LIMITS": "maybe"})
    with pytest.raises(SettingsError, match="MOCKSERVER_LAG_JITTER must be a number, got 'lots'"):
        from_sources({}, {"MOCKSERVER_LAG_JITTER": "lots"})
