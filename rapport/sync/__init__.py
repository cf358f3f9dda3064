"""Calendars and address books over CalDAV and CardDAV: Radicale speaks the protocol, Rapport's tables hold the data."""
