"""Template helpers shared by every app."""

from __future__ import annotations

from typing import Any

from django import template

from rapport.core.access import record_visible

register = template.Library()


@register.filter
def seen_by(record: Any, user: Any) -> bool:
    """{% if contact.account|seen_by:user %}: show a linked record only to those who may see it."""
    return record_visible(user, record)
