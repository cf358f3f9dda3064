"""`rapport manage search_reindex [--type contact ...]`: rebuild the global search index from the records."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.search.index import progress_line, reindex
from rapport.search.registry import searchable, searchable_types


class Command(BaseCommand):
    help = "Rebuild the global search index from the records (all types, or those named with --type)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--type", dest="types", action="append", default=None, metavar="TYPE",
                            help="a record type to rebuild (" + ", ".join(t.key for t in searchable_types())
                                 + "); repeat for several; default all")
        parser.add_argument("--quiet", action="store_true", help="no progress line")

    def handle(self, *args: Any, types: list[str] | None = None, quiet: bool = False, **options: Any) -> None:
        unknown = [name for name in types or [] if searchable(name) is None]
        if unknown:
            raise CommandError(f"Unknown record type {', '.join(unknown)}; use any of: "
                               + ", ".join(t.key for t in searchable_types()))
        started = time.perf_counter()
        counts = reindex(keys=types, progress=None if quiet else progress_line(self.stderr))
        total = sum(counts.values())
        self.stdout.write(f"Search index rebuilt: {total:,} records in {time.perf_counter() - started:,.1f} s "
                          f"({', '.join(f'{key} {count:,}' for key, count in counts.items())}).")
