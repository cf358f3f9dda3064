"""Files the import tests upload: Outlook's and Google's contact exports, workbooks, vCards, bad ones."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from typing import Any

OUTLOOK_HEADER = ('"First Name","Middle Name","Last Name","Title","Suffix","Company","Department","Job Title",'
                  '"Business Street","Business City","Business State","Business Postal Code",'
                  '"Business Country/Region","Business Phone","Mobile Phone","E-mail Address","E-mail Type",'
                  '"E-mail 2 Address","Notes","Web Page"')
OUTLOOK_ROWS = [
    '"Ingrid","","Halvorsen","Ms.","","Fjord Logistics","Sales","Purchasing Manager","Havnegata 4","Bergen","",'
    '"5003","Norway","+47 55 12 34 56","+47 912 34 567","ingrid@fjord.example","SMTP","","Met at the fair. '
    'region=west",""',
    '"Paul","","Dupont","Mr.","","Acme Corporation","","CTO","1 rue de la Paix","Paris","","75002","France",'
    '"+33 1 23 45 67 89","","paul@acme.example","SMTP","p.dupont@home.example","",""',
]

GOOGLE_OLD_HEADER = ("Name,Given Name,Additional Name,Family Name,Yomi Name,Given Name Yomi,Additional Name Yomi,"
                     "Family Name Yomi,Name Prefix,Name Suffix,Initials,Nickname,Short Name,Maiden Name,Birthday,"
                     "Gender,Location,Billing Information,Directory Server,Mileage,Occupation,Hobby,Sensitivity,"
                     "Priority,Subject,Notes,Language,Photo,Group Membership,E-mail 1 - Type,E-mail 1 - Value,"
                     "Phone 1 - Type,Phone 1 - Value,Address 1 - Type,Address 1 - Formatted,Address 1 - Street,"
                     "Address 1 - City,Address 1 - PO Box,Address 1 - Region,Address 1 - Postal Code,"
                     "Address 1 - Country,Address 1 - Extended Address,Organization 1 - Type,Organization 1 - Name,"
                     "Organization 1 - Yomi Name,Organization 1 - Title")
GOOGLE_OLD_ROW = ("Maja Lind,Maja,,Lind,,,,,,,,,,,,,,,,,,,,,,VIP customer,,,* myContacts,* Work,maja@lind.example,"
                  "Mobile,+46 70 123 45 67,Work,,Storgatan 1,Malmö,,,211 34,Sweden,,,Lind & Söner AB,,Owner")
GOOGLE_NEW_HEADER = ("First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,Phonetic Last Name,"
                     "Name Prefix,Name Suffix,Nickname,File As,Organization Name,Organization Title,"
                     "Organization Department,Birthday,Notes,Photo,Labels,E-mail 1 - Label,E-mail 1 - Value,"
                     "Phone 1 - Label,Phone 1 - Value,Address 1 - Label,Address 1 - Formatted,Address 1 - Street,"
                     "Address 1 - City,Address 1 - PO Box,Address 1 - Region,Address 1 - Postal Code,"
                     "Address 1 - Country,Address 1 - Extended Address")
GOOGLE_NEW_ROW = ("Olav,,Berg,,,,,,,,Nordlys AS,Head of Sales,,,,,* myContacts,Work,olav@nordlys.example,Work,"
                  "+47 22 33 44 55,Work,,Karl Johans gate 1,Oslo,,,0154,Norway,")

VCARD3 = ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Svensson;Karin;;;\r\nFN:Karin Svensson\r\nORG:Svea Trading;Sales\r\n"
          "TITLE:Buyer\r\nTEL;TYPE=WORK,VOICE:+46 8 123 45\r\nTEL;TYPE=CELL:+46 70 999 88 77\r\n"
          "EMAIL;TYPE=INTERNET,PREF:karin@svea.example\r\nEMAIL;TYPE=INTERNET:karin.home@example.org\r\n"
          "ADR;TYPE=WORK:;;Drottninggatan 5;Stockholm;;111 51;Sweden\r\nNOTE:Prefers email.\r\nEND:VCARD\r\n")
VCARD4 = ("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Jonas Weber\r\nN:Weber;Jonas;;;\r\nORG:Weber GmbH\r\n"
          "EMAIL;PREF=1:jonas@weber.example\r\nTEL;VALUE=uri;TYPE=cell:tel:+49-170-1234567\r\n"
          "ADR;TYPE=work:;;Hauptstr. 1;Köln;;50667;Germany\r\nEND:VCARD\r\n")
VCARD_NO_NAME = "BEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL:nobody@example.org\r\nEND:VCARD\r\n"


def csv_text(header: str, rows: Sequence[str]) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


def outlook_csv() -> bytes:
    """As Outlook writes it: UTF-8 with a byte-order mark, every value quoted, CRLF."""
    return csv_text(OUTLOOK_HEADER, OUTLOOK_ROWS).encode("utf-8-sig")


def people_csv(count: int, *, bad: dict[int, str] | None = None, header: str = "First name,Last name,Email,Company",
               company: str = "") -> str:
    """`count` people; `bad` maps a spreadsheet row number (the header is row 1) to that row's email."""
    lines = [header]
    for number in range(2, count + 2):
        email = (bad or {}).get(number, f"person{number}@example.com")
        lines.append(f"Pat{number},Person{number},{email},{company}")
    return "\n".join(lines) + "\n"


def workbook(rows: Sequence[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_cached_values(data: bytes, values: dict[str, str]) -> bytes:
    """A workbook whose formulas carry saved values, as Excel writes them (openpyxl writes none)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                text = content.decode()
                for cell, value in values.items():
                    pattern = rf'(<c r="{cell}"[^>]*>)(<f>[^<]*</f>)(<v\s*/>|<v></v>)?'
                    text = re.sub(pattern, rf"\1\2<v>{value}</v>", text)
                content = text.encode()
            target.writestr(info, content)
    return out.getvalue()


def zip_bomb(unpacked: int) -> bytes:
    """A real workbook plus a member that unpacks to `unpacked` bytes of zeros (a few KB packed)."""
    base = zipfile.ZipFile(io.BytesIO(workbook([["Name"], ["Acme"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in base.infolist():
            target.writestr(info, base.read(info.filename))
        with target.open("xl/media/padding.bin", "w", force_zip64=True) as handle:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(unpacked // len(chunk)):
                handle.write(chunk)
    return out.getvalue()


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
