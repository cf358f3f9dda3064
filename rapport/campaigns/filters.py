"""The one filter definition of the distribution list, campaign and recipient lists, used by the pages
and the API. Anything not in a whitelist, or a value that does not parse, is a ValidationError naming
the parameter."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from rapport.campaigns.models import CampaignStatus, DistributionList, ListKind, RecipientStatus
from rapport.core.text import prefix_upper_bound
from rapport.directory.filters import (
    check_known_filters,
    choice_value,
    one_value,
    owner_q,
    prefix_q,
    query_text,
)

LIST_FILTERS = {"q", "category", "kind", "owner"}
LIST_ORDERINGS = {"name": "name_key", "created_at": "created_at", "updated_at": "updated_at"}
CAMPAIGN_FILTERS = {"q", "status", "list", "owner"}
CAMPAIGN_ORDERINGS = {"name": "name_key", "created_at": "created_at", "updated_at": "updated_at"}
RECIPIENT_FILTERS = {"status", "q"}
# "added": the order the recipients were taken from the list (and are sent in).
RECIPIENT_ORDERINGS = {"added": "id", "email": "email"}
MAX_CATEGORY = 80


def filter_lists(qs: QuerySet, params: Any, *, user: Any) -> QuerySet:
    check_known_filters(params, LIST_FILTERS)
    if q := query_text(params):
        qs = qs.filter(prefix_q("name_key", q))
    if category := one_value(params, "category"):
        if len(category) > MAX_CATEGORY:
            raise ValidationError({"category": [_("A category has at most %d characters.") % MAX_CATEGORY]})
        qs = qs.filter(category=category)
    if kind := choice_value(params, "kind", ListKind.values):
        qs = qs.filter(kind=kind)
    if owner := one_value(params, "owner"):
        qs = qs.filter(owner_q(owner, user))
    return qs


def filter_campaigns(qs: QuerySet, params: Any, *, user: Any) -> QuerySet:
    check_known_filters(params, CAMPAIGN_FILTERS)
    if q := query_text(params):
        qs = qs.filter(prefix_q("name_key", q))
    if status := choice_value(params, "status", CampaignStatus.values):
        qs = qs.filter(status=status)
    if list_id := one_value(params, "list"):
        found = DistributionList.objects.visible_to(user).filter(public_id=list_id).values_list("id", flat=True)
        list_pk = found.first()
        if list_pk is None:
            raise ValidationError({"list": [_("No such distribution list.")]})
        qs = qs.filter(distribution_list_id=list_pk)
    if owner := one_value(params, "owner"):
        qs = qs.filter(owner_q(owner, user))
    return qs


def filter_recipients(qs: QuerySet, params: Any) -> QuerySet:
    check_known_filters(params, RECIPIENT_FILTERS)
    if status := choice_value(params, "status", RecipientStatus.values):
        qs = qs.filter(status=status)
    if q := query_text(params):
        # Addresses are stored in lower case: the start of an address, from the (campaign, email) index.
        text = q.strip().lower()
        # The range lets both databases walk the index; startswith keeps the match exact whatever the collation.
        qs = qs.filter(Q(email__gte=text, email__lt=prefix_upper_bound(text)) & Q(email__startswith=text))
    return qs
