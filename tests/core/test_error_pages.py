"""The pages a user sees when something is not there or not allowed: Rapport's own, with the way back."""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_a_page_that_is_not_there_says_so_in_rapports_layout(personas):
    response = client_for(personas.owner).get("/accounts/nosuchaccount0000/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Not found" in page and 'class="topbar"' in page and 'href="/"' in page


def test_a_change_the_role_does_not_allow_says_why(personas):
    account = AccountFactory(owner=personas.owner)
    response = client_for(personas.viewer).get(f"/accounts/{account.public_id}/edit/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "Not allowed" in page and 'class="topbar"' in page
