"""Factories for every test: users in roles and teams, accounts, contacts."""

from __future__ import annotations

from functools import cache

import factory
from django.contrib.auth.hashers import make_password
from factory.django import DjangoModelFactory

from rapport.core.models import Role, Team, User, Visibility
from rapport.directory.models import Account, Contact

PASSWORD = "correct horse battery staple"


@cache
def password_hash() -> str:
    """PASSWORD hashed once per test process: Argon2 is slow on purpose, and every persona needs one."""
    return make_password(PASSWORD)


def role(slug: str) -> Role:
    return Role.objects.get(slug=slug)


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Tester"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.LazyFunction(password_hash)

    @factory.post_generation
    def role_slugs(self, create: bool, extracted: list[str] | str | None, **kwargs) -> None:
        """UserFactory(role_slugs="sales") or a list; default: sales."""
        if not create:
            return
        slugs = [extracted] if isinstance(extracted, str) else (extracted or ["sales"])
        self.roles.set(Role.objects.filter(slug__in=slugs))


class RecordFactory(DjangoModelFactory):
    """A business record saved directly, with its derived keys, but without services or history."""

    class Meta:
        abstract = True

    owner = factory.SubFactory(UserFactory)
    visibility = Visibility.EVERYONE

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        obj.derive()
        obj.save()
        return obj


class AccountFactory(RecordFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n:05d}")


class ContactFactory(RecordFactory):
    class Meta:
        model = Contact

    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = factory.Sequence(lambda n: f"Person{n:05d}")
