"""Reading raw messages (rapport.mail.parsing): headers, bodies, HTML, attachments, delivery reports.

Pure functions: no database, no server. Every bad input is read as well as it can be, with a warning,
and never raises.
"""

from __future__ import annotations

import email.utils
import io
import signal
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.mail.parsing import (
    decode_header_value,
    html_to_text,
    message_ids,
    parse_message,
    safe_filename,
    sanitise_html,
    sniff_type,
)


def mime(*, subject: str = "Hello", sender: str = "Pat Person <pat@acme.example>", to: str = "log-x@rapport.test",
         text: str | None = "Hi there.", html: str | None = None, **headers: str) -> MimeMessage:
    message = MimeMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    return message


def test_a_plain_message_is_read_with_its_addresses_ids_and_date():
    raw = (b"From: \"Person, Pat\" <Pat@Acme.EXAMPLE>\r\nTo: a@x.example, B <b@x.example>\r\nCc: c@x.example\r\n"
           b"Subject: Quarterly  numbers\r\nMessage-ID: <Abc.123@Mail.Acme.example>\r\n"
           b"In-Reply-To: <parent@acme.example>\r\nReferences: <root@acme.example>\r\n <parent@acme.example>\r\n"
           b"Date: Tue, 02 Jan 2024 10:30:00 +0100\r\n\r\nThe numbers.\r\n")
    parsed = parse_message(raw)
    assert parsed.from_address == "pat@acme.example" and parsed.from_name == "Person, Pat"
    assert parsed.to == ["a@x.example", "b@x.example"] and parsed.cc == ["c@x.example"]
    assert parsed.subject == "Quarterly numbers"
    assert parsed.message_id == "Abc.123@Mail.Acme.example" and parsed.dedupe_key == "abc.123@mail.acme.example"
    assert parsed.in_reply_to == ["parent@acme.example"]
    assert parsed.references == ["root@acme.example", "parent@acme.example"]
    assert parsed.sent_at.isoformat() == "2024-01-02T09:30:00+00:00"
    assert parsed.text_body.strip() == "The numbers." and parsed.warnings == []


def test_without_a_message_id_the_digest_of_the_bytes_recognises_it():
    raw = b"From: a@x.example\r\nSubject: x\r\n\r\nbody\r\n"
    parsed = parse_message(raw)
    assert parsed.message_id == "" and parsed.dedupe_key.startswith("sha256:") and len(parsed.dedupe_key) == 71
    assert parse_message(raw).dedupe_key == parsed.dedupe_key
    assert parse_message(raw + b"more").dedupe_key != parsed.dedupe_key


def test_encoded_words_are_decoded_and_an_unknown_charset_is_read_as_latin1_with_a_warning():
    raw = (b"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@x.example>\r\n"
           b"Subject: =?x-martian?q?Gr=FC=DFe?= und =?utf-8?b?w6TDtsO8?=\r\n\r\nbody\r\n")
    parsed = parse_message(raw)
    assert parsed.from_name == "Jürgen Müller"
    assert parsed.subject == "Grüße und äöü"
    assert any("x-martian" in warning and "Latin-1" in warning for warning in parsed.warnings)


def test_a_body_in_an_unknown_charset_is_kept_with_a_warning():
    raw = (b"From: a@x.example\r\nContent-Type: text/plain; charset=klingon-8\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\nCaf\xe9\r\n")
    parsed = parse_message(raw)
    assert parsed.text_body.strip() == "Café"
    assert any("klingon-8" in warning for warning in parsed.warnings)


def test_raw_utf8_headers_are_read():
    raw = "From: Åsa Öberg <asa@x.example>\r\nSubject: Smörgåsbord\r\n\r\nHej\r\n".encode()
    parsed = parse_message(raw)
    assert parsed.subject == "Smörgåsbord" and parsed.from_name == "Åsa Öberg"


def test_header_values_are_one_line_whatever_they_encode():
    # Newlines hidden in encoded words (a subject, a name) would add headers wherever the text is reused.
    raw = (b"From: =?utf-8?q?Eve=0D=0ABcc=3A_victim=40x=2Eexample?= <eve@x.example>\r\n"
           b"Subject: =?utf-8?q?Hi=0D=0AX-Injected:_yes=0ABcc:_all@x.example?=\r\n\r\nbody\r\n")
    parsed = parse_message(raw)
    assert "\n" not in parsed.subject and "\r" not in parsed.subject
    assert parsed.subject == "Hi X-Injected: yes Bcc: all@x.example"
    assert parsed.from_name == "Eve Bcc: victim@x.example" and parsed.from_address == "eve@x.example"
    assert parsed.to == [] and parsed.cc == []


