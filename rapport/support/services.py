"""Writes of support items: create, change, and the request cycle (assign, accept, decline, pass on).

Every answer to a request is a conditional UPDATE of the request's state (pending → answered), made
while the item's row is locked, so two people answering at once cannot both succeed: the second
gets a Conflict naming what happened. Mail goes through the outbox in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.activities.models import Activity, ActivityStatus, ActivityType
from rapport.activities.selectors import default_task_kind
from rapport.activities.services import activity_create, activity_update, task_status_set
from rapport.core.access import access_for, record_visible, require
from rapport.core.errors import Conflict, StaleVersion
from rapport.core.models import Action, Visibility
from rapport.core.records import record_create, record_delete, record_restore, record_update
from rapport.core.services import next_number
from rapport.mail.services import queue_email
from rapport.support.models import (
    CYCLE_STATUSES,
    OPEN_SUPPORT_STATUSES,
    PrivateCopy,
    RequestState,
    SupportItem,
    SupportRequest,
    SupportSource,
    SupportStatus,
)

SUPPORT_SERIES = "support"
LINK_SALT = "rapport.support.request-link"
LINK_ACTIONS = ("accept", "decline", "reassign")
# How long the accept / decline / reassign links in a request email work.
LINK_DAYS = 7
# Set by the request cycle and the services only (assign with support_assign).
CYCLE_FIELDS = ("assignee", "returned_at", "closed_at", "reference", "source")
REFERENCE_IN_SUBJECT = re.compile(r"\[(SUP-\d+)\]", re.IGNORECASE)


# --- Items -----------------------------------------------------------------------------------------


def _next_reference() -> str:
    for _attempt in range(1000):
        reference = f"SUP-{next_number(SUPPORT_SERIES)}"
        if not SupportItem.objects.filter(reference=reference).exists():
            return reference
    raise ValidationError({"reference": [_("No free support reference was found.")]})


def _check_links(data: dict[str, Any], current: SupportItem | None) -> None:
    """The contact works for the account, and the deal is with it, when both are given."""
    account = data.get("account", getattr(current, "account", None))
    contact = data.get("contact", getattr(current, "contact", None))
    opportunity = data.get("opportunity", getattr(current, "opportunity", None))
    if account is None and contact is not None and contact.account_id is not None and "account" not in data:
        data["account"] = account = contact.account
    if account is not None and contact is not None and contact.account_id not in (None, account.pk):
        raise ValidationError({"contact": [_("This person works for another account than the item's.")]})
    if opportunity is not None and account is not None and opportunity.account_id != account.pk:
        raise ValidationError({"opportunity": [_("The deal is with another account than the item's.")]})


def _check_status(data: dict[str, Any], current: SupportItem | None) -> None:
    status = data.get("status")
    if status is None or (current is not None and status == current.status):
        return
    reopening_unheld = (current is not None and not current.is_open and current.assignee_id is None
                        and status == SupportStatus.NEW)
    if status in CYCLE_STATUSES and not reopening_unheld:
        raise ValidationError({"status": [
            _("“%(status)s” is set by assigning the item; choose in progress, waiting, resolved or closed.")
            % {"status": SupportStatus(status).label}]})
    if current is not None and status in OPEN_SUPPORT_STATUSES and current.assignee_id is None and not reopening_unheld:
        raise ValidationError({"status": [
            _("Nobody holds the item: reopen it as new, then assign it.") if not current.is_open
            else _("Assign the item to someone before working on it.")]})
    if current is not None and status in OPEN_SUPPORT_STATUSES and current.status == SupportStatus.ASSIGNED:
        raise ValidationError({"status": [_("The item waits for %s to accept it; work on it starts then.")
                                          % current.assignee]})
    now_open = status in OPEN_SUPPORT_STATUSES
    was_open = current is None or current.status in OPEN_SUPPORT_STATUSES
    if was_open and not now_open:
        data["closed_at"] = timezone.now()
    elif now_open and not was_open:
        data["closed_at"] = None


def _ensure_private_copy(item: SupportItem, holder: Any, *, actor: Any) -> PrivateCopy:
    """The holder's private copy: a private task on their list, reopened if they held it before."""
    copy = PrivateCopy.objects.select_related("task").filter(item=item, holder=holder).first()
    if copy is not None and copy.task.deleted_at is None:
        if copy.task.status not in (ActivityStatus.OPEN, ActivityStatus.PENDING):
            copy.task = task_status_set(actor=actor, activity=copy.task, status=ActivityStatus.OPEN)
        return copy
    # New, or its holder deleted the task: a fresh task (the copy keeps its notes).
    task = activity_create(
        actor=holder,
        data={
            "owner": holder, "visibility": Visibility.PRIVATE, "activity_type": ActivityType.TASK,
            "kind": default_task_kind(), "subject": f"{item.reference}: {item.subject}"[:200],
            "priority": {"urgent": "high"}.get(item.priority, item.priority),
            "due_on": item.due_on or timezone.localdate(),
        },
        regarding=[item],
    )
    if copy is not None:
        copy.task = task
        copy.save(update_fields=["task"])
        return copy
    return PrivateCopy.objects.create(item=item, holder=holder, task=task)


