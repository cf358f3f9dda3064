"""Global search: one query over every searchable record type, answered with what the user may see.

1. The query is read (rapport.search.text.parse_query): words, and key=value attribute terms.
2. Words of four letters or more look up the typo dictionary once for words one edit away.
3. One SQL statement asks the full-text index, per record type, for the newest `cap` rows that match
   every word (as a word prefix, or as a correction) and every attribute term, narrowed cheaply by the
   owner and visibility copied into the index (core.access.visibility_q, widened by a type's own
   sharing rule). Nothing ranks the whole of a broad match ("an" among a million names): each type
   reads at most `cap` rows.
4. The records behind those rows are read through each type's own `visible_to(user)` — the final
   word on what the user may see, whatever the index says — and ranked: whole-word title matches
   first, then word starts, then corrections, then matches in the rest of the text; the engine's
   score and recency break ties.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from rapport.core.access import access_for, visibility_q
from rapport.core.models import Action, Scope
from rapport.core.text import fold
from rapport.search import backends
from rapport.search.highlight import marked, snippet, spans
from rapport.search.registry import SearchType, searchable, searchable_types
from rapport.search.text import ParsedQuery, Term, edit_distance, parse_query, typo_word, variants, words

MIN_LETTERS = 2  # a query of fewer letters (and no attribute term) finds nothing yet
SUGGEST_PER_TYPE = 3
PAGE_PER_TYPE = 10
MAX_PER_TYPE = 50
MAX_CORRECTIONS = 6


@dataclass
class Hit:
    search_type: SearchType
    record: Any
    title: str
    subtitle: str
    snippet: str
    url: str | None
    api_url: str | None
    terms: Sequence[Term] = field(repr=False, default=())

    @cached_property
    def title_spans(self) -> list[tuple[int, int]]:
        return spans(self.title, self.terms)

    @cached_property
    def subtitle_spans(self) -> list[tuple[int, int]]:
        return spans(self.subtitle, self.terms)

    @cached_property
    def snippet_spans(self) -> list[tuple[int, int]]:
        return spans(self.snippet, self.terms)

    @property
    def title_html(self) -> SafeString:
        return marked(self.title, self.title_spans)

    @property
    def subtitle_html(self) -> SafeString:
        return marked(self.subtitle, self.subtitle_spans)

    @property
    def snippet_html(self) -> SafeString:
        return marked(self.snippet, self.snippet_spans)


@dataclass
class Group:
    search_type: SearchType
    hits: list[Hit]
    more: bool  # more matches than shown

    @property
    def key(self) -> str:
        return self.search_type.key

    @property
    def label(self) -> str:
        return str(self.search_type.label)


@dataclass
class SearchResults:
    query: str
    parsed: ParsedQuery
    groups: list[Group]
    too_short: bool = False
    types: list[SearchType] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(group.hits) for group in self.groups)

    @property
    def hits(self) -> list[Hit]:
        return [hit for group in self.groups for hit in group.hits]

    def corrections(self) -> dict[str, list[str]]:
        """Per query word, its corrections that the results shown hold. The typo dictionary knows the words
        of every record's title, private ones included: a correction no result shows would tell the user
        that some record they may not see holds that word."""
        if not any(term.corrections for term in self.parsed.terms):
            return {}
        shown: set[str] = set()
        for hit in self.hits:
            document = hit.search_type.document(hit.record)
            shown.update(words(document.title), words(document.text), words(hit.subtitle))
        found = {term.text: [word for word in term.corrections if word in shown] for term in self.parsed.terms}
        return {text: corrections for text, corrections in found.items() if corrections}


def parse_types(raw: str | Sequence[str] | None) -> list[SearchType] | None:
    """`types=contact,account` as record types; None for all. An unknown one is refused, naming `types`."""
    if not raw:
        return None
    names = [name.strip() for part in ([raw] if isinstance(raw, str) else raw) for name in part.split(",")]
    names = [name for name in names if name]
    unknown = [name for name in names if searchable(name) is None]
    if unknown:
        raise ValidationError({"types": [_("Unknown type %(types)s; use any of: %(known)s.") % {
            "types": ", ".join(sorted(set(unknown)))[:100],
            "known": ", ".join(t.key for t in searchable_types())}]})
    return [t for t in searchable_types() if t.key in names] or None


def _too_short(parsed: ParsedQuery) -> bool:
    return not parsed.attributes and sum(len(term.text) for term in parsed.terms) < MIN_LETTERS


def _correct(terms: Sequence[Term]) -> None:
    """Give the query's longer words their near spellings from the typo dictionary (one query)."""
    eligible = [term for term in terms if typo_word(term.text)]
    if not eligible:
        return
    lookups = set().union(*(variants(term.text) for term in eligible))
    trigrams = connection.vendor == "postgresql"
    long_words = {term.text for term in eligible if trigrams and len(term.text) >= backends.TRIGRAM_MIN}
    known = backends.dictionary_words(lookups, long_words)
    for term in eligible:
        limit = 2 if term.text in long_words else 1
        distances = {word: edit_distance(term.text, word, limit) for word in known
                     if word != term.text and not word.startswith(term.text)}
        close = sorted((d, word) for word, d in distances.items() if d <= limit)
        term.corrections = [word for _d, word in close[:MAX_CORRECTIONS]]


