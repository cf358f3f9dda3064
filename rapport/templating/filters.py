"""The one filter definition of the template list, used by the page and the API.

Anything not in the whitelist, or a value that does not parse, is a ValidationError naming the parameter.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from rapport.directory.filters import check_known_filters, choice_value, one_value, owner_q, prefix_q, query_text
from rapport.templating.models import TemplateKind

TEMPLATE_FILTERS = {"q", "kind", "owner"}
TEMPLATE_ORDERINGS = {"name": "name_key", "created_at": "created_at", "updated_at": "updated_at"}


def filter_templates(qs: QuerySet, params: Any, *, user: Any) -> QuerySet:
    check_known_filters(params, TEMPLATE_FILTERS)
    if q := query_text(params):
        qs = qs.filter(prefix_q("name_key", q))
    if kind := choice_value(params, "kind", TemplateKind.values):
        qs = qs.filter(kind=kind)
    if owner := one_value(params, "owner"):
        qs = qs.filter(owner_q(owner, user))
    return qs