def _end_private_copies(item: SupportItem, *, actor: Any, status: str, holder_ids: Any = None) -> None:
    """Take the item off holders' open lists (it went to someone else, it is closed or deleted)."""
    tasks = Activity.objects.filter(support_copy__item=item, deleted_at__isnull=True,
                                    status__in=(ActivityStatus.OPEN, ActivityStatus.PENDING))
    if holder_ids is not None:
        tasks = tasks.filter(support_copy__holder_id__in=holder_ids)
    for task in tasks:
        task_status_set(actor=actor, activity=task, status=status)


def _reopen_private_copies(item: SupportItem, *, actor: Any) -> None:
    """Put an item that is open again back on the lists of its owner and its (accepted) assignee."""
    _ensure_private_copy(item, item.owner, actor=actor)
    if item.assignee_id is not None and item.status != SupportStatus.ASSIGNED:
        _ensure_private_copy(item, item.assignee, actor=actor)


def _check_cycle_fields(data: dict[str, Any]) -> None:
    """Fields that only the request cycle sets: refused, each by name, when a caller sends them."""
    errors = {name: [_("This is set by the request cycle, not directly.")] for name in CYCLE_FIELDS if name in data}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def support_item_create(
    *, actor: Any, data: dict[str, Any], assignee: Any = None, message: str = "",
    source: str = SupportSource.APP,
) -> SupportItem:
    """Open an item owned by the actor for good, with its owner's private copy; assign it if asked."""
    require(actor, SupportItem.record_type, Action.CREATE)
    data = dict(data)
    if "owner" in data and data["owner"] is not None and data["owner"] != actor:
        raise ValidationError({"owner": [_("The user who opens an item is its owner.")]})
    data.pop("owner", None)
    _check_cycle_fields(data)
    data.setdefault("status", SupportStatus.NEW)
    if data["status"] != SupportStatus.NEW:
        raise ValidationError({"status": [_("A new item starts as new; assign it to start work on it.")]})
    _check_links(data, None)
    data["reference"] = _next_reference()
    data["source"] = source
    item = record_create(SupportItem, actor=actor, data=data)
    _ensure_private_copy(item, actor, actor=actor)
    if assignee is not None:
        support_assign(actor=actor, item=item, recipient=assignee, message=message)
        item.refresh_from_db()
    return item


def may_change(actor: Any, item: SupportItem) -> bool:
    """Who may change an item's fields: whoever may update its owner's records, or its assignee."""
    if access_for(actor).covers_owner(SupportItem.record_type, Action.UPDATE, item.owner_id):
        return True
    # The assignee, once they accepted: a request still waiting for an answer gives no rights yet.
    return (item.assignee_id == actor.pk and item.status != SupportStatus.ASSIGNED
            and access_for(actor).can(SupportItem.record_type, Action.READ))


def _withdraw_pending(item: SupportItem, *, actor: Any) -> bool:
    """Withdraw the request waiting on an item (it is closed or deleted); whether there was one."""
    return bool(SupportRequest.objects.filter(item=item, state=RequestState.PENDING).update(
        state=RequestState.WITHDRAWN, answered_at=timezone.now(), answered_by=actor))


