"""Background jobs of the campaigns app."""

from __future__ import annotations

from django_tasks import task

from rapport.campaigns.services import campaign_dispatch


@task()
def dispatch_campaigns() -> int:
    """Hand the sending campaigns' next messages to the outbox, at each campaign's rate (idempotent:
    each recipient is claimed before its message is queued)."""
    return campaign_dispatch()
