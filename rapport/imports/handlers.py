"""What each record type does with a batch of good rows: find duplicates, link accounts, create, update.

Accounts and contacts, the big imports, are created set-based (bulk.py); changes to existing ones, and every
write of opportunities, orders and activities, go through the apps' own services, a row at a time in a
savepoint, so that every rule of theirs applies and a refusal becomes that row's problem.

Duplicates are looked up through the importing user's visible_to only: a record they may not see is never
matched, so never skipped for, never updated. A matched record they may see but not change is the row's
problem in "update" mode.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils.translation import gettext as _

from rapport.core.models import Action, User
from rapport.core.text import fold, website_domain
from rapport.directory.models import Account, Contact, RelationshipStage
from rapport.imports import bulk
from rapport.imports import fields as f
from rapport.imports.models import DuplicateMode

if TYPE_CHECKING:
    from rapport.imports.engine import Importer, Parsed

ADDRESS_KEYS = bulk.ADDRESS_PARTS


def handler_for(importer: Importer) -> Handler:
    handlers: dict[str, type[Handler]] = {"contact": ContactHandler, "account": AccountHandler,
                                          "opportunity": OpportunityHandler, "order": OrderHandler,
                                          "activity": ActivityHandler}
    return handlers[importer.spec.record_type](importer)


class AccountLinker:
    """Finds the account a row names by its folded name among the accounts the user may see (one query per
    batch), and makes the ones that do not exist yet (set-based)."""

    def __init__(self, importer: Importer) -> None:
        self.imp = importer
        self.cache: dict[str, bulk.AccountRef | None] = {}
        self.created: set[str] = set()
        self._keys: dict[str, str] = {}
        self._notes: dict[tuple[str, bool], str] = {}

    def key(self, name: str) -> str:
        key = self._keys.get(name)
        if key is None:
            key = self._keys[name] = fold(name)[:200]
        return key

    def lookup(self, names: Iterable[str]) -> None:
        wanted = {self.key(name) for name in names if name} - set(self.cache)
        if not wanted:
            return
        found: dict[str, bulk.AccountRef] = {}
        actor_id = self.imp.actor.pk
        rows = (Account.objects.visible_to(self.imp.actor).filter(name_key__in=wanted).order_by("id")
                .values_list("id", "public_id", "name", "name_key", "owner_id"))
        for pk, public_id, name, name_key, owner_id in rows:
            current = found.get(name_key)
            # The user's own account first, then the oldest.
            if current is None or (owner_id == actor_id and current.owner_id != actor_id):
                found[name_key] = bulk.AccountRef(pk, public_id, name, owner_id)
        for key in wanted:
            self.cache[key] = found.get(key)

    def get(self, name: str) -> bulk.AccountRef | None:
        return self.cache.get(self.key(name))

    def note(self, name: str) -> str:
        """What the preview says of the row's account: found, or made by this import (kept per name: the
        translation lookup costs more than the rest of a row)."""
        key = self.key(name)
        new = key in self.created
        cached = self._notes.get((key, new))
        if cached is None:
            account = self.get(name)
            if account is not None and not new:
                cached = _("%(name)s: existing account") % {"name": account.name}
            else:
                cached = _("%(name)s: new account") % {"name": name}
            self._notes[(key, new)] = cached
        return cached

    def may_create(self, owner: User) -> bool:
        access = self.imp.access
        return access.can("account", Action.CREATE) and access.covers_owner("account", Action.CREATE, owner.pk)

    def create(self, items: list[tuple[str, User, str]]) -> None:
        """Make the accounts named (name, owner, visibility) that do not exist, set-based."""
        new: dict[str, bulk.NewRecord] = {}
        for name, owner, visibility in items:
            key = self.key(name)
            if self.cache.get(key) is None and key not in new:
                values = {**dict.fromkeys(AccountHandler.FIELDS, ""), "name": name, "owner_id": owner.pk,
                          "visibility": visibility}
                new[key] = bulk.NewRecord(values, owner, ["name", "visibility"])
        bulk.create_records(Account, actor=self.imp.actor, items=list(new.values()))
        for key, item in new.items():
            self.cache[key] = bulk.AccountRef(item.pk, item.public_id, item.values["name"],  # type: ignore[arg-type]
                                              item.owner.pk)
            self.created.add(key)
        self.imp.outcome.accounts_created += len(new)

    def forget(self) -> None:
        self.cache.clear()
        self.created.clear()
        self._notes.clear()


def _owner_id(match: Any) -> int:
    return match["owner_id"] if isinstance(match, dict) else match.owner_id


class Handler:
    """The shape every record type's handler has; services-based by default."""

    model: Any = None

    def __init__(self, importer: Importer) -> None:
        self.imp = importer
        self.actor = importer.actor
        self.mode = importer.options.duplicates
        self.linker = AccountLinker(importer)

    # Values

    def choice(self, target: f.Target, raw: Any) -> Any:
        raise f.CellError(_("Unknown choice."))  # pragma: no cover - each handler names its choices

    def prepare(self, item: Parsed) -> None:
        """Rules across a row's cells (a full name split in two, a task's date); add to item.errors."""

    def owner(self, item: Parsed) -> User:
        return item.values.get("owner") or self.actor

    def visibility(self, item: Parsed) -> str:
        return item.values.get("visibility") or self.imp.options.visibility

    # Duplicates

    def keys(self, item: Parsed) -> list[Hashable]:
        return []

    def existing(self, keys: set[Hashable]) -> dict[Hashable, list[Any]]:
        return {}

    def describe(self, record: Any) -> str:
        return str(record)

    def differences(self, record: Any, item: Parsed) -> dict[str, Any]:
        """The fields of an existing record the row would change (empty cells change nothing)."""
        changes: dict[str, Any] = {}
        for key, value in self.update_data(item).items():
            current = getattr(record, key)
            if isinstance(current, User | Account) or hasattr(current, "pk"):
                if current is None or getattr(value, "pk", None) != current.pk:
                    changes[key] = value
            elif current != value:
                changes[key] = value
        return changes

    def update_data(self, item: Parsed) -> dict[str, Any]:
        return {}

    # The batch

    def forget(self) -> None:
        self.linker.forget()

    def account_names(self, items: list[Parsed]) -> list[str]:
        return [item.values["account"] for item in items if item.values.get("account")]

    def run_batch(self, items: list[Parsed]) -> None:
        self.linker.lookup(self.account_names(items))
        keys = {key for item in items for key in self.keys(item)}
        found = self.existing(keys) if keys and self.mode != DuplicateMode.CREATE else {}
        creates: list[Parsed] = []
        pending: dict[Hashable, Parsed] = {}
        for item in items:
            item_keys = self.keys(item)
            if self.mode != DuplicateMode.CREATE:
                earlier = next((pending[k] for k in item_keys if k in pending), None)
                if earlier is not None and self.mode == DuplicateMode.SKIP:
                    item.action = "skip"
                    item.note = _("the same as row %(row)d of the file") % {"row": earlier.row.number}
                    continue
                if earlier is not None:  # update: write what is pending, then this row changes that record
                    self.create(creates)
                    for done in creates:
                        if done.record is not None:
                            for k in self.keys(done):
                                found.setdefault(k, []).append(done.record)
                    creates, pending = [], {}
                    item_keys = self.keys(item)  # an account the row names may have been made just now
                matches = next((found[k] for k in item_keys if found.get(k)), [])
                if matches:
                    self.decide_existing(item, matches)
                    continue
            item.action = "create"
            creates.append(item)
            for k in item_keys:
                pending.setdefault(k, item)
        self.create(creates)

    def decide_existing(self, item: Parsed, matches: list[Any]) -> None:
        kind = self.imp.spec.record_type
        if self.mode == DuplicateMode.SKIP:
            item.action = "skip"
            item.note = _("matches %(record)s") % {"record": self.describe(matches[0])}
            return
        if len(matches) > 1:
            item.errors.append(("", _("The row matches %(count)d existing records (%(names)s); it cannot tell which "
                                      "to update. Choose \"skip\" or \"create\" for duplicates, or tell them apart "
                                      "first.") % {"count": len(matches),
                                                    "names": ", ".join(self.describe(m) for m in matches[:3])}))
            return
        record = matches[0]
        if not self.imp.access.covers_owner(kind, Action.UPDATE, _owner_id(record)):
            item.errors.append(("", _("The row matches %(record)s, which you may not change.")
                                % {"record": self.describe(record)}))
            return
        self.update(item, record)

    def update(self, item: Parsed, match: Any) -> None:
        changes = self.differences(match, item)
        item.record = match
        if not changes and not self.related_changes(match, item):
            item.action = "unchanged"
            item.note = _("matches %(record)s; nothing to change") % {"record": self.describe(match)}
            return
        item.changes = changes
        if self.imp.guarded(item, lambda: self.write_update(self.load(match), item, changes)) is not None:
            item.action = "update"
            item.note = _("updates %(record)s") % {"record": self.describe(match)}
            self.updated(match, item)

    def load(self, match: Any) -> Any:
        """The record to hand to the update service (a match may be lighter than a model instance)."""
        return match

    def updated(self, match: Any, item: Parsed) -> None:
        """Bring a light match up to date after its update, for a later row of the file that matches it too."""

    def related_changes(self, record: Any, item: Parsed) -> bool:
        return False

    def write_update(self, record: Any, item: Parsed, changes: dict[str, Any]) -> Any:
        raise NotImplementedError

    def create(self, items: list[Parsed]) -> None:
        """Create the records of these rows, one at a time through the service."""
        for item in items:
            created_before = set(self.linker.created)
            record = self.imp.guarded(item, functools.partial(self.write_create, item))
            if record is None:
                item.action = ""
                for key in self.linker.created - created_before:  # rolled back with the row
                    self.linker.cache.pop(key, None)
                    self.linker.created.discard(key)
            else:
                item.record = record

    def write_create(self, item: Parsed) -> Any:
        raise NotImplementedError

    def linked_ref(self, item: Parsed, *, required: bool) -> bulk.AccountRef | None:
        """The account the row names (made now if there is none the user may see), or a problem."""
        from django.core.exceptions import ValidationError

        name = item.values.get("account", "")
        if not name:
            if required:
                raise ValidationError({"account": [_("Give the account's name.")]})
            return None
        account = self.linker.get(name)
        if account is None:
            owner = self.owner(item)
            if not self.linker.may_create(owner):
                raise ValidationError({"account": [_("No account named %(name)s that you can see, and you may not "
                                                     "create accounts.") % {"name": name}]})
            self.linker.create([(name, owner, self.visibility(item))])
            account = self.linker.get(name)
        item.note = self.linker.note(name)
        return account

    def linked_account(self, item: Parsed, *, required: bool) -> Account | None:
        """linked_ref, as the model instance a service takes."""
        ref = self.linked_ref(item, required=required)
        return Account.objects.get(pk=ref.pk) if ref is not None else None


