"""A small real IMAP4rev1 server on 127.0.0.1 for tests (no IMAP server is installed here).

It speaks enough of RFC 3501 for imaplib and Rapport's poller: CAPABILITY, NOOP, LOGIN, SELECT /
EXAMINE, SEARCH and UID SEARCH (ALL, UNSEEN, SEEN, FLAGGED, KEYWORD x, UNKEYWORD x), FETCH and UID
FETCH (UID, FLAGS, RFC822.SIZE, RFC822, BODY[], BODY.PEEK[]), STORE and UID STORE (+FLAGS, -FLAGS,
FLAGS; keywords such as $RapportFailed too, unless `keywords = False`), LOGOUT. As a real server
does, RFC822 and BODY[] set \\Seen and BODY.PEEK[] does not; flags compare without regard to case.

    with ImapServer(user="log", password="secret") as server:
        uid = server.add(raw_bytes)
        url = server.url()          # imap://log:secret@127.0.0.1:PORT/INBOX
        ...
        server.flags(uid)           # {"\\Seen"}

`fail_store = True` answers every STORE with NO (a poller that stored the message but could not
mark it, as after a crash); `keywords = False` plays a server that keeps only the system flags
(PERMANENTFLAGS without \\*, STORE of a keyword answered NO).
"""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field
from urllib.parse import quote

from tests.mail.smtp import HOST, free_port


@dataclass
class StoredMessage:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


def _tokens(text: str) -> list[str]:
    """IMAP arguments: atoms, "quoted strings" (backslash escapes) and parenthesised lists kept whole."""
    tokens: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == " ":
            index += 1
        elif char == '"':
            index += 1
            value = []
            while index < len(text) and text[index] != '"':
                if text[index] == "\\" and index + 1 < len(text):
                    index += 1
                value.append(text[index])
                index += 1
            tokens.append("".join(value))
            index += 1
        elif char == "(":
            depth, start = 0, index
            while index < len(text):
                depth += {"(": 1, ")": -1}.get(text[index], 0)
                index += 1
                if depth == 0:
                    break
            tokens.append(text[start:index])
        else:
            start = index
            while index < len(text) and text[index] != " ":
                index += 1
            tokens.append(text[start:index])
    return tokens


def _in_set(number: int, spec: str, largest: int) -> bool:
    for part in spec.split(","):
        low, _colon, high = part.partition(":")
        low_n = largest if low == "*" else int(low)
        high_n = (largest if high == "*" else int(high)) if high else low_n
        if min(low_n, high_n) <= number <= max(low_n, high_n):
            return True
    return False


