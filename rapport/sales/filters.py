"""The one filter definition of the lead, opportunity and order lists, used by the pages and the API.

Anything not in a list's whitelist, or a value that does not parse, is a
ValidationError naming the parameter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from rapport.directory.filters import LIST_PARAMS, MAX_QUERY, owner_q, param_values, prefix_q
from rapport.directory.models import Account
from rapport.sales.models import LeadStatus, OrderStatus, PipelineStage

LEAD_FILTERS = {"q", "owner", "status", "source"}
OPPORTUNITY_FILTERS = {"q", "owner", "stage", "pipeline", "account", "open", "close_from", "close_to"}
ORDER_FILTERS = {"q", "owner", "account", "status", "from", "to"}

LEAD_ORDERINGS = {"name": "name_key", "created_at": "created_at", "updated_at": "updated_at"}
OPPORTUNITY_ORDERINGS = {"name": "name_key", "expected_close_on": "expected_close_on", "amount": "amount",
                         "created_at": "created_at", "updated_at": "updated_at"}
ORDER_ORDERINGS = {"ordered_on": "ordered_on", "number": "number", "amount": "amount",
                   "created_at": "created_at", "updated_at": "updated_at"}


def _check_known(params: Any, allowed: set[str]) -> None:
    unknown = sorted(set(params.keys()) - allowed - LIST_PARAMS)
    if unknown:
        raise ValidationError(
            {name: [_("Unknown filter; use one of: %s.") % ", ".join(sorted(allowed))] for name in unknown})


def _one(params: Any, name: str) -> str:
    values = param_values(params, name)
    return values[0].strip() if values else ""


def _query(params: Any) -> str:
    q = " ".join(param_values(params, "q")).strip()
    if len(q) > MAX_QUERY:
        raise ValidationError({"q": [_("Search for at most %d characters.") % MAX_QUERY]})
    return q


def _choice(params: Any, name: str, choices: list[str]) -> str:
    value = _one(params, name)
    if value and value not in choices:
        raise ValidationError({name: [_("Use one of: %s.") % ", ".join(choices)]})
    return value


def _date(params: Any, name: str) -> dt.date | None:
    value = _one(params, name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: [_("Enter a date as YYYY-MM-DD.")]}) from None


def account_filter_id(params: Any, user: Any) -> int | None:
    """The id of the visible account named by the `account` filter; None without one."""
    public_id = _one(params, "account")
    if not public_id:
        return None
    account_id = Account.objects.visible_to(user).filter(public_id=public_id).values_list("id", flat=True).first()
    if account_id is None:
        raise ValidationError({"account": [_("No such account.")]})
    return account_id


def filter_leads(qs: QuerySet, params: Any, *, user: Any) -> QuerySet:
    _check_known(params, LEAD_FILTERS)
    if q := _query(params):
        qs = qs.filter(Q(email_key=q.lower()) if "@" in q else prefix_q("name_key", q))
    if owner := _one(params, "owner"):
        qs = qs.filter(owner_q(owner, user))
    if status := _choice(params, "status", LeadStatus.values):
        qs = qs.filter(status=status)
    if source := _one(params, "source"):
        qs = qs.filter(source__iexact=source)
    return qs


def filter_opportunities(qs: QuerySet, params: Any, *, user: Any) -> QuerySet:
    _check_known(params, OPPORTUNITY_FILTERS)
    if q := _query(params):
        qs = qs.filter(prefix_q("name_key", q))
    if owner := _one(params, "owner"):
        qs = qs.filter(owner_q(owner, user))
    if stage := _one(params, "stage"):
        stage_id = PipelineStage.objects.filter(public_id=stage).values_list("id", flat=True).first()
        if stage_id is None:
            raise ValidationError({"stage": [_("No such stage.")]})
        qs = qs.filter(stage_id=stage_id)
    if pipeline := _one(params, "pipeline"):
        qs = qs.filter(stage__pipeline__public_id=pipeline)
    if (account_id := account_filter_id(params, user)) is not None:
        qs = qs.filter(account_id=account_id)
    if open_value := _choice(params, "open", ["true", "false"]):
        qs = qs.filter(is_open=open_value == "true")
    if (close_from := _date(params, "close_from")) is not None:
        qs = qs.filter(expected_close_on__gte=close_from)
    if (close_to := _date(params, "close_to")) is not None:
        qs = qs.filter(expected_close_on__lte=close_to)
    return qs


def filter_orders(qs: QuerySet, params: Any, *, user: Any) -> QuerySet:
    _check_known(params, ORDER_FILTERS)
    if q := _query(params):
        qs = qs.filter(number__istartswith=q)
    if owner := _one(params, "owner"):
        qs = qs.filter(owner_q(owner, user))
    if (account_id := account_filter_id(params, user)) is not None:
        qs = qs.filter(account_id=account_id)
    if status := _choice(params, "status", OrderStatus.values):
        qs = qs.filter(status=status)
    if (start := _date(params, "from")) is not None:
        qs = qs.filter(ordered_on__gte=start)
    if (end := _date(params, "to")) is not None:
        qs = qs.filter(ordered_on__lte=end)
    return qs
