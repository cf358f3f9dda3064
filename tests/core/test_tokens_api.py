"""Personal API tokens, and the read-only user, team and "me" endpoints."""

from __future__ import annotations

import pytest
from django.test import Client

from rapport.core.models import ApiToken
from rapport.core.services import token_create, token_revoke
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_signs_the_caller_in(personas):
    new = token_create(user=personas.owner, name="script")
    response = Client().get("/api/v1/me", headers=bearer(new.plaintext))
    assert response.status_code == 200
    assert response.json()["username"] == "owner"
    assert ApiToken.objects.get(pk=new.token.pk).last_used_at is not None


def test_only_a_hash_of_the_token_is_stored(personas):
    new = token_create(user=personas.owner, name="script")
    stored = ApiToken.objects.filter(pk=new.token.pk).values_list("key_hash", "prefix").get()
    assert new.plaintext not in stored
    assert new.plaintext.split("_")[-1] not in stored[0]


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Bearer rap_000000000000_secret", "Basic abc"])
def test_without_a_valid_token_the_api_answers_401_json(personas, header):
    headers = {"Authorization": header} if header else {}
    response = Client().get("/api/v1/accounts", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_token_with_the_right_prefix_but_wrong_secret_is_refused(personas):
    new = token_create(user=personas.owner, name="script")
    forged = new.plaintext[:-4] + ("AAAA" if not new.plaintext.endswith("AAAA") else "BBBB")
    assert Client().get("/api/v1/me", headers=bearer(forged)).status_code == 401


def test_revoked_token_is_refused(personas):
    new = token_create(user=personas.owner, name="script")
    token_revoke(user=personas.owner, token_id=new.token.pk)
    response = Client().get("/api/v1/me", headers=bearer(new.plaintext))
    assert response.status_code == 401


def test_token_of_a_deactivated_user_is_refused(personas):
    new = token_create(user=personas.owner, name="script")
    personas.owner.is_active = False
    personas.owner.save()
    assert Client().get("/api/v1/me", headers=bearer(new.plaintext)).status_code == 401


def test_me_shows_roles_team_time_zone_and_rights(personas, api_for):
    personas.owner.time_zone = "Europe/Berlin"
    personas.owner.save()
    body = api_for(personas.owner).get("me").json()
    assert body["id"] == personas.owner.public_id
    assert body["roles"] == [{"key": "sales", "name": "Sales"}]
    assert body["team"] == {"id": personas.owner.team.public_id, "name": "Team A"}
    assert body["time_zone"] == "Europe/Berlin"
    assert body["is_admin"] is False
    assert body["rights"]["account"] == {"create": "own", "read": "all", "update": "own", "delete": "own"}
    assert body["rights"]["contact"]["delete"] == "own"
    assert "+" in body["server_time"] or body["server_time"].endswith("Z")


def test_me_for_admin_and_read_only(personas, api_for):
    admin = api_for(personas.admin).get("me").json()
    assert admin["is_admin"] is True and admin["team"] is None
    assert admin["rights"]["account"]["delete"] == "all"
    viewer = api_for(personas.viewer).get("me").json()
    assert viewer["rights"]["account"] == {"create": "none", "read": "all", "update": "none", "delete": "none"}


def test_users_list_is_paged_with_public_ids(personas, api_for):
    client = api_for(personas.owner)
    first = client.get("users", limit=4).json()
    assert set(first) == {"items", "next"}
    assert len(first["items"]) == 4 and first["next"]
    rest = client.get("users", limit=4, cursor=first["next"]).json()
    names = [u["username"] for u in first["items"] + rest["items"]]
    assert names == sorted(names) == ["admin", "manager", "marketer", "outsider", "owner", "teammate", "viewer"]
    owner = next(u for u in first["items"] + rest["items"] if u["username"] == "owner")
    assert owner["id"] == personas.owner.public_id and not owner["id"].isdigit()
    assert owner["team"]["name"] == "Team A"
    assert "password" not in owner


def test_get_one_user_and_a_missing_one(personas, api_for):
    client = api_for(personas.owner)
    assert client.get(f"users/{personas.manager.public_id}").json()["username"] == "manager"
    assert client.get("users/doesnotexist").status_code == 404


def test_teams_list_names_the_manager(personas, api_for):
    body = api_for(personas.viewer).get("teams").json()
    teams = {t["name"]: t for t in body["items"]}
    assert set(teams) == {"Team A", "Team B"}
    assert teams["Team A"]["manager"] == personas.manager.public_id
    assert teams["Team B"]["manager"] is None
    assert body["next"] is None


def test_users_list_refuses_an_unknown_ordering(personas, api_for):
    response = api_for(personas.owner).get("users", ordering="password")
    assert response.status_code == 400
    assert "ordering" in response.json()["errors"]


def test_another_users_token_cannot_be_revoked_by_a_colleague(personas):
    new = token_create(user=personas.owner, name="script")
    colleague = UserFactory()
    with pytest.raises(Exception, match="No such token"):
        token_revoke(user=colleague, token_id=new.token.pk)
    assert Client().get("/api/v1/me", headers=bearer(new.plaintext)).status_code == 200


def test_user_and_team_lists_refuse_an_unknown_query_parameter(personas, api_for):
    api = api_for(personas.owner)
    for path in ("users", "teams"):
        response = api.get(path, colour="blue")
        assert response.status_code == 400
        assert "colour" in response.json()["errors"]
