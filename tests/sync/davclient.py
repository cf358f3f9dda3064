"""A small WebDAV client over Django's test client, for tests that send raw CalDAV/CardDAV requests."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import unquote

from django.test import Client

from rapport.core.models import User
from rapport.sync.services import app_password_create

NS = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:caldav", "cr": "urn:ietf:params:xml:ns:carddav",
      "cs": "http://calendarserver.org/ns/"}


def propfind_body(*props: str) -> str:
    """A PROPFIND asking for these properties, given as "d:getetag", "c:calendar-data"."""
    return ('<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" '
            'xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cr="urn:ietf:params:xml:ns:carddav" '
            'xmlns:cs="http://calendarserver.org/ns/"><d:prop>'
            + "".join(f"<{prop}/>" for prop in props) + "</d:prop></d:propfind>")


def sync_body(token: str = "", *props: str) -> str:
    props = props or ("d:getetag",)
    return ('<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:" '
            'xmlns:c="urn:ietf:params:xml:ns:caldav">'
            f"<d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop>"
            + "".join(f"<{prop}/>" for prop in props) + "</d:prop></d:sync-collection>")


@dataclass
class Entry:
    """One <response> of a multistatus: its href, the properties found, and the status of a gone item."""

    href: str
    props: dict[str, ET.Element]
    status: str

    def text(self, name: str) -> str:
        element = self.props.get(name)
        return (element.text or "") if element is not None else ""


def multistatus(content: bytes) -> tuple[list[Entry], str]:
    """The entries of a multistatus answer and its sync token (if any)."""
    root = ET.fromstring(content)
    entries = []
    for response in root.findall("d:response", NS):
        href = unquote(response.findtext("d:href", default="", namespaces=NS))
        props: dict[str, ET.Element] = {}
        for propstat in response.findall("d:propstat", NS):
            if "200" in propstat.findtext("d:status", default="", namespaces=NS):
                for prop in propstat.find("d:prop", NS) or []:
                    props[prop.tag] = prop
        entries.append(Entry(href=href, props=props, status=response.findtext("d:status", default="", namespaces=NS)))
    return entries, root.findtext("d:sync-token", default="", namespaces=NS)


def clark(prefixed: str) -> str:
    prefix, name = prefixed.split(":")
    return f"{{{NS[prefix]}}}{name}"


class Dav:
    """Requests to /dav/ as one user signed in with an app password."""

    def __init__(self, user: User, password: str | None = None) -> None:
        self.user = user
        self.password = password if password is not None else app_password_create(user=user, device="test").plaintext
        self.client = Client()

    @property
    def home(self) -> str:
        return f"/dav/{self.user.username}/"

    def _auth(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.user.username}:{self.password}".encode()).decode()
        return {"HTTP_AUTHORIZATION": f"Basic {token}"}

    def request(self, method: str, path: str, body: str | bytes = "", content_type: str = "application/xml",
                **headers: str):
        return self.client.generic(method, path, data=body, content_type=content_type, **self._auth(), **headers)

    def propfind(self, path: str, *props: str, depth: str = "1", **headers: str):
        return self.request("PROPFIND", path, propfind_body(*props), HTTP_DEPTH=depth, **headers)

    def entries(self, path: str, *props: str, depth: str = "1") -> list[Entry]:
        response = self.propfind(path, *props, depth=depth)
        assert response.status_code == 207, (response.status_code, response.content[:500])
        return multistatus(response.content)[0]

    def etags(self, collection: str) -> dict[str, str]:
        """href → ETag of every item of a collection (a client's listing)."""
        path = self.home + collection + "/"
        return {entry.href.rsplit("/", 1)[1]: entry.text(clark("d:getetag"))
                for entry in self.entries(path, "d:getetag") if entry.href != path}

    def sync(self, collection: str, token: str = ""):
        return self.request("REPORT", self.home + collection + "/", sync_body(token), HTTP_DEPTH="1")

    def get(self, path: str):
        return self.client.get(path, **self._auth())

    def put(self, path: str, text: str, content_type: str = "text/calendar; charset=utf-8", **headers: str):
        return self.request("PUT", path, text.encode("utf-8"), content_type=content_type, **headers)

    def delete(self, path: str, **headers: str):
        return self.request("DELETE", path, "", **headers)
