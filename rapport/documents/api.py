"""The documents API (see docs/documents.md)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Documents"])
