"""The global search workloads (issue 9): what a heavy user's search box asks as they type — two, three
and four letter word starts, two words, a word with a typing mistake, an attribute term with a word —
through the selector (rapport.search.selectors.search, three suggestions per type, as the box shows),
then the suggestions fragment, the results page and the API over the test client.

Target (issue 4, medium scale): global search p50 30 ms, p99 150 ms.

A data set seeded before search existed has no index yet: it is built first (rapport.seed's
seed_search_index), and the time that took is printed.
"""

from __future__ import annotations

import sys
import time
from typing import Any
from urllib.parse import quote

from bench.workloads import Bench, Result, _ok
from rapport.search.models import SearchEntry
from rapport.search.selectors import PAGE_PER_TYPE, SUGGEST_PER_TYPE, search

TARGET = "p50 30 ms / p99 150 ms (medium)"

# (name, query, what a user is doing). The names come from the seed's pools (rapport/seed.py).
TYPED = [
    ("search_prefix_2", "an", "two letters typed (Anna, Andersson, …): the broadest start"),
    ("search_prefix_3", "mül", "three letters with an accent (Müller)"),
    ("search_prefix_4", "schm", "four letters (Schmidt)"),
    ("search_two_words", "anna ber", "a first name and the start of a last name"),
    ("search_typo", "jnoas lindq", "a transposed letter in a whole word (Jonas) and a word start"),
    ("search_attribute", "region=north nordwind", "an attribute term with a word (accounts and contacts)"),
    ("search_no_match", "zzqxj", "a word nothing matches"),
]


def _ensure_index() -> None:
    if SearchEntry.objects.exists():
        return
    from rapport.seed import seed_search_index

    started = time.perf_counter()
    built = seed_search_index(progress=True)
    sys.stderr.write(f"search index built for the bench: {built['search_index']:,} records "
                     f"in {time.perf_counter() - started:,.0f} s\n")


def run_search_all(runs: int, size: str) -> list[Result]:
    """The search workloads on their own Bench, for bench.run."""
    bench = Bench(runs)
    run_search(bench)
    return bench.results


def _found(minimum: int) -> Any:
    def check(results: Any) -> None:
        if results.count < minimum:
            raise AssertionError(f"expected at least {minimum} results, got {results.count}")
    return check


def run_search(bench: Bench) -> None:
    _ensure_index()
    user = bench.user
    for name, query, what in TYPED:
        bench.measure(name, f"search as you type: {query!r} — {what}; {SUGGEST_PER_TYPE} per type, selector",
                      TARGET, lambda q=query: search(user=user, q=q, per_type=SUGGEST_PER_TYPE),
                      None, _found(0 if name == "search_no_match" else 1))
    suggest_url = f"/search/suggest/?q={quote('mül')}"
    bench.measure("search_suggest_page", "the suggestions fragment under the search box for 'mül' (htmx)",
                  TARGET, lambda: bench.client.get(suggest_url, headers={"HX-Request": "true"}), None, _ok)
    bench.measure("search_results_page", f"the results page for 'berg', {PAGE_PER_TYPE} per type",
                  TARGET, lambda: bench.client.get("/search/?q=berg"), None, _ok)
    bench.measure("search_api", "GET /api/v1/search?q=ander&limit=10", TARGET,
                  lambda: bench.client.get("/api/v1/search?q=ander&limit=10"), None, _ok)