def test_an_encoded_name_cannot_smuggle_in_another_address():
    raw = b"From: a@x.example\r\nTo: =?utf-8?q?Mallory_=3Cm=40evil.example=3E=2C?= <ok@x.example>\r\n\r\nb\r\n"
    assert parse_message(raw).to == ["ok@x.example"]


def test_a_message_without_from_is_read_with_a_warning():
    parsed = parse_message(b"To: a@x.example\r\nSubject: anonymous\r\n\r\nwho am I\r\n")
    assert parsed.from_address == "" and parsed.subject == "anonymous"
    assert "The message has no From address." in parsed.warnings


def test_addresses_that_are_not_addresses_are_left_out_with_a_warning():
    parsed = parse_message(b"From: not an address\r\nTo: ok@x.example, @@, \"x\" <y>\r\n\r\nb\r\n")
    assert parsed.from_address == "" and parsed.to == ["ok@x.example"]
    assert any(warning.startswith("To:") for warning in parsed.warnings)


def test_a_bad_date_is_noted_and_left_empty():
    parsed = parse_message(b"From: a@x.example\r\nDate: the day after tomorrow\r\n\r\nb\r\n")
    assert parsed.sent_at is None and any(warning.startswith("Date:") for warning in parsed.warnings)


def test_malformed_mime_never_raises_and_keeps_what_it_can():
    raw = (b"From: a@x.example\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=\"nope\"\r\n\r\n"
           b"no boundary anywhere\r\n--other\r\nContent-Type: text/plain\r\n\r\nlost?\r\n")
    parsed = parse_message(raw)
    assert parsed.subject == "broken"
    assert any(warning.startswith("Malformed message") for warning in parsed.warnings)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_at_all_are_read_without_an_error(raw):
    parsed = parse_message(raw)
    assert parsed.dedupe_key
    assert "\n" not in parsed.subject and "\n" not in parsed.from_name


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_header_text_decodes_to_one_line(value):
    decoded = decode_header_value(value)
    assert "\n" not in decoded and "\r" not in decoded


def test_html_is_sanitised_scripts_handlers_javascript_links_and_remote_images_gone():
    html = ('<html><head><style>body{background:url(https://t.example/s.gif)}</style></head><body>'
            '<p onclick="steal()" style="color:red">Hi <b>there</b></p><script>alert(1)</script>'
            '<a href="javascript:alert(2)">bad</a> <a href="https://ok.example/x">good</a>'
            '<img src="https://tracker.example/pixel.gif" alt="logo"><img src="//tracker.example/2.gif">'
            '<img src="data:image/png;base64,iVBORw0KGgo=" alt="inline">'
            '<iframe src="https://evil.example"></iframe><form action="https://evil.example"><input></form>'
            '<svg onload="alert(3)"></svg></body></html>')
    clean = sanitise_html(html)
    for bad in ("script", "alert", "onclick", "javascript", "tracker.example", "iframe", "form", "style",
                "evil.example", "onload", "t.example"):
        assert bad not in clean, bad
    assert "<b>there</b>" in clean
    assert 'href="https://ok.example/x"' in clean and "noopener" in clean
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in clean and 'alt="logo"' in clean


def test_an_html_only_message_gets_its_text_from_the_html():
    raw = mime(text=None, html="<p>Hello <b>Pat</b></p><script>x()</script><p>Line&nbsp;two &amp; more</p>")
    parsed = parse_message(raw.as_bytes())
    assert parsed.text_body == "Hello Pat\n\nLine two & more"
    assert "<script>" not in parsed.html_body and "<b>Pat</b>" in parsed.html_body


def test_html_to_text_drops_styles_and_scripts():
    assert html_to_text("<style>p{}</style><div>a</div><div>b</div><script>c</script>") == "a\n\nb"


