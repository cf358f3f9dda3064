"""The folded form of a text: what sorting, prefix search and duplicate detection compare."""

from __future__ import annotations

import pytest

from rapport.core.text import fold


@pytest.mark.parametrize(("text", "folded"), [
    ("  Anna\tBERG  ", "anna berg"),  # plain ASCII: lower-cased, spaces collapsed
    ("Anna.Berg@Example.COM", "anna.berg@example.com"),
    ("Émile  Zoë", "emile zoe"),  # accents taken off
    ("Müller", "muller"),
    ("Straße", "strasse"),  # case folding, not only lower-casing
    ("ﬁnance", "finance"),  # compatibility forms decomposed
    ("佐藤 花子", "佐藤 花子"),  # other scripts keep their letters
    ("Ірина Шевченко", "ірина шевченко"),
    ("", ""),
    (None, ""),
])
def test_fold(text, folded):
    assert fold(text) == folded


def test_an_accented_name_and_its_plain_spelling_fold_to_one_key():
    assert fold("Zoë Ångström") == fold("zoe angstrom") == "zoe angstrom"