class _Session(socketserver.StreamRequestHandler):
    server: _TcpServer

    def send(self, data: bytes | str) -> None:
        self.wfile.write(data.encode() if isinstance(data, str) else data)
        self.wfile.flush()

    def handle(self) -> None:
        imap = self.server.imap
        self.authenticated = False
        self.selected = False
        self.send("* OK [CAPABILITY IMAP4rev1] Rapport test IMAP ready\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            tag, _space, rest = text.partition(" ")
            command, _space, args = rest.partition(" ")
            command = command.upper()
            uid = False
            if command == "UID":
                uid = True
                command, _space, args = args.partition(" ")
                command = command.upper()
            with imap.lock:
                imap.commands.append(f"{'UID ' if uid else ''}{command} {args}".strip())
            try:
                done = self.dispatch(tag, command, args, uid)
            except Exception as exc:
                self.send(f"{tag} BAD {type(exc).__name__}: {exc}\r\n")
                continue
            if done:
                return

    def dispatch(self, tag: str, command: str, args: str, uid: bool) -> bool:
        imap = self.server.imap
        if command == "CAPABILITY":
            self.send("* CAPABILITY IMAP4rev1\r\n" f"{tag} OK CAPABILITY done\r\n")
        elif command == "NOOP":
            self.send(f"{tag} OK NOOP done\r\n")
        elif command == "LOGOUT":
            self.send(f"* BYE logging out\r\n{tag} OK LOGOUT done\r\n")
            return True
        elif command == "LOGIN":
            user, password = _tokens(args)[:2]
            if (user, password) != (imap.user, imap.password):
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n")
            else:
                self.authenticated = True
                self.send(f"{tag} OK LOGIN completed\r\n")
        elif not self.authenticated:
            self.send(f"{tag} NO Log in first\r\n")
        elif command in ("SELECT", "EXAMINE"):
            name = _tokens(args)[0]
            if name.upper() != imap.mailbox.upper():
                self.send(f"{tag} NO Mailbox does not exist\r\n")
                return False
            self.selected = True
            with imap.lock:
                count, next_uid = len(imap.messages), imap.next_uid
            system = "\\Seen \\Flagged \\Deleted \\Answered \\Draft"
            permanent = f"{system} \\*" if imap.keywords else system
            self.send(f"* {count} EXISTS\r\n* 0 RECENT\r\n* FLAGS ({system})\r\n"
                      f"* OK [PERMANENTFLAGS ({permanent})] flags\r\n"
                      f"* OK [UIDVALIDITY 1] UIDs valid\r\n* OK [UIDNEXT {next_uid}] next\r\n"
                      f"{tag} OK [READ-WRITE] {command} completed\r\n")
        elif not self.selected:
            self.send(f"{tag} NO Select a mailbox first\r\n")
        elif command == "SEARCH":
            self.search(tag, args, uid)
        elif command == "FETCH":
            self.fetch(tag, args, uid)
        elif command == "STORE":
            self.store(tag, args, uid)
        else:
            self.send(f"{tag} BAD Unknown command {command}\r\n")
        return False

    def _matching(self, spec: str, uid: bool) -> list[tuple[int, StoredMessage]]:
        imap = self.server.imap
        with imap.lock:
            messages = list(enumerate(imap.messages, start=1))
        largest = messages[-1][1].uid if uid and messages else len(messages)
        return [(seq, message) for seq, message in messages
                if _in_set(message.uid if uid else seq, spec, largest)]

    def search(self, tag: str, args: str, uid: bool) -> None:
        tokens = [token for token in _tokens(args) if token.upper() != "CHARSET"]
        with self.server.imap.lock:
            messages = list(enumerate(self.server.imap.messages, start=1))
        found = []
        for seq, message in messages:
            flags = {flag.lower() for flag in message.flags}
            keep = True
            index = 0
            while index < len(tokens):
                criterion = tokens[index].upper()
                index += 1
                if criterion == "UNSEEN":
                    keep &= "\\seen" not in flags
                elif criterion == "SEEN":
                    keep &= "\\seen" in flags
                elif criterion == "FLAGGED":
                    keep &= "\\flagged" in flags
                elif criterion in ("KEYWORD", "UNKEYWORD") and index < len(tokens):
                    has = tokens[index].lower() in flags
                    index += 1
                    keep &= has if criterion == "KEYWORD" else not has
                elif criterion not in ("ALL", "UTF-8", "US-ASCII"):
                    self.send(f"{tag} BAD Unsupported search key {criterion}\r\n")
                    return
            if keep:
                found.append(str(message.uid if uid else seq))
        self.send(f"* SEARCH {' '.join(found)}\r\n".replace("SEARCH \r\n", "SEARCH\r\n") + f"{tag} OK SEARCH done\r\n")

    def fetch(self, tag: str, args: str, uid: bool) -> None:
        spec, _space, items = args.partition(" ")
        wanted = [item.upper() for item in re.findall(r"BODY\.PEEK\[\]|BODY\[\]|RFC822\.SIZE|RFC822|UID|FLAGS",
                                                       items, re.IGNORECASE)]
        for seq, message in self._matching(spec, uid):
            parts: list[bytes] = []
            if uid and "UID" not in wanted:
                wanted = ["UID", *wanted]
            for item in wanted:
                if item == "UID":
                    parts.append(f"UID {message.uid}".encode())
                elif item == "FLAGS":
                    parts.append(f"FLAGS ({' '.join(sorted(message.flags))})".encode())
                elif item == "RFC822.SIZE":
                    parts.append(f"RFC822.SIZE {len(message.raw)}".encode())
                else:
                    name = "BODY[]" if item.startswith("BODY") else "RFC822"
                    parts.append(f"{name} {{{len(message.raw)}}}\r\n".encode() + message.raw)
                    if item != "BODY.PEEK[]":
                        with self.server.imap.lock:
                            message.flags.add("\\Seen")
            self.send(f"* {seq} FETCH (".encode() + b" ".join(parts) + b")\r\n")
        self.send(f"{tag} OK FETCH done\r\n")

    def store(self, tag: str, args: str, uid: bool) -> None:
        imap = self.server.imap
        if imap.fail_store:
            self.send(f"{tag} NO [SERVERBUG] STORE failed\r\n")
            return
        spec, mode, flags_text = _tokens(args)[:3]
        flags = set(flags_text.strip("()").split())
        if not imap.keywords and any(not flag.startswith("\\") for flag in flags):
            self.send(f"{tag} NO [CANNOT] This mailbox keeps no keywords\r\n")
            return
        for seq, message in self._matching(spec, uid):
            with imap.lock:
                if mode.upper().startswith("+FLAGS"):
                    message.flags |= flags
                elif mode.upper().startswith("-FLAGS"):
                    lowered = {flag.lower() for flag in flags}
                    message.flags = {flag for flag in message.flags if flag.lower() not in lowered}
                else:
                    message.flags = set(flags)
                current = " ".join(sorted(message.flags))
            if ".SILENT" not in mode.upper():
                self.send(f"* {seq} FETCH (UID {message.uid} FLAGS ({current}))\r\n")
        self.send(f"{tag} OK STORE done\r\n")


class _TcpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    imap: ImapServer


class ImapServer:
    """An IMAP server in a thread of the test process, with one mailbox."""

    def __init__(self, *, user: str = "log", password: str = "secret", mailbox: str = "INBOX") -> None:
        self.user, self.password, self.mailbox = user, password, mailbox
        self.host, self.port = HOST, free_port()
        self.messages: list[StoredMessage] = []
        self.commands: list[str] = []
        self.next_uid = 101
        self.fail_store = False
        self.keywords = True
        self.lock = threading.Lock()
        self._server: _TcpServer | None = None
        self._thread: threading.Thread | None = None

    def add(self, raw: bytes, *, flags: set[str] | None = None) -> int:
        with self.lock:
            uid = self.next_uid
            self.next_uid += 1
            self.messages.append(StoredMessage(uid=uid, raw=raw, flags=set(flags or ())))
        return uid

    def flags(self, uid: int) -> set[str]:
        with self.lock:
            return next(set(message.flags) for message in self.messages if message.uid == uid)

    def url(self) -> str:
        return f"imap://{quote(self.user)}:{quote(self.password)}@{self.host}:{self.port}/{self.mailbox}"

    def start(self) -> ImapServer:
        self._server = _TcpServer((self.host, self.port), _Session)
        self._server.imap = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ImapServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
