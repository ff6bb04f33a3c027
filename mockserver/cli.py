"""``mockserver serve | credentials | spec``.

Every refusal (a bad flag, a broken world file, a port in use) is one line on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import shlex
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from mockserver import __version__
from mockserver.engine.world import WorldError
from mockserver.settings import LOG_LEVELS, Settings, SettingsError, from_sources

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mockserver", description="Mock servers for vendors' audit-log APIs.")
    parser.add_argument("--version", action="version", version=f"audit-mockserver {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = sub.add_parser("serve", help="serve every vendor's API on one port")
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1; env MOCKSERVER_HOST)")
    serve.add_argument("--port", type=int, help="port, 0 for any free one (default 8080; env MOCKSERVER_PORT)")
    serve.add_argument("--seed", type=int, help="seed of every generated event (default 0; env MOCKSERVER_SEED)")
    serve.add_argument("--now", help="freeze the clock at this ISO 8601 time (default: real time; env MOCKSERVER_NOW)")
    serve.add_argument("--events-per-day", type=int, dest="events_per_day",
                       help="events per org per day where the world file does not say (default: the vendor's, "
                            "Datadog 2000, Amplitude 300, Make and Datafold 200)")
    serve.add_argument("--world", type=Path, help="world file (default: the shipped fixtures/world.yaml)")
    serve.add_argument("--log-level", dest="log_level", type=str.lower, choices=LOG_LEVELS,
                       help="log level (default info; debug also logs each request; env MOCKSERVER_LOG_LEVEL)")
    serve.add_argument("--cache-mb", type=int, dest="cache_mb",
                       help="memory for rendered events and replayed answers, MiB (default 48; 0 disables)")
    serve.add_argument("--journal-size", type=int, dest="journal_size",
                       help="requests GET /_mock/requests keeps, oldest dropped first (default 10000)")
    serve.add_argument("--scenario", help="install a fault plan at start: a shipped scenario's name "
                       "(flaky-5xx, rate-limit-storm, slow, truncated, chaos) or a YAML file")
    serve.add_argument("--no-rate-limits", dest="rate_limits", action="store_const", const=False,
                       help="switch every vendor's rate limit off (env MOCKSERVER_RATE_LIMITS=false)")
    serve.add_argument("--control-token", dest="control_token",
                       help="require 'Authorization: Bearer <token>' on /_mock calls except health "
                            "(env MOCKSERVER_CONTROL_TOKEN)")
    live = serve.add_argument_group("live arrival (every org; the world file may override per org)")
    live.add_argument("--ingestion-lag", type=float, dest="ingestion_lag", metavar="SECONDS",
                      help="delay between an event's time and its visibility (default 0)")
    live.add_argument("--lag-jitter", type=float, dest="lag_jitter", metavar="SECONDS",
                      help="up to this much more delay, drawn per event (default 0)")
    live.add_argument("--out-of-order", type=float, dest="out_of_order", metavar="FRACTION",
                      help="fraction of events that arrive after later ones (default 0)")
    live.add_argument("--out-of-order-delay", type=float, dest="out_of_order_delay", metavar="SECONDS",
                      help="up to how much later those arrive (default 300)")
    creds = sub.add_parser("credentials", help="print the world's credentials as ready-to-send headers")
    creds.add_argument("--vendor", help="only this vendor")
    creds.add_argument("--json", action="store_true", help="a JSON list of {vendor, org, role, headers}")
    creds.add_argument("--world", type=Path, help="world file (default: the shipped fixtures/world.yaml)")
    spec = sub.add_parser("spec", help="print a vendor's OpenAPI document, or its path")
    spec.add_argument("vendor", help="vendor name, or 'control'")
    spec.add_argument("--path", action="store_true", help="print the file's path instead of its content")
    return parser


def _fail(message: str) -> int:
    print(f"mockserver: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "credentials":
            return _credentials(args)
        return _spec(args)
    except (SettingsError, WorldError) as exc:
        return _fail(str(exc))
    except BrokenPipeError:  # `mockserver credentials | head` is fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _load_world(path: Path | None) -> Any:
    from mockserver.app import secret_fields
    from mockserver.data import default_world
    from mockserver.engine.world import load_world
    from mockserver.vendors import discover

    if path is not None and not path.is_file():
        raise SettingsError(f"world file not found: {path}")
    return load_world(path or default_world(), secret_fields(discover()))


def credential_rows(world: Any, vendor_filter: str | None = None) -> list[dict[str, Any]]:
    from mockserver.vendors import by_name

    vendors = by_name()
    if vendor_filter is not None and vendor_filter not in vendors:
        raise SettingsError(f"unknown vendor {vendor_filter!r} (known: {', '.join(sorted(vendors))})")
    rows = []
    for name, orgs in world.orgs.items():
        if vendor_filter not in (None, name):
            continue
        for org in orgs:
            for cred in org.credentials:
                rows.append({"vendor": name, "org": org.id, "role": cred.role, "id": cred.id,
                             "user": cred.user, "permissions": sorted(cred.permissions),
                             "headers": vendors[name].auth.headers_for(cred.secrets)})
    return rows


def _credentials(args: argparse.Namespace) -> int:
    rows = credential_rows(_load_world(args.world), args.vendor)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        headers = " ".join(f"-H {shlex.quote(f'{k}: {v}')}" for k, v in row["headers"].items())
        print(f"{row['vendor']:<10} {row['org']:<10} {row['id']:<16} {row['role']:<24} {headers}")
    return 0


def _spec(args: argparse.Namespace) -> int:
    from mockserver.data import spec_path
    from mockserver.vendors import by_name

    vendors = by_name()
    if args.vendor != "control" and args.vendor not in vendors:
        raise SettingsError(f"unknown vendor {args.vendor!r} (known: {', '.join(sorted(vendors))}, control)")
    path = spec_path("control.yaml" if args.vendor == "control" else vendors[args.vendor].spec_file)
    if not path.is_file():
        raise SettingsError(f"no spec shipped for {args.vendor}")
    print(path if args.path else path.read_text(encoding="utf-8"), end="\n" if args.path else "")
    return 0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SettingsError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _serve(args: argparse.Namespace) -> int:
    settings = from_sources(vars(args))
    from mockserver.app import create_app

    app = create_app(settings)
    sock = _bind(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    print(startup_banner(app.state.mock, f"http://{_url_host(host)}:{port}"), flush=True)
    import threading

    import uvicorn

    # Staff are made with Faker on first use (~0.5 s): do it now, beside the server, not in a client's request.
    threading.Thread(target=warm_up, args=(app.state.mock,), name="mockserver-warm-up", daemon=True).start()

    config = uvicorn.Config(app, log_level=settings.log_level, access_log=settings.log_level == "debug",
                            lifespan="off", server_header=False, timeout_graceful_shutdown=3)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def warm_up(server: Any) -> None:
    """Render one current event of every org, which builds its staff and the vendor's per-org pieces, then
    freeze the start-up heap."""
    now = server.clock.now_ms()
    for stream in server.corpus.streams():
        index = stream.first_index_at_or_after(now) - 1
        if index >= 0:
            stream.event_bytes((stream.ts(index), 0, index))
    # Everything built so far lives as long as the server: move it out of the collector's sight, so a full
    # collection under load walks only what requests allocate (the p99 of warm pages fell from ~35 to ~15 ms).
    gc.collect()
    gc.freeze()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def startup_banner(server: Any, base: str) -> str:
    """One line for the server, then one line per vendor: its base URL and how to authenticate."""
    settings: Settings = server.settings
    clock = f"frozen at {settings.now}" if settings.now else "real time"
    lines = [f"audit-mockserver {__version__} listening on {base} (seed {settings.seed}, clock {clock})"]
    for name, runtime in sorted(server.runtimes.items()):
        vendor = runtime.vendor
        example = ""
        orgs = list(runtime.orgs.values())
        if orgs and orgs[0].credentials:
            headers = vendor.auth.headers_for(orgs[0].credentials[0].secrets)
            example = ", e.g. " + " ".join(f"-H {shlex.quote(f'{k}: {v}')}" for k, v in headers.items())
        auth = f"auth: {vendor.auth.description}{example}"
        lines.append(f"  {name:<9} {base}{vendor.path_prefix}  [{vendor.docs}]  {auth}")
    lines.append(f"  {'control':<9} {base}/_mock/health  [all credentials: mockserver credentials --json]")
    return "\n".join(lines)
