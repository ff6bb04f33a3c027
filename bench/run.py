"""`python -m bench`: throughput, latency, start-up time and memory of the mock, against a baseline app.

Every server is a subprocess on a free 127.0.0.1 port, stopped by PID (terminate, then kill) in a
`finally`, even on Ctrl-C. Load comes from a separate process: `wrk` when it is on PATH, else
`python -m bench.loadgen`. Figures are ratios to the baseline measured in the same run (see README.md).
Exit status: 0 when the benchmark ran (targets missed print MISS), 1 when the harness itself failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

from bench import loadgen

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
NOW = "2024-05-01T12:00:00Z"
EVENTS_PER_DAY = 111_112  # x 90 days of Datadog retention = 10,000,000 events per org
WARM_PATH = (
    f"{loadgen.EVENTS_PATH}?filter[from]=2024-05-01T10:00:00Z&filter[to]=2024-05-01T11:00:00Z&page[limit]=100"
)
HEALTH_PATH = "/_mock/health"
RATIO_TARGETS = {"datadog-warm": 0.5, "datadog-cold": 0.1}
STARTUP_TARGET_S = 1.0
RSS_TARGET_MB = 150.0
READY_TIMEOUT_S = 60.0
CPU_KEYS = ("srv_cpu_pct", "gen_cpu_pct", "others_cpu_pct", "steal_pct")
BUSY_PCT = 25.0  # other work on the machine above this (% of one core) makes a figure noisy


class HarnessError(RuntimeError):
    """The benchmark could not run (as opposed to a target being missed)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mock_cmd(port: int) -> list[str]:
    flags = f"--host 127.0.0.1 --port {port} --now {NOW} --seed 1 --log-level warning --no-rate-limits"
    return [
        sys.executable,
        "-m",
        "mockserver",
        "serve",
        *flags.split(),
        "--events-per-day",
        str(EVENTS_PER_DAY),
    ]


def baseline_cmd(port: int) -> list[str]:
    return [sys.executable, "-m", "bench.baseline_app", "--host", "127.0.0.1", "--port", str(port)]


