"""The record types that roles grant rights on.

Each business app registers its types in its AppConfig.ready(), so core never
imports a business app and a new app's records are covered by roles at once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecordType:
    key: str
    label: str


_RECORD_TYPES: dict[str, RecordType] = {}


def register_record_type(key: str, label: str) -> None:
    _RECORD_TYPES[key] = RecordType(key=key, label=label)


def record_types() -> list[RecordType]:
    return sorted(_RECORD_TYPES.values(), key=lambda rt: rt.key)


def record_type_choices() -> list[tuple[str, str]]:
    return [(rt.key, rt.label) for rt in record_types()]
