"""The projects API (see docs/projects.md)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Projects"])
