"""Load generators: `wrk` when installed, else a pure-Python asyncio HTTP/1.1 client (this module's CLI).

The fallback runs in its own process (``python -m bench.loadgen ...``) and prints one JSON object. It opens
N keep-alive connections with ``asyncio.open_connection``, writes hand-built request bytes, reads the status
line, the headers and a Content-Length (or chunked) body, and records each request's latency. A run is
bounded by time (warm-up + duration, then a short grace period) and by a maximum request count.

Scenario paths: ``fixed`` sends the same path every time; ``cold`` sends request k a one-hour window
shifted k minutes back from --now (distinct for 129,540 consecutive requests, all within 90 days).
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

EVENTS_PATH = "/api/v2/audit/events"
WINDOW_S = 3600
STEP_S = 60
COLD_SLOTS = (90 * 86400 - WINDOW_S) // STEP_S  # one-hour windows fitting in 90 days, one minute apart
GRACE_S = 3.0


def cold_path(k: int, now_epoch: int) -> str:
    """Path of the k-th cold request: [now - 1h - k min, now - k min), page[limit]=100."""
    start = now_epoch - WINDOW_S - STEP_S * (k % COLD_SLOTS)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    frm, to = time.strftime(fmt, time.gmtime(start)), time.strftime(fmt, time.gmtime(start + WINDOW_S))
    return f"{EVENTS_PATH}?filter[from]={frm}&filter[to]={to}&page[limit]=100"


def parse_now(text: str) -> int:
    """Epoch seconds of a UTC instant written 2024-05-01T12:00:00Z."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100); 0.0 when empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process from /proc/<pid>/stat, in seconds (None when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_seconds() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine so far, all CPUs, from /proc/stat (0 if unreadable)."""
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    except (OSError, ValueError):
        return 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / hz, steal / hz


