"""Reads of support items, their requests and private copies. Every read goes through visible_to(user)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.access import access_record, record_visible, require
from rapport.core.errors import Conflict
from rapport.core.history import history_for
from rapport.core.models import Action
from rapport.directory.models import Account, Contact
from rapport.support.filters import filter_support_items
from rapport.support.models import (
    PrivateCopy,
    RequestState,
    SupportCategory,
    SupportItem,
    SupportRequest,
)

PANEL_ROWS = 20
LIST_RELATED = ("owner", "assignee", "account", "contact", "category")
# What a list row shows of a linked account or contact, and what deciding whether it may be seen reads.
# The list joins only users and the category: on PostgreSQL, planning a six-table join cost more than
# running it, so the page's accounts and contacts come in two small queries by id instead.
LINK_FIELDS = ("id", "public_id", "owner_id", "visibility", "deleted_at")


def support_item_list(*, user: Any, params: Any) -> QuerySet[SupportItem]:
    """The visible items the filters pick."""
    qs = (SupportItem.objects.visible_to(user).select_related("owner", "assignee", "category")
          .prefetch_related(Prefetch("account", Account.objects.only(*LINK_FIELDS, "name")),
                            Prefetch("contact", Contact.objects.only(*LINK_FIELDS, "first_name", "last_name"))))
    return filter_support_items(qs, params, user=user)


def support_item_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> SupportItem:
    qs = SupportItem.objects.select_related(*LIST_RELATED, "opportunity")
    item = access_record(user, SupportItem, public_id, Action.READ, queryset=qs, deleted=deleted)
    if action != Action.READ and item.assignee_id != getattr(user, "pk", None):
        # The assignee may work on an item their role would not let them change; services decide.
        require(user, SupportItem.record_type, action, owner_id=item.owner_id)
    return item


def private_copy_for(*, user: Any, item: SupportItem) -> PrivateCopy | None:
    """The user's own copy of the item, if they hold one: nobody else's is ever returned."""
    return PrivateCopy.objects.select_related("task").filter(item=item, holder_id=user.pk).first()


def request_chain(item: SupportItem) -> list[SupportRequest]:
    """Every request of the item, oldest first: who asked whom, and how each was answered."""
    return list(item.requests.select_related("recipient", "requested_by", "answered_by").order_by("created_at", "id"))


def pending_request(item: SupportItem) -> SupportRequest | None:
    return item.requests.filter(state=RequestState.PENDING).select_related("recipient", "requested_by").first()


def request_to_answer(*, user: Any, item: SupportItem) -> SupportRequest:
    """The request a user answers on an item: the pending one when it is theirs; else their own latest,
    answered or withdrawn meanwhile (answering it then says what happened); else the pending one."""
    pending = pending_request(item)
    if pending is not None and pending.recipient_id == user.pk:
        return pending
    own = (item.requests.filter(recipient_id=user.pk).select_related("item", "recipient", "requested_by")
           .order_by("-created_at", "-id").first())
    if own is not None:
        return own
    if pending is None:
        raise Conflict(_("No request awaits an answer on %s.") % item.reference)
    return pending


def request_get(*, user: Any, public_id: str) -> SupportRequest:
    """A request the user may answer or see: sent to them, or about an item they may see."""
    from django.http import Http404

    request = (SupportRequest.objects.select_related("item", "recipient", "requested_by")
               .filter(public_id=public_id).first())
    if request is None:
        raise Http404
    if request.recipient_id != user.pk:
        support_item_get(user=user, public_id=request.item.public_id)
    return request


def support_item_detail(*, user: Any, public_id: str) -> dict[str, Any]:
    item = support_item_get(user=user, public_id=public_id)
    requests = request_chain(item)
    pending = next((r for r in requests if r.state == RequestState.PENDING), None)
    return {
        "item": item,
        "account": item.account if record_visible(user, item.account) else None,
        "contact": item.contact if record_visible(user, item.contact) else None,
        "opportunity": item.opportunity if record_visible(user, item.opportunity) else None,
        "private_copy": private_copy_for(user=user, item=item),
        "pending": pending,
        "awaiting_me": pending is not None and pending.recipient_id == user.pk,
        "requests": requests,
        "history": history_for(item, user=user),
        "overdue": item.is_overdue(timezone.localdate()),
    }


def requests_awaiting(user: Any) -> QuerySet[SupportRequest]:
    """The requests that wait for the user's answer (counted by the badge in the top bar)."""
    if not getattr(user, "is_authenticated", False):
        return SupportRequest.objects.none()
    # Deleting an item withdraws its request, so a pending one is always about a live item: no join.
    return SupportRequest.objects.filter(recipient_id=user.pk, state=RequestState.PENDING)


def awaiting_answer_count(user: Any) -> int:
    """How many requests wait for the user's answer."""
    return requests_awaiting(user).count()


def awaiting_answer(*, user: Any, limit: int = PANEL_ROWS) -> list[SupportRequest]:
    return list(SupportRequest.objects.filter(recipient_id=user.pk, state=RequestState.PENDING)
                .select_related("item", "requested_by").order_by("created_at", "id")[:limit])


def record_support_items(*, user: Any, record: Any, limit: int = PANEL_ROWS) -> list[SupportItem]:
    """The newest items about an account, contact or opportunity, as the user may see them."""
    field = {"account": "account", "contact": "contact", "opportunity": "opportunity"}[record.record_type]
    return list(SupportItem.objects.visible_to(user).filter(**{field: record})
                .select_related("assignee", "category").order_by("-created_at", "-id")[:limit])


def categories(*, active_only: bool = True) -> QuerySet[SupportCategory]:
    qs = SupportCategory.objects.all()
    return qs.filter(is_active=True) if active_only else qs
