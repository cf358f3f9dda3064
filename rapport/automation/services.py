"""The rule engine: saving task definitions and rules, finding what a rule matches, and creating
follow-ups once per (rule, record, period); follow-up stages; overrides.

Event rules (created, changed) run after the triggering transaction commits (`on_record_event`
queues `run_event_rules`). Inactivity, date and recurrence rules are swept by the scheduler
(`sweep_rules`), set-based: one query finds a rule's matches with their periods, one finds the
follow-ups that exist already, and each batch of new follow-ups is written in one transaction, so
that a rerun, or a crash half-way, creates nothing twice and misses nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from dateutil import rrule as du_rrule
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.activities import recurrence
from rapport.activities.models import (
    OPEN_STATUSES,
    Activity,
    ActivityAssignee,
    ActivityLink,
    ActivityStatus,
    ActivityType,
)
from rapport.activities.selectors import default_task_kind
from rapport.activities.services import activity_update, utc_midnight
from rapport.automation.models import (
    EVENT_TRIGGERS,
    AssignTo,
    FollowUp,
    InactivityOf,
    Override,
    OverrideMove,
    Rule,
    TaskDefinition,
    Trigger,
)
from rapport.core.access import access_for, record_visible
from rapport.core.bulk import insert_rows
from rapport.core.errors import Conflict, StaleVersion
from rapport.core.models import Action, HistoryEntry, Scope, Team, User, Visibility
from rapport.core.services import check_fields
from rapport.mail.services import queue_email
from rapport.search.index import index_new

logger = logging.getLogger(__name__)

# The records rules can watch, and their models.
WATCHED = {
    "account": "directory.Account",
    "contact": "directory.Contact",
    "opportunity": "sales.Opportunity",
    "order": "sales.Order",
    "support_item": "support.SupportItem",
}
# Where a record's relationship stage is, for a condition on the stage.
STAGE_FIELD = {"account": "stage", "contact": "account__stage", "opportunity": "account__stage",
               "order": "account__stage", "support_item": "account__stage"}
# What a follow-up's subject reads of its record, beyond owner and visibility: the fields its name (its str())
# is made of, and those its type's own sharing rule (record.shared_with) reads.
SUBJECT_FIELDS = {"account": ("name",), "contact": ("first_name", "last_name"), "opportunity": ("name",),
                  "order": ("number",), "support_item": ("reference", "subject", "assignee_id")}
# Which records carry key=value attributes (parsed from their remarks).
ATTRIBUTE_LINK = {"account": "account", "contact": "contact"}
CONDITION_KEYS = {"fields", "attributes", "stage", "owner_team"}
BATCH = 5000
# A date or schedule missed while the scheduler was down is still honoured this many days later.
GRACE_DAYS = 6
MAX_DAYS = 3650


def model_of(record_type: str) -> type[models.Model]:
    return apps.get_model(WATCHED[record_type])


# --- Who may manage automation -------------------------------------------------------------------


def may_manage(user: Any) -> bool:
    """Administrators and managers (a role whose update scope reaches a team) set up automation."""
    access = access_for(user)
    return access.is_admin or access.scope(Rule._meta.model_name or "rule", Action.UPDATE) in (Scope.TEAM, Scope.ALL)


def _require_manager(user: Any) -> None:
    if not may_manage(user):
        raise PermissionDenied(_("Only managers and administrators set up automation."))


def _bump(instance: Any, version: int | None) -> None:
    """Optimistic concurrency for configuration rows: 409 when someone saved meanwhile."""
    if instance.pk is None:
        return
    if version is None:
        raise ValidationError({"version": [_("The version you edited is required.")]})
    if not type(instance).objects.filter(pk=instance.pk, version=version).update(version=F("version") + 1):
        raise StaleVersion(current_version=type(instance).objects.values_list("version", flat=True).get(
            pk=instance.pk))
    instance.version = version + 1


# --- Task definitions ----------------------------------------------------------------------------

DEFINITION_FIELDS = frozenset({"name", "contact_message", "pending_message", "complete_message", "instructions",
                               "is_active"})


@transaction.atomic
def definition_save(*, actor: Any, definition: TaskDefinition | None, data: dict[str, Any],
                    version: int | None = None) -> TaskDefinition:
    _require_manager(actor)
    check_fields(data, DEFINITION_FIELDS)
    definition = definition or TaskDefinition()
    for name, value in data.items():
        setattr(definition, name, value.strip() if isinstance(value, str) else value)
    definition.full_clean()
    _bump(definition, version)
    definition.save()
    return definition


@transaction.atomic
def definition_delete(*, actor: Any, definition: TaskDefinition) -> None:
    _require_manager(actor)
    if definition.rules.exists():
        raise ValidationError({"definition": [_("Rules use this definition; change them first, or stop "
                                                "offering it.")]})
    definition.delete()


# --- Rules: checking ---------------------------------------------------------------------------------

RULE_FIELDS = frozenset({"name", "description", "definition", "trigger", "record_type", "field", "value", "days",
                         "inactivity_of", "activity_kind", "rrule", "starts_on", "time_zone", "condition",
                         "due_in_days", "assign_to", "assign_user", "assign_team", "assign_role", "alert_email"})


def _concrete(model: type[models.Model], name: str) -> models.Field:
    """A field a rule may test: a plain value of the record (not a link to another record, whose
    internal id people never see)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        field = None
    if (not isinstance(field, models.Field) or field.is_relation
            or name in {"id", "version", "deleted_at", "public_id", "due_sort"} or name.endswith("_key")):
        raise ValueError(name)
    return field


