"""The global search index: one row per searchable record, and the words its typo tolerance knows.

`SearchEntry` holds what a record is found by — its title and its other text, both folded (lower case,
no accents) and cut into words — and, to narrow a search cheaply before the real check, its owner and
visibility. What a result shows (its title, subtitle, link) is read from the record itself when the
search is answered, through the record type's own `visible_to(user)`: a stale row can never show stale
text or leak a record.

The full-text index over these rows is not a Django field: on SQLite an FTS5 table (`search_fts`) kept
in step by triggers, on PostgreSQL a generated tsvector column with a GIN index (migration 0002).
"""

from __future__ import annotations

from django.db import models


class SearchEntry(models.Model):
    """One indexed record of a searchable type (see rapport.search.registry)."""

    record_type = models.CharField(max_length=30)
    record_id = models.BigIntegerField()
    # Copied from the record to narrow a search with core.access.visibility_q before the final check.
    owner_id = models.BigIntegerField()
    visibility = models.CharField(max_length=8)
    # Folded words separated by single spaces: the title weighs more than the rest.
    title = models.TextField(default="", blank=True)
    body = models.TextField(default="", blank=True)

    class Meta:
        db_table = "search_entry"
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_id"], name="search_entry_record_unique"),
        ]
        indexes = [models.Index(fields=["record_type", "-id"], name="search_entry_type_idx")]

    def __str__(self) -> str:
        return f"{self.record_type}#{self.record_id}"


class SearchWord(models.Model):
    """A word of the records' titles under each of its spellings with one letter left out (and itself).

    "jonh" and "john" both leave "jon" or "jn h"…; a query word's own deletions looked up here find the
    words one edit away (insertion, deletion, substitution, transposition), which Python then confirms
    with the Damerau-Levenshtein distance: the SymSpell idea, the same on both databases.
    """

    variant = models.CharField(max_length=40)
    word = models.CharField(max_length=40)

    class Meta:
        db_table = "search_word"
        constraints = [models.UniqueConstraint(fields=["variant", "word"], name="search_word_unique")]

    def __str__(self) -> str:
        return f"{self.variant} → {self.word}"