def http_get(
    port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 5.0
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def stop(proc: subprocess.Popen[Any], timeout: float = 5.0) -> None:
    """Stop one process we started, by PID: SIGTERM, then SIGKILL after `timeout`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]
    spawned_at: float

    def log_tail(self, chars: int = 2000) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-chars:]

    def wait_ready(
        self,
        path: str,
        headers: dict[str, str] | None = None,
        timeout: float = READY_TIMEOUT_S,
        interval: float = 0.01,
    ) -> float:
        """Poll `path` until it answers 200; return seconds since spawn. Raises HarnessError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if http_get(self.port, path, headers, timeout=1.0)[0] == 200:
                    return time.perf_counter() - self.spawned_at
            except OSError:
                pass
            time.sleep(interval)
        raise HarnessError(f"server not ready on {path} after {timeout:.0f} s:\n{self.log_tail()}")

    def memory_mb(self) -> dict[str, float]:
        """VmRSS and VmHWM (peak RSS) from /proc/<pid>/status, in MB."""
        out: dict[str, float] = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
        return out


@contextmanager
def server(cmd: list[str]) -> Iterator[Server]:
    """Start a server on its own session (Ctrl-C does not reach it) and always stop it by PID."""
    with tempfile.TemporaryFile() as log:
        spawned_at = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield Server(proc, int(cmd[cmd.index("--port") + 1]), log, spawned_at)
        finally:
            stop(proc)


def datadog_headers() -> dict[str, str]:
    """Headers of the first Datadog admin credential, from `mockserver credentials --json`."""
    cmd = [sys.executable, "-m", "mockserver", "credentials", "--vendor", "datadog", "--json"]
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    except subprocess.TimeoutExpired as exc:
        raise HarnessError("`mockserver credentials` did not answer in 60 s") from exc
    if done.returncode != 0:
        raise HarnessError(f"`mockserver credentials` failed ({done.returncode}): {done.stderr.strip()}")
    entries = [e for e in json.loads(done.stdout) if e.get("vendor", "datadog") == "datadog"]
    # role "admin", or a role named like Datadog's own ("Datadog Admin Role")
    for entry in sorted(entries, key=lambda e: str(e.get("role", "")).lower() != "admin"):
        if "admin" in str(entry.get("role", "")).lower().split():
            return {str(k): str(v) for k, v in entry["headers"].items()}
    raise HarnessError(f"no Datadog admin credential in: {done.stdout[:500]}")


@dataclass
class Load:
    """Runs one measured scenario with wrk (when `wrk` is set) or with `python -m bench.loadgen`."""

    wrk: str | None
    connections: int
    threads: int
    warmup: int
    duration: int
    max_requests: int
    next_window: int = 0  # the cold scenario never reuses a window within a run

    @property
    def generator(self) -> str:
        return "wrk" if self.wrk else "python"

    def measure(self, port: int, path: str, headers: dict[str, str], cold: bool, pid: int) -> dict[str, Any]:
        result = (
            self._wrk(port, path, headers, cold, pid)
            if self.wrk
            else self._python(port, path, headers, cold, pid)
        )
        self.next_window += result["cold_windows_used"]
        return result

    def _wrk(self, port: int, path: str, headers: dict[str, str], cold: bool, pid: int) -> dict[str, Any]:
        assert self.wrk is not None
        common: dict[str, Any] = {"cold": cold, "now_epoch": loadgen.parse_now(NOW)}
        common |= {"connections": self.connections, "threads": self.threads}
        if self.warmup > 0:  # wrk has no warm-up: a separate run, whose windows the measured run skips
            warm = loadgen.run_wrk(
                self.wrk, port, path, headers, duration=self.warmup, first_window=self.next_window, **common
            )
            self.next_window += warm["cold_windows_used"]
        return loadgen.run_wrk(
            self.wrk, port, path, headers, duration=self.duration, first_window=self.next_window,
            server_pid=pid, **common,
        )  # fmt: skip

    def _python(self, port: int, path: str, headers: dict[str, str], cold: bool, pid: int) -> dict[str, Any]:
        flags: dict[str, object] = {
            "--port": port,
            "--mode": "cold" if cold else "fixed",
            "--path": path,
            "--now": NOW,
            "--first-window": self.next_window,
            "--server-pid": pid,
            "--connections": self.connections,
            "--warmup": self.warmup,
            "--duration": self.duration,
            "--max-requests": self.max_requests,
        }
        cmd = [sys.executable, "-m", "bench.loadgen"]
        for flag, value in [*flags.items(), *(("--header", f"{k}: {v}") for k, v in headers.items())]:
            cmd += [flag, str(value)]
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            out, err = proc.communicate(timeout=self.warmup + self.duration + 30)
        finally:
            stop(proc)
        if proc.returncode != 0:
            raise HarnessError(f"load generator failed ({proc.returncode}): {err.strip()[-2000:]}")
        result: dict[str, Any] = json.loads(out)
        return result


def check_page(port: int, path: str, headers: dict[str, str]) -> int:
    """One request before the load: a 200 with a data list, else the run would measure errors."""
    status, body = http_get(port, path, headers, timeout=30.0)
    if status != 200:
        raise HarnessError(f"GET {path} answered {status} before the load: {body[:300]!r}")
    data = json.loads(body).get("data")
    if not isinstance(data, list):
        raise HarnessError(f"GET {path} answered 200 without a data list: {body[:300]!r}")
    if len(data) != 100:
        print(f"warning: GET {path} returned {len(data)} events, not a full page of 100", file=sys.stderr)
    return len(body)


def measure_startup(runs: int) -> list[float]:
    """Seconds from spawning `mockserver serve` to its first 200 on /_mock/health, once per run."""
    samples = []
    for _ in range(runs):
        with server(mock_cmd(free_port())) as srv:
            samples.append(srv.wait_ready(HEALTH_PATH, interval=0.01))
    return samples


def summarise(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Median over rounds; each round's ratio is to the baseline of the same round."""
    out: dict[str, dict[str, Any]] = {}
    for name, runs in rounds.items():
        ratios = [
            r["rps"] / b["rps"] if b["rps"] else 0.0 for r, b in zip(runs, rounds["baseline"], strict=True)
        ]
        med = {
            k: statistics.median(r[k] for r in runs)
            for k in ("rps", "p50_ms", "p99_ms", "bytes_per_response")
        }
        cpu = {k: statistics.median(r[k] or 0.0 for r in runs) for k in CPU_KEYS}
        target = RATIO_TARGETS.get(name)
        non_200 = sum(r["non_200"] for r in runs)
        ratio = statistics.median(ratios)
        verdict = None if target is None else "INVALID" if non_200 else "PASS" if ratio >= target else "MISS"
        out[name] = {
            **med,
            **cpu,
            "non_200": non_200,
            "ratio": ratio,
            "target_ratio": target,
            "verdict": verdict,
            "rounds": runs,
        }
    return out


def run(opts: argparse.Namespace) -> dict[str, Any]:
    wrk = shutil.which("wrk") if opts.generator in ("auto", "wrk") else None
    if opts.generator == "wrk" and wrk is None:
        raise HarnessError("--generator wrk, but wrk is not on PATH (apt-get install wrk)")
    loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    load = Load(wrk, opts.connections, opts.threads, opts.warmup, opts.duration, opts.max_requests)
    headers = datadog_headers()
    with server(baseline_cmd(free_port())) as base, server(mock_cmd(free_port())) as mock:
        base.wait_ready(loadgen.EVENTS_PATH)
        mock.wait_ready(HEALTH_PATH)
        rss_start = mock.memory_mb()
        # the cold check reads the oldest window, which the load reaches only after 129,539 requests
        cold_check = loadgen.cold_path(loadgen.COLD_SLOTS - 1, loadgen.parse_now(NOW))
        plan = {
            "baseline": (base, WARM_PATH, False),
            "datadog-warm": (mock, WARM_PATH, False),
            "datadog-cold": (mock, cold_check, True),
        }
        page_bytes = {name: check_page(srv.port, path, headers) for name, (srv, path, _) in plan.items()}
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in plan}
        for i in range(opts.rounds):
            for name, (srv, path, cold) in plan.items():
                print(
                    f"round {i + 1}/{opts.rounds} {name}: {opts.warmup} s warm-up + {opts.duration} s",
                    file=sys.stderr,
                )
                rounds[name].append(load.measure(srv.port, path, headers, cold, srv.proc.pid))
        rss_load = mock.memory_mb()
    scenarios = summarise(rounds)
    for name, size in page_bytes.items():
        scenarios[name]["page_bytes"] = size
    print(f"start-up: {opts.startups} starts ...", file=sys.stderr)
    startups = measure_startup(opts.startups)
    startup_s = statistics.median(startups)
    rss_max = max(rss_start["VmRSS"], rss_load["VmRSS"])
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_at_start": loadavg,
        },
        "load": {
            "generator": load.generator,
            "connections": opts.connections,
            "warmup_s": opts.warmup,
            "duration_s": opts.duration,
            "rounds": opts.rounds,
            "wrk_threads": opts.threads if wrk else None,
        },
        "mock_cmd": mock_cmd(0)[1:],
        "scenarios": scenarios,
        "startup": {
            "samples_s": startups,
            "median_s": startup_s,
            "target_s": STARTUP_TARGET_S,
            "verdict": "PASS" if startup_s <= STARTUP_TARGET_S else "MISS",
        },
        "rss": {
            "after_start_mb": rss_start["VmRSS"],
            "after_load_mb": rss_load["VmRSS"],
            "peak_mb": rss_load["VmHWM"],
            "target_mb": RSS_TARGET_MB,
            "verdict": "PASS" if rss_max <= RSS_TARGET_MB else "MISS",
        },
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def report(res: dict[str, Any]) -> str:
    ld, machine = res["load"], res["machine"]
    lines = [
        f"audit-mockserver benchmark: {ld['generator']} generator, {ld['connections']} connections, "
        f"{ld['rounds']} round(s) of {ld['duration_s']} s after {ld['warmup_s']} s warm-up; "
        f"{machine['cpus']} CPUs shared by server and generator, load average {machine['loadavg_at_start']}",
        "",
    ]
    head = f"{'scenario':<14}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'non-200':>8}{'ratio':>7}{'target':>8}"
    head += f"{'verdict':>8}{'srv cpu':>8}{'gen cpu':>8}{'others':>7}{'steal':>6}{'KB/resp':>8}"
    lines += [head, "-" * len(head)]
    for name, s in res["scenarios"].items():
        target = "-" if s["target_ratio"] is None else f">={s['target_ratio']}x"
        lines.append(
            f"{name:<14}{s['rps']:>8.0f}{s['p50_ms']:>8.2f}{s['p99_ms']:>8.2f}{s['non_200']:>8}"
            f"{s['ratio']:>6.2f}x{target:>8}{s['verdict'] or '-':>8}{_pct(s['srv_cpu_pct']):>8}"
            f"{_pct(s['gen_cpu_pct']):>8}{_pct(s['others_cpu_pct']):>7}{_pct(s['steal_pct']):>6}"
            f"{s['bytes_per_response'] / 1024:>8.1f}"
        )
    lines.append(
        f"(medians of {ld['rounds']} round(s); ratio = req/s over the same round's baseline req/s; cpu "
        "columns in % of one core: server, load generator, everything else, hypervisor steal)"
    )
    st, rss = res["startup"], res["rss"]
    samples = " ".join(f"{x:.3f}" for x in st["samples_s"])
    lines += [
        "",
        f"start-up, spawn to first 200 on {HEALTH_PATH} (median of {len(st['samples_s'])}): "
        f"{st['median_s']:.3f} s [{samples}]  target <= {st['target_s']} s  {st['verdict']}",
        f"RSS of the mock (10M events per Datadog org): after start {rss['after_start_mb']:.1f} MB, "
        f"after load {rss['after_load_mb']:.1f} MB, peak {rss['peak_mb']:.1f} MB  "
        f"target <= {rss['target_mb']:.0f} MB  {rss['verdict']}",
    ]
    busy = [n for n, s in res["scenarios"].items() if s["others_cpu_pct"] + s["steal_pct"] > BUSY_PCT]
    if busy:
        lines += [
            "",
            f"note: other work or steal took > {BUSY_PCT:.0f}% of a core during {', '.join(busy)}: "
            "the machine was busy, figures are noisy (rerun on an idle machine)",
        ]
    bad = [name for name, s in res["scenarios"].items() if s["non_200"]]
    if bad:
        lines += [
            "",
            "!" * 78,
            f"!!! NON-200 ANSWERS in {', '.join(bad)}: their figures are INVALID",
            "!!! (status counts per round are in the JSON output)",
            "!" * 78,
        ]
    return "\n".join(lines)


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark the mock (see bench/README.md)."
    )
    p.add_argument("--duration", type=int, default=5, help="measured seconds per scenario and round (5)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up seconds before each measurement (1)")
    p.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections (32)")
    p.add_argument(
        "--rounds", type=int, default=3, help="rounds of baseline, warm, cold; medians reported (3)"
    )
    p.add_argument(
        "--generator", choices=["auto", "wrk", "python"], default="auto", help="auto: wrk if on PATH"
    )
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument("--startups", type=int, default=3, help="start-up time samples (3)")
    p.add_argument(
        "--max-requests", type=int, default=2_000_000, help="cap per measurement, python generator"
    )
    p.add_argument("--output", type=Path, default=RESULTS, help="JSON results (bench/results/latest.json)")
    opts = p.parse_args(argv)
    if min(opts.duration, opts.connections, opts.rounds, opts.threads, opts.startups, opts.max_requests) < 1:
        p.error("--duration, --connections, --rounds, --threads, --startups, --max-requests must be >= 1")
    if opts.warmup < 0:
        p.error("--warmup must be >= 0")
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        results = run(opts)
    except (HarnessError, OSError, ValueError, KeyError, subprocess.SubprocessError, RuntimeError) as exc:
        print(f"bench: harness failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; the servers it started were stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(report(results))
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nJSON results: {opts.output}")
    return 0
