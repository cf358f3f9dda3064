"""The permission matrix entries of likely duplicates and merge (rapport.directory.duplicates, .merge).
See routes.py for the form.

The duplicates lists answer everyone with what they may see (their content is checked by
tests/directory/test_duplicates.py). Merging keeps the record the URL names and deletes the one the body
names: it takes the update right on the first and the delete right on the second. The second is the
owner's subject of another visibility (one that whoever may change the first can see), so the expected
answers are those of changing the owner's record (CHANGE_OWNERS_RECORD). Marking two records as not
duplicates writes their history and takes the update right on the record the URL names.
"""

from __future__ import annotations

from typing import Any

from tests.permissions.routes import Call, Route, api, page
from tests.permissions.rules import CHANGE_OWNERS_RECORD, EVERYONE, everyone, table
from tests.permissions.world import World

# The subject merged in, per visibility of the one kept: visible to whoever may change the kept one.
PARTNER_VISIBILITY = {"private": "everyone", "team": "everyone", "everyone": "team"}


def partner(world: World, kind: str) -> Any:
    return world.cast.subjects[kind, PARTNER_VISIBILITY[world.visibility]]


def merge_body(kind: str) -> Any:
    def body(world: World, actor: str) -> dict[str, Any]:
        other = partner(world, kind)
        return {"other": other.public_id, "version": world.subject(kind).version, "other_version": other.version}
    return body


def other_of(kind: str) -> Any:
    return lambda world, actor: {"other": partner(world, kind).public_id}


ROUTES: list[Route] = []
for kind, plural in (("account", "accounts"), ("contact", "contacts")):
    ROUTES += [
        page(f"{kind}_duplicates", Call("GET", table(EVERYONE, 200))),
        # GET without the other record: the page that offers likely duplicates to compare with.
        page(f"{kind}_merge", Call("GET", table(CHANGE_OWNERS_RECORD, 200)),
             Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, version=True, body=merge_body(kind)),
             subject=kind),
        page(f"{kind}_not_duplicate", Call("GET", everyone(405)),
             Call("POST", table(CHANGE_OWNERS_RECORD, 302), writes=True, body=other_of(kind)), subject=kind),
        api(f"GET /api/v1/{plural}/duplicates", table(EVERYONE, 200)),
        api(f"POST /api/v1/{plural}/{{{kind}_id}}/merge", table(CHANGE_OWNERS_RECORD, 200), subject=kind,
            writes=True, version=True, body=merge_body(kind)),
        api(f"POST /api/v1/{plural}/{{{kind}_id}}/not-duplicate", table(CHANGE_OWNERS_RECORD, 204), subject=kind,
            writes=True, body=other_of(kind)),
    ]
