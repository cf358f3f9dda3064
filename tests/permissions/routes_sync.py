"""The permission matrix entries of the sync app. See routes.py for the form.

Everyone signed in has a sync settings page and makes app passwords for their own devices; only the
owner of an app password revokes it (anyone else: 404, as for one that does not exist).

/dav/ is CalDAV and CardDAV: clients sign in on every request with HTTP Basic and an app password, never
with the session of the web pages, so a signed-in browser and an anonymous visitor alike get 401 and a
WWW-Authenticate challenge. What a client with an app password may read and write is tested in
tests/sync/ (test_dav_reading.py, test_dav_writing.py; test_dav_reading.py checks that a signed-in browser
without an app password gets 401). The /.well-known/ addresses only point to /dav/.
"""

from __future__ import annotations

from tests.permissions.routes import Call, Route, page
from tests.permissions.rules import EVERYONE, OWNER_ONLY, everyone, table

ROUTES: list[Route] = [
    page("sync_settings", Call("GET", table(EVERYONE, 200)),
         Call("POST", table(EVERYONE, 200), writes=True, body=lambda w, a: {"device": "Matrix phone"})),
    page("sync_app_password_revoke", Call("GET", everyone(405)), Call("POST", table(OWNER_ONLY, 302), writes=True),
         subject="owner's app password", arg="pk"),
    # The bare /dav (the URL name's address): Radicale sends everyone on to /dav/ and takes no POST there.
    page("dav", Call("GET", everyone(302)), Call("POST", everyone(405)), anonymous={"GET": 302, "POST": 405}),
    page("well_known_caldav", Call("GET", everyone(301)), anonymous={"GET": 301}),
    page("well_known_carddav", Call("GET", everyone(301)), anonymous={"GET": 301}),
]
