"""Background jobs of the automation app."""

from __future__ import annotations

from django_tasks import task

from rapport.automation import services


@task()
def run_event_rules_job(record_type: str, record_id: int, kind: str, fields: list[str], version: int) -> int:
    """The follow-ups of one record's create or change (queued when that change commits)."""
    return services.run_event_rules(record_type, record_id, kind, fields, version)


@task()
def sweep_rules_job() -> dict[str, int]:
    """Inactivity, date and recurrence rules, and overrides that began (the scheduler's job)."""
    return services.sweep_rules()


@task()
def sweep_rule_job(rule_id: int) -> int:
    """One rule's sweep, right after it is activated."""
    from rapport.automation.models import Rule

    rule = Rule.objects.filter(pk=rule_id).select_related("definition").first()
    return services.sweep_rule(rule) if rule is not None else 0