class Usage:
    """CPU use over a measured window, each in % of one core: the server, the generator, everything else
    (other processes and kernel work no process is charged for), and time stolen by the hypervisor."""

    def __init__(self, server_pid: int | None) -> None:
        self.pid = server_pid
        self.srv0 = _cpu_seconds(server_pid) if server_pid else None
        self.machine0 = _machine_seconds()
        self.t0 = time.perf_counter()

    def finish(self, generator_cpu_s: float) -> dict[str, float | None]:
        wall = max(time.perf_counter() - self.t0, 1e-9)
        srv1 = _cpu_seconds(self.pid) if self.pid else None
        srv = srv1 - self.srv0 if srv1 is not None and self.srv0 is not None else None
        busy1, steal1 = _machine_seconds()
        others = busy1 - self.machine0[0] - generator_cpu_s - (srv or 0.0)
        return {
            "srv_cpu_pct": None if srv is None else 100 * srv / wall,
            "gen_cpu_pct": 100 * generator_cpu_s / wall,
            "others_cpu_pct": max(0.0, 100 * others / wall),
            "steal_pct": 100 * (steal1 - self.machine0[1]) / wall,
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """Read one response; return (status, body bytes, keep-alive)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    keep = b"\r\nconnection: close" not in lower
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        length = int(lower[at + 17 : lower.index(b"\r\n", at + 2)])
        await reader.readexactly(length)
        return status, len(head) + length, keep
    if b"\r\ntransfer-encoding: chunked" in lower:
        total = 0
        for _ in range(1_000_000):
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            await reader.readexactly(size + 2)
            total += size
            if size == 0:
                return status, len(head) + total, keep
        raise ValueError("too many chunks")
    body = await reader.read()  # no length: the body ends with the connection
    return status, len(head) + len(body), False


class PythonLoad:
    """N keep-alive connections sharing one request counter; records requests completed in the window."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.host: str = args.host
        self.port: int = args.port
        self.max_requests: int = args.max_requests
        headers = "".join(f"{h}\r\n" for h in args.header)
        self.prefix = b"GET "
        self.suffix = f" HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{headers}Accept: */*\r\n\r\n".encode()
        self.fixed: bytes | None = (
            self.prefix + args.path.encode() + self.suffix if args.mode == "fixed" else None
        )
        self.now_epoch = parse_now(args.now)
        self.first = args.first_window
        self.issued = 0
        self.stopping = False
        self.measure_start = self.measure_end = 0.0
        self.latencies = array("d")
        self.statuses: dict[int, int] = {}
        self.errors = 0
        self.bytes = 0

    def request(self, k: int) -> bytes:
        if self.fixed is not None:
            return self.fixed
        return self.prefix + cold_path(self.first + k, self.now_epoch).encode() + self.suffix

    async def connection(self) -> None:
        clock = time.perf_counter
        while not self.stopping and self.issued < self.max_requests:
            writer = None
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
                while not self.stopping and self.issued < self.max_requests:
                    k = self.issued
                    self.issued = k + 1
                    t0 = clock()
                    writer.write(self.request(k))
                    status, size, keep = await _read_response(reader)
                    t1 = clock()
                    if self.measure_start <= t1 <= self.measure_end:
                        self.latencies.append(t1 - t0)
                        self.statuses[status] = self.statuses.get(status, 0) + 1
                        self.bytes += size
                    if not keep:
                        break
            except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                if self.measure_start <= clock() <= self.measure_end:
                    self.errors += 1
                await asyncio.sleep(0.01)
            finally:
                if writer is not None:
                    writer.close()

    async def run(
        self, connections: int, warmup: float, duration: float, server_pid: int | None
    ) -> dict[str, Any]:
        start = time.perf_counter()
        self.measure_start, self.measure_end = start + warmup, start + warmup + duration
        tasks = [asyncio.create_task(self.connection()) for _ in range(connections)]
        await asyncio.wait(tasks, timeout=warmup)
        usage, cpu0 = Usage(server_pid), time.process_time()
        await asyncio.wait(tasks, timeout=max(0.0, self.measure_end - time.perf_counter()))
        elapsed = min(time.perf_counter(), self.measure_end) - self.measure_start
        cpu = usage.finish(time.process_time() - cpu0)
        self.stopping = True
        _, pending = await asyncio.wait(tasks, timeout=GRACE_S)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        lat = sorted(self.latencies)
        return {
            "generator": "python",
            "requests": len(lat),
            "duration_s": round(elapsed, 3),
            "rps": len(lat) / elapsed if elapsed > 0 else 0.0,
            "p50_ms": percentile(lat, 50) * 1000,
            "p99_ms": percentile(lat, 99) * 1000,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "non_200": len(lat) - self.statuses.get(200, 0) + self.errors,
            "errors": self.errors,
            "bytes_per_response": self.bytes / len(lat) if lat else 0,
            "cold_windows_used": self.issued if self.fixed is None else 0,
            **cpu,
        }


def _asyncio_run(main: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        pass
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=["fixed", "cold"], default="fixed")
    p.add_argument("--path", default="/", help="request path and query (mode fixed)")
    p.add_argument("--now", default="2024-05-01T12:00:00Z", help="end of the cold windows (mode cold)")
    p.add_argument("--header", action="append", default=[], help='"Name: value", repeatable')
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--max-requests", type=int, default=2_000_000)
    p.add_argument("--first-window", type=int, default=0, help="k of the first cold request (mode cold)")
    p.add_argument("--server-pid", type=int, default=None, help="report this process's CPU%% in the window")
    args = p.parse_args(argv)
    if args.host != "127.0.0.1":
        p.error("only 127.0.0.1 is allowed")
    load = PythonLoad(args)
    result = _asyncio_run(load.run(args.connections, args.warmup, args.duration, args.server_pid))
    print(json.dumps(result))
    return 0


# --- wrk ---------------------------------------------------------------------------------------------

_WRK_LUA = """
local stride, offset, now, cold = %(stride)d, %(offset)d, %(now)d, %(cold)s
local slots, window, step = %(slots)d, %(window)d, %(step)d
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  k = offset + tid
end
if cold then
  function request()
    local start = now - window - step * (k %% slots)
    k = k + stride
    local path = "%(path)s?filter[from]=" .. os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", start)
      .. "&filter[to]=" .. os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", start + window) .. "&page[limit]=100"
    return wrk.format("GET", path)
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "p50_us": %%d, "p99_us": %%d, '
    .. '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def run_wrk(
    wrk: str,
    port: int,
    path: str,
    headers: dict[str, str],
    *,
    cold: bool,
    now_epoch: int,
    connections: int,
    threads: int,
    duration: int,
    first_window: int = 0,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """One wrk run; its Lua done() hook prints the summary as JSON. Raises RuntimeError on failure.

    Thread t of the cold scenario sends windows first_window + t + threads * i, so the run uses windows
    below first_window + threads * (requests + 1): the next run starts there.
    """
    threads = max(1, min(threads, connections))
    script = _WRK_LUA % {
        "stride": threads,
        "offset": first_window,
        "now": now_epoch,
        "cold": "true" if cold else "false",
        "slots": COLD_SLOTS,
        "window": WINDOW_S,
        "step": STEP_S,
        "path": EVENTS_PATH,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-wrk-") as fh:
        fh.write(script)
        fh.flush()
        cmd = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "30s"]
        for name, value in headers.items():
            cmd += ["-H", f"{name}: {value}"]
        cmd += ["-s", fh.name, f"http://127.0.0.1:{port}{path}"]
        children0, usage = resource.getrusage(resource.RUSAGE_CHILDREN), Usage(server_pid)
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            out, err = proc.communicate(timeout=duration + 30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = usage.finish(children1.ru_utime + children1.ru_stime - children0.ru_utime - children0.ru_stime)
    line = next((ln for ln in out.splitlines() if ln.startswith("WRKJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {proc.returncode}): {err.strip() or out.strip()}")
    raw = json.loads(line[len("WRKJSON ") :])
    seconds = raw["duration_us"] / 1e6
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "generator": "wrk",
        "requests": raw["requests"],
        "duration_s": round(seconds, 3),
        "rps": raw["requests"] / seconds if seconds > 0 else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "statuses": {"non-2xx/3xx": raw["status"]},
        "non_200": raw["status"] + socket_errors,
        "errors": socket_errors,
        "bytes_per_response": raw["bytes"] / raw["requests"] if raw["requests"] else 0,
        "cold_windows_used": threads * (raw["requests"] + 1) if cold else 0,
        **cpu,
    }


if __name__ == "__main__":
    sys.exit(main())
