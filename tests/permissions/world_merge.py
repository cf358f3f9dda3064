"""Permission-matrix subjects and snapshot tables of duplicates and merge (see world_emails.py for the form).

Merging needs two records: the one kept is the case's account or contact subject, the one merged in the
owner's subject of another visibility (routes_merge.PARTNER_VISIBILITY). No subject of its own is
needed, and none is added: a new contact or account would show in the directory lists, which the matrix
checks against the cast's records. What a merge writes (accounts, contacts, addresses, attributes,
history, and every table that links to them) is in world.py's snapshot already.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Personas

RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {}
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {}
SNAPSHOT: dict[str, Callable[[], Any]] = {}