# --- Contacts and accounts (set-based) ---------------------------------------------------------------------


class FastHandler(Handler):
    """Accounts and contacts: created set-based; matches read as plain rows (values), loaded as records only
    when a row changes one."""

    FIELDS: tuple[str, ...] = ()
    MATCH_FIELDS: tuple[str, ...] = ("id", "owner_id", "version", "visibility")

    def _given_address(self, item: Parsed) -> dict[str, str]:
        return {part: item.values.get(part, "") for part in ADDRESS_KEYS}

    def _addresses_wanted(self) -> bool:
        return self.mode == DuplicateMode.UPDATE and any(key in self.imp.column_of for key in ADDRESS_KEYS)

    def _with_addresses(self, matches: list[dict[str, Any]], link: str) -> None:
        if not self._addresses_wanted():
            return
        from rapport.directory.models import Address

        by_record: dict[int, list[dict[str, Any]]] = {m["id"]: [] for m in matches}
        for row in Address.objects.filter(**{f"{link}__in": list(by_record)}).order_by("id").values(
                link, "kind", *ADDRESS_KEYS):
            by_record[row.pop(link)].append(row)
        for match in matches:
            match["addresses"] = by_record[match["id"]]

    def differences(self, match: Any, item: Parsed) -> dict[str, Any]:
        changes = {key: item.values[key] for key in (*self.FIELDS, "visibility")
                   if key in item.values and match[key] != item.values[key]}
        if "owner" in item.values and item.values["owner"].pk != match["owner_id"]:
            changes["owner"] = item.values["owner"]
        return changes

    def related_changes(self, match: Any, item: Parsed) -> bool:
        return "addresses" in match and bulk.merged_addresses(match["addresses"], self._given_address(item)) is not None

    def load(self, match: Any) -> Any:
        return self.model.objects.prefetch_related("addresses").get(pk=match["id"])

    def _addresses_for_update(self, match: Any, item: Parsed) -> list[dict[str, str]] | None:
        if "addresses" not in match:
            return None
        return bulk.merged_addresses(match["addresses"], self._given_address(item))

    def updated(self, match: Any, item: Parsed) -> None:
        fresh = self.model.objects.filter(pk=match["id"]).values(*self.MATCH_FIELDS, *self.FIELDS).first()
        if fresh is not None:
            addresses = match.get("addresses")
            match.clear()
            match.update(fresh)
            if addresses is not None:
                self._with_addresses([match], "contact" if self.model is Contact else "account")

    def _match_of(self, new: bulk.NewRecord) -> dict[str, Any]:
        match = {name: new.values.get(name) for name in (*self.MATCH_FIELDS, *self.FIELDS) if name != "id"}
        match["id"] = new.pk
        if self._addresses_wanted():
            given = {part: new.address.get(part, "") for part in ADDRESS_KEYS}
            match["addresses"] = [{"kind": "main", **given}] if any(given.values()) else []
        return match


