"""Errors that services raise and every surface (page, API, import) turns into a message."""

from __future__ import annotations

from django.utils.translation import gettext as _


class StaleVersion(Exception):
    """An update named an older version than the one stored: someone else changed the record."""

    def __init__(self, *, current_version: int) -> None:
        self.current_version = current_version
        super().__init__(
            _("This record was changed by someone else (now version %(version)s). Reload it and try again.")
            % {"version": current_version}
        )


class PossibleDuplicate(Exception):
    """A new record looks like one that exists; the user may confirm or open the existing one."""

    def __init__(self, duplicates: list) -> None:
        self.duplicates = duplicates
        super().__init__(_("A record with the same email or website already exists."))


class Conflict(Exception):
    """The action no longer fits the record's state: someone else acted first (answers 409)."""
