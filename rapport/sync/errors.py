"""How the sync layer refuses a request with a status and a message a person can act on."""

from __future__ import annotations


class DavRefusal(Exception):
    """A CalDAV/CardDAV request refused with an HTTP status and a plain-text reason.

    Radicale answers any exception from its storage with 500, so the storage records the refusal
    before raising it, and the view that mounts Radicale answers with this status and message instead.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