class ContactHandler(FastHandler):
    model = Contact
    FIELDS = ("first_name", "last_name", "title", "email", "secondary_email", "phone", "mobile", "remarks")
    MATCH_FIELDS = ("id", "owner_id", "version", "visibility", "account_id")

    def prepare(self, item: Parsed) -> None:
        values = item.values
        if "full_name" in values and not (values.get("first_name") or values.get("last_name")):
            first, last = f.split_name(values["full_name"])
            if first:
                values["first_name"] = first[:100]
            if last:
                values["last_name"] = last[:100]
        if not values.get("last_name"):
            column = self.imp.column_label("last_name") or self.imp.column_label("full_name")
            item.errors.append((column, _("A contact needs a last name.")))

    def keys(self, item: Parsed) -> list[Hashable]:
        """The email; without one, the name at the account (a file of people without email addresses, imported
        twice, must not make them twice)."""
        email = item.values.get("email", "").strip().lower()
        if email:
            return [email]
        name = fold(f"{item.values.get('last_name', '')} {item.values.get('first_name', '')}")[:201]
        account_name = item.values.get("account", "")
        account_key: Hashable = None
        if account_name:
            account = self.linker.get(account_name)
            account_key = account.pk if account is not None else f"new:{self.linker.key(account_name)}"
        return [("name", name, account_key)]

    def existing(self, keys: set[Hashable]) -> dict[Hashable, list[Any]]:
        found: dict[Hashable, list[Any]] = {}
        emails = {key for key in keys if isinstance(key, str)}
        names = {key[1] for key in keys if isinstance(key, tuple)}
        matches = list(Contact.objects.visible_to(self.actor).filter(Q(email_key__in=emails) | Q(name_key__in=names))
                       .order_by("id").values(*self.MATCH_FIELDS, *self.FIELDS, "email_key", "name_key"))
        self._with_addresses(matches, "contact")
        for match in matches:
            email_key, name_key = match.pop("email_key"), match.pop("name_key")
            if email_key in emails:
                found.setdefault(email_key, []).append(match)
            if name_key in names:
                found.setdefault(("name", name_key, match["account_id"]), []).append(match)
        return found

    def describe(self, match: Any) -> str:
        name = f"{match['first_name']} {match['last_name']}".strip()
        return f"{name} <{match['email']}>" if match.get("email") else name

    def differences(self, match: Any, item: Parsed) -> dict[str, Any]:
        changes = super().differences(match, item)
        name = item.values.get("account")
        if name:
            account = self.linker.get(name)
            if account is None or account.pk != match["account_id"]:
                changes["account"] = None  # linked (or made) when written
        return changes

    def write_update(self, record: Any, item: Parsed, changes: dict[str, Any]) -> Any:
        from rapport.directory.services import contact_update

        if "account" in changes:
            changes["account"] = self.linked_account(item, required=False)
        return contact_update(actor=self.actor, contact=record, data=changes, version=record.version,
                              addresses=self._addresses_for_update(item.record, item))

    def create(self, items: list[Parsed]) -> None:
        if not items:
            return
        wanted = []
        for item in items:
            name = item.values.get("account")
            if name and self.linker.get(name) is None:
                owner = self.owner(item)
                if not self.linker.may_create(owner):
                    item.errors.append((self.imp.column_label("account"), _(
                        "No account named %(name)s that you can see, and you may not create accounts.")
                        % {"name": name}))
                    item.action = ""
                    continue
                wanted.append((name, owner, self.visibility(item)))
        if wanted:
            self.linker.create(wanted)
        new: list[tuple[Parsed, bulk.NewRecord]] = []
        for item in items:
            if item.bad:
                continue
            values = item.values
            owner = self.owner(item)
            row = {**dict.fromkeys(self.FIELDS, ""), **{key: values[key] for key in self.FIELDS if key in values},
                   "owner_id": owner.pk, "visibility": self.visibility(item), "account_id": None}
            tracked = ["visibility", *[key for key in self.FIELDS if key in values]]
            account = None
            if values.get("account"):
                account = self.linker.get(values["account"])
                row["account_id"] = account.pk if account is not None else None
                tracked.append("account")
                item.note = self.linker.note(values["account"])
            new.append((item, bulk.NewRecord(row, owner, tracked, self._given_address(item), account)))
        bulk.create_records(Contact, actor=self.actor, items=[record for _item, record in new])
        for item, record in new:
            item.record = self._match_of(record)


