"""The demo company's documents (called by rapport.demo.load_demo once its users, accounts and deals exist)."""

from __future__ import annotations

from typing import Any


def demo_documents(users: dict[str, Any]) -> dict[str, int]:
    return {}