@transaction.atomic
def support_item_update(*, actor: Any, item: SupportItem, data: dict[str, Any], version: int | None) -> SupportItem:
    if not may_change(actor, item):
        raise PermissionDenied(_("You may not change this support item."))
    data = dict(data)
    if "owner" in data and data["owner"] is not None and data["owner"].pk != item.owner_id:
        raise ValidationError({"owner": [_("An item keeps the owner who opened it.")]})
    data.pop("owner", None)
    _check_cycle_fields(data)
    _check_status(data, item)
    if {"account", "contact", "opportunity"} & set(data):
        _check_links(data, item)
    was_open = item.is_open
    closing = was_open and data.get("status") not in (None, *OPEN_SUPPORT_STATUSES)
    if closing and item.status == SupportStatus.ASSIGNED:
        # Nobody accepted it: the waiting request ends with the item, and nobody holds it.
        if version is not None and version != item.version:
            raise StaleVersion(current_version=item.version)
        _withdraw_pending(item, actor=actor)
        data["assignee"] = None
    updated = record_update(item, actor=actor, data=data, version=version, rights_checked=True)
    if data.get("status") == SupportStatus.CLOSED:
        _end_private_copies(updated, actor=actor, status=ActivityStatus.COMPLETED)
    elif not was_open and updated.is_open:
        _reopen_private_copies(updated, actor=actor)
    return updated


@transaction.atomic
def support_item_delete(*, actor: Any, item: SupportItem, version: int | None = None) -> SupportItem:
    """Delete an item (undoable): its waiting request is withdrawn, and it leaves every task list."""
    require(actor, SupportItem.record_type, Action.DELETE, owner_id=item.owner_id)
    if version is not None and version != item.version:
        raise StaleVersion(current_version=item.version)
    if _withdraw_pending(item, actor=actor):
        item = record_update(item, actor=actor, version=item.version, rights_checked=True,
                             data={"assignee": None, "status": SupportStatus.NEW})
    item = record_delete(item, actor=actor, version=item.version)
    _end_private_copies(item, actor=actor, status=ActivityStatus.CANCELLED)
    return item


@transaction.atomic
def support_item_restore(*, actor: Any, item: SupportItem) -> SupportItem:
    item = record_restore(item, actor=actor)
    if item.is_open:
        _reopen_private_copies(item, actor=actor)
    return item


@transaction.atomic
def private_copy_update(*, actor: Any, copy: PrivateCopy, data: dict[str, Any], version: int | None) -> PrivateCopy:
    """Change one's own copy: due date, reminder and status of its task, and the private notes."""
    if copy.holder_id != actor.pk:
        raise PermissionDenied(_("Only its holder changes a private copy."))
    data = dict(data)
    notes = data.pop("notes", None)
    unknown = set(data) - {"due_on", "reminder_minutes", "status"}
    if unknown:
        raise ValidationError({name: [_("This field cannot be set on a private copy.")] for name in unknown})
    if data:
        copy.task = activity_update(actor=actor, activity=copy.task, data=data, version=version)
    elif version is not None and version != copy.task.version:
        raise StaleVersion(current_version=copy.task.version)
    if notes is not None and notes != copy.notes:
        if len(notes) > 20000:
            raise ValidationError({"notes": [_("At most 20,000 characters.")]})
        copy.notes = notes
        copy.save(update_fields=["notes"])
    return copy


# --- The request cycle ---------------------------------------------------------------------------


def _locked(item: SupportItem) -> SupportItem:
    """The item's current row, locked until the transaction ends (PostgreSQL; SQLite's writes are serial)."""
    return SupportItem.objects.select_for_update().get(pk=item.pk)