class AccountHandler(FastHandler):
    model = Account
    FIELDS = ("name", "website", "industry", "email", "phone", "secondary_phone", "stage", "remarks")

    def choice(self, target: f.Target, raw: Any) -> Any:
        return f.choice_value(raw, RelationshipStage.choices)

    def prepare(self, item: Parsed) -> None:
        if not item.values.get("name"):
            item.errors.append((self.imp.column_label("name"), _("An account needs a name.")))

    def account_names(self, items: list[Parsed]) -> list[str]:
        return []

    def keys(self, item: Parsed) -> list[Hashable]:
        keys: list[Hashable] = []
        domain = website_domain(item.values.get("website", ""))
        if domain:
            keys.append(("website", domain))
        keys.append(("name", fold(item.values["name"])[:200]))
        return keys

    def existing(self, keys: set[Hashable]) -> dict[Hashable, list[Any]]:
        pairs: list[tuple[str, str]] = [key for key in keys if isinstance(key, tuple)]
        domains = [value for kind, value in pairs if kind == "website"]
        names = [value for kind, value in pairs if kind == "name"]
        matches = list(Account.objects.visible_to(self.actor).filter(Q(website_key__in=domains) | Q(name_key__in=names))
                       .order_by("id").values(*self.MATCH_FIELDS, *self.FIELDS, "website_key", "name_key"))
        self._with_addresses(matches, "account")
        found: dict[Hashable, list[Any]] = {}
        for match in matches:
            website_key, name_key = match.pop("website_key"), match.pop("name_key")
            if website_key and website_key in domains:
                found.setdefault(("website", website_key), []).append(match)
            if name_key in names:
                found.setdefault(("name", name_key), []).append(match)
        return found

    def describe(self, match: Any) -> str:
        return match["name"]

    def write_update(self, record: Any, item: Parsed, changes: dict[str, Any]) -> Any:
        from rapport.directory.services import account_update

        return account_update(actor=self.actor, account=record, data=changes, version=record.version,
                              addresses=self._addresses_for_update(item.record, item))

    def create(self, items: list[Parsed]) -> None:
        from django.core.exceptions import ValidationError

        new: list[tuple[Parsed, bulk.NewRecord]] = []
        for item in items:
            values = item.values
            owner = self.owner(item)
            row = {**dict.fromkeys(self.FIELDS, ""), **{key: values[key] for key in self.FIELDS if key in values},
                   "owner_id": owner.pk, "visibility": self.visibility(item)}
            try:
                bulk.account_stage_fields(row)
            except ValidationError as exc:
                item.errors.append((self.imp.column_label("remarks"), " ".join(exc.message_dict["remarks"])))
                item.action = ""
                continue
            tracked = ["visibility", *[key for key in self.FIELDS if key in values or
                                       (key in ("stage", "remarks") and row.get(key))]]
            if row.get("stage"):
                tracked.append("stage_changed_on")
            new.append((item, bulk.NewRecord(row, owner, list(dict.fromkeys(tracked)), self._given_address(item))))
        bulk.create_records(Account, actor=self.actor, items=[record for _item, record in new])
        for item, record in new:
            item.record = self._match_of(record)


