"""Reads of templates, and of the contacts a template is previewed or merged with. Every read of a
business record goes through visible_to(user)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from rapport.core.access import access_record
from rapport.core.history import history_for
from rapport.core.models import Action
from rapport.directory.models import Address, Contact
from rapport.templating.filters import filter_templates
from rapport.templating.merge import RenderedText, merge_values, render_template
from rapport.templating.models import Template, TemplateKind


def template_list(*, user: Any, params: Any) -> QuerySet[Template]:
    """The visible templates the filters pick (q, kind, owner)."""
    return filter_templates(Template.objects.visible_to(user).select_related("owner"), params, user=user)


def template_get(*, user: Any, public_id: str, action: str = Action.READ, deleted: bool = False) -> Template:
    """One template: 404 when the user may not see it, 403 when they may not do `action` to it."""
    return access_record(user, Template, public_id, action, queryset=Template.objects.select_related("owner"),
                         deleted=deleted)


def template_detail(*, user: Any, public_id: str) -> dict[str, Any]:
    template = template_get(user=user, public_id=public_id)
    return {"template": template, "history": history_for(template, user=user)}


def template_preview(*, user: Any, template: Template, contact: Contact | None) -> RenderedText:
    """The template as `contact` would get it from `user` (fields of a missing contact stay empty; a
    campaign's unsubscribe link shows as a marker, since only a campaign message has one)."""
    extra = {"unsubscribe_url": _("[unsubscribe link]")} if template.kind == TemplateKind.EMAIL else None
    return render_template(template, merge_values(contact=contact, user=user, extra=extra))


def with_merge_data(qs: QuerySet[Contact]) -> QuerySet[Contact]:
    """Contacts with what merging them reads (their account, both records' addresses) in three queries
    for any number of rows, instead of queries per contact."""
    addresses = Address.objects.order_by("id")
    return qs.select_related("account").prefetch_related(
        Prefetch("addresses", queryset=addresses), Prefetch("account__addresses", queryset=addresses))


def merge_contact_get(*, user: Any, public_id: str, field: str = "contact") -> Contact:
    """A contact the user may see, to preview or merge with; a ValidationError naming `field` otherwise."""
    contact = with_merge_data(Contact.objects.visible_to(user)).filter(public_id=public_id).first() \
        if public_id else None
    if contact is None:
        raise ValidationError({field: [_("No such contact.")]})
    return contact


def first_visible_contact(*, user: Any) -> Contact | None:
    """The contact a preview starts with: the first by name the user may see."""
    return with_merge_data(Contact.objects.visible_to(user)).order_by("name_key", "id").first()


def ad_hoc_contacts(*, user: Any, public_ids: list[str], field: str = "contacts") -> QuerySet[Contact]:
    """The contacts named by public id, all of which the user must be able to see."""
    wanted = list(dict.fromkeys(public_id for public_id in public_ids if public_id))
    qs = Contact.objects.visible_to(user).filter(public_id__in=wanted)
    found = set(qs.values_list("public_id", flat=True))
    missing = [public_id for public_id in wanted if public_id not in found]
    if missing:
        raise ValidationError({field: [_("No such contact: %s.") % ", ".join(missing[:5])]})
    return qs


def distribution_list_get(*, user: Any, public_id: str, field: str = "distribution_list") -> Any:
    """A distribution list the user may see; a ValidationError naming `field` otherwise."""
    from rapport.campaigns.models import DistributionList

    found = DistributionList.objects.visible_to(user).filter(public_id=public_id).first() if public_id else None
    if found is None:
        raise ValidationError({field: [_("No such distribution list.")]})
    return found


def distribution_list_contacts(*, user: Any, distribution_list: Any) -> QuerySet[Contact]:
    """The contacts on a distribution list as the user sees them (the campaigns app decides)."""
    from rapport.campaigns.selectors import list_contacts

    return list_contacts(user=user, distribution_list=distribution_list)


def distribution_list_choices(*, user: Any, limit: int = 200) -> list[Any]:
    """The lists a serial-letter form offers, by name."""
    from rapport.campaigns.models import DistributionList

    return list(DistributionList.objects.visible_to(user).order_by("name_key", "id")
                .only("id", "public_id", "name", "owner_id", "visibility", "deleted_at")[:limit])