def _check_recipient(recipient: Any) -> None:
    if recipient is None:
        raise ValidationError({"assignee": [_("Choose who should handle the item.")]})
    if not recipient.is_active:
        raise ValidationError({"assignee": [_("%s is not an active user; choose someone else.") % recipient]})
    rights = access_for(recipient)
    if not rights.can(SupportItem.record_type, Action.READ):
        raise ValidationError({"assignee": [_("%s may not work on support items.") % recipient]})
    if not rights.can(Activity.record_type, Action.CREATE):
        # Accepting puts the item on their task list, which their role may not do.
        raise ValidationError({"assignee": [_("%s may not take on work: their role creates no tasks.") % recipient]})


def why_closed(request: SupportRequest) -> str:
    """Why a request can no longer be answered, in words."""
    who = request.answered_by or request.recipient
    if request.state == RequestState.WITHDRAWN:
        latest = request.item.requests.order_by("-created_at", "-id").first()
        if latest is not None and latest.pk != request.pk and latest.state in (RequestState.PENDING,
                                                                               RequestState.ACCEPTED):
            return _("%(who)s reassigned %(ref)s to %(to)s meanwhile.") % {
                "who": who, "ref": request.item.reference, "to": latest.recipient}
        return _("%(who)s withdrew this request meanwhile.") % {"who": who}
    return _("This request was already answered: %(state)s by %(who)s.") % {
        "state": RequestState(request.state).label.lower(), "who": who}


def _close_request(request: SupportRequest, *, actor: Any, state: str, reason: str = "") -> None:
    """Answer a pending request; Conflict if someone answered or withdrew it first."""
    changed = SupportRequest.objects.filter(pk=request.pk, state=RequestState.PENDING).update(
        state=state, answered_at=timezone.now(), answered_by=actor, reason=reason)
    if not changed:
        request.refresh_from_db()
        raise Conflict(why_closed(request))
    request.refresh_from_db()


def may_assign(actor: Any, item: SupportItem, pending: SupportRequest | None) -> bool:
    if access_for(actor).covers_owner(SupportItem.record_type, Action.UPDATE, item.owner_id):
        return True  # the owner, their manager, an administrator
    if pending is not None:
        return pending.recipient_id == actor.pk  # the one asked passes it on
    return item.assignee_id == actor.pk  # the one handling it passes it on


@transaction.atomic
def support_assign(
    *, actor: Any, item: SupportItem, recipient: Any, message: str = "", version: int | None = None,
    reassign: bool | None = None,
) -> SupportRequest:
    """Ask `recipient` to handle the item: a request in the app and by email.

    An open request is withdrawn (or, when its recipient does this, passed on), keeping the chain.
    `reassign=False` refuses when someone holds the item already, `True` when nobody does (the API's
    assign and reassign actions); None takes either.
    """
    item = _locked(item)
    if version is not None and version != item.version:
        raise StaleVersion(current_version=item.version)
    pending = item.requests.filter(state=RequestState.PENDING).select_related("recipient").first()
    if not may_assign(actor, item, pending):
        raise PermissionDenied(_("You may not assign this support item."))
    held = item.assignee_id is not None
    if reassign is False and held:
        raise Conflict(_("%(ref)s is with %(who)s already; reassign it instead.")
                       % {"ref": item.reference, "who": item.assignee})
    if reassign is True and not held:
        raise Conflict(_("Nobody holds %s; assign it instead.") % item.reference)
    if not item.is_open:
        raise ValidationError({"status": [_("A resolved or closed item cannot be assigned; reopen it first.")]})
    _check_recipient(recipient)
    if recipient.pk == item.assignee_id:
        raise ValidationError({"assignee": [_("%s holds this item already.") % recipient]})
    message = (message or "").strip()
    if len(message) > 2000:
        raise ValidationError({"message": [_("At most 2,000 characters.")]})
    previous = pending or item.requests.order_by("-created_at", "-id").first()
    if pending is not None:
        state = RequestState.PASSED_ON if pending.recipient_id == actor.pk else RequestState.WITHDRAWN
        _close_request(pending, actor=actor, state=state)
    elif item.assignee_id is not None and item.assignee_id != item.owner_id:
        # The owner's copy is theirs for good; an assignee's ends when the item goes to someone else.
        _end_private_copies(item, actor=actor, status=ActivityStatus.CANCELLED, holder_ids=[item.assignee_id])
    try:
        with transaction.atomic():
            request = SupportRequest.objects.create(
                item=item, recipient=recipient, requested_by=actor, previous=previous, message=message,
                links_expire_at=timezone.now() + dt.timedelta(days=LINK_DAYS))
    except IntegrityError:
        raise Conflict(_("Someone else assigned %s at the same moment; reload it.") % item.reference) from None
    note = _("Asked %(who)s") % {"who": recipient.display_name}
    record_update(item, actor=actor, version=item.version, rights_checked=True,
                  data={"assignee": recipient, "status": SupportStatus.ASSIGNED, "returned_at": None},
                  related_changes={"request": ["", f"{note}: {message}" if message else note]})
    if recipient.pk == actor.pk:
        return support_accept(actor=actor, request=request)
    _mail_request(request)
    return request