# --- Opportunities, orders, activities (through their services) ------------------------------------------------


class OpportunityHandler(Handler):
    FIELDS = ("name", "amount", "currency", "stage", "probability", "expected_close_on", "source", "next_step",
              "description")

    def __init__(self, importer: Importer) -> None:
        super().__init__(importer)
        from rapport.sales.models import PipelineStage

        stages = list(PipelineStage.objects.filter(is_active=True).select_related("pipeline")
                      .order_by("-pipeline__is_default", "pipeline__position", "position", "id"))
        self.stages = [(stage, stage.name) for stage in stages]

    def choice(self, target: f.Target, raw: Any) -> Any:
        return f.choice_value(raw, self.stages)

    def keys(self, item: Parsed) -> list[Hashable]:
        name = item.values.get("account", "")
        account = self.linker.get(name)
        account_key = account.pk if account is not None else f"new:{self.linker.key(name)}"
        return [(account_key, fold(item.values["name"])[:200])]

    def existing(self, keys: set[Hashable]) -> dict[Hashable, list[Any]]:
        from rapport.sales.models import Opportunity

        accounts = {key[0] for key in keys if isinstance(key[0], int)}  # type: ignore[index]
        names = {key[1] for key in keys}  # type: ignore[index]
        found: dict[Hashable, list[Any]] = {}
        for record in (Opportunity.objects.visible_to(self.actor).filter(account_id__in=accounts, name_key__in=names)
                       .select_related("stage", "account", "owner").order_by("id")):
            found.setdefault((record.account_id, record.name_key), []).append(record)
        return found

    def prepare(self, item: Parsed) -> None:
        if not item.values.get("account"):
            item.errors.append((self.imp.column_label("account"), _("Give the account's name.")))
        if not item.values.get("name"):
            item.errors.append((self.imp.column_label("name"), _("An opportunity needs a name.")))

    def update_data(self, item: Parsed) -> dict[str, Any]:
        return {key: item.values[key] for key in (*self.FIELDS, "owner", "visibility") if key in item.values}

    def write_create(self, item: Parsed) -> Any:
        from rapport.sales.services import opportunity_create

        data = {key: item.values[key] for key in self.FIELDS if key in item.values}
        data.update(account=self.linked_account(item, required=True), owner=self.owner(item),
                    visibility=self.visibility(item))
        return opportunity_create(actor=self.actor, data=data)

    def write_update(self, record: Any, item: Parsed, changes: dict[str, Any]) -> Any:
        from rapport.sales.services import opportunity_update

        return opportunity_update(actor=self.actor, opportunity=record, data=changes, version=record.version)


