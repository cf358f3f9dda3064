"""The one filter definition of the lead, opportunity and order lists, used by the pages and the API.

Anything not in a list's whitelist, or a value that does not parse, is a
ValidationError naming the parameter.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from rapport.directory.filters import (
    account_filter_id,
    check_known_filters,
    choice_value,
    date_value,
    one_value,
    owner_q,
    prefix_q,
    query_text,
)
from rapport.sales.models import LeadStatus, OrderStatus, PipelineStage

LEAD_FILTERS = {"q", "owner", "status", "source"}
OPPORTUNITY_FILTERS = {"q", "owner", "stage", "pipeline", "account", "open", "close_from", "close_to"}
ORDER_FILTERS = {"q", "owner", "account", "status", "from", "to"}

LEAD_ORDERINGS = {"name": "name_key", "created_at": "created_at", "updated_at": "updated_at"}
OPPORTUNITY_ORDERINGS = {"name": "name_key", "expected_close_on": "expected_close_on", "amount": "amount",
                         "created_at": "created_at", "updated_at": "updated_at"}
ORDER_ORDERINGS = {"ordered_on": "ordered_on", "number": "number", "amount": "amount",
                   "created_at": "created_at", "updated_at": "updated_at"}


def filter_leads(qs: QuerySet, params: Any, *, user: Any) -> QuerySet:
    check_known_filters(params, LEAD_FILTERS)
    if q := query_text(params):
        qs = qs.filter(Q(email_key=q.lower()) if "@" in q else prefix_q("name_key", q))
    if owner := one_value(params, "owner"):
        qs = qs.filter(owner_q(owner, user))
    if status := choice_value(params, "status", LeadStatus.values):
        qs = qs.filter(status=status)
    if source := one_value(params, "source"):
        qs = qs.filter(source__iexact=source)
    return qs


def filter_opportunities(qs: QuerySet, params: Any, *, user: Any) -> QuerySet:
    check_known_filters(params, OPPORTUNITY_FILTERS)
    if q := query_text(params):
        qs = qs.filter(prefix_q("name_key", q))
    if owner := one_value(params, "owner"):
        qs = qs.filter(owner_q(owner, user))
    if stage := one_value(params, "stage"):
        stage_id = PipelineStage.objects.filter(public_id=stage).values_list("id", flat=True).first()
        if stage_id is None:
            raise ValidationError({"stage": [_("No such stage.")]})
        qs = qs.filter(stage_id=stage_id)
    if pipeline := one_value(params, "pipeline"):
        qs = qs.filter(stage__pipeline__public_id=pipeline)
    if (account_id := account_filter_id(params, user)) is not None:
        qs = qs.filter(account_id=account_id)
    if open_value := choice_value(params, "open", ["true", "false"]):
        qs = qs.filter(is_open=open_value == "true")
    if (close_from := date_value(params, "close_from")) is not None:
        qs = qs.filter(expected_close_on__gte=close_from)
    if (close_to := date_value(params, "close_to")) is not None:
        qs = qs.filter(expected_close_on__lte=close_to)
    return qs


def filter_orders(qs: QuerySet, params: Any, *, user: Any) -> QuerySet:
    check_known_filters(params, ORDER_FILTERS)
    if q := query_text(params):
        qs = qs.filter(number__istartswith=q)
    if owner := one_value(params, "owner"):
        qs = qs.filter(owner_q(owner, user))
    if (account_id := account_filter_id(params, user)) is not None:
        qs = qs.filter(account_id=account_id)
    if status := choice_value(params, "status", OrderStatus.values):
        qs = qs.filter(status=status)
    if (start := date_value(params, "from")) is not None:
        qs = qs.filter(ordered_on__gte=start)
    if (end := date_value(params, "to")) is not None:
        qs = qs.filter(ordered_on__lte=end)
    return qs
