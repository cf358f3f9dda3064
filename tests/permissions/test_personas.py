"""The facts rules.py states about the personas hold for tests/conftest.py's personas.

The matrix builds its own copy once per module (world.build_personas) and checks
it against the same facts; so the matrix and the rest of the suite talk about
the same people.
"""

from __future__ import annotations

import pytest

from tests.permissions.rules import PERSONAS, persona_facts
from tests.permissions.world import describe_personas

pytestmark = pytest.mark.django_db


def test_rules_describe_the_shared_personas(personas):
    assert list(personas.all()) == list(PERSONAS)
    assert describe_personas(personas) == persona_facts()
