"""The merge language: what check() refuses (with the line), what render() does and never does
(evaluate, or expand text that came from a value), and the values merge_values() reads."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.templating.merge import FIELDS, check, merge_values, one_line, problems, render, render_template
from rapport.templating.models import Template


def refusal(text: str, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        check(text, **kwargs)
    return caught.value.message_dict[kwargs.get("field", "body")]


# --- check() ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Hello {{ contact.first_name }}", "{{contact.first_name}}", "{{   today  }}", "{{\tuser.signature\t}}",
    "No fields at all", "", "A single { brace } and 50% off", "{ {not} }",
    "\n".join("{{ %s }}" % name for name in FIELDS),  # noqa: UP031
])
def test_allowed_texts_pass(text):
    check(text)


@pytest.mark.parametrize(("text", "message"), [
    ("{{7*7}}", "Line 1: {{7*7}} is not a merge field; only names like {{ contact.first_name }} can be used."),
    ("Hi\n\n{{ settings.SECRET_KEY }}", "Line 3: unknown field {{ settings.SECRET_KEY }}."),
    ("{{ contact.owner.password }}", "Line 1: unknown field {{ contact.owner.password }}."),
    ("x\n{% if contact.first_name %}y{% endif %}",
     "Line 2: {% if contact.first_name %} is not a merge field; only names like {{ contact.first_name }} "
     "can be used."),
    ("{{ contact.first_name|upper }}",
     "Line 1: {{ contact.first_name|upper }} is not a merge field; only names like {{ contact.first_name }} "
     "can be used."),
    ("{{ contact.first_name", "Line 1: “{{” is not closed with “}}” on the same line."),
    ("a\nb }} c", "Line 2: “}}” has no matching “{{”."),
    ("{{ contact.__class__ }}", "Line 1: unknown field {{ contact.__class__ }}."),
    ("{{ ''.__class__.__mro__ }}",
     "Line 1: {{ ''.__class__.__mro__ }} is not a merge field; only names like {{ contact.first_name }} "
     "can be used."),
    ("{# a comment #}", "Line 1: {# a comment #} is not a merge field; only names like {{ contact.first_name }} "
                        "can be used."),
    ("{{ contact.first_name }\n}", "Line 1: “{{” is not closed with “}}” on the same line."),
    ("{{ {{ today }} }}", "Line 1: {{ {{ today }} is not a merge field; only names like {{ contact.first_name }} "
                          "can be used."),
])
def test_refusals_name_the_line(text, message):
    assert message in refusal(text)


def test_every_problem_is_reported_under_the_field():
    messages = refusal("{{ a }}\n{{ b }} {{ today }}\n{% x %}", field="subject")
    assert messages == [
        "Line 1: unknown field {{ a }}.", "Line 2: unknown field {{ b }}.",
        "Line 3: {% x %} is not a merge field; only names like {{ contact.first_name }} can be used.",
    ]


def test_a_placeholder_spanning_lines_is_refused():
    assert refusal("{{ contact.\nfirst_name }}")[0].startswith("Line 1: “{{” is not closed")


def test_allowed_narrows_the_names():
    assert refusal("{{ unsubscribe_url }}", allowed=set(FIELDS) - {"unsubscribe_url"}) == [
        "Line 1: {{ unsubscribe_url }} cannot be used here."]
    check("{{ unsubscribe_url }}")


def test_a_long_refused_placeholder_is_quoted_short():
    message = refusal("{{ " + "x" * 500 + " }}")[0]
    assert len(message) < 120 and message.endswith("… }}.")


# --- render() ---------------------------------------------------------------------------------------


def test_render_replaces_names_with_or_without_spaces():
    values = {"contact.first_name": "Şule", "today": "1 May"}
    out = render("Hi {{contact.first_name}}, {{ contact.first_name }} ({{  today }})", values)
    assert out == "Hi Şule, Şule (1 May)"


def test_unknown_names_render_empty_and_the_rest_stays_literal():
    out = render("{{ settings.SECRET_KEY }}|{{7*7}}|{% if x %}|{{ a|upper }}", {})
    assert out == "|{{7*7}}|{% if x %}|{{ a|upper }}"


def test_values_are_inserted_literally_never_expanded():
    values = {"contact.first_name": "{{ user.email }}", "user.email": "secret@example.com",
              "contact.last_name": "{% debug %}"}
    out = render("{{ contact.first_name }} {{ contact.last_name }}", values)
    assert out == "{{ user.email }} {% debug %}"


def test_render_template_makes_the_subject_one_line():
    template = Template(subject="Hello {{ contact.first_name }}", body="Dear {{ contact.first_name }}")
    rendered = render_template(template, {"contact.first_name": "Ann\r\nBcc: evil@example.com"})
    assert rendered.subject == "Hello Ann Bcc: evil@example.com"
    assert rendered.body == "Dear Ann\r\nBcc: evil@example.com"
    assert one_line("a\u2028b\x85c\vd") == "a b c d"


NAMES = st.sampled_from([*FIELDS, "x", "settings.SECRET_KEY"])
PIECES = st.one_of(st.text(max_size=20), NAMES.map(lambda n: "{{ %s }}" % n), st.sampled_from(  # noqa: UP031
    ["{{", "}}", "{%", "%}", "{#", "{{7*7}}", "{{ a|b }}", "\n", "{", "}"]))


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(PIECES, max_size=15),
       values=st.dictionaries(NAMES, st.text(max_size=30), max_size=8))
def test_render_and_check_never_raise_anything_but_a_refusal(parts, values):
    text = "".join(parts)
    out = render(text, values)
    assert isinstance(out, str)
    try:
        check(text)
    except ValidationError as exc:
        assert all(m.startswith(("Line ", "… and ")) for m in exc.message_dict["body"])
    assert isinstance(problems(text), list)


MARK = "\x01"


@settings(max_examples=300, deadline=None)
@given(value=st.text(max_size=40).map(lambda v: v.replace(MARK, "")), name=st.sampled_from(sorted(FIELDS)))
def test_text_from_values_is_never_expanded(value, name):
    # Every field holds text that looks like placeholders; the output is exactly the template with each
    # placeholder replaced by its own value, never by what a value's text would have expanded to.
    values = dict.fromkeys(FIELDS, "{{ %s }}" % name)  # noqa: UP031
    values[name] = value + "{{ today }}"
    out = render("[{{ %s }}]" % name, values)  # noqa: UP031
    assert out == "[" + value + "{{ today }}]"


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=60))
def test_text_without_braces_renders_unchanged(text):
    assert render(text, {"today": "x"}) == text
    check(text)


# --- merge_values() ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_merge_values_reads_the_records(personas, django_assert_num_queries):
    from rapport.directory.models import Address, Contact
    from tests.factories import AccountFactory, ContactFactory

    account = AccountFactory(name="Yılmaz GmbH", website="https://example.com", phone="+49 1", owner=personas.owner)
    Address.objects.create(account=account, kind="billing", city="Bonn")
    Address.objects.create(account=account, kind="main", city="Köln")
    ContactFactory(first_name="Şule", last_name="Yılmaz", title="CEO", email="s@example.com", mobile="+49 2",
                   account=account, owner=personas.owner)
    user = personas.owner
    user.signature = "Best,\nOwner"
    from rapport.templating.selectors import with_merge_data

    contact = with_merge_data(Contact.objects.all()).get()
    from rapport.core.access import access_for

    access_for(user)
    with django_assert_num_queries(0):
        values = merge_values(contact=contact, user=user, extra={"unsubscribe_url": "https://x/u/1"})
    assert values["contact.full_name"] == "Şule Yılmaz" and values["contact.phone"] == "+49 2"
    assert values["account.name"] == "Yılmaz GmbH" and values["account.city"] == "Köln"
    assert values["user.signature"] == "Best,\nOwner" and values["user.full_name"] == user.display_name
    assert values["unsubscribe_url"] == "https://x/u/1" and values["today"]
    assert set(FIELDS) <= set(values)


@pytest.mark.django_db
def test_an_account_the_user_may_not_see_gives_nothing(personas):
    from rapport.core.models import Visibility
    from tests.factories import AccountFactory, ContactFactory

    hidden = AccountFactory(name="Secret Co", owner=personas.outsider, visibility=Visibility.PRIVATE)
    contact = ContactFactory(account=hidden, owner=personas.owner)
    contact = type(contact).objects.select_related("account").get(pk=contact.pk)
    assert merge_values(contact=contact, user=personas.owner)["account.name"] == ""
    assert merge_values(contact=contact, user=personas.outsider)["account.name"] == "Secret Co"


def test_no_records_gives_empty_values():
    values = merge_values()
    assert values["contact.first_name"] == "" and values["today"]


def test_many_problems_are_summed_up():
    messages = refusal("{{ nope }}\n" * 50)
    assert len(messages) == 21 and messages[19] == "Line 20: unknown field {{ nope }}."
    assert messages[20] == "… and 30 more like these."


def test_lines_are_counted_as_a_text_box_counts_them():
    assert refusal("a\r\nb\rc\u2028{{ nope }}")[0].startswith("Line 3: ")
