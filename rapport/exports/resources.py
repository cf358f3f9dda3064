"""What each list exports: its rows (the list's own selector and filters), its orderings, its columns.

A resource names the list's selector, which parses the filters and applies `visible_to(user)`; the export
never adds a filter of its own. Rows are read as plain values (`values_list`), not model instances: 100,000
rows must stream in about a second. Each column names the fields it reads and how it makes its cell of them.
A related record (a contact's account, a deal's account...) is named only where the user may see it, decided
by `record_visible` on the related record's owner, visibility and deletion read in the same query, as the list
pages decide it. What a column needs from other tables (addresses, the records an email is filed to) a
batch's `prepare` reads in a few queries per batch of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Model, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rapport.core.access import record_visible

CENT = Decimal("0.01")


@dataclass
class _Related:
    """What deciding whether a related record may be seen reads, without loading the record."""

    record_type: str
    owner_id: int | None
    visibility: str
    deleted_at: Any

    def shared_with(self, user_id: int | None) -> bool:
        # Only support items widen their visibility (to their assignee); no export names one as related.
        return False


@dataclass
class Batch:
    """What the columns of a batch of rows read besides the rows: the user, and what `prepare` found for
    the batch (by row id)."""

    user: Any
    extra: dict[int, dict[str, Any]] = field(default_factory=dict)
    _seen: dict[tuple[str, Any, Any], bool] = field(default_factory=dict)

    def sees(self, record_type: str, owner_id: Any, visibility: Any, deleted_at: Any) -> bool:
        if deleted_at is not None:
            return False
        key = (record_type, owner_id, visibility)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = record_visible(self.user, _Related(record_type, owner_id, visibility, None))
        return found


@dataclass(frozen=True)
class Column:
    """A column: its header, the fields it reads, and its cell made of them (`value(batch, *values)`; without
    it, the one field as it is). `time`: a moment, written in the user's time zone. `extra_key`: the value
    the batch's `prepare` found for the row under that key."""

    header: str | Promise
    fields: tuple[str, ...]
    value: Callable[..., Any] | None = None
    time: bool = False
    extra_key: str = ""


Prepare = Callable[[Any, list[int]], dict[int, dict[str, Any]]]


@dataclass(frozen=True)
class ExportResource:
    """One exportable list.

    key: the URL segment, page (/exports/<key>/) and API (/api/v1/<key>/export) alike.
    list_url_name: the list page whose header offers the export ("" when there is none).
    selector(user=, params=): the list's own selector (its filters and visibility).
    filters: the query parameters the list takes, for the API schema and the docs (the selector checks them,
    or, with check_filters, the export does).
    """

    key: str
    title: str | Promise
    record_type: str
    list_url_name: str
    selector: Callable[..., QuerySet]
    orderings: dict[str, str]
    default_ordering: str
    filters: frozenset[str]
    columns: Sequence[Column]
    prepare: Prepare | None = None
    annotate: Callable[[], dict[str, Any]] | None = None  # values or relations added to the rows' query
    check_filters: bool = False
    repeated: frozenset[str] = frozenset()  # filters that may be given more than once
    vcard: bool = False

    @property
    def formats(self) -> tuple[str, ...]:
        return ("csv", "xlsx", "vcf") if self.vcard else ("csv", "xlsx")

    @property
    def header(self) -> list[str]:
        return [str(column.header) for column in self.columns]


# --- Column makers ----------------------------------------------------------------------------------


def plain(header: str | Promise, name: str) -> Column:
    return Column(header, (name,))


def moment(header: str | Promise, name: str) -> Column:
    return Column(header, (name,), time=True)


def choice(header: str | Promise, model: type[Model], name: str) -> Column:
    """A choice field as the page shows it (its label)."""
    labels = dict(getattr(model._meta.get_field(name), "choices", None) or ())

    def value(batch: Batch, raw: Any) -> Any:
        label = labels.get(raw)
        return str(label) if label is not None else raw

    return Column(header, (name,), value)


