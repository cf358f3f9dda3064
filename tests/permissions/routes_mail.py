"""The permission matrix entries of the mail app: the outbox pages (administrators only). See routes.py
for the form."""

from __future__ import annotations

from tests.permissions.routes import Call, Route, page
from tests.permissions.rules import ADMINS_ONLY, everyone, table

ROUTES: list[Route] = [
    page("outbox_list", Call("GET", table(ADMINS_ONLY, 200))),
    page("outbox_detail", Call("GET", table(ADMINS_ONLY, 200)), subject="outbox message"),
    page("outbox_retry", Call("GET", everyone(405)), Call("POST", table(ADMINS_ONLY, 302), writes=True),
         subject="outbox message"),
]