def test_attachments_keep_a_clean_name_both_types_size_and_digest():
    message = mime()
    message.add_attachment(b"%PDF-1.7\n...", maintype="application", subtype="pdf", filename="../../etc/Offer.pdf")
    message.add_attachment(b"<html><script>alert(1)</script></html>", maintype="image", subtype="png",
                           filename="photo.png")
    message.add_attachment(b"plain words\n", maintype="application", subtype="octet-stream",
                           filename="a\x07b\tc.txt")
    parsed = parse_message(message.as_bytes())
    offer, photo, words = parsed.attachments
    assert (offer.filename, offer.declared_type, offer.detected_type) == ("Offer.pdf", "application/pdf",
                                                                          "application/pdf")
    assert (photo.filename, photo.declared_type, photo.detected_type) == ("photo.png", "image/png", "text/html")
    assert words.filename == "a b c.txt" and words.detected_type == "text/plain"
    assert offer.size == 12 and len(offer.sha256) == 64
    assert parsed.text_body.strip() == "Hi there."


def test_rfc2231_and_encoded_file_names_are_decoded():
    raw = (b"From: a@x.example\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
           b"Content-Type: text/plain\r\n\r\nbody\r\n--B\r\nContent-Type: application/pdf\r\n"
           b"Content-Disposition: attachment; filename*=utf-8''Angebot%20M%C3%BCller.pdf\r\n\r\n%PDF-1\r\n--B\r\n"
           b"Content-Type: application/pdf; name=\"=?utf-8?q?R=C3=A9sum=C3=A9.pdf?=\"\r\n\r\n%PDF-1\r\n--B--\r\n")
    names = [attachment.filename for attachment in parse_message(raw).attachments]
    assert names == ["Angebot Müller.pdf", "Résumé.pdf"]


def test_safe_filename():
    assert safe_filename("..\\..\\windows\\evil.exe") == "evil.exe"
    assert safe_filename("../") == "attachment"
    assert safe_filename("..", content_type="application/pdf") == "attachment.pdf"
    assert safe_filename('a<b>:"c"|?*.txt') == "a_b___c____.txt"
    long = safe_filename("x" * 400 + ".pdf")
    assert len(long) == 255 and long.endswith(".pdf")
    assert safe_filename("\x00\x1f") == "attachment"


