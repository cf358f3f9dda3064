"""The record types global search covered when it was built, registered from SearchConfig.ready().

A record is found by its own fields only (never by a linked record's name), so a change to one record
re-indexes that record alone. What a result shows under its title may name a linked record, and then
only one the user may see.
"""

from __future__ import annotations

from typing import Any

from django.db.models import BigIntegerField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.core.access import access_for, record_visible
from rapport.core.models import Action, Scope
from rapport.core.registry import detail_url
from rapport.search.registry import SearchDocument, register_searchable


def _join(*parts: Any) -> str:
    return " · ".join(str(part) for part in parts if part)


def _seen(user: Any, record: Any) -> str:
    """A linked record's name, if the user may see it."""
    return str(record) if record is not None and record_visible(user, record) else ""


def _day(moment: Any) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d}" if moment else ""


def _reads(user: Any, record_type: str) -> int | None:
    """The user's id if they may read records of the type at all (an extra sharing rule applies), else None."""
    access = access_for(user)
    if access.user_id is None or access.scope(record_type, Action.READ) == Scope.NONE:
        return None
    return access.user_id


def _per_candidate(rows: QuerySet) -> Q:
    """EXISTS(rows), checked for each candidate the full-text index hands over. Without the always-true
    `record_id > 0`, which names only the outer row, PostgreSQL may turn the EXISTS into a hash of all the
    user's rows, built before the first candidate: for a broad word ("berg": 69,000 activities) it expected
    that many checks and read all 19,000 of a user's assignments (50-90 ms), where the LIMIT needed 66."""
    candidate = ExpressionWrapper(OuterRef("record_id"), output_field=BigIntegerField())
    return Q(Exists(rows.filter(GreaterThan(candidate, 0))))


