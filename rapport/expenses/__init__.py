"""Expenses: claims with receipts, approved by the submitter's manager, then reimbursed."""