def date_fields(record_type: str) -> list[str]:
    """The date fields of a record type a date rule can count from."""
    model = model_of(record_type)
    return [f.name for f in model._meta.get_fields()
            if isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField)
            and f.name not in {"due_sort"}]


def _check_condition(rule: Rule) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    condition = rule.condition or {}
    if not isinstance(condition, dict):
        return {"condition": [_("A condition is an object with fields, attributes, stage or owner_team.")]}
    unknown = sorted(set(condition) - CONDITION_KEYS)
    if unknown:
        errors["condition"] = [_("Unknown part %(part)s; use fields, attributes, stage or owner_team.")
                               % {"part": ", ".join(unknown)}]
    for part in ("fields", "attributes"):
        if part in condition and not isinstance(condition[part], dict):
            errors.setdefault("condition", []).append(_("%s is a set of name=value pairs.") % part)
            condition = {**condition, part: {}}
    for part in ("stage", "owner_team"):
        if part in condition and not isinstance(condition[part], str):
            errors.setdefault("condition", []).append(_("%s is a single value.") % part)
            condition = {**condition, part: ""}
    model = model_of(rule.record_type) if rule.record_type in WATCHED else None
    for name, value in (condition.get("fields") or {}).items():
        if model is None:
            break
        if not isinstance(value, str | int | float | bool):
            errors.setdefault("condition", []).append(_("%s takes a single value.") % name)
            continue
        try:
            field = _concrete(model, name)
        except ValueError:
            errors.setdefault("condition", []).append(_("%(type)s has no field %(field)s.")
                                                      % {"type": rule.record_type, "field": name})
            continue
        if field.choices and str(value) not in {str(v) for v, _label in field.flatchoices}:
            errors.setdefault("condition", []).append(
                _("%(field)s cannot be %(value)s.") % {"field": name, "value": value})
            continue
        try:
            field.to_python(value)
        except ValidationError:
            errors.setdefault("condition", []).append(
                _("%(field)s cannot be %(value)s.") % {"field": name, "value": value})
    if condition.get("attributes") and rule.record_type not in ATTRIBUTE_LINK:
        errors.setdefault("condition", []).append(_("Only accounts and contacts have attributes."))
    if condition.get("stage"):
        from rapport.directory.models import RelationshipStage

        if condition["stage"] not in RelationshipStage.values:
            errors.setdefault("condition", []).append(
                _("%(stage)s is not a relationship stage; use one of: %(stages)s.")
                % {"stage": condition["stage"], "stages": ", ".join(RelationshipStage.values)})
    if condition.get("owner_team") and not Team.objects.filter(public_id=condition["owner_team"]).exists():
        errors.setdefault("condition", []).append(_("No such team."))
    return errors