def register_builtin_types() -> None:
    from rapport.activities.models import Activity, ActivityAssignee, Note
    from rapport.directory.models import Account, Attribute, Contact
    from rapport.mail.models import EmailMessage
    from rapport.sales.models import Lead, Opportunity, Order
    from rapport.support.models import SupportItem

    # --- Accounts and contacts: the ones attribute terms (stage=mature region=north) apply to ----------

    def account_attributes(key: str, value: str, user: Any) -> Q:
        if key == "stage":
            return Q(Exists(Account.objects.filter(pk=OuterRef("record_id"), stage=value)))
        return Q(Exists(Attribute.objects.filter(account_id=OuterRef("record_id"), key=key, value=value)))

    def contact_attributes(key: str, value: str, user: Any) -> Q:
        own = Q(Exists(Attribute.objects.filter(contact_id=OuterRef("record_id"), key=key, value=value)))
        if key == "stage":  # a contact's stage is its remarks' stage=, or else its account's - one the user
            # may see: a hidden account's stage must not decide what a search finds
            accounts = Account.objects.visible_to(user).filter(stage=value)
            inherited = (Q(Exists(Contact.objects.filter(pk=OuterRef("record_id"), account__in=accounts)))
                         & ~Q(Exists(Attribute.objects.filter(contact_id=OuterRef("record_id"), key="stage"))))
            return own | inherited
        return own

    register_searchable(
        Account,
        lambda a: SearchDocument(title=a.name, text=" ".join([a.website_key, a.email, a.phone, a.secondary_phone,
                                                               a.industry, a.remarks])),
        label=gettext_lazy("Accounts"), order=10, api_path="/api/v1/accounts/{id}",
        subtitle=lambda a, user: _join(a.industry, a.get_stage_display() if a.stage else "", a.website_key),
        attributes=account_attributes,
    )
    register_searchable(
        Contact,
        lambda c: SearchDocument(title=c.full_name, text=" ".join([c.title, c.email, c.secondary_email, c.phone,
                                                                    c.mobile, c.remarks])),
        label=gettext_lazy("Contacts"), order=20, api_path="/api/v1/contacts/{id}", related=("account",),
        subtitle=lambda c, user: _join(c.title, _seen(user, c.account), c.email),
        attributes=contact_attributes,
    )

    # --- Sales -----------------------------------------------------------------------------------------

    register_searchable(
        Lead,
        lambda lead: SearchDocument(title=lead.display_name, text=" ".join([lead.title, lead.email, lead.phone,
                                                                             lead.source, lead.remarks])),
        label=gettext_lazy("Leads"), order=30, api_path="/api/v1/leads/{id}",
        subtitle=lambda lead, user: _join(lead.get_status_display(), lead.title, lead.email),
    )
    register_searchable(
        Opportunity,
        lambda o: SearchDocument(title=o.name, text=" ".join([o.description, o.next_step, o.source,
                                                               o.outcome_reason])),
        label=gettext_lazy("Opportunities"), order=40, api_path="/api/v1/opportunities/{id}",
        related=("account", "stage"),
        subtitle=lambda o, user: _join(_seen(user, o.account), o.stage.name, f"{o.amount} {o.currency}"),
    )
    register_searchable(
        Order,
        lambda o: SearchDocument(title=o.number, text=o.description),
        label=gettext_lazy("Orders"), order=50, api_path="/api/v1/orders/{id}", related=("account",),
        subtitle=lambda o, user: _join(_seen(user, o.account), o.ordered_on, f"{o.amount} {o.currency}",
                                       o.get_status_display()),
    )

    # --- Support ---------------------------------------------------------------------------------------

    def assigned_items(user: Any) -> Q | None:
        user_id = _reads(user, SupportItem.record_type)
        if user_id is None:
            return None
        return _per_candidate(SupportItem.objects.filter(pk=OuterRef("record_id"), assignee_id=user_id))

    register_searchable(
        SupportItem,
        lambda s: SearchDocument(title=f"{s.reference} {s.subject}", text=s.description),
        label=gettext_lazy("Support items"), order=60, api_path="/api/v1/support-items/{id}",
        related=("account",),
        subtitle=lambda s, user: _join(s.get_status_display(), s.get_priority_display(), _seen(user, s.account)),
        shared=assigned_items,
    )

    # --- Activities and notes --------------------------------------------------------------------------

    def assigned_activities(user: Any) -> Q | None:
        user_id = _reads(user, Activity.record_type)
        if user_id is None:
            return None
        return _per_candidate(ActivityAssignee.objects.filter(activity_id=OuterRef("record_id"), user_id=user_id))

    register_searchable(
        Activity,
        lambda a: SearchDocument(title=a.subject, text=" ".join([a.location, a.description])),
        label=gettext_lazy("Activities"), order=70, api_path="/api/v1/activities/{id}", related=("kind",),
        defer=("ical_source",),
        subtitle=lambda a, user: _join(a.kind.label, _day(a.starts_at), a.get_status_display()),
        shared=assigned_activities,
    )

    def notes_on_visible_records(notes: list[Any], user: Any) -> list[Any]:
        from rapport.activities.selectors import records_linked

        about = {(r.record_type, r.pk): r for r in records_linked(user=user, links=[(n.about_type, n.about_id)
                                                                                     for n in notes])}
        kept = []
        for note in notes:
            record = about.get((note.about_type, note.about_id))
            if record is not None:  # a note is seen only with the record it is about
                note.search_about = record
                kept.append(note)
        return kept

    def note_url(note: Any, user: Any) -> str | None:
        record = getattr(note, "search_about", None)
        if record is None:
            return None
        url = detail_url(record)
        return f"{url}#notes-heading-{record.public_id}" if url else None

    register_searchable(
        Note,
        lambda n: SearchDocument(title=str(n), text=n.body),
        label=gettext_lazy("Notes"), order=80, api_path="/api/v1/notes/{id}", related=("owner",),
        subtitle=lambda n, user: _join(_("Note on %(record)s") % {"record": getattr(n, "search_about", "")},
                                       n.owner.display_name, _day(n.created_at)),
        url=note_url, prepare=notes_on_visible_records,
    )

    # --- Logged email ----------------------------------------------------------------------------------

    def addresses(values: Any) -> str:
        return " ".join(str(v) for v in (values or []))

    register_searchable(
        EmailMessage,
        lambda e: SearchDocument(title=e.subject, text=" ".join([e.from_name, e.from_address, addresses(e.to),
                                                                  addresses(e.cc), e.text_body[:20_000]])),
        label=gettext_lazy("Logged email"), order=90, api_path="/api/v1/emails/{id}",
        defer=("html_body", "references", "parse_warnings", "raw"),
        subtitle=lambda e, user: _join(f"{e.from_name} <{e.from_address}>" if e.from_name else e.from_address,
                                       _day(e.received_at), e.get_status_display()),
    )
