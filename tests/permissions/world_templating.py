"""Permission-matrix subjects and snapshot tables of templates (rapport.templating).

RECORD_SUBJECTS: builders of a business record owned by `owner`, one per visibility (as in world.py);
OTHER_SUBJECTS: builders of anything else a URL names; SNAPSHOT: table name -> rows, for the check
that a denied write changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Personas

RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {}
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {}
SNAPSHOT: dict[str, Callable[[], list[Any]]] = {}