def yes_no(header: str | Promise, name: str) -> Column:
    return Column(header, (name,), lambda batch, raw: str(_("yes")) if raw else str(_("no")))


def user_name(header: str | Promise, path: str) -> Column:
    """A user as the pages name them: full name, else username (empty where there is none)."""

    def value(batch: Batch, first: Any, last: Any, username: Any) -> str:
        return f"{first or ''} {last or ''}".strip() or (username or "")

    return Column(header, (f"{path}__first_name", f"{path}__last_name", f"{path}__username"), value)


def related(header: str | Promise, path: str, record_type: str, names: tuple[str, ...] = ("name",)) -> Column:
    """The name of a related record, empty where the user may not see it (or there is none)."""
    reads = (*(f"{path}__{name}" for name in names), f"{path}__owner_id", f"{path}__visibility",
             f"{path}__deleted_at")
    count = len(names)

    def value(batch: Batch, *values: Any) -> str:
        owner_id, visibility, deleted_at = values[count:]
        if owner_id is None or not batch.sees(record_type, owner_id, visibility, deleted_at):
            return ""
        return " ".join(str(v) for v in values[:count] if v).strip()

    return Column(header, reads, value)


def extra(header: str | Promise, key: str) -> Column:
    """A value the batch's `prepare` found for the row."""
    return Column(header, ("pk",), extra_key=key)


ID = plain(_("ID"), "public_id")
OWNER = user_name(_("Owner"), "owner")
VISIBILITY = plain(_("Visibility"), "visibility")
CREATED = moment(_("Created"), "created_at")
CHANGED = moment(_("Changed"), "updated_at")
RECORD_TAIL = (OWNER, VISIBILITY, CREATED, CHANGED)
ADDRESS_PARTS = (("street", _("Street")), ("postal_code", _("Postal code")), ("city", _("City")),
                 ("region", _("Region")), ("country", _("Country")))


def first_address(link: str) -> dict[str, Any]:
    """An account's or contact's first address, joined to the rows' own query as `first_address` (its parts
    None where there is none): one index lookup and a join per row. A subquery per part (five lookups) took
    as long as the rest of the rows' query on SQLite, and one subquery making a JSON array of the parts
    cost as much in decoding it."""
    from django.db.models import FilteredRelation, OuterRef, Q, Subquery

    from rapport.directory.models import Address

    first = Address.objects.filter(**{link: OuterRef("pk")}).order_by("id").values("id")[:1]
    return {"first_address": FilteredRelation("addresses", condition=Q(addresses__id=Subquery(first)))}


ADDRESS = tuple(Column(header, (f"first_address__{part}",), lambda batch, raw: raw or "")
                for part, header in ADDRESS_PARTS)


# --- The resources ----------------------------------------------------------------------------------


def _directory() -> list[ExportResource]:
    from rapport.directory import selectors
    from rapport.directory.filters import ACCOUNT_FILTERS, ACCOUNT_ORDERINGS, CONTACT_FILTERS, CONTACT_ORDERINGS
    from rapport.directory.models import Account

    accounts = ExportResource(
        key="accounts", title=_("Accounts"), record_type="account", list_url_name="account_list",
        selector=selectors.account_list, orderings=ACCOUNT_ORDERINGS, default_ordering="name",
        filters=frozenset(ACCOUNT_FILTERS), repeated=frozenset({"attr"}), annotate=lambda: first_address("account"),
        columns=(
            ID, plain(_("Name"), "name"), choice(_("Relationship stage"), Account, "stage"),
            plain(_("Industry"), "industry"), plain(_("Website"), "website"), plain(_("Email"), "email"),
            plain(_("Phone"), "phone"), plain(_("Other phone"), "secondary_phone"),
            related(_("Parent account"), "parent", "account"), *ADDRESS, plain(_("Remarks"), "remarks"),
            *RECORD_TAIL,
        ),
    )
    contacts = ExportResource(
        key="contacts", title=_("Contacts"), record_type="contact", list_url_name="contact_list",
        selector=selectors.contact_list, orderings=CONTACT_ORDERINGS, default_ordering="name",
        filters=frozenset(CONTACT_FILTERS), repeated=frozenset({"attr"}), vcard=True,
        annotate=lambda: first_address("contact"),
        columns=(
            ID, plain(_("Last name"), "last_name"), plain(_("First name"), "first_name"), plain(_("Title"), "title"),
            related(_("Account"), "account", "account"), plain(_("Email"), "email"),
            plain(_("Other email"), "secondary_email"), plain(_("Phone"), "phone"), plain(_("Mobile"), "mobile"),
            *ADDRESS, plain(_("Remarks"), "remarks"), *RECORD_TAIL,
        ),
    )
    return [accounts, contacts]