def _check_trigger(rule: Rule) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if rule.record_type not in WATCHED:
        return {"record_type": [_("Use one of: %s.") % ", ".join(sorted(WATCHED))]}
    model = model_of(rule.record_type)
    if rule.trigger == Trigger.CHANGED:
        try:
            field = _concrete(model, rule.field)
        except ValueError:
            return {"field": [_("%(type)s has no field %(field)s.") % {"type": rule.record_type,
                                                                      "field": rule.field or _("(empty)")}]}
        if field.choices and rule.value not in {str(v) for v, _label in field.flatchoices}:
            errors["value"] = [_("%(field)s cannot be %(value)s; use one of: %(values)s.")
                               % {"field": rule.field, "value": rule.value or _("(empty)"),
                                  "values": ", ".join(str(v) for v, _label in field.flatchoices if v)}]
        else:
            try:
                field.to_python(rule.value)
            except ValidationError:
                errors["value"] = [_("%(field)s cannot be %(value)s.") % {"field": rule.field,
                                                                        "value": rule.value or _("(empty)")}]
    elif rule.trigger == Trigger.INACTIVITY:
        if rule.record_type != "account":
            errors["record_type"] = [_("Inactivity is counted for accounts.")]
        if rule.days is None or rule.days < 1 or rule.days > MAX_DAYS:
            errors["days"] = [_("Give a number of days from 1 to %d.") % MAX_DAYS]
        if rule.inactivity_of not in InactivityOf.values:
            errors["inactivity_of"] = [_("Choose no order, or no activity of a kind.")]
        elif rule.inactivity_of == InactivityOf.ACTIVITY and rule.activity_kind is None:
            errors["activity_kind"] = [_("Choose the kind of activity.")]
    elif rule.trigger == Trigger.DATE:
        if rule.field not in date_fields(rule.record_type):
            errors["field"] = [_("Use a date field of %(type)s: %(fields)s.")
                               % {"type": rule.record_type, "fields": ", ".join(date_fields(rule.record_type))
                                  or _("(none)")}]
        if rule.days is None or abs(rule.days) > MAX_DAYS:
            errors["days"] = [_("Give a number of days from -%(max)d to %(max)d.") % {"max": MAX_DAYS}]
    elif rule.trigger == Trigger.RECURRENCE:
        if rule.starts_on is None:
            errors["starts_on"] = [_("Give the day the schedule starts.")]
        elif abs((rule.starts_on - timezone.localdate()).days) > MAX_DAYS:
            errors["starts_on"] = [_("Start the schedule within ten years of today.")]
        try:
            zoneinfo.ZoneInfo(rule.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["time_zone"] = [_("%s is not a known time zone.") % rule.time_zone]
        if not rule.rrule:
            errors["rrule"] = [_("Give a schedule, such as FREQ=MONTHLY;BYDAY=1MO.")]
        elif rule.starts_on is not None and not {"time_zone", "starts_on"} & set(errors):
            try:
                rule.rrule = recurrence.normalise_rule(rule.rrule)
                recurrence.check_rule(rule.rrule, starts_at=utc_midnight(rule.starts_on), time_zone=rule.time_zone,
                                      all_day=True)
            except ValidationError as exc:
                errors["rrule"] = [str(message) for message in exc.messages]
    elif rule.trigger not in Trigger.values:
        errors["trigger"] = [_("Use one of: %s.") % ", ".join(Trigger.values)]
    return errors


def _check_action(rule: Rule) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if rule.assign_to == AssignTo.USER:
        if rule.assign_user is None:
            errors["assign_user"] = [_("Choose the user.")]
        elif not rule.assign_user.is_active:
            errors["assign_user"] = [_("%s is not an active user.") % rule.assign_user]
    elif rule.assign_to == AssignTo.TEAM:
        if rule.assign_team is None:
            errors["assign_team"] = [_("Choose the team.")]
        elif not _pool(rule):
            errors["assign_team"] = [_("The team has no active members.")]
    elif rule.assign_to == AssignTo.ROLE:
        if rule.assign_role is None:
            errors["assign_role"] = [_("Choose the role.")]
        elif not _pool(rule):
            errors["assign_role"] = [_("Nobody active has this role.")]
    return errors


def _assign_fields(rule: Rule, data: dict[str, Any]) -> None:
    for name, value in data.items():
        setattr(rule, name, value.strip() if isinstance(value, str) and name not in {"condition"} else value)


@transaction.atomic
def rule_save(*, actor: Any, rule: Rule | None, data: dict[str, Any], version: int | None = None) -> Rule:
    """Create or change a rule; every mistake is named by its field, and nothing is saved then.

    A rule cannot be saved without a task definition. Changing an active rule keeps it active."""
    _require_manager(actor)
    check_fields(data, RULE_FIELDS)
    rule = rule or Rule(created_by=actor)
    _assign_fields(rule, data)
    if rule.days is not None and rule.trigger == Trigger.INACTIVITY and rule.days < 0:
        raise ValidationError({"days": [_("The number of days cannot be negative.")]})
    if rule.definition_id is None:
        raise ValidationError({"definition": [_("Choose a task definition: it says what the follow-up is.")]})
    errors: dict[str, list[str]] = {}
    try:
        rule.full_clean(exclude=["condition"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    for check in (_check_trigger, _check_condition, _check_action):
        for name, messages in check(rule).items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        if rule.pk is not None:
            rule.refresh_from_db()  # the caller's object is left as stored
        raise ValidationError(errors)
    _bump(rule, version)
    rule.save()
    return rule


@transaction.atomic
def rule_activate(*, actor: Any, rule: Rule, active: bool = True) -> Rule:
    """Switch a rule on or off; an inactive rule creates nothing."""
    _require_manager(actor)
    if active and not rule.definition.is_active:
        raise ValidationError({"definition": [_("The rule's task definition is no longer in use.")]})
    Rule.objects.filter(pk=rule.pk).update(is_active=active, activated_at=timezone.now() if active else None,
                                           version=F("version") + 1)
    rule.refresh_from_db()
    if active and rule.trigger not in EVENT_TRIGGERS:
        # What the preview showed is created at once, not at the scheduler's next sweep.
        rule_id = rule.pk

        def sweep_now() -> None:
            from rapport.automation.tasks import sweep_rule_job

            sweep_rule_job.enqueue(rule_id)

        transaction.on_commit(sweep_now)
    return rule


@transaction.atomic
def rule_delete(*, actor: Any, rule: Rule) -> None:
    _require_manager(actor)
    if rule.follow_ups.exists():
        raise ValidationError({"rule": [_("The rule made follow-ups; deactivate it instead, so they keep "
                                          "their rule.")]})
    rule.delete()


# --- Rules: what they match ------------------------------------------------------------------------


def _condition_q(rule: Rule) -> Q:
    condition = rule.condition or {}
    q = Q()
    for name, value in (condition.get("fields") or {}).items():
        q &= Q(**{name: value})
    link = ATTRIBUTE_LINK.get(rule.record_type)
    if link:
        from rapport.directory.models import Attribute

        for key, value in (condition.get("attributes") or {}).items():
            q &= Q(Exists(Attribute.objects.filter(key=str(key).strip().lower(), value=str(value).strip(),
                                                   **{link: OuterRef("pk")})))
    if condition.get("stage"):
        q &= Q(**{STAGE_FIELD[rule.record_type]: condition["stage"]})
    if condition.get("owner_team"):
        q &= Q(owner__team__public_id=condition["owner_team"])
    return q


@dataclass(frozen=True)
class Match:
    record_id: int
    owner_id: int
    period: str


def _records(rule: Rule) -> QuerySet:
    """The records a rule acts on: those matching its condition that its creator may see. A rule never
    reaches (or, through its preview, counts) a record the manager who wrote it could not open."""
    model = model_of(rule.record_type)
    qs = model._default_manager.filter(deleted_at__isnull=True)
    if rule.created_by_id is not None:
        qs = model._default_manager.visible_to(rule.created_by)  # type: ignore[attr-defined]
    return qs.filter(_condition_q(rule))


def _latest_occurrence(rule: Rule, today: dt.date) -> dt.date | None:
    """The schedule's last day on or before today (in the rule's time zone), within the grace days."""
    assert rule.starts_on is not None
    start = dt.datetime.combine(rule.starts_on, dt.time(0, 0))
    schedule = du_rrule.rrulestr(rule.rrule, dtstart=start, ignoretz=True)
    found = schedule.before(dt.datetime.combine(today, dt.time(23, 59)), inc=True)
    if found is None or found.date() < today - dt.timedelta(days=GRACE_DAYS):
        return None
    return found.date()


def matches(rule: Rule, *, today: dt.date | None = None) -> Iterable[Match]:
    """What a swept rule matches today, with each match's period (set-based: a few queries in all)."""
    today = today or _today(rule)
    if rule.trigger == Trigger.INACTIVITY:
        yield from _inactive(rule, today)
    elif rule.trigger == Trigger.DATE:
        days = rule.days or 0
        first, last = today - dt.timedelta(days=days + GRACE_DAYS), today - dt.timedelta(days=days)
        rows = _records(rule).filter(**{f"{rule.field}__gte": first, f"{rule.field}__lte": last})
        for pk, owner_id, day in rows.values_list("pk", "owner_id", rule.field).iterator(chunk_size=2000):
            yield Match(pk, owner_id, f"date:{day.isoformat()}")
    elif rule.trigger == Trigger.RECURRENCE:
        day = _latest_occurrence(rule, today)
        if day is not None:
            for pk, owner_id in _records(rule).values_list("pk", "owner_id").iterator(chunk_size=2000):
                yield Match(pk, owner_id, f"on:{day.isoformat()}")


def _inactive(rule: Rule, today: dt.date) -> Iterable[Match]:
    """Accounts with nothing (no order, or no activity of the kind) for `days`: one follow-up per quiet
    spell, named by the day it began (the last order, or the account's creation)."""
    from rapport.sales.models import Order

    cutoff = today - dt.timedelta(days=rule.days or 0)
    if rule.inactivity_of == InactivityOf.ORDER:
        last = Subquery(Order.objects.filter(account_id=OuterRef("pk"), deleted_at__isnull=True)
                        .order_by("-ordered_on").values("ordered_on")[:1], output_field=models.DateField())
    else:
        linked = ActivityLink.objects.filter(record_type="account", record_id=OuterRef("pk"),
                                             activity__kind_id=rule.activity_kind_id,
                                             activity__deleted_at__isnull=True)
        last = Subquery(linked.order_by("-activity__starts_at").annotate(day=TruncDate("activity__starts_at"))
                        .values("day")[:1], output_field=models.DateField())
    # Never ordering counts from the day the account was made (its UTC date, as created_at is stored):
    # compared as a time, so that no date is computed for every account.
    made_by = dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    rows = (_records(rule).annotate(last=last)
            .filter(Q(last__lte=cutoff) | Q(last__isnull=True, created_at__lt=made_by))
            .values_list("pk", "owner_id", "last", "created_at"))
    for pk, owner_id, last_day, created_at in rows.iterator(chunk_size=2000):
        since = last_day or created_at.astimezone(dt.UTC).date()
        yield Match(pk, owner_id, f"since:{since.isoformat()}")


def _today(rule: Rule) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(rule.time_zone or "UTC")).date()


def _new_matches(rule: Rule, found: Sequence[Match]) -> list[Match]:
    """The matches with no follow-up yet (one query per thousand)."""
    new: list[Match] = []
    for start in range(0, len(found), 1000):
        chunk = found[start:start + 1000]
        seen = set(FollowUp.objects.filter(rule=rule, record_type=rule.record_type,
                                           record_id__in=[m.record_id for m in chunk])
                   .values_list("record_id", "period"))
        new.extend(m for m in chunk if (m.record_id, m.period) not in seen)
    return new


@dataclass
class Preview:
    count: int
    records: list[Any]


def rule_preview(*, actor: Any, rule: Rule, limit: int = 20, today: dt.date | None = None) -> Preview:
    """What activating the rule would create now: how many follow-ups, and for which records (the first)."""
    _require_manager(actor)
    if rule.trigger in EVENT_TRIGGERS:
        return Preview(count=0, records=[])  # they wait for the next event
    new = _new_matches(rule, list(matches(rule, today=today)))
    # The count is what activation creates; the names shown are only those the manager may see.
    visible = model_of(rule.record_type)._default_manager.visible_to(actor)  # type: ignore[attr-defined]
    by_id = visible.in_bulk([m.record_id for m in new[:limit * 5]])
    shown = [by_id[m.record_id] for m in new[:limit * 5] if m.record_id in by_id][:limit]
    return Preview(count=len(new), records=shown)


# --- Creating follow-ups -------------------------------------------------------------------------


def _pool(rule: Rule) -> list[int]:
    """The users a team or role rule takes turns over, in a stable order."""
    qs = User.objects.filter(is_active=True)
    if rule.assign_to == AssignTo.TEAM:
        qs = qs.filter(team=rule.assign_team)
    elif rule.assign_to == AssignTo.ROLE:
        qs = qs.filter(roles=rule.assign_role_id)
    else:
        return []
    return list(qs.order_by("id").values_list("id", flat=True))


def _active_overrides(day: dt.date) -> dict[int, Override]:
    return {o.absent_id: o for o in Override.objects.filter(reverted_at__isnull=True, starts_on__lte=day,
                                                            ends_on__gte=day)}


def _override_target(override: Override) -> int:
    if override.to_user_id is not None:
        return override.to_user_id
    members = list(User.objects.filter(is_active=True, team=override.to_team).exclude(pk=override.absent_id)
                   .order_by("id").values_list("id", flat=True))
    target = members[override.turn % len(members)]
    override.turn += 1
    return target


def create_follow_ups(rule: Rule, found: Sequence[Match], *, today: dt.date | None = None) -> int:
    """Create the follow-ups of these matches that do not exist yet; the number created.

    Each batch is one transaction holding the rule's row: two sweeps of one rule wait for each other,
    and one stopped half-way leaves whole batches only."""
    today = today or _today(rule)
    created = 0
    users = {u.pk: u for u in User.objects.filter(is_active=True)}
    for start in range(0, len(found), BATCH):
        with transaction.atomic():
            locked = Rule.objects.select_for_update().get(pk=rule.pk)
            if not locked.is_active:
                break
            batch = _new_matches(locked, found[start:start + BATCH])
            if batch:
                created += _write_batch(locked, batch, today, users)
                Rule.objects.filter(pk=locked.pk).update(turn=locked.turn)
    return created


def _write_batch(rule: Rule, batch: Sequence[Match], today: dt.date, users: dict[int, User]) -> int:
    """Write one batch: a task per match (with its assignee, its link to the record, its history line and
    its search entry) and the follow-up that ties it to the rule. Rows go in as plain values through
    core.bulk, the values they share sent once: building a model instance per row was most of a sweep."""
    definition = rule.definition
    pool = _pool(rule)
    overrides = _active_overrides(today)
    kind = default_task_kind()
    due = utc_midnight(today + dt.timedelta(days=rule.due_in_days))
    now = timezone.now()
    record_model = model_of(rule.record_type)
    # Only what a task's subject and visibility read: loading whole records took a fifth of a sweep.
    read = SUBJECT_FIELDS[rule.record_type]
    records = (record_model._default_manager.only("owner_id", "visibility", "deleted_at", *read)
               .in_bulk([m.record_id for m in batch]))
    rows: list[tuple[Match, int, int | None, Override | None]] = []
    for match in batch:
        if rule.assign_to == AssignTo.OWNER:
            chosen = match.owner_id
        elif rule.assign_to == AssignTo.USER and rule.assign_user_id is not None:
            chosen = rule.assign_user_id
        else:
            chosen = pool[rule.turn % len(pool)] if pool else match.owner_id
            rule.turn += 1
        if chosen not in users:  # the owner left: the rule's creator, else the record's owner stays
            chosen = rule.created_by_id if rule.created_by_id in users else chosen
        override = overrides.get(chosen)
        if override is not None:
            rows.append((match, _override_target(override), chosen, override))
        else:
            rows.append((match, chosen, None, None))
    description = definition.contact_message[:20000]
    tasks = [{"owner_id": assignee, "visibility": _task_visibility(records.get(match.record_id)),
              "subject": _subject(definition, records.get(match.record_id), users.get(assignee))}
             for match, assignee, _from, _override in rows]
    task_ids = insert_rows(Activity, tasks, same={
        "created_by_id": rule.created_by_id, "activity_type": ActivityType.TASK, "kind_id": kind.pk,
        "description": description, "status": ActivityStatus.OPEN, "starts_at": due, "ends_at": due,
        "all_day": True, "time_zone": rule.time_zone or "UTC", "created_at": now, "updated_at": now})
    # The search entry is built from the values just written (the index's document reads no more).
    index_new(Activity, [SimpleNamespace(pk=pk, location="", description=description, **task)
                         for pk, task in zip(task_ids, tasks, strict=True)])
    insert_rows(ActivityAssignee, [{"activity_id": pk, "user_id": task["owner_id"]}
                                   for pk, task in zip(task_ids, tasks, strict=True)],
                same={"starts_at": due, "last_ends_at": due, "is_long": False, "open_task": True}, returning=False)
    insert_rows(ActivityLink, [{"activity_id": pk, "record_id": match.record_id}
                               for pk, (match, *_rest) in zip(task_ids, rows, strict=True)],
                same={"record_type": rule.record_type}, returning=False)
    follow_up_ids = insert_rows(FollowUp, [
        {"task_id": pk, "record_id": match.record_id, "period": match.period, "assignee_id": assignee,
         "rerouted_from_id": rerouted_from, "override_id": override.pk if override else None}
        for pk, (match, assignee, rerouted_from, override) in zip(task_ids, rows, strict=True)],
        same={"rule_id": rule.pk, "record_type": rule.record_type, "created_at": now})
    insert_rows(HistoryEntry, [{"object_id": pk} for pk in task_ids], same={
        "content_type_id": ContentType.objects.get_for_model(Activity).pk, "at": now,
        "kind": HistoryEntry.Kind.CREATED, "actor_id": None, "changes": {"rule": [None, rule.name]}},
        returning=False)
    moved = [(follow_up_id, assignee, rerouted_from, override)
             for follow_up_id, (_m, assignee, rerouted_from, override) in zip(follow_up_ids, rows, strict=True)
             if override is not None]
    OverrideMove.objects.bulk_create(
        OverrideMove(override=override, follow_up_id=follow_up_id, from_user_id=rerouted_from or 0,
                     to_user_id=assignee)
        for follow_up_id, assignee, rerouted_from, override in moved)
    for override in {id(o): o for *_rest, o in moved}.values():
        Override.objects.filter(pk=override.pk).update(turn=override.turn)
    if rule.alert_email:
        alerted = (FollowUp.objects.filter(pk__in=follow_up_ids).select_related("task", "rule__definition")
                   .order_by("pk"))
        for follow_up in alerted:
            _alert(follow_up, follow_up.task, users.get(follow_up.assignee_id))
    return len(task_ids)


def _task_visibility(record: Any) -> str:
    """Shared with the assignee's team when everyone may see the record; otherwise the assignee's own
    (with their manager), so that the task never shows a record to someone it is hidden from."""
    return Visibility.TEAM if record is not None and record.visibility == Visibility.EVERYONE else Visibility.PRIVATE


def _subject(definition: TaskDefinition, record: Any, assignee: User | None) -> str:
    """The definition's name and the record's, when the assignee may see the record."""
    if record is not None and assignee is not None and record_visible(assignee, record):
        return f"{definition.name}: {record}"[:200]
    return definition.name[:200]


def _alert(follow_up: FollowUp, task: Activity, user: User | None) -> None:
    from django.conf import settings
    from django.urls import reverse

    if user is None or not user.email:
        return
    queue_email(
        to=[user.email], kind="follow_up",
        subject=_("Follow-up: %(subject)s") % {"subject": task.subject},
        body=_("%(message)s\n\nOpen it: %(url)s") % {
            "message": follow_up.rule.definition.contact_message,
            "url": settings.RAPPORT_BASE_URL + reverse("follow_up_detail", args=[follow_up.public_id])},
    )


# --- Running rules -----------------------------------------------------------------------------------


def sweep_rule(rule: Rule, *, today: dt.date | None = None) -> int:
    """Create today's follow-ups of one swept rule; idempotent."""
    if not rule.is_active or rule.trigger in EVENT_TRIGGERS:
        return 0
    return create_follow_ups(rule, list(matches(rule, today=today)), today=today)


def sweep_rules(*, today: dt.date | None = None) -> dict[str, int]:
    """Every active inactivity, date and recurrence rule, and the overrides that began: the scheduler's job."""
    try:
        apply_overrides(today=today)
    except Exception:  # one override that cannot be applied must not stop the rules
        logger.exception("Applying the overrides failed")
    created: dict[str, int] = {}
    for rule in Rule.objects.filter(is_active=True).exclude(trigger__in=EVENT_TRIGGERS).select_related("definition"):
        try:
            created[rule.name] = sweep_rule(rule, today=today)
        except Exception:  # a broken rule is logged and skipped; the others still run
            logger.exception("The sweep of rule %s failed", rule.pk)
            created[rule.name] = -1
    return created


def active_event_rules(record_type: str) -> bool:
    return Rule.objects.filter(is_active=True, trigger__in=EVENT_TRIGGERS, record_type=record_type).exists()


def on_record_event(kind: str, record: Any, changes: dict[str, Any]) -> None:
    """core.records calls this for every create and update: rules run once the change commits."""
    record_type = getattr(record, "record_type", "")
    if record_type == Activity.record_type and "owner" in changes:
        # A follow-up is its task's: when someone hands the task on, the follow-up goes with it.
        FollowUp.objects.filter(task_id=record.pk).update(assignee_id=record.owner_id)
        return
    if record_type not in WATCHED or not active_event_rules(record_type):
        return
    fields = sorted(changes)
    version = record.version
    pk = record.pk

    def enqueue() -> None:
        from rapport.automation.tasks import run_event_rules_job

        run_event_rules_job.enqueue(record_type, pk, kind, fields, version)

    transaction.on_commit(enqueue)


def run_event_rules(record_type: str, record_id: int, kind: str, fields: Sequence[str], version: int) -> int:
    """The follow-ups the active event rules make of one record's create or change; idempotent."""
    trigger = Trigger.CREATED if kind == "created" else Trigger.CHANGED
    created = 0
    for rule in Rule.objects.filter(is_active=True, trigger=trigger, record_type=record_type).select_related(
            "definition"):
        if trigger == Trigger.CHANGED and rule.field not in fields:
            continue
        try:
            qs = _records(rule).filter(pk=record_id)
            if trigger == Trigger.CHANGED:
                qs = qs.filter(**{rule.field: rule.value})
            row = qs.values_list("pk", "owner_id").first()
        except (ValueError, ValidationError):  # a rule saved before its value was checked
            logger.exception("Rule %s cannot be evaluated", rule.pk)
            continue
        if row is None:
            continue
        period = "created" if trigger == Trigger.CREATED else f"changed:v{version}"
        try:
            created += create_follow_ups(rule, [Match(row[0], row[1], period)])
        except Exception:  # one broken rule must not keep the others from this record
            logger.exception("Rule %s failed for %s %s", rule.pk, record_type, record_id)
    return created


# --- Follow-ups: stages --------------------------------------------------------------------------


@transaction.atomic
def follow_up_set_stage(*, actor: Any, follow_up: FollowUp, status: str, note: str = "",
                        version: int | None = None) -> FollowUp:
    """The assignee marks a follow-up Pending (with a note saying what it waits for) or Completed."""
    if status not in (ActivityStatus.PENDING, ActivityStatus.COMPLETED, ActivityStatus.OPEN):
        raise ValidationError({"status": [_("Choose pending or completed.")]})
    note = (note or "").strip()
    if status == ActivityStatus.PENDING and not note:
        raise ValidationError({"note": [_("Say what the follow-up waits for.")]})
    task = follow_up.task
    data: dict[str, Any] = {"status": status}
    if note:
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        data["description"] = f"{task.description}\n\n{stamp} {actor.display_name}: {note}".strip()[:20000]
    activity_update(actor=actor, activity=task, data=data, version=version if version is not None else task.version)
    follow_up.task.refresh_from_db()
    return follow_up


def stage_message(follow_up: FollowUp) -> str:
    """What the definition tells the holder at the follow-up's stage."""
    definition = follow_up.rule.definition
    status = follow_up.task.status
    if status == ActivityStatus.PENDING:
        return definition.pending_message or definition.contact_message
    if status == ActivityStatus.COMPLETED:
        return definition.complete_message or definition.contact_message
    return definition.contact_message


# --- Overrides ---------------------------------------------------------------------------------------


def _may_override(actor: Any, absent: User) -> bool:
    access = access_for(actor)
    return access.is_admin or absent.pk in access.managed_member_ids


def _move(follow_up: FollowUp, to_user_id: int, actor: Any) -> None:
    task = follow_up.task
    to_user = User.objects.get(pk=to_user_id)
    activity_update(actor=actor, activity=task, data={"owner": to_user}, assignees=[to_user], version=task.version)
    FollowUp.objects.filter(pk=follow_up.pk).update(assignee_id=to_user_id)


def _open_follow_ups_of(user_id: int) -> QuerySet[FollowUp]:
    return (FollowUp.objects.filter(assignee_id=user_id, task__status__in=OPEN_STATUSES,
                                    task__deleted_at__isnull=True).select_related("task").order_by("id"))


def _apply(override: Override, actor: Any) -> int:
    moved = 0
    for follow_up in _open_follow_ups_of(override.absent_id):
        target = _override_target(override)
        _move(follow_up, target, actor)
        OverrideMove.objects.create(override=override, follow_up=follow_up, from_user_id=override.absent_id,
                                    to_user_id=target)
        FollowUp.objects.filter(pk=follow_up.pk).update(rerouted_from_id=override.absent_id, override=override)
        moved += 1
    Override.objects.filter(pk=override.pk).update(turn=override.turn)
    return moved


@transaction.atomic
def override_create(*, actor: Any, absent: User, starts_on: dt.date, ends_on: dt.date, to_user: User | None = None,
                    to_team: Team | None = None, note: str = "") -> Override:
    """Reroute an absent user's follow-ups for a date range: their open ones now (when the range has
    begun), and those rules create for them during it."""
    if not _may_override(actor, absent):
        raise PermissionDenied(_("Only their manager or an administrator reroutes a user's follow-ups."))
    errors: dict[str, list[str]] = {}
    if ends_on < starts_on:
        errors["ends_on"] = [_("The range ends before it starts.")]
    if (to_user is None) == (to_team is None):
        errors["to_user"] = [_("Choose a user, or a team to spread the follow-ups over.")]
    elif to_user is not None and (not to_user.is_active or to_user.pk == absent.pk):
        errors["to_user"] = [_("%s cannot take them: choose an active colleague.") % to_user]
    elif to_team is not None and not User.objects.filter(is_active=True, team=to_team).exclude(pk=absent.pk).exists():
        errors["to_team"] = [_("The team has nobody active to take them.")]
    receivers = [to_user.pk] if to_user is not None else list(
        User.objects.filter(is_active=True, team=to_team).exclude(pk=absent.pk).values_list("pk", flat=True))
    access = access_for(actor)
    if not errors and not all(access.covers_owner(Activity.record_type, Action.UPDATE, pk) for pk in receivers):
        errors["to_user" if to_user is not None else "to_team"] = [
            _("You may not give work to someone outside the teams you manage.")]
    if Override.objects.filter(absent=absent, reverted_at__isnull=True, starts_on__lte=ends_on,
                               ends_on__gte=starts_on).exists():
        errors.setdefault("starts_on", []).append(_("An override for %s covers part of this range already.")
                                                  % absent)
    if errors:
        raise ValidationError(errors)
    override = Override.objects.create(absent=absent, starts_on=starts_on, ends_on=ends_on, to_user=to_user,
                                       to_team=to_team, note=(note or "").strip()[:300], created_by=actor)
    if starts_on <= timezone.localdate() <= ends_on:
        _apply(override, actor)
    return override


def apply_overrides(*, today: dt.date | None = None) -> int:
    """Overrides whose range has begun move their user's open follow-ups (the scheduler runs this)."""
    today = today or timezone.localdate()
    moved = 0
    for override in Override.objects.filter(reverted_at__isnull=True, starts_on__lte=today, ends_on__gte=today):
        try:
            with transaction.atomic():
                moved += _apply(override, override.created_by)
        except Exception:  # logged; the other overrides still apply
            logger.exception("Override %s could not be applied", override.pk)
    return moved


@transaction.atomic
def override_revert(*, actor: Any, override: Override) -> int:
    """Give back the follow-ups the override moved that are still open and still with whom they went to."""
    if not _may_override(actor, override.absent):
        raise PermissionDenied(_("Only their manager or an administrator reroutes a user's follow-ups."))
    if not Override.objects.filter(pk=override.pk, reverted_at__isnull=True).update(
            reverted_at=timezone.now(), reverted_by=actor):
        raise Conflict(_("This override was reverted already."))
    back = 0
    for move in override.moves.select_related("follow_up__task").order_by("id"):
        follow_up = move.follow_up
        if follow_up.assignee_id != move.to_user_id or follow_up.task.status not in OPEN_STATUSES:
            continue
        _move(follow_up, move.from_user_id, actor)
        FollowUp.objects.filter(pk=follow_up.pk).update(rerouted_from=None, override=None)
        back += 1
    return back