@transaction.atomic
def support_accept(*, actor: Any, request: SupportRequest) -> SupportRequest:
    """The recipient takes the item on: it is theirs to handle, with their own private copy."""
    if request.recipient_id != actor.pk:
        raise PermissionDenied(_("This request was sent to %s, not to you.") % request.recipient)
    item = _locked(request.item)
    _close_request(request, actor=actor, state=RequestState.ACCEPTED)
    if not item.is_open:  # cannot happen while closing withdraws the request; kept as a guard
        raise Conflict(_("%s was closed meanwhile.") % item.reference)
    record_update(item, actor=actor, version=item.version, rights_checked=True,
                  data={"status": SupportStatus.IN_PROGRESS},
                  related_changes={"request": ["", _("Accepted by %s") % actor.display_name]})
    _ensure_private_copy(item, actor, actor=actor)
    return request


@transaction.atomic
def support_decline(*, actor: Any, request: SupportRequest, reason: str) -> SupportRequest:
    """The recipient refuses, saying why: the item goes back to its owner, who is told."""
    if request.recipient_id != actor.pk:
        raise PermissionDenied(_("This request was sent to %s, not to you.") % request.recipient)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why you decline, so the owner can find someone else.")]})
    if len(reason) > 2000:
        raise ValidationError({"reason": [_("At most 2,000 characters.")]})
    item = _locked(request.item)
    _close_request(request, actor=actor, state=RequestState.DECLINED, reason=reason)
    record_update(item, actor=actor, version=item.version, rights_checked=True,
                  data={"assignee": None, "status": SupportStatus.NEW, "returned_at": timezone.now()},
                  related_changes={"request": ["", _("Declined by %(who)s: %(reason)s")
                                               % {"who": actor.display_name, "reason": reason}]})
    _mail_declined(request)
    return request


# --- Links and mail ------------------------------------------------------------------------------


def link_token(request: SupportRequest) -> str:
    return signing.dumps({"r": request.public_id, "u": request.recipient.public_id}, salt=LINK_SALT, compress=True)


def link_url(request: SupportRequest, action: str) -> str:
    return settings.RAPPORT_BASE_URL + reverse("support_answer", args=[link_token(request), action])


def request_from_link(token: str, *, user: Any) -> SupportRequest:
    """The request a link names, for the signed-in user; ValidationError saying why a link does not work.

    The link must be genuine, unexpired and the user's own; whether the request is still open is
    for the answer to find out (it says what happened instead).
    """
    try:
        payload = signing.loads(token, salt=LINK_SALT, max_age=dt.timedelta(days=LINK_DAYS))
    except signing.SignatureExpired:
        raise ValidationError(_("This link has expired. Open the item in Rapport to answer.")) from None
    except signing.BadSignature:
        raise ValidationError(_("This link is not valid: it may have been cut short or changed.")) from None
    request = (SupportRequest.objects.select_related("item", "recipient", "requested_by")
               .filter(public_id=payload.get("r")).first())
    if request is None or request.recipient.public_id != payload.get("u"):
        raise ValidationError(_("This link is not valid: it may have been cut short or changed."))
    if request.recipient_id != user.pk:
        raise PermissionDenied(_("This request was sent to %(to)s; you are signed in as %(you)s.")
                               % {"to": request.recipient, "you": user})
    if request.links_expire_at < timezone.now():
        raise ValidationError(_("This link has expired. Open the item in Rapport to answer."))
    return request