def _weighted(batch: Batch, amount: Any, probability: Any) -> Decimal | None:
    if amount is None or probability is None:
        return None
    return (amount * probability / Decimal(100)).quantize(CENT)


def _sales() -> list[ExportResource]:
    from rapport.sales import selectors
    from rapport.sales.filters import (
        LEAD_FILTERS,
        LEAD_ORDERINGS,
        OPPORTUNITY_FILTERS,
        OPPORTUNITY_ORDERINGS,
        ORDER_FILTERS,
        ORDER_ORDERINGS,
    )
    from rapport.sales.models import Lead, Order

    leads = ExportResource(
        key="leads", title=_("Leads"), record_type="lead", list_url_name="lead_list",
        selector=selectors.lead_list, orderings=LEAD_ORDERINGS, default_ordering="name",
        filters=frozenset(LEAD_FILTERS),
        columns=(
            ID, plain(_("Last name"), "last_name"), plain(_("First name"), "first_name"),
            plain(_("Company"), "company"), plain(_("Title"), "title"), plain(_("Email"), "email"),
            plain(_("Phone"), "phone"), choice(_("Status"), Lead, "status"), plain(_("Source"), "source"),
            related(_("Account"), "account", "account"),
            related(_("Contact"), "contact", "contact", ("first_name", "last_name")),
            moment(_("Converted"), "converted_at"), plain(_("Remarks"), "remarks"), *RECORD_TAIL,
        ),
    )
    opportunities = ExportResource(
        key="opportunities", title=_("Opportunities"), record_type="opportunity",
        list_url_name="opportunity_list", selector=selectors.opportunity_list, orderings=OPPORTUNITY_ORDERINGS,
        default_ordering="name", filters=frozenset(OPPORTUNITY_FILTERS),
        columns=(
            ID, plain(_("Name"), "name"), related(_("Account"), "account", "account"),
            plain(_("Pipeline"), "stage__pipeline__name"), plain(_("Stage"), "stage__name"),
            plain(_("Amount"), "amount"), plain(_("Currency"), "currency"),
            plain(_("Probability (%)"), "probability"),
            Column(_("Weighted amount"), ("amount", "probability"), _weighted),
            plain(_("Expected close"), "expected_close_on"), yes_no(_("Open"), "is_open"),
            plain(_("Closed on"), "closed_on"), plain(_("Source"), "source"), plain(_("Next step"), "next_step"),
            plain(_("Won or lost reason"), "outcome_reason"), plain(_("Description"), "description"),
            *RECORD_TAIL,
        ),
    )
    orders = ExportResource(
        key="orders", title=_("Orders"), record_type="order", list_url_name="order_list",
        selector=selectors.order_list, orderings=ORDER_ORDERINGS, default_ordering="-ordered_on",
        filters=frozenset(ORDER_FILTERS),
        columns=(
            ID, plain(_("Number"), "number"), plain(_("Order date"), "ordered_on"),
            related(_("Account"), "account", "account"), related(_("Opportunity"), "opportunity", "opportunity"),
            choice(_("Status"), Order, "status"), plain(_("Amount"), "amount"), plain(_("Currency"), "currency"),
            plain(_("Description"), "description"), *RECORD_TAIL,
        ),
    )
    return [leads, opportunities, orders]