def _plan(user: Any, search_type: SearchType, parsed: ParsedQuery) -> backends.Plan | None:
    """How to search the type's index rows, or None when it cannot match (it has no such attribute)."""
    plan = backends.Plan(record_type=search_type.key,
                         visibility=visibility_q(user, search_type.key, owner_field="owner_id"))
    if plan.visibility is not None and search_type.shared is not None:
        plan.shared = search_type.shared(user)
    for key, value in parsed.attributes:
        rule = search_type.attributes(key, value, user) if search_type.attributes is not None else None
        if rule is None:
            return None
        plan.attributes.append(rule)
    return plan


def _title_score(title: str, terms: Sequence[Term]) -> float:
    title_words = words(title)
    score = 0.0
    for term in terms:
        if term.text in title_words:
            score += 3
        elif any(word.startswith(term.text) for word in title_words):
            score += 2
        elif any(word in term.corrections for word in title_words):
            score += 1.5
    if len(terms) > 1 and fold(title).startswith(" ".join(term.text for term in terms)):
        score += 2
    return score


def search(*, user: Any, q: str | None, types: Sequence[SearchType] | None = None,
           per_type: int = PAGE_PER_TYPE) -> SearchResults:
    """What the user may see that matches `q`, grouped by type (in the types' order), best first."""
    parsed = parse_query(q)
    query = (q or "").strip()
    readable = {t.key for t in readable_types(user)}
    wanted = [t for t in (types or searchable_types()) if t.key in readable]
    results = SearchResults(query=query, parsed=parsed, groups=[], types=wanted)
    if parsed.empty or _too_short(parsed):
        results.too_short = True
        return results
    per_type = max(1, min(per_type, MAX_PER_TYPE))
    # The index rows read per type, twice (whole words, word starts): a few more than are shown, for the
    # ranking to choose from and for the rare row the final check turns down.
    cap = per_type * 2 + 2
    # How many matches per type the index hands over to be ranked: all of them up to this many, the first
    # this many (newest first on SQLite) of a broad match, which nothing ranks as a whole.
    window = max(cap * 10, 100)
    _correct(parsed.terms)
    plans = [plan for plan in (_plan(user, t, parsed) for t in wanted) if plan is not None]
    by_type: dict[str, list[backends.Candidate]] = defaultdict(list)
    for candidate in backends.candidates(plans, parsed.terms, cap, window):
        by_type[candidate.record_type].append(candidate)
    for search_type in wanted:
        found = by_type.get(search_type.key)
        if not found:
            continue
        group = _group(search_type, found, user=user, parsed=parsed, per_type=per_type, cap=cap)
        if group.hits:
            results.groups.append(group)
    return results


def _group(search_type: SearchType, found: list[backends.Candidate], *, user: Any, parsed: ParsedQuery,
           per_type: int, cap: int) -> Group:
    records = {r.pk: r for r in search_type.visible_to(user).filter(pk__in=[c.record_id for c in found])
               .select_related(*search_type.related).defer(*search_type.defer)}
    order = {c.record_id: (c.exact, c.score, c.entry_id) for c in found}
    visible = [records[c.record_id] for c in found if c.record_id in records]
    if search_type.prepare is not None and visible:
        visible = search_type.prepare(visible, user)
    ranked = []
    for record in visible:
        title = search_type.document(record).title
        ranked.append((_title_score(title, parsed.terms), *order[record.pk], record))
    ranked.sort(key=lambda row: (-row[0], -row[1], -row[2], -row[3]))
    hits = [_hit(search_type, record, user=user, terms=parsed.terms) for *_scores, record in ranked[:per_type]]
    # More than shown: more visible matches than the page holds, or the index held as many rows as it was
    # asked for (there may be others beyond them). Rows the final check turned down (a note about a record
    # the user may not see, a stale row) do not count: "+" would tell of records the user may not see.
    return Group(search_type=search_type, hits=hits, more=len(ranked) > per_type or len(found) >= cap)


def _hit(search_type: SearchType, record: Any, *, user: Any, terms: Sequence[Term]) -> Hit:
    document = search_type.document(record)
    title = " ".join(document.title.split()) or str(record)
    subtitle = search_type.subtitle(record, user)
    hit = Hit(search_type=search_type, record=record, title=title, subtitle=subtitle, snippet="",
              url=search_type.url(record, user), api_url=search_type.api_url(record), terms=terms)
    shown = {fold(word) for text, found in ((title, hit.title_spans), (subtitle, hit.subtitle_spans))
             for start, end in found for word in [text[start:end]]}
    if terms and (not shown or len(shown) < len(terms)):
        hit.snippet = snippet(document.text, terms)
    return hit


def readable_types(user: Any) -> list[SearchType]:
    """The searchable types the user may read at all."""
    access = access_for(user)
    return [t for t in searchable_types() if access.scope(t.key, Action.READ) != Scope.NONE]
