"""The database side of search: the full-text match on each database, and rebuilding it in bulk.

SQLite: a contentless FTS5 table `search_fts` (columns kind, title and body; tokenizer unicode61 with
diacritics removed and "@" a letter; prefix indexes for 2, 3 and 4 letters), kept in step by triggers on
search_entry (migration 0002). `kind` holds the record type as one token of its own ("@contact"), which
no word of a text or a query can be: a type is matched by AND-ing that token, without column filters,
so the engine never decodes position lists.

PostgreSQL: a generated column `search_entry.document` — the title at weight A and the text at weight B,
through the "simple" configuration (and the record type as a lexeme "@contact", no longer asked for) —
with one partial GIN index per record type (migration 0003; a type added later brings its own).

Neither engine's own ranking is used: bm25 must count every match of a broad word to weigh it, and
ts_rank reads every document it ranks. The first `window` matches of each type are scored in SQL by how
the title matches (a whole word, a word start, a correction), on the short folded title of the row.

Query words are only ever letters and digits (rapport.search.text.words), quoted on the way in, so no
query can hold an operator of either engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from rapport.search.models import SearchEntry
from rapport.search.text import Term

FTS_TABLE = "search_fts"

# The same as migration 0002's (rebuilding drops and recreates them).
SQLITE_TRIGGERS = (
    "CREATE TRIGGER search_entry_ai AFTER INSERT ON search_entry BEGIN "
    "INSERT INTO search_fts(rowid, kind, title, body) VALUES (new.id, '@' || new.record_type, new.title, new.body); "
    "END",
    "CREATE TRIGGER search_entry_ad AFTER DELETE ON search_entry BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, kind, title, body) "
    "VALUES ('delete', old.id, '@' || old.record_type, old.title, old.body); END",
    "CREATE TRIGGER search_entry_au AFTER UPDATE ON search_entry BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, kind, title, body) "
    "VALUES ('delete', old.id, '@' || old.record_type, old.title, old.body); "
    "INSERT INTO search_fts(rowid, kind, title, body) VALUES (new.id, '@' || new.record_type, new.title, new.body); "
    "END",
)
SQLITE_TRIGGER_NAMES = ("search_entry_ai", "search_entry_ad", "search_entry_au")

# Typo tolerance beyond one edit, on PostgreSQL only: a long word (this many letters or more) also
# finds the dictionary's words that pg_trgm deems similar, kept if at most two edits away.
TRIGRAM_MIN = 7


@dataclass
class Candidate:
    record_type: str
    record_id: int
    entry_id: int
    score: float  # higher is better
    exact: bool  # every word matched whole (or as a correction), not only as a word start


@dataclass
class Plan:
    """What to search one record type with: the pre-filter on its index rows, in parts that are compiled
    once per search and shared between types (most types have the same visibility rule)."""

    record_type: str
    visibility: Q | None  # None: the user sees every record of the type
    shared: Q | None = None  # OR-ed with visibility: the type's own sharing rule
    attributes: list[Q] = field(default_factory=list)  # AND-ed


class _Compiled:
    def __init__(self) -> None:
        self.cache: dict[Any, tuple[str, list[Any]]] = {}

    def sql(self, key: Any, condition: Q) -> tuple[str, list[Any]]:
        """A filter on search_entry rows as SQL, compiled by the ORM (columns read "search_entry"."...")."""
        if key not in self.cache:
            query = SearchEntry.objects.filter(condition).query
            sql, params = query.where.as_sql(query.get_compiler(connection=connection), connection)
            self.cache[key] = (sql or "1=1", list(params))
        return self.cache[key]

    def where(self, plan: Plan) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if plan.visibility is not None:
            sql, found = self.sql(("visibility", str(plan.visibility)), plan.visibility)
            if plan.shared is not None:
                shared, shared_params = self.sql((plan.record_type, "shared"), plan.shared)
                sql, found = f"({sql}) OR ({shared})", [*found, *shared_params]
            clauses.append(f"({sql})")
            params += found
        for index, condition in enumerate(plan.attributes):
            sql, found = self.sql((plan.record_type, "attribute", index), condition)
            clauses.append(f"({sql})")
            params += found
        return " AND ".join(clauses) or "1=1", params


def _fts_phrase(term: Term, *, exact: bool) -> str:
    options = [f'"{term.text}"' if exact else f'"{term.text}"*', *(f'"{word}"' for word in term.corrections)]
    return options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")"


def sqlite_match(record_type: str, terms: Sequence[Term], *, exact: bool = False) -> str:
    return " AND ".join([f'"@{record_type}"', *(_fts_phrase(term, exact=exact) for term in terms)])


def _ts_term(term: Term, *, exact: bool) -> str:
    options = [f"'{term.text}'" if exact else f"'{term.text}':*", *(f"'{word}'" for word in term.corrections)]
    return options[0] if len(options) == 1 else "(" + " | ".join(options) + ")"


def postgres_query(terms: Sequence[Term], *, exact: bool = False) -> str:
    """The words as a tsquery. The type is not in it: each type has its own partial index (migration 0003),
    chosen by `record_type = ...`; with one index for all, every word start was gathered from every type's
    rows (all the activities' "Müller"s to find none among accounts) and then intersected with the type."""
    return " & ".join(_ts_term(term, exact=exact) for term in terms)


def _title_score(table: str, terms: Sequence[Term]) -> tuple[str, list[Any]]:
    """How well the row's folded title matches, as SQL: per word 3 for a whole title word, 2 for the start
    of one, 1.5 for a correction; 2 more when the title starts with the words in order (selectors ranks
    results the same way). Words are letters and digits only: nothing in them is a LIKE wildcard."""
    padded = f"(' ' || {table}.title || ' ')"
    parts: list[str] = []
    params: list[Any] = []
    for term in terms:
        whens = [f"WHEN {padded} LIKE %s THEN 3", f"WHEN {padded} LIKE %s THEN 2"]
        params += [f"% {term.text} %", f"% {term.text}%"]
        for word in term.corrections:
            whens.append(f"WHEN {padded} LIKE %s THEN 1.5")
            params.append(f"% {word} %")
        parts.append(f"(CASE {' '.join(whens)} ELSE 0 END)")
    if len(terms) > 1:
        parts.append(f"(CASE WHEN ({table}.title || ' ') LIKE %s THEN 2 ELSE 0 END)")
        params.append(" ".join(term.text for term in terms) + "%")
    return " + ".join(parts) or "0", params


def _select(table: str, record_type: str, terms: Sequence[Term], where: str, where_params: list[Any], cap: int,
            window: int, *, exact: bool, alias: str) -> tuple[str, list[Any]]:
    """One type's candidates: the first `window` matches the index hands over, the `cap` best of them."""
    flag = "1" if exact else "0"
    if not terms:  # attribute terms alone: the type's newest records, through (record_type, record_id)
        return (f"SELECT * FROM (SELECT {table}.id, {table}.record_type, {table}.record_id, 0.0 AS score, "  # noqa: S608
                f"{flag} AS exact FROM {table} WHERE {table}.record_type = %s AND ({where}) "
                f"ORDER BY {table}.record_id DESC LIMIT %s) AS {alias}"), [record_type, *where_params, cap]
    score, score_params = _title_score(table, terms)
    # FTS5 drives, newest row first, and stops after `window` rows pass the filter.
    return (f"SELECT * FROM (SELECT * FROM (SELECT {table}.id, {table}.record_type, {table}.record_id, "  # noqa: S608
            f"{score} AS score, {flag} AS exact FROM {FTS_TABLE} JOIN {table} ON {table}.id = {FTS_TABLE}.rowid "
            f"WHERE {FTS_TABLE} MATCH %s AND {table}.record_type = %s AND ({where}) "
            f"ORDER BY {FTS_TABLE}.rowid DESC LIMIT %s) ORDER BY score DESC, id DESC LIMIT %s) AS {alias}"), \
        [*score_params, sqlite_match(record_type, terms, exact=exact), record_type, *where_params, window, cap]


def candidates(plans: Sequence[Plan], terms: Sequence[Term], cap: int, window: int) -> list[Candidate]:
    """For each plan, the best `cap` of the first `window` index rows matching every word as a whole word
    (or a correction), and as many matching every word as a word start: one statement for all types."""
    if terms and connection.vendor == "postgresql":
        sql, params = _postgres_statement(plans, terms, cap, window)
        return _collect(_run(sql, params, bitmap_only=True)) if sql else []
    parts: list[str] = []
    params = []
    table = connection.ops.quote_name("search_entry")
    compiled = _Compiled()
    for plan in plans:
        where, where_params = compiled.where(plan)
        for exact in ((True, False) if terms else (False,)):
            sql, found = _select(table, plan.record_type, terms, where, where_params, cap, window, exact=exact,
                                 alias=f"t{len(parts)}")
            parts.append(sql)
            params += found
    if not parts:
        return []
    return _collect(_run(" UNION ALL ".join(parts), params, bitmap_only=False))


def _collect(rows: list[tuple[Any, ...]]) -> list[Candidate]:
    seen: dict[tuple[str, int], Candidate] = {}
    for entry_id, record_type, record_id, score, exact in rows:
        key = (record_type, record_id)
        if key not in seen:
            seen[key] = Candidate(record_type=record_type, record_id=record_id, entry_id=entry_id,
                                  score=float(score or 0.0), exact=bool(exact))
        elif exact:
            seen[key].exact = True
    return list(seen.values())


# PostgreSQL: how many of a type's newest index rows are looked through before the GIN index is asked.
RECENT = 1000
# ... and the GIN index is asked for word starts only when a word has this many letters: "an" would make
# it gather every word starting so, in every record, before handing over the first.
GIN_PREFIX_MIN = 3


def _postgres_statement(plans: Sequence[Plan], terms: Sequence[Term], cap: int,
                        window: int) -> tuple[str, list[Any]]:
    """PostgreSQL's word search, one statement for every type. A GIN index answers a rare word at once, but
    gathers every match of a common one before handing any over; so each type first looks through its
    newest RECENT rows (a b-tree read backwards, stopping after `window` matches), and asks the GIN index
    only for what those rows lack — a gate PostgreSQL checks before it starts that scan:
    - word starts, when the newest rows held fewer than `cap` matches (and a word has 3 letters or more);
    - whole words (or corrections), when they held fewer than `cap` whole-word title matches: "smit"
      finds Smit even where the newest rows are all Smiths."""
    table = connection.ops.quote_name("search_entry")
    score, score_params = _title_score(table, terms)
    whole_score = 3 * len(terms)  # _title_score of a title holding every word whole
    columns = f"{table}.id, {table}.record_type, {table}.record_id, {score} AS score"
    gin_prefix = max(len(term.text) for term in terms) >= GIN_PREFIX_MIN
    compiled = _Compiled()
    ctes: list[str] = []
    selects: list[str] = []
    params: list[Any] = []
    final_params: list[Any] = []
    for index, plan in enumerate(plans):
        where, where_params = compiled.where(plan)
        prefix = postgres_query(terms)
        exact = postgres_query(terms, exact=True)
        ctes.append(f"recent{index} AS MATERIALIZED (SELECT {columns}, 0 AS exact FROM (SELECT * FROM {table} "  # noqa: S608
                    f"WHERE {table}.record_type = %s ORDER BY {table}.record_id DESC LIMIT %s) AS {table} "
                    f"WHERE {table}.document @@ %s::tsquery AND ({where}) LIMIT %s)")
        params += [*score_params, plan.record_type, RECENT, prefix, *where_params, window]
        # "record_type = <the type>" below picks the type's own GIN index (a literal: Django binds on the client).
        parts = [f"SELECT * FROM recent{index}"]  # noqa: S608
        if gin_prefix:
            ctes.append(f"older{index} AS MATERIALIZED (SELECT {columns}, 0 AS exact FROM {table} "  # noqa: S608
                        f"WHERE {table}.record_type = %s AND {table}.document @@ %s::tsquery AND ({where}) "
                        f"AND (SELECT count(*) FROM recent{index}) < %s LIMIT %s)")
            params += [*score_params, plan.record_type, prefix, *where_params, cap, window]
            parts.append(f"SELECT * FROM older{index}")  # noqa: S608
        ctes.append(f"whole{index} AS MATERIALIZED (SELECT {columns}, 1 AS exact FROM {table} "  # noqa: S608
                    f"WHERE {table}.record_type = %s AND {table}.document @@ %s::tsquery AND ({where}) "
                    f"AND (SELECT count(*) FROM recent{index} WHERE score >= %s) < %s LIMIT %s)")
        params += [*score_params, plan.record_type, exact, *where_params, whole_score, cap, window]
        parts.append(f"SELECT * FROM whole{index}")  # noqa: S608
        selects.append(f"SELECT * FROM (SELECT * FROM ({' UNION ALL '.join(parts)}) AS u{index} "  # noqa: S608
                       f"ORDER BY score DESC, exact DESC, record_id DESC LIMIT %s) AS t{index}")
        final_params.append(cap * 2)
    if not selects:
        return "", []
    return "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(selects), [*params, *final_params]


def _run(sql: str, params: list[Any], *, bitmap_only: bool) -> list[tuple[Any, ...]]:
    """Run the candidates' statement. On PostgreSQL a word search may not scan the whole table: the
    planner, misled by how one type's rows cluster in it, would rather read it through than the GIN index
    for a rare word ("SET LOCAL enable_seqscan = off", undone before returning)."""
    if connection.vendor != "postgresql" or not bitmap_only:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    outermost = connection.get_autocommit()
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        if not outermost:  # inside the caller's transaction: put the planner back for what follows
            cursor.execute("RESET enable_seqscan")
    return rows


def dictionary_words(lookups: set[str], long_words: set[str]) -> set[str]:
    """Words of the typo dictionary filed under any of `lookups`, and (PostgreSQL) words similar by
    trigrams to any of `long_words`."""
    table = connection.ops.quote_name("search_word")
    sql = f"SELECT DISTINCT word FROM {table} WHERE variant IN ({', '.join(['%s'] * len(lookups))})"  # noqa: S608
    params: list[Any] = list(lookups)
    if long_words and connection.vendor == "postgresql":
        similar = " OR ".join(["word %% %s"] * len(long_words))
        sql += f" UNION SELECT word FROM {table} WHERE variant = word AND ({similar})"  # noqa: S608
        params += list(long_words)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


# --- Rebuilding in bulk --------------------------------------------------------------------------------


def before_rebuild() -> None:
    """SQLite: drop the triggers and empty the FTS index; it is filled from the rows in one pass after."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in SQLITE_TRIGGER_NAMES:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")


def after_rebuild() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("INSERT INTO search_fts(rowid, kind, title, body) "
                           "SELECT id, '@' || record_type, title, body FROM search_entry")
            for statement in SQLITE_TRIGGERS:
                cursor.execute(statement)
        elif connection.vendor == "postgresql":
            cursor.execute("ANALYZE search_entry")
            cursor.execute("ANALYZE search_word")
