"""The expenses API (see docs/expenses.md)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Expenses"])
