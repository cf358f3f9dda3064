"""Nothing about a record the user may not see leaks through what a search says besides its results: the
corrections it reports, the stage a contact inherits from an account, the "+" of a group's count. And a
contact's own stage= decides before its account's."""

from __future__ import annotations

import pytest

from rapport.core.models import Visibility
from rapport.directory.services import account_create
from rapport.search.selectors import search
from tests.factories import AccountFactory, ContactFactory, NoteFactory

pytestmark = pytest.mark.django_db


def test_corrections_name_only_words_of_results_the_user_sees(personas, api_for):
    ContactFactory(first_name="Zebulon", last_name="Quixote", owner=personas.owner, visibility=Visibility.PRIVATE)
    hidden = api_for(personas.outsider).get("search", q="zebulom").json()
    assert hidden["corrections"] == {} and hidden["groups"] == []  # "zebulon" is someone's private contact
    mine = api_for(personas.owner).get("search", q="zebulom").json()
    assert mine["corrections"] == {"zebulom": ["zebulon"]}
    assert mine["groups"][0]["items"][0]["title"] == "Zebulon Quixote"


def test_a_hidden_accounts_stage_does_not_decide_which_contacts_are_found(personas):
    hidden = account_create(actor=personas.outsider, data={"name": "Hush Holdings", "stage": "mature",
                                                           "visibility": Visibility.PRIVATE})
    ContactFactory(first_name="Open", last_name="Person", owner=personas.owner, account=hidden)
    assert [hit.title for hit in search(user=personas.owner, q="stage=mature").hits] == []
    assert [hit.title for hit in search(user=personas.owner, q="open person").hits] == ["Open Person"]
    # Whoever sees the account finds its contacts by its stage.
    assert "Open Person" in [hit.title for hit in search(user=personas.outsider, q="stage=mature").hits]


def test_notes_the_user_may_not_see_do_not_make_a_group_look_larger(personas):
    hidden = AccountFactory(name="Hidden Pumpkins", owner=personas.owner, visibility=Visibility.PRIVATE)
    shown = AccountFactory(name="Open Pumpkins", owner=personas.owner, visibility=Visibility.EVERYONE)
    for n in range(11):
        NoteFactory(owner=personas.owner, about=hidden, body=f"Pumpkin harvest {n}")
    NoteFactory(owner=personas.owner, about=shown, body="Pumpkin harvest open")
    # A teammate sees the notes in the index (their visibility), but a note shows only with its record.
    [group] = [g for g in search(user=personas.teammate, q="pumpkin harvest").groups if g.key == "note"]
    assert len(group.hits) == 1 and not group.more
    [group] = [g for g in search(user=personas.owner, q="pumpkin harvest").groups if g.key == "note"]
    assert len(group.hits) == 10 and group.more


def test_a_contacts_own_stage_wins_over_its_accounts(personas):
    from rapport.directory.services import contact_create

    account = account_create(actor=personas.owner, data={"name": "Mature Mills", "stage": "mature"})
    contact_create(actor=personas.owner, data={"first_name": "Own", "last_name": "Stage", "account": account,
                                               "remarks": "stage=growing"})
    contact_create(actor=personas.owner, data={"first_name": "Inherited", "last_name": "Stage", "account": account})
    contacts = {stage: [hit.title for hit in search(user=personas.owner, q=f"stage={stage}", types=None).hits
                        if hit.search_type.key == "contact"] for stage in ("mature", "growing")}
    assert contacts == {"mature": ["Inherited Stage"], "growing": ["Own Stage"]}
