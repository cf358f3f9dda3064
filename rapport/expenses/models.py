"""Expenses: claims with receipts, approved by the submitter's manager, then reimbursed."""

from __future__ import annotations
