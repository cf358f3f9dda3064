"""Who sees what and who may do what, stated independently of rapport.core.access.

The facts below restate tests/conftest.py (the personas) and the default roles
of migration core/0002 (what each job function may do). The matrix compares
what the app answers with what these rules say; it never asks the app's own
`visible_to` or `can` what to expect.
"""

from __future__ import annotations

from collections.abc import Mapping

PERSONAS = ("owner", "teammate", "outsider", "manager", "viewer", "admin", "marketer")
VISIBILITIES = ("private", "team", "everyone")

# --- The personas (tests/conftest.py) ------------------------------------------------

ROLE = {
    "owner": "sales",
    "teammate": "sales",
    "outsider": "sales",
    "manager": "manager",
    "viewer": "read-only",
    "admin": "admin",
    "marketer": "marketing",
}
TEAM = {"owner": "A", "teammate": "A", "outsider": "B", "manager": None, "viewer": "A", "admin": None, "marketer": "A"}
MANAGES = {"manager": "A"}



def persona_facts() -> dict[str, tuple]:
    """Per persona: role slugs, team, teams managed, and whether a Django superuser or staff member."""
    return {name: ([ROLE[name]], TEAM[name], [MANAGES[name]] if name in MANAGES else [], False) for name in PERSONAS}


# --- The default roles (core/migrations/0002_default_roles.py) ------------------------

# role -> action -> scope ("none", "own", "team", "all")
ROLE_SCOPES = {
    "admin": {"create": "all", "read": "all", "update": "all", "delete": "all"},
    "manager": {"create": "all", "read": "all", "update": "team", "delete": "team"},
    "sales": {"create": "own", "read": "all", "update": "own", "delete": "own"},
    "support": {"create": "own", "read": "all", "update": "own", "delete": "own"},
    "marketing": {"create": "own", "read": "all", "update": "own", "delete": "none"},
    "read-only": {"create": "none", "read": "all", "update": "none", "delete": "none"},
}


def in_team_reach(actor: str, owner: str) -> bool:
    """Whether `owner` is the actor, a teammate of the actor, or in a team the actor manages."""
    if actor == owner:
        return True
    if TEAM[actor] is not None and TEAM[actor] == TEAM[owner]:
        return True
    return MANAGES.get(actor) is not None and MANAGES[actor] == TEAM[owner]


def sees(viewer: str, owner: str, visibility: str) -> bool:
    """DESIGN.md: own records, records shared with everyone, with the team by a teammate,
    and every record of a team one manages; administrators see everything."""
    if ROLE[viewer] == "admin":
        return True
    if viewer == owner or visibility == "everyone":
        return True
    if visibility == "team" and TEAM[viewer] is not None and TEAM[viewer] == TEAM[owner]:
        return True
    return MANAGES.get(viewer) is not None and MANAGES[viewer] == TEAM[owner]


def may(actor: str, action: str, owner: str | None = None) -> bool:
    """Whether the actor's role grants `action` (on a record owned by `owner`, if given)."""
    scope = ROLE_SCOPES[ROLE[actor]][action]
    if scope == "none":
        return False
    if owner is None or scope == "all":
        return True
    if scope == "team":
        return in_team_reach(actor, owner)
    return actor == owner


# --- Expected answers, written out -----------------------------------------------------
#
# A table maps a persona either to one status, or to three: for a record owned
# by `owner` that is private, shared with the team, shared with everyone. OK
# stands for the route's success status (200, 201, 204, 302, ...).

OK = "ok"
Cell = int | str | tuple
Table = Mapping[str, Cell]

#               private  team   everyone
SEE_OWNERS_RECORD: Table = {
    "owner": (OK, OK, OK),
    "teammate": (404, OK, OK),
    "outsider": (404, 404, OK),
    "manager": (OK, OK, OK),
    "viewer": (404, OK, OK),
    "admin": (OK, OK, OK),
    "marketer": (404, OK, OK),
}

# Update and delete of a record owned by `owner`: only the owner (own scope),
# the manager of team A (team scope) and the administrator; the rest get 403
# where they can see the record, 404 where they cannot.
#                  private  team   everyone
CHANGE_OWNERS_RECORD: Table = {
    "owner": (OK, OK, OK),
    "teammate": (404, 403, 403),
    "outsider": (404, 404, 403),
    "manager": (OK, OK, OK),
    "viewer": (404, 403, 403),
    "admin": (OK, OK, OK),
    "marketer": (404, 403, 403),
}

# Creating a record (owned by oneself): every role but read-only.
CREATE: Table = {"owner": OK, "teammate": OK, "outsider": OK, "manager": OK, "viewer": 403, "admin": OK,
                 "marketer": OK}

EVERYONE: Table = dict.fromkeys(PERSONAS, OK)
ADMINS_ONLY: Table = {persona: (OK if persona == "admin" else 403) for persona in PERSONAS}
# Something of the owner's own (an API token): nobody else even learns it exists.
OWNER_ONLY: Table = {persona: (OK if persona == "owner" else 404) for persona in PERSONAS}


def table(base: Table, ok: int) -> dict[str, int | tuple[int, ...]]:
    """A table with OK replaced by the route's success status."""
    def fill(cell: Cell) -> int | tuple[int, ...]:
        if isinstance(cell, tuple):
            return tuple(ok if c == OK else c for c in cell)
        return ok if cell == OK else int(cell)

    return {persona: fill(base[persona]) for persona in PERSONAS}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(PERSONAS, status)


def status_in(expect: Mapping[str, int | tuple[int, ...]], persona: str, visibility: str | None) -> int:
    cell = expect[persona]
    if isinstance(cell, tuple):
        assert visibility is not None, "a per-visibility table needs a visibility"
        return cell[VISIBILITIES.index(visibility)]
    return cell


def depends_on_visibility(expect: Mapping[str, int | tuple[int, ...]]) -> bool:
    return any(isinstance(cell, tuple) for cell in expect.values())


# --- Notes (rapport/activities): always shared with the author's team ---------------------------
# A note of `owner`'s is read by the author's team (teammate, viewer and marketer in team A), by the
# manager of team A and by the administrator, whatever its visibility says; never by the outsider.
NOTE_READERS: Table = {"owner": OK, "teammate": OK, "outsider": 404, "manager": OK, "viewer": OK, "admin": OK,
                       "marketer": OK}
# Only the author (and the administrator) changes or deletes it; its other readers get 403.
NOTE_AUTHOR: Table = {"owner": OK, "teammate": 403, "outsider": 404, "manager": 403, "viewer": 403, "admin": OK,
                      "marketer": 403}
# Adding a note to a record owned by `owner`: whoever sees the record and may create.
#                      private  team   everyone
NOTE_ON_OWNERS_RECORD: Table = {
    "owner": (OK, OK, OK),
    "teammate": (404, OK, OK),
    "outsider": (404, 404, OK),
    "manager": (OK, OK, OK),
    "viewer": (404, 403, 403),
    "admin": (OK, OK, OK),
    "marketer": (404, OK, OK),
}