class OrderHandler(Handler):
    FIELDS = ("number", "ordered_on", "amount", "currency", "status", "description")

    def choice(self, target: f.Target, raw: Any) -> Any:
        from rapport.sales.models import OrderStatus

        return f.choice_value(raw, OrderStatus.choices)

    def prepare(self, item: Parsed) -> None:
        if not item.values.get("account"):
            item.errors.append((self.imp.column_label("account"), _("Give the account's name.")))
        if "amount" not in item.values:
            item.errors.append((self.imp.column_label("amount"), _("Give the order's amount.")))

    def keys(self, item: Parsed) -> list[Hashable]:
        number = item.values.get("number", "").strip()
        return [number] if number else []

    def existing(self, keys: set[Hashable]) -> dict[Hashable, list[Any]]:
        from rapport.sales.models import Order

        found: dict[Hashable, list[Any]] = {}
        for record in Order.objects.visible_to(self.actor).filter(number__in=keys).select_related("account", "owner"):
            found.setdefault(record.number, []).append(record)
        return found

    def update_data(self, item: Parsed) -> dict[str, Any]:
        data = {key: item.values[key] for key in (*self.FIELDS, "owner", "visibility") if key in item.values}
        data.pop("number", None)
        return data

    def write_create(self, item: Parsed) -> Any:
        from rapport.sales.services import order_create

        data = {key: item.values[key] for key in self.FIELDS if key in item.values}
        data.update(account=self.linked_account(item, required=True), owner=self.owner(item),
                    visibility=self.visibility(item))
        return order_create(actor=self.actor, data=data)

    def write_update(self, record: Any, item: Parsed, changes: dict[str, Any]) -> Any:
        from rapport.sales.services import order_update

        return order_update(actor=self.actor, order=record, data=changes, version=record.version)