def _mail_request(request: SupportRequest) -> None:
    recipient = request.recipient
    if not recipient.email:
        return  # the request still waits in the app
    item = request.item
    context = {
        "request": request, "item": item, "links": {action: link_url(request, action) for action in LINK_ACTIONS},
        "item_url": settings.RAPPORT_BASE_URL + reverse("support_detail", args=[item.public_id]),
        "account": item.account if record_visible(recipient, item.account) else None,
        "contact": item.contact if record_visible(recipient, item.contact) else None,
    }
    queue_email(
        to=[recipient.email], kind="support_request",
        subject=_("[%(ref)s] Support request: %(subject)s") % {"ref": item.reference, "subject": item.subject},
        body=render_to_string("support/email/request.txt", context),
    )


def _mail_declined(request: SupportRequest) -> None:
    item = request.item
    owner = item.owner
    if not owner.email or owner.pk == request.recipient_id:
        return
    context = {"request": request, "item": item,
               "item_url": settings.RAPPORT_BASE_URL + reverse("support_detail", args=[item.public_id])}
    queue_email(
        to=[owner.email], kind="support_declined",
        subject=_("[%(ref)s] Declined by %(who)s: %(subject)s")
        % {"ref": item.reference, "who": request.recipient.display_name, "subject": item.subject},
        body=render_to_string("support/email/declined.txt", context),
    )


# --- Items from customers' email (the mail app calls this) ---------------------------------------


def _intake_owner() -> Any:
    User = get_user_model()
    username = settings.RAPPORT_SUPPORT_OWNER
    owner = User.objects.filter(username=username, is_active=True).first() if username else None
    owner = owner or User.objects.filter(is_active=True, roles__slug="support").order_by("id").first()
    owner = owner or User.objects.filter(is_active=True, is_superuser=True).order_by("id").first()
    if owner is None:
        raise ValidationError(_("No active user can own support items from email; set RAPPORT_SUPPORT_OWNER."))
    return owner


def _writes_for(item: SupportItem, sender: str) -> bool:
    """Whether an address may add to an item by its reference: the item's contact, or someone at its
    account. References are sequential; anyone else opens an item of their own instead."""
    from rapport.directory.models import Contact

    if item.contact is not None and item.contact.email_key == sender:
        return True
    return item.account_id is not None and Contact.objects.alive().filter(
        account_id=item.account_id, email_key=sender).exists()


@transaction.atomic
def support_item_from_email(*, sender: str, subject: str, body: str, sender_name: str = "") -> SupportItem:
    """A customer's email opens an item for the sender's contact, or adds to the item its subject names.

    `[SUP-1042]` in the subject adds the message to that item as a note when the sender is the item's
    contact or works at its account; otherwise a new item is owned by the support intake user
    (RAPPORT_SUPPORT_OWNER, else the first support user).
    """
    from rapport.activities.services import note_create
    from rapport.directory.models import Contact

    owner = _intake_owner()
    sender = (sender or "").strip().lower()
    subject = " ".join((subject or "").split())[:200] or _("(no subject)")
    body = (body or "")[:20000]
    found = REFERENCE_IN_SUBJECT.search(subject)
    if found:
        item = SupportItem.objects.alive().filter(reference=found.group(1).upper()).first()
        if item is not None and sender and _writes_for(item, sender):
            note_create(actor=item.owner, about=item,
                        body=_("Email from %(sender)s: %(subject)s\n\n%(body)s")
                        % {"sender": sender_name or sender, "subject": subject, "body": body})
            return item
    contact = Contact.objects.alive().filter(email_key=sender).order_by("id").first() if sender else None
    data: dict[str, Any] = {"subject": subject, "description": body, "contact": contact,
                            "account": contact.account if contact is not None else None}
    if contact is None and sender:
        data["description"] = _("From %(sender)s\n\n%(body)s") % {"sender": sender_name or sender, "body": body}
    return support_item_create(actor=owner, data=data, source=SupportSource.EMAIL)
