"""The command line, run as users run it: a subprocess, one-line errors, exit 2, never a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from mockserver.vendors import discover


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mockserver", *args], capture_output=True, text=True,
                          timeout=30, env=env)


def test_credentials_json_headers_can_be_sent_as_they_are() -> None:
    from starlette.testclient import TestClient

    from mockserver import Settings, create_app

    result = run("credentials", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {row["vendor"] for row in rows} == {vendor.name for vendor in discover()}
    assert all({"vendor", "org", "role", "headers"} <= row.keys() for row in rows)
    with TestClient(create_app(Settings(now="2024-05-01T12:00:00Z"))) as client:
        for row in rows:
            if row["vendor"] == "datadog" and "audit_logs_read" in row["permissions"]:
                assert client.get("/api/v2/audit/events", headers=row["headers"]).status_code == 200


def test_credentials_for_one_vendor_as_text() -> None:
    result = run("credentials", "--vendor", "datadog")
    assert result.returncode == 0
    assert all(line.startswith("datadog ") and "-H 'DD-API-KEY: " in line for line in result.stdout.splitlines())


@pytest.mark.parametrize(("args", "message"), [
    (["serve", "--port", "abc"], "argument --port: invalid int value: 'abc'"),
    (["serve", "--port", "70000"], "port 70000 is out of range"),
    (["serve", "--now", "yesterday"], "now: 'yesterday' is not a date"),
    (["serve", "--now", "now-1h"], "now must be an absolute time"),
    (["serve", "--events-per-day", "0"], "events-per-day must be between 1"),
    (["serve", "--log-level", "loud"], "argument --log-level: invalid choice: 'loud'"),
    (["serve", "--world", "/nonexistent/world.yaml"], "world file not found: /nonexistent/world.yaml"),
    (["serve", "--bogus"], "unrecognized arguments: --bogus"),
    (["serve", "--out-of-order", "2"], "out-of-order must be a fraction between 0 and 1, got 2.0"),
    (["serve", "--ingestion-lag", "soon"], "argument --ingestion-lag: invalid float value: 'soon'"),
    (["serve", "--journal-size", "0"], "journal-size >= 1"),
    (["credentials", "--vendor", "acme-cloud"], "unknown vendor 'acme-cloud'"),
    (["spec", "acme-cloud"], "unknown vendor 'acme-cloud'"),
])
def test_bad_flags_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_broken_world_file_is_one_line(tmp_path: Path) -> None:
    world = tmp_path / "world.yaml"
    world.write_text("datadog:\n  orgs:\n"
                     "    - {id: a, name: A, credentials: [{id: c, role: r, secrets: {api_key: x}}]}\n")
    result = run("serve", "--world", str(world))
    assert result.returncode == 2
    assert result.stderr.strip() == ("mockserver: error: world.yaml: datadog.orgs[0].credentials[0]: "
                                     "missing 'secrets.app_key'")


def test_environment_variables_configure_serve(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "MOCKSERVER_PORT": "not-a-port"}
    result = run("serve", env=env)
    assert result.returncode == 2 and "MOCKSERVER_PORT must be an integer" in result.stderr


def test_spec_prints_the_shipped_document() -> None:
    result = run("spec", "datadog")
    assert result.returncode == 0 and "ListAuditLogs" in result.stdout
    path = run("spec", "datadog", "--path").stdout.strip()
    assert Path(path).is_file()


def test_serve_prints_each_vendor_and_answers_health() -> None:
    process = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--port", "0", "--now",
                                "2024-05-01T12:00:00Z", "--log-level", "warning"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(2 + len(discover()))]
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", banner[0])
        assert match, banner
        base = match.group(1)
        for vendor in discover():  # one line each: base URL and how to authenticate
            lines = [line for line in banner if line.strip().startswith(vendor.name)]
            assert len(lines) == 1 and base in lines[0] and vendor.auth.description in lines[0]
        assert banner[-1].strip().startswith("control")
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(base + "/_mock/health", timeout=2) as answer:
                    assert answer.status == 200
                    assert json.loads(answer.read())["now"] == "2024-05-01T12:00:00.000Z"
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_a_port_in_use_is_one_line() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"mockserver: error: cannot listen on 127.0.0.1:{port}: ")
    assert len(result.stderr.strip().splitlines()) == 1