def _support() -> list[ExportResource]:
    from rapport.support import selectors
    from rapport.support.filters import SUPPORT_FILTERS, SUPPORT_ORDERINGS
    from rapport.support.models import SupportItem

    items = ExportResource(
        key="support-items", title=_("Support items"), record_type="support_item", list_url_name="support_list",
        selector=selectors.support_item_list, orderings=SUPPORT_ORDERINGS, default_ordering="-created_at",
        filters=frozenset(SUPPORT_FILTERS),
        columns=(
            ID, plain(_("Reference"), "reference"), plain(_("Subject"), "subject"),
            choice(_("Status"), SupportItem, "status"), choice(_("Priority"), SupportItem, "priority"),
            plain(_("Category"), "category__name"), related(_("Account"), "account", "account"),
            related(_("Contact"), "contact", "contact", ("first_name", "last_name")),
            related(_("Opportunity"), "opportunity", "opportunity"), user_name(_("Assigned to"), "assignee"),
            plain(_("Due"), "due_on"), moment(_("Resolved"), "closed_at"),
            choice(_("Source"), SupportItem, "source"), plain(_("Description"), "description"),
            OWNER, VISIBILITY, moment(_("Opened"), "created_at"), CHANGED,
        ),
    )
    return [items]


def _addresses(raw: Any) -> str:
    return ", ".join(str(address) for address in raw or [])


