"""The search API (see docs/search.md): GET /api/v1/search?q=…&types=…&limit=…"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from rapport.search import selectors
from rapport.search.selectors import Hit

router = Router(tags=["search"])

PARAMS = frozenset({"q", "types", "limit"})


class HighlightsOut(Schema):
    """[start, end) character offsets of the matched words in each text."""

    title: list[tuple[int, int]]
    subtitle: list[tuple[int, int]]
    snippet: list[tuple[int, int]]


class HitOut(Schema):
    type: str
    id: str
    title: str
    subtitle: str
    snippet: str
    url: str | None
    api_url: str | None
    highlights: HighlightsOut


class GroupOut(Schema):
    type: str
    label: str
    items: list[HitOut]
    more: bool


class SearchOut(Schema):
    query: str
    words: list[str]
    attributes: list[tuple[str, str]]
    corrections: dict[str, list[str]]
    too_short: bool
    groups: list[GroupOut]


def _hit(hit: Hit) -> dict:
    return {"type": hit.search_type.key, "id": hit.record.public_id, "title": hit.title, "subtitle": hit.subtitle,
            "snippet": hit.snippet, "url": hit.url, "api_url": hit.api_url,
            "highlights": {"title": hit.title_spans, "subtitle": hit.subtitle_spans, "snippet": hit.snippet_spans}}


def _limit(raw: str | None) -> int:
    if raw in (None, ""):
        return selectors.PAGE_PER_TYPE
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= selectors.MAX_PER_TYPE:
        raise ValidationError({"limit": [_("Give a whole number from 1 to %d.") % selectors.MAX_PER_TYPE]})
    return limit


@router.get("/search", response=SearchOut, summary="Search every record type at once",
            description="`q`: words (each matches the start of a word; a word of four letters or more also finds "
                        "words one typing mistake away) and `key=value` attribute terms (`stage=mature "
                        "region=north dental`), at most 200 characters. `types`: record types, comma-separated "
                        "(account, contact, lead, opportunity, order, support_item, activity, note, email, project, "
                        "document); "
                        "default all. `limit`: results per type, 1 to 50 (default 10). Results are grouped by "
                        "type, best first; only records you may see. Highlights are [start, end) character "
                        "offsets into title, subtitle and snippet. An empty `q` is a 400; one letter finds "
                        "nothing yet (`too_short`).")
def search(request: HttpRequest) -> dict:
    unknown = sorted(set(request.GET.keys()) - PARAMS)
    if unknown:
        raise ValidationError({name: [_("Unknown query parameter; use q, types and limit.")] for name in unknown})
    q = request.GET.get("q", "")
    if not q.strip():
        raise ValidationError({"q": [_("Enter something to search for.")]})
    types = selectors.parse_types(request.GET.getlist("types"))
    limit = _limit(request.GET.get("limit"))
    results = selectors.search(user=request.user, q=q, types=types, per_type=limit)
    return {
        "query": results.query,
        "words": [term.text for term in results.parsed.terms],
        "attributes": results.parsed.attributes,
        "corrections": results.corrections(),
        "too_short": results.too_short,
        "groups": [{"type": group.key, "label": group.label, "more": group.more,
                    "items": [_hit(hit) for hit in group.hits]} for group in results.groups],
    }
