"""Permission-matrix subjects and snapshot tables of the exports app (see world_emails.py for the form)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Personas

RECORD_SUBJECTS: dict[str, Callable[[Personas, str], Any]] = {}
OTHER_SUBJECTS: dict[str, Callable[[Personas], Any]] = {}
SNAPSHOT: dict[str, Callable[[], Any]] = {}