def _mail() -> list[ExportResource]:
    from rapport.mail import selectors
    from rapport.mail.models import EmailMessage

    def filed(user: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
        emails = list(EmailMessage.objects.filter(pk__in=ids).select_related("activity")
                      .only("id", "activity__id", "activity__deleted_at"))
        found = selectors.filed_to(user=user, emails=emails)
        return {pk: {"filed": "; ".join(str(record) for record in records)} for pk, records in found.items()}

    emails = ExportResource(
        key="emails", title=_("Logged email"), record_type="email", list_url_name="email_list",
        selector=selectors.email_list, orderings=selectors.EMAIL_ORDERINGS, default_ordering="-received_at",
        filters=frozenset(selectors.EMAIL_FILTERS), prepare=filed,
        columns=(
            ID, moment(_("Received"), "received_at"), moment(_("Sent"), "sent_at"),
            plain(_("Sender name"), "from_name"), plain(_("From"), "from_address"),
            Column(_("To"), ("to",), lambda batch, raw: _addresses(raw)),
            Column(_("Cc"), ("cc",), lambda batch, raw: _addresses(raw)),
            plain(_("Subject"), "subject"), choice(_("Direction"), EmailMessage, "direction"),
            choice(_("Status"), EmailMessage, "status"), extra(_("Filed to"), "filed"), OWNER, VISIBILITY,
        ),
    )
    return [emails]


def _marketing() -> list[ExportResource]:
    from rapport.campaigns import selectors as campaign_selectors
    from rapport.campaigns.filters import CAMPAIGN_FILTERS, CAMPAIGN_ORDERINGS, LIST_FILTERS, LIST_ORDERINGS
    from rapport.campaigns.models import Campaign, DistributionList
    from rapport.templating import selectors as template_selectors
    from rapport.templating.filters import TEMPLATE_FILTERS, TEMPLATE_ORDERINGS
    from rapport.templating.models import Template

    templates = ExportResource(
        key="templates", title=_("Templates"), record_type="template", list_url_name="template_list",
        selector=template_selectors.template_list, orderings=TEMPLATE_ORDERINGS, default_ordering="name",
        filters=frozenset(TEMPLATE_FILTERS),
        columns=(
            ID, plain(_("Name"), "name"), choice(_("Kind"), Template, "kind"),
            plain(_("Description"), "description"), plain(_("Subject"), "subject"), plain(_("Text"), "body"),
            *RECORD_TAIL,
        ),
    )
    lists = ExportResource(
        key="distribution-lists", title=_("Distribution lists"), record_type="distribution_list",
        list_url_name="distribution_list_list", selector=campaign_selectors.distribution_list_list,
        orderings=LIST_ORDERINGS, default_ordering="name", filters=frozenset(LIST_FILTERS),
        columns=(
            ID, plain(_("Name"), "name"), choice(_("Kind"), DistributionList, "kind"),
            plain(_("Category"), "category"), plain(_("Description"), "description"), *RECORD_TAIL,
        ),
    )
    campaigns = ExportResource(
        key="campaigns", title=_("Campaigns"), record_type="campaign", list_url_name="campaign_list",
        selector=campaign_selectors.campaign_list, orderings=CAMPAIGN_ORDERINGS, default_ordering="-created_at",
        filters=frozenset(CAMPAIGN_FILTERS),
        columns=(
            ID, plain(_("Name"), "name"), choice(_("Status"), Campaign, "status"),
            related(_("Distribution list"), "distribution_list", "distribution_list"),
            related(_("Template"), "template", "template"), plain(_("From"), "from_email"),
            plain(_("Messages per minute"), "rate_per_minute"), moment(_("Started"), "started_at"),
            moment(_("Finished"), "finished_at"), *RECORD_TAIL,
        ),
    )
    return [templates, lists, campaigns]


# The filters and orderings of GET /api/v1/activities (rapport/activities/api.py), less its range (start, end:
# occurrences, not records). tests/exports/test_export_menu.py keeps the two in step.
ACTIVITY_FILTERS = frozenset({"owner", "assigned_to", "status", "type", "kind", "regarding"})
ACTIVITY_ORDERINGS = {"starts_at": "starts_at", "updated_at": "updated_at", "created_at": "created_at"}


def _activities() -> list[ExportResource]:
    from rapport.activities import selectors
    from rapport.activities.models import Activity

    def links(user: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
        activities = list(Activity.objects.filter(pk__in=ids).only("id"))
        found = selectors.activity_links(user=user, activities=activities)
        assignees = selectors.activity_assignees(activities=activities)
        return {activity.pk: {
            "regarding": "; ".join(str(r) for r in found[activity.pk].regarding),
            "attendees": "; ".join(str(r) for r in found[activity.pk].attendees),
            "assignees": "; ".join(user.display_name for user in assignees[activity.pk]),
        } for activity in activities}

    activities = ExportResource(
        key="activities", title=_("Activities"), record_type="activity", list_url_name="",
        selector=selectors.activity_list, orderings=ACTIVITY_ORDERINGS, default_ordering="starts_at",
        filters=ACTIVITY_FILTERS, check_filters=True, prepare=links,
        columns=(
            ID, choice(_("Type"), Activity, "activity_type"), plain(_("Kind"), "kind__label"),
            plain(_("Subject"), "subject"), choice(_("Status"), Activity, "status"),
            choice(_("Priority"), Activity, "priority"), moment(_("Starts"), "starts_at"),
            moment(_("Ends"), "ends_at"), yes_no(_("All day"), "all_day"), plain(_("Location"), "location"),
            extra(_("Regarding"), "regarding"), extra(_("Attendees"), "attendees"),
            extra(_("Assigned to"), "assignees"), plain(_("Repeats"), "rrule"),
            moment(_("Completed"), "completed_at"), plain(_("Description"), "description"), *RECORD_TAIL,
        ),
    )
    return [activities]


def _projects() -> list[ExportResource]:
    from rapport.projects.exporting import export_resources

    return export_resources()


def _expenses() -> list[ExportResource]:
    from rapport.expenses.exporting import export_resources

    return export_resources()


_RESOURCES: dict[str, ExportResource] = {}


def resources() -> dict[str, ExportResource]:
    """Every exportable list by key (built on first use: the apps' selectors import their models)."""
    if not _RESOURCES:
        for group in (_directory, _sales, _support, _mail, _marketing, _activities, _projects, _expenses):
            for resource in group():
                _RESOURCES[resource.key] = resource
    return _RESOURCES


def resource_for_list(url_name: str | None) -> ExportResource | None:
    """The export of the list page named url_name, if it has one."""
    if not url_name:
        return None
    return next((r for r in resources().values() if r.list_url_name == url_name), None)