def test_sniffing_by_content():
    assert sniff_type(b"%PDF-1.4 ...") == "application/pdf"
    assert sniff_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff_type(b"\xff\xd8\xff\xe0....") == "image/jpeg"
    assert sniff_type(b"GIF89a....") == "image/gif"
    assert sniff_type(b"  <!DOCTYPE html><html>") == "text/html"
    assert sniff_type(b"\xef\xbb\xbf<script>alert(1)</script>") == "text/html"
    assert sniff_type(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>') \
        == "image/svg+xml"
    assert sniff_type("Grüße, plain text\n".encode()) == "text/plain"
    assert sniff_type(b"\x00\x01\x02\x03binary") == "application/octet-stream"
    assert sniff_type(b"") == "application/x-empty"
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    assert sniff_type(docx.getvalue()) == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("a.txt", "a")
    assert sniff_type(plain_zip.getvalue()) == "application/zip"


def test_message_ids():
    assert message_ids("<a@b> <C@D>\r\n <e@f>") == ["a@b", "C@D", "e@f"]
    assert message_ids("bare@id.example") == ["bare@id.example"]
    assert message_ids("no ids here") == []


def test_an_attached_message_is_an_attachment_and_its_addresses_are_known():
    inner = mime(sender="Customer <cust@client.example>", to="me@our.example", subject="Original question")
    outer = mime(subject="Fwd: Original question", text="See below.")
    outer.add_attachment(inner)
    parsed = parse_message(outer.as_bytes())
    [attached] = parsed.attachments
    assert attached.declared_type == "message/rfc822" and attached.filename == "Original question.eml"
    assert b"cust@client.example" in attached.content
    assert "cust@client.example" in parsed.forwarded_addresses


def test_an_inline_forward_names_the_original_sender():
    text = ("FYI\n\n---------- Forwarded message ---------\nFrom: Carla Customer <Carla@Client.example>\n"
            "Date: Mon, 1 Jan 2024\nSubject: Question\nTo: Me <me@our.example>\n\nHello?\n")
    parsed = parse_message(mime(text=text, subject="Fwd: Question").as_bytes())
    assert parsed.forwarded_addresses == ["carla@client.example", "me@our.example"]


DSN = (b"From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nTo: news@our.example\r\n"
       b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.example>\r\n"
       b"Content-Type: multipart/report; report-type=delivery-status; boundary=R\r\n\r\n"
       b"--R\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
       b"--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
       b"Final-Recipient: rfc822; Gone@Client.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
       b"--R\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: news@our.example\r\nTo: gone@client.example\r\n"
       b"Message-ID: <Campaign-42@our.example>\r\nSubject: News\r\n\r\n--R--\r\n")


def test_a_delivery_status_report_names_the_failed_message_and_recipient():
    parsed = parse_message(DSN)
    assert parsed.bounce is not None
    assert parsed.bounce.message_ids == ["Campaign-42@our.example"]
    assert parsed.bounce.addresses == ["gone@client.example"]
    assert parsed.attachments == []
    assert "sorry" in parsed.text_body


def test_a_delay_notice_is_not_a_bounce():
    assert parse_message(DSN.replace(b"Action: failed", b"Action: delayed")).bounce is None


def test_a_failure_notice_with_x_failed_recipients_is_a_bounce():
    raw = (b"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\nX-Failed-Recipients: gone@x.example\r\n"
           b"Subject: Delivery Status Notification (Failure)\r\n\r\nAddress not found.\r\n\r\n"
           b"----- Original message -----\r\nMessage-ID: <orig@our.example>\r\n")
    bounce = parse_message(raw).bounce
    assert bounce is not None and bounce.addresses == ["gone@x.example"] and bounce.message_ids == ["orig@our.example"]


def test_an_ordinary_message_is_no_bounce():
    assert parse_message(mime().as_bytes()).bounce is None


def test_the_recipients_of_a_polled_message_come_from_its_headers():
    from rapport.mail.parsing import header_recipients

    raw = (b"Delivered-To: crm@our.example\r\nX-Original-To: LOG-abc@rapport.test\r\nFrom: a@x.example\r\n"
           b"To: b@x.example, C <c@x.example>\r\nCc: b@x.example, d@x.example\r\n\r\nbody\r\n")
    assert header_recipients(raw) == ["crm@our.example", "log-abc@rapport.test", "b@x.example", "c@x.example",
                                      "d@x.example"]
    assert header_recipients(b"\xff\xfe garbage") == []


# --- Nothing a message holds makes reading it fail or take long -------------------------------------------


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail the test (instead of hanging it) when the block takes longer than `seconds`."""

    def expired(signum, frame):
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_charset_that_is_not_a_text_encoding_is_read_as_latin1():
    # base64, zlib and the like are Python codecs, but not text: decoding with them raised.
    raw = (b"From: =?zlib?b?eJzLSM3JyQcABiwCFQ==?= <a@x.example>\r\nTo: b@x.example\r\n"
           b"Subject: =?base64?q?x?= and =?rot13?q?uryyb?=\r\n\r\nbody\r\n")
    parsed = parse_message(raw)
    assert parsed.from_address == "a@x.example" and parsed.subject == "x and uryyb"
    assert any("zlib" in warning and "Latin-1" in warning for warning in parsed.warnings)
    assert any("base64" in warning for warning in parsed.warnings)
    body = parse_message(b"From: a@x.example\r\nContent-Type: text/plain; charset=idna\r\n\r\nCaf\xe9\r\n")
    assert body.text_body.strip() == "Café" and any("idna" in warning for warning in body.warnings)


def test_a_bounce_whose_text_names_a_codec_charset_is_read():
    raw = (b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example>\r\nX-Failed-Recipients: gone@x.example\r\n"
           b"Subject: failure\r\nContent-Type: text/plain; charset=base64\r\n\r\nGone.\r\n"
           b"Message-ID: <orig@our.example>\r\n")
    bounce = parse_message(raw).bounce
    assert bounce is not None and bounce.message_ids == ["orig@our.example"] and not bounce.report


def test_dates_at_the_ends_of_the_calendar_or_far_ahead_are_not_believed():
    for value in ("Fri, 31 Dec 9999 23:59:59 -1200", "Mon, 1 Jan 1900 00:00:00 +1400",
                  "Thu, 1 Jan 1969 10:00:00 +0000", email.utils.format_datetime(
                      datetime.now(UTC) + timedelta(days=30))):
        parsed = parse_message(f"From: a@x.example\r\nDate: {value}\r\n\r\nb\r\n".encode())
        assert parsed.sent_at is None, value
        assert any(warning.startswith("Date:") for warning in parsed.warnings), value
    soon = datetime.now(UTC) + timedelta(hours=20)  # a sender's clock a little ahead: kept
    parsed = parse_message(f"From: a@x.example\r\nDate: {email.utils.format_datetime(soon)}\r\n\r\nb\r\n".encode())
    assert parsed.sent_at is not None and abs((parsed.sent_at - soon).total_seconds()) < 1


def test_an_error_nobody_foresaw_still_gives_a_message_kept_by_its_source(monkeypatch):
    from rapport.mail import parsing

    def broken(*args, **kwargs):
        raise RecursionError("deep")

    monkeypatch.setattr(parsing, "_sent_at", broken)
    raw = b"From: a@x.example\r\nDate: today\r\nSubject: s\r\n\r\nbody\r\n"
    parsed = parse_message(raw)
    assert parsed.dedupe_key.startswith("sha256:") and parsed.subject == ""
    assert parsed.warnings == ["The message could not be read (RecursionError); only its source is kept."]


def test_a_7_mb_subject_of_encoded_words_is_read_quickly():
    # Decoding n encoded words took time in n²: minutes for this one.
    subject = "=?utf-8?q?Gr=C3=BC=C3=9Fe?= " * (7 * 1024 * 1024 // 28)
    raw = f"From: a@x.example\r\nSubject: {subject}\r\nTo: b@x.example\r\n\r\nbody\r\n".encode()
    assert len(raw) > 7_000_000
    started = time.perf_counter()
    with time_limit(10):
        parsed = parse_message(raw)
    assert time.perf_counter() - started < 1.5
    assert parsed.subject.startswith("GrüßeGrüße") and len(parsed.subject) == 300
    assert parsed.to == ["b@x.example"]


def test_address_headers_are_read_up_to_a_limit():
    crowd = ", ".join(f"Person {number} <p{number}@x.example>" for number in range(20_000))
    raw = f"From: a@x.example\r\nTo: {crowd}\r\nCc: {crowd}\r\n\r\nbody\r\n".encode()
    with time_limit(10):
        parsed = parse_message(raw)
    assert 0 < len(parsed.to) <= 500 and parsed.to[0] == "p0@x.example"
    assert len(parsed.cc) <= 500
    assert any(warning.startswith("To:") for warning in parsed.warnings)
    assert not any("is not an email address" in warning for warning in parsed.warnings)  # cut between addresses


def test_references_keep_the_root_and_the_latest_twenty():
    ids = " ".join(f"<r{number}@x.example>" for number in range(300_000))
    raw = f"From: a@x.example\r\nReferences: {ids}\r\nIn-Reply-To: <r299999@x.example>\r\n\r\nbody\r\n".encode()
    with time_limit(10):
        parsed = parse_message(raw)
    assert parsed.references == ["r0@x.example", *(f"r{number}@x.example" for number in range(299_980, 300_000))]
    assert parsed.in_reply_to == ["r299999@x.example"]


def test_x_failed_recipients_from_anyone_but_a_mail_daemon_is_no_bounce():
    raw = (b"From: Mallory <mallory@evil.example>\r\nTo: support@our.example\r\n"
           b"X-Failed-Recipients: victim@client.example\r\nSubject: Delivery failure\r\n\r\n"
           b"Message-ID: <Campaign-42@our.example>\r\n")
    assert parse_message(raw).bounce is None
    report = parse_message(DSN).bounce
    assert report is not None and report.report


def test_the_envelope_sender_of_a_polled_message_is_its_return_path_else_its_from():
    from rapport.mail.parsing import return_path

    assert return_path(b"Return-Path: <>\r\nFrom: x@y.example\r\n\r\nb") == ""
    assert return_path(b"Return-Path: <Bounce@Mx.example>\r\nReturn-Path: <>\r\n\r\nb") == "bounce@mx.example"
    assert return_path(b"From: MAILER-DAEMON@mx.example\r\n\r\nb") == "mailer-daemon@mx.example"
    assert return_path(b"Subject: nothing\r\n\r\nb") == "unknown"