class ActivityHandler(Handler):
    FIELDS = ("subject", "activity_type", "kind", "status", "priority", "location", "description")

    def __init__(self, importer: Importer) -> None:
        super().__init__(importer)
        from rapport.activities.models import ActivityKind

        self.kinds = list(ActivityKind.objects.filter(is_active=True).order_by("position", "label"))

    def choice(self, target: f.Target, raw: Any) -> Any:
        from rapport.activities.models import ActivityStatus, ActivityType, Priority

        if target.key == "kind":
            wanted = fold(str(raw))
            for kind in self.kinds:
                if wanted in (fold(kind.key), fold(kind.label)):
                    return kind
            raise f.CellError(_("%(value)s is not one of: %(choices)s.") % {
                "value": str(raw)[:40], "choices": ", ".join(kind.label for kind in self.kinds)})
        choices = {"activity_type": ActivityType.choices, "status": ActivityStatus.choices,
                   "priority": Priority.choices}[target.key]
        return f.choice_value(raw, choices)

    def prepare(self, item: Parsed) -> None:
        from rapport.activities.models import ActivityType
        from rapport.activities.services import utc_midnight

        values = item.values
        start = values.get("starts_at")
        activity_type = values.get("activity_type") or (ActivityType.EVENT if start else ActivityType.TASK)
        data: dict[str, Any] = {"activity_type": activity_type}
        if activity_type == ActivityType.TASK:
            due = values.get("due_on") or (start[0].astimezone(self.imp.zone).date() if start else None)
            if due is None:
                item.errors.append((self.imp.column_label("due_on"), _("A task needs a due date.")))
                return
            data["due_on"] = due
            moment = utc_midnight(due)
        else:
            if start is None and values.get("due_on"):
                start = (dt.datetime.combine(values["due_on"], dt.time(0), tzinfo=self.imp.zone), False)
            if start is None:
                item.errors.append((self.imp.column_label("starts_at"), _("An event needs a start.")))
                return
            moment, has_time = start
            all_day = values.get("all_day", not has_time)
            end = values.get("ends_at")
            if all_day:
                moment = utc_midnight(moment.date())
                data["ends_at"] = utc_midnight(end[0].date()) if end else None
            else:
                data["ends_at"] = end[0] if end else None
            data.update(starts_at=moment, all_day=all_day)
        data["kind"] = values.get("kind") or next(
            (k for k in self.kinds if k.key == ("todo" if activity_type == ActivityType.TASK else "meeting")),
            self.kinds[0] if self.kinds else None)
        item.data = data
        item.data["_moment"] = moment

    def keys(self, item: Parsed) -> list[Hashable]:
        return [(fold(item.values["subject"])[:200], item.data["_moment"])] if item.values.get("subject") else []

    def existing(self, keys: set[Hashable]) -> dict[Hashable, list[Any]]:
        from rapport.activities.models import Activity

        moments = {key[1] for key in keys}  # type: ignore[index]
        found: dict[Hashable, list[Any]] = {}
        for record in (Activity.objects.visible_to(self.actor).filter(starts_at__in=moments)
                       .select_related("kind", "owner").order_by("id")):
            found.setdefault((fold(record.subject)[:200], record.starts_at), []).append(record)
        return found

    def _regarding(self, item: Parsed) -> list[Any]:
        from django.core.exceptions import ValidationError

        regarding: list[Any] = []
        account = self.linked_account(item, required=False)
        if account is not None:
            regarding.append(account)
        email = item.values.get("contact")
        if email:
            contact = Contact.objects.visible_to(self.actor).filter(email_key=email.strip().lower()).first()
            if contact is None:
                raise ValidationError({"contact": [_("No contact with the email %(email)s that you can see.")
                                                   % {"email": email}]})
            regarding.append(contact)
        return regarding

    def _service_data(self, item: Parsed) -> dict[str, Any]:
        data = {key: value for key, value in item.data.items() if not key.startswith("_") and value is not None}
        data.update({key: item.values[key] for key in ("subject", "status", "priority", "location", "description")
                     if key in item.values})
        return data

    def update_data(self, item: Parsed) -> dict[str, Any]:
        data = self._service_data(item)
        data.pop("due_on", None)
        data.pop("starts_at", None)  # the match is on the start: it is the same
        if "owner" in item.values:
            data["owner"] = item.values["owner"]
        if "visibility" in item.values:
            data["visibility"] = item.values["visibility"]
        return data

    def write_create(self, item: Parsed) -> Any:
        from rapport.activities.services import activity_create

        data = self._service_data(item)
        data.update(owner=self.owner(item), visibility=self.visibility(item))
        return activity_create(actor=self.actor, data=data, regarding=self._regarding(item))

    def write_update(self, record: Any, item: Parsed, changes: dict[str, Any]) -> Any:
        from rapport.activities.services import activity_update

        return activity_update(actor=self.actor, activity=record, data=changes, version=record.version)

