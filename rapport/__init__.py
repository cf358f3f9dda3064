"""Rapport: an open-source CRM."""
