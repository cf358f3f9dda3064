"""The sales API: leads, opportunities (and their forecast), pipeline stages, orders, workflow
definitions and communications."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["sales"])
