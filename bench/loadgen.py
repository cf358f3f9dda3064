"""A small closed-loop HTTP load generator (Python threads, http.client keep-alive).

Named in the results as "bench.loadgen (Python http.client, N threads)". It runs
on the same 2-core machine as the server, so it takes CPU from it: the figures
are a floor, not a ceiling. Every request loop is bounded in count and time and
targets only 127.0.0.1.
"""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

HOST = "127.0.0.1"


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ms: float, status: int) -> None:
        with self.lock:
            self.latencies_ms.append(ms)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status >= 400:
                self.errors += 1


def session_cookie(port: int, username: str, password: str) -> str:
    """Sign in through the login page and return the Cookie header for the session."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    conn.request("GET", "/login/")
    response = conn.getresponse()
    body = response.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "").group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    conn.request("POST", "/login/", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf_cookie}",
        "Referer": f"http://{HOST}:{port}/login/"})
    response = conn.getresponse()
    response.read()
    cookies = response.getheader("Set-Cookie") or ""
    session = re.search(r"sessionid=([^;]+)", cookies)
    if response.status != 302 or session is None:
        raise RuntimeError(f"sign-in for the load test failed ({response.status})")
    return f"sessionid={session.group(1)}; csrftoken={csrf_cookie}"


Request = tuple[str, str, bytes | None, dict[str, str]]


def run_load(port: int, pick: Callable[[random.Random], Request], *, threads: int, seconds: float,
             max_requests: int = 200_000) -> dict[str, float | int | dict[int, int]]:
    tally = Tally()
    deadline = time.perf_counter() + seconds
    sent = [0]
    sent_lock = threading.Lock()

    def worker(index: int) -> None:
        rng = random.Random(index)
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        while time.perf_counter() < deadline:
            with sent_lock:
                if sent[0] >= max_requests:
                    return
                sent[0] += 1
            method, path, body, headers = pick(rng)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException, UnicodeError):
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                status = 599
            tally.add((time.perf_counter() - started) * 1000, status)
        conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(seconds + 60)
    elapsed = time.perf_counter() - started
    ordered = sorted(tally.latencies_ms) or [0.0]

    def pct(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))], 1)

    return {
        "requests": len(tally.latencies_ms),
        "seconds": round(elapsed, 1),
        "requests_per_second": round(len(tally.latencies_ms) / elapsed, 1),
        "p50_ms": pct(0.5), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
        "errors": tally.errors,
        "statuses": dict(sorted(tally.statuses.items())),
    }
