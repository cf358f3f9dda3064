"""`python -m bench`: seed (or reuse) a data set, measure every workload, write the results.

    python -m bench --size small            # SQLite, and PostgreSQL when reachable
    python -m bench --size medium --db postgresql
    python -m bench --report                # only rebuild the table in docs/performance.md

Results: bench/results/<date>-<db>-<size>.json, and the table in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.report import write_report

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
POSTGRES_SERVER = os.environ.get("RAPPORT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def _postgres_url(size: str) -> str | None:
    """The benchmark's own PostgreSQL database, created when missing; None if no server answers."""
    try:
        import psycopg

        name = f"rapport_bench_{size}"
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
            # As docs/installation.md recommends for a Rapport database.
            conn.execute(f'ALTER DATABASE "{name}" SET jit = off')
        return f"{POSTGRES_SERVER}/{name}"
    except Exception as exc:
        print(f"PostgreSQL is not reachable at {POSTGRES_SERVER}: {exc}")
        return None


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["small", "medium", "large"], default="small")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=None, help="samples per workload (default by size)")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP mixed load")
    parser.add_argument("--http-seconds", type=float, default=20)
    parser.add_argument("--report", action="store_true", help="only rebuild docs/performance.md")
    args = parser.parse_args()
    if args.report:
        write_report(RESULTS, ROOT / "docs" / "performance.md")
        return 0
    runs = args.runs or {"small": 100, "medium": 100, "large": 50}[args.size]
    DATA.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    targets: list[tuple[str, str]] = []
    if args.db in ("sqlite", "both"):
        targets.append(("sqlite", f"sqlite:///{DATA / f'{args.size}.sqlite3'}"))
    if args.db in ("postgresql", "both"):
        url = _postgres_url(args.size)
        if url:
            targets.append(("postgresql", url))
        elif args.db == "postgresql":
            return 1
    failed = False
    for name, url in targets:
        output = RESULTS / f"{time.strftime('%Y-%m-%d')}-{name}-{args.size}.json"
        print(f"\n=== {name}, {args.size} ===", flush=True)
        env = dict(os.environ, DATABASE_URL=url, RAPPORT_VAR_DIR=str(DATA / "var"),
                   DJANGO_SETTINGS_MODULE="rapport.settings")
        command = [sys.executable, "-m", "bench.run", "--size", args.size, "--runs", str(runs), "--output", str(output),
                   "--http-seconds", str(args.http_seconds)]
        if args.no_http:
            command.append("--no-http")
        code = subprocess.call(command, env=env, cwd=ROOT)  # noqa: S603
        if code != 0:
            print(f"The {name} run failed (exit {code}).")
            failed = True
        else:
            print(f"Results: {output.relative_to(ROOT)}")
    write_report(RESULTS, ROOT / "docs" / "performance.md")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
