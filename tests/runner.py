"""`make test`: the whole suite on SQLite, then on PostgreSQL when one is reachable.

It says plainly what it skipped. With RAPPORT_TEST_REQUIRE_ALL=1 (CI), a missing
PostgreSQL or Chromium fails the run instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
CHROMIUM = "/usr/bin/chromium"


def postgres_url() -> str | None:
    url = os.environ.get("RAPPORT_TEST_DATABASE_URL") or LOCAL_POSTGRES
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3):
            return url
    except Exception as exc:
        print(f"PostgreSQL at {url} is not reachable: {exc}")
        return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", default="2")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    require_all = os.environ.get("RAPPORT_TEST_REQUIRE_ALL") == "1"
    skipped: list[str] = []
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        skipped.append(f"browser tests (no Chromium at {CHROMIUM}; apt-get install chromium)")
    pg = postgres_url()
    if pg is None:
        skipped.append("the PostgreSQL run (set RAPPORT_TEST_DATABASE_URL or start a local server)")
    if skipped and require_all:
        print("Required but missing: " + "; ".join(skipped))
        return 1
    base = [sys.executable, "-m", "pytest", "-n", args.workers, "-q", *args.pytest_args]
    env = dict(os.environ, DJANGO_ALLOW_ASYNC_UNSAFE="true")
    env.pop("DATABASE_URL", None)
    runs = [("SQLite", env)]
    if pg is not None:
        runs.append(("PostgreSQL", dict(env, DATABASE_URL=pg)))
    failed = False
    for name, run_env in runs:
        print(f"\n=== Test suite on {name} ===", flush=True)
        code = subprocess.call(base, env=run_env)
        if code != 0:
            print(f"The suite failed on {name} (exit {code}).")
            failed = True
    if skipped:
        print("\nSkipped: " + "; ".join(skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
