#!/usr/bin/env python3
"""Write the five CRM export fixtures of this directory, and README.md, from the rows below.

Python 3 standard library only; the output is the same byte for byte on every run.

    python3 build_fixtures.py          # (re)writes the .csv/.txt files and README.md here

Each row carries tags naming what it tests; the README's tables (row numbers, columns, and the
expected outcome of an import) are computed from those tags, so they cannot drift from the data.
Row numbers are those the importer reports: the header is row 1, the first data row row 2, and a
quoted cell holding a line break does not start a new row.
"""

from __future__ import annotations

import os
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

_FOLD = {
    "ä": "a", "å": "a", "á": "a", "à": "a", "â": "a", "æ": "ae",
    "ö": "o", "ø": "o", "ó": "o", "ô": "o",
    "ü": "u", "ú": "u",
    "é": "e", "è": "e", "ê": "e",
    "í": "i", "ñ": "n", "ç": "c", "ß": "ss",
}
_FOLD_DE = dict(_FOLD, ä="ae", ö="oe", ü="ue")


def mail_local(first: str, last: str, german: bool = False, style: str = "dot") -> str:
    """The ASCII local part a company mail server would give the person."""
    table = _FOLD_DE if german else _FOLD

    def fold(s: str) -> str:
        out = []
        for c in s.lower():
            if c in table:
                out.append(table[c])
            elif c.isascii() and c.isalnum():
                out.append(c)
            elif c == "-":
                out.append("-")
        return "".join(out)

    f, l = fold(first), fold(last)
    if style == "initial":
        return f"{f[:1]}.{l}"
    if style == "first":
        return f
    return f"{f}.{l}"


class Row(dict):
    """One person as the source CRM held it; `tags` name what the row tests."""

    def __init__(self, label: str | None = None, tags: list | None = None, **fields):
        super().__init__(**fields)
        self.label = label
        self.tags = tags or []


def quote_all(cells, sep=","):
    return sep.join('"' + c.replace('"', '""') + '"' for c in cells)


def quote_needed(cells, sep):
    """Excel's rule when it saves text: quote a cell only if it holds the separator, a quote or
    a line break."""
    out = []
    for c in cells:
        if any(ch in c for ch in (sep, '"', "\n", "\r")):
            out.append('"' + c.replace('"', '""') + '"')
        else:
            out.append(c)
    return sep.join(out)


def write(path, text: str, encoding: str, bom: bytes = b""):
    data = bom + text.encode(encoding)
    with open(path, "wb") as f:
        f.write(data)


# --------------------------------------------------------------------------------------------
# Salesforce ids: 15 characters plus the 3-character case checksum, as the API returns them.
# --------------------------------------------------------------------------------------------

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def sf18(id15: str) -> str:
    assert len(id15) == 15
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, c in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= c <= "Z":
                bits |= 1 << i
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return id15 + suffix


def sf_id(prefix: str, n: int, salt: int) -> str:
    """A deterministic, realistic-looking id: key prefix, pod '5g', '0000', 6 base-62 chars."""
    x = (n * 2654435761 + salt * 40503) % (62 ** 6)
    tail = ""
    for _ in range(6):
        tail = _B62[x % 62] + tail
        x //= 62
    return sf18(f"{prefix}5g0000{tail}")


# --------------------------------------------------------------------------------------------
# 1. Salesforce Contact.csv
# --------------------------------------------------------------------------------------------

SF_HEADER = [
    "Id", "IsDeleted", "MasterRecordId", "AccountId", "LastName", "FirstName", "Salutation", "Name",
    "OtherStreet", "OtherCity", "OtherState", "OtherPostalCode", "OtherCountry", "OtherLatitude",
    "OtherLongitude", "OtherGeocodeAccuracy", "MailingStreet", "MailingCity", "MailingState",
    "MailingPostalCode", "MailingCountry", "MailingLatitude", "MailingLongitude",
    "MailingGeocodeAccuracy", "Phone", "Fax", "MobilePhone", "HomePhone", "OtherPhone",
    "AssistantPhone", "ReportsToId", "Email", "Title", "Department", "AssistantName", "LeadSource",
    "Birthdate", "Description", "OwnerId", "HasOptedOutOfEmail", "HasOptedOutOfFax", "DoNotCall",
    "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp",
    "LastActivityDate", "LastCURequestDate", "LastCUUpdateDate", "EmailBouncedReason",
    "EmailBouncedDate", "Jigsaw", "JigsawContactId",
]

SF_ACCOUNTS = {
    "Nordvind AB": ("nordvind.se", "SE"),
    "Ångfartyg Gruppen AB": ("angfartyg.se", "SE"),
    "Öresund Logistik AB": ("oresundlogistik.se", "SE"),
    "Kjærgaard & Søn ApS": ("kjaergaard.dk", "DK"),
    "Bækgaard Consult A/S": ("baekgaard.dk", "DK"),
    "Müller & Weiß GmbH": ("mueller-weiss.de", "DE"),
    "Köhler Maschinenbau GmbH": ("koehler-maschinenbau.de", "DE"),
    "Núñez Ingeniería S.L.": ("nunez-ingenieria.es", "ES"),
    "Construcciones Peña S.A.": ("construccionespena.es", "ES"),
    "Brightwater Ltd": ("brightwater.co.uk", "GB"),
    "Harbour & Finch LLP": ("harbourfinch.ie", "IE"),
    "Nordlys Havbruk AS": ("nordlyshavbruk.no", "NO"),
}
SF_COUNTRY = {"SE": "Sweden", "DK": "Denmark", "DE": "Germany", "ES": "Spain",
              "GB": "United Kingdom", "IE": "Ireland", "NO": "Norway"}
# Owners: Salesforce user ids of the source org; none of them is an Anchora user.
SF_OWNERS = [sf_id("005", n, 7) for n in (1, 2, 3, 4)]

# (salutation, first, last, title, company, street, postcode, city, phone, mobile)
SF_PEOPLE = [
    ("Mr.", "Erik", "Öberg", "Inköpschef", "Nordvind AB", "Sveavägen 44", "111 34", "Stockholm", "+46 8 465 004 10", "+46 70 174 06 05"),
    ("Ms.", "Anna", "Ångström", "VD", "Ångfartyg Gruppen AB", "Skeppsbron 5", "411 21", "Göteborg", "+46 31 390 06 10", "+46 70 174 06 06"),
    ("Mr.", "Søren", "Kjærgaard", "Direktør", "Kjærgaard & Søn ApS", "Nørregade 18", "1165", "København K", "+45 33 12 45 67", "+45 20 45 67 89"),
    ("Ms.", "Claudia", "Weiß", "Einkaufsleiterin", "Müller & Weiß GmbH", "Leopoldstraße 120", "80802", "München", "+49 89 2154330", "+49 171 5523310"),
    ("Mr.", "José", "Núñez", "Director técnico", "Núñez Ingeniería S.L.", "Calle de Alcalá 88", "28009", "Madrid", "+34 915 22 41 80", "+34 612 334 455"),
    ("Ms.", "Emma", "Clarke", "Procurement Manager", "Brightwater Ltd", "12 Fenchurch Street", "EC3M 3BY", "London", "+44 20 7946 0321", "+44 7700 900321"),
    ("Mr.", "Lars", "Åkesson", "Logistikchef", "Öresund Logistik AB", "Hamngatan 3\nHus B, plan 2", "211 22", "Malmö", "+46 40 390 06 21", "+46 70 174 06 07"),
    ("Ms.", "Mette", "Bækgaard", "Partner", "Bækgaard Consult A/S", "Åboulevarden 31", "8000", "Aarhus C", "+45 86 12 34 50", "+45 22 33 44 55"),
    ("Mr.", "Thomas", "Köhler", "Vertriebsleiter", "Köhler Maschinenbau GmbH", "Hansaring 12", "50670", "Köln", "+49 221 9123450", "+49 160 1234567"),
    ("Ms.", "María", "Peña", "Gerente", "Construcciones Peña S.A.", "Calle Larios 4", "29005", "Málaga", "+34 952 21 30 40", "+34 622 101 202"),
    ("Mr.", "JÜRGEN", "MÜLLER", "Geschäftsführer", "Müller & Weiß GmbH", "Leopoldstraße 120", "80802", "München", "+49 89 2154331", ""),
    ("Ms.", "ida", "bäckström", "ekonomiassistent", "Nordvind AB", "Sveavägen 44", "111 34", "Stockholm", "+46 8 465 004 12", ""),
    ("Mr.", "Mikael", "Östlund", "Säljare", "Öresund Logistik AB", "Hamngatan 3", "211 22", "Malmö", "+46 40 390 06 33", "+46 70 174 06 08"),
    ("Dr.", "Íñigo", "Ibáñez", "Ingeniero jefe", "Núñez Ingeniería S.L.", "Gran Vía 21", "48001", "Bilbao", "+34 944 00 12 13", ""),
    ("Mr.", "James", "O'Brien", "Senior Associate", "Harbour & Finch LLP", "5 Merrion Square", "D02 X285", "Dublin", "+353 1 555 0142", "+353 85 555 0142"),
    ("Ms.", "Karin", "Sjöström", "Marknadschef", "Nordvind AB", "Sveavägen 44", "111 34", "Stockholm", "+46 8 465 004 14", "+46 70 174 06 09"),
    ("Mr.", "Jens", "Møller", "Salgschef", "Kjærgaard & Søn ApS", "Vestergade 2", "5000", "Odense C", "+45 66 12 12 12", ""),
    ("Ms.", "Sabine", "Krüger", "Assistentin der Geschäftsführung", "Köhler Maschinenbau GmbH", "Hansaring 12", "50670", "Köln", "+49 221 9123452", ""),
    ("Mr.", "Álvaro", "Gómez", "Jefe de obra", "Construcciones Peña S.A.", "Calle Ancha 9", "11001", "Cádiz", "+34 956 11 22 33", "+34 633 445 566"),
    ("Ms.", "Charlotte", "Hughes", "Finance Director", "Brightwater Ltd", "12 Fenchurch Street", "EC3M 3BY", "London", "+44 20 7946 0322", ""),
    ("Ms.", "Freja", "Holm", "Konsulent", "Bækgaard Consult A/S", "Åboulevarden 31", "8000", "Aarhus C", "+45 86 12 34 52", ""),
    ("Mr.", "Björn", "Nyström", "Teknisk chef", "Ångfartyg Gruppen AB", "Skeppsbron 5", "411 21", "Göteborg", "+46 31 390 06 12", ""),
    ("Ms.", "Birgitte", "Østergaard", "Innkjøpssjef", "Nordlys Havbruk AS", "Sjøgata 21", "8006", "Bodø", "+47 75 50 12 34", "+47 900 12 345"),
    ("Mr.", "Stefan", "Groß", "Key Account Manager", "Müller & Weiß GmbH", "Leopoldstraße 120", "80802", "München", "+49 89 2154335", "+49 151 2233445"),
    ("Ms.", "Lucía", "Muñoz", "Responsable de compras", "Núñez Ingeniería S.L.", "Calle de Alcalá 88", "28009", "Madrid", "+34 915 22 41 82", ""),
    ("Mr.", "Daniel", "Wright", "Partner", "Harbour & Finch LLP", "1 Spinningfields", "M3 3AP", "Manchester", "+44 161 496 0177", ""),
    ("Ms.", "Elin", "Söderberg", "HR-chef", "Öresund Logistik AB", "Hamngatan 3", "211 22", "Malmö", "+46 40 390 06 24", ""),
    ("Mr.", "Rasmus", "Dalsgård", "Indkøber", "Kjærgaard & Søn ApS", "Nørregade 18", "1165", "København K", "+45 33 12 45 69", ""),
    None,  # the invalid row
    ("Ms.", "Heike", "Jäger", "Leiterin Einkauf", "Köhler Maschinenbau GmbH", "Hansaring 12", "50670", "Köln", "+49 221 9123455", ""),
    ("Mr.", "Raúl", "Fernández", "Director financiero", "Construcciones Peña S.A.", "Calle Larios 4", "29005", "Málaga", "+34 952 21 30 42", ""),
    None,  # Mikael Östlund again
    ("Ms.", "Sophie", "Turner", "Operations Manager", "Brightwater Ltd", "12 Fenchurch Street", "EC3M 3BY", "London", "+44 20 7946 0325", ""),
    ("Mr.", "Gustav", "Wåhlin", "Projektledare", "Nordvind AB", "Dragarbrunnsgatan 46", "753 20", "Uppsala", "+46 18 390 06 40", "+46 70 174 06 10"),
    ("Ms.", "Kirsten", "Brønnum", "Office manager", "Bækgaard Consult A/S", "Åboulevarden 31", "8000", "Aarhus C", "+45 86 12 34 53", ""),
    ("Mr.", "Uwe", "Böhm", "Techniker", "Müller & Weiß GmbH", "Königstraße 7", "90402", "Nürnberg", "+49 911 2345670", ""),
    ("Ms.", "Nuria", "Castaño", "Arquitecta", "Núñez Ingeniería S.L.", "Rúa Real 15", "15003", "A Coruña", "+34 981 20 30 40", ""),
    ("Ms.", "Grace", "Bennett", "Paralegal", "Harbour & Finch LLP", "5 Merrion Square", "D02 X285", "Dublin", "+353 1 555 0143", ""),
    ("Mr.", "Göran", "Holmqvist", "Styrelseordförande", "Ångfartyg Gruppen AB", "Skeppsbron 5", "411 21", "Göteborg", "", ""),
    ("Ms.", "Ursula", "Schröder", "Buchhaltung", "Köhler Maschinenbau GmbH", "Königsallee 60", "40212", "Düsseldorf", "+49 211 5566770", ""),
]


def sf_rows() -> list[Row]:
    rows = []
    for i, p in enumerate(SF_PEOPLE):
        n = i + 1
        if p is None and n == 29:
            rows.append(Row(
                tags=[("invalid", "LastName, FirstName, Name, Email",
                       "no name and no e-mail (only Phone and AccountId); Salesforce itself requires LastName, so this row stands for a hand-edited export")],
                sal="", first="", last="", title="", company="Nordvind AB", street="", zip="",
                city="", country="", phone="+46 8 465 004 00", mobile="", email="",
                owner=SF_OWNERS[0], n=n))
            continue
        if p is None and n == 32:
            first = rows[12]
            rows.append(Row(
                tags=[("no-email", "Email", "no e-mail (an Id, as every Salesforce row)"),
                      ("repeat-name-phone", "FirstName, LastName, Phone", "same name and Phone as row {mikael} (and the same account), no e-mail")],
                sal="Mr.", first="Mikael", last="Östlund", title="Säljare", company="Öresund Logistik AB",
                street="", zip="", city="Malmö", country="Sweden", phone=first["phone"], mobile="",
                email="", owner=SF_OWNERS[2], n=n))
            continue
        sal, fn, ln, title, company, street, zipc, city, phone, mobile = p
        domain, cc = SF_ACCOUNTS[company]
        email = f"{mail_local(fn, ln, german=(cc == 'DE'))}@{domain}"
        tags = []
        label = None
        if fn == "JÜRGEN":
            tags.append(("caps-name", "FirstName, LastName, Name", "name in capitals: JÜRGEN MÜLLER"))
            email = f"j.mueller@{domain}"
        if fn == "ida":
            tags.append(("lower-name", "FirstName, LastName, Name", "name in lower case: ida bäckström"))
        if fn in ("Mikael", "Freja"):
            email = ""
            tags.append(("no-email", "Email", "no e-mail (an Id, as every Salesforce row)"))
            if fn == "Mikael":
                label = "mikael"
        if "\n" in street:
            tags.append(("line-break", "MailingStreet", "quoted cell holding a line break (LF): 'Hamngatan 3⏎Hus B, plan 2'"))
        if fn == "Emma":
            tags.append(("quotes", "Description", 'quoted cell holding commas and doubled quotes'))
        rows.append(Row(label=label, tags=tags, sal=sal, first=fn, last=ln, title=title, company=company,
                        street=street, zip=zipc, city=city, country=SF_COUNTRY[cc], phone=phone,
                        mobile=mobile, email=email, owner=SF_OWNERS[n % 4], n=n))
    return rows


def sf_datetime(n: int, later: bool = False) -> str:
    """CreatedDate, or (later=True) a LastModifiedDate some weeks after it, in UTC."""
    import datetime as dt
    t = dt.datetime(2019 + n % 5, 1 + (n * 5) % 12, 1 + (n * 7) % 28, 6 + n % 11, (n * 13) % 60, (n * 29) % 60)
    if later:
        t += dt.timedelta(days=3 + (n * 37) % 400, hours=(n * 5) % 9, minutes=(n * 17) % 60)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def build_salesforce():
    rows = sf_rows()
    creator = sf_id("005", 9, 7)
    lines = [quote_all(SF_HEADER)]
    for r in rows:
        n = r["n"]
        cid = sf_id("003", n, 3)
        r["ext"] = cid
        acct = sf_id("001", list(SF_ACCOUNTS).index(r["company"]) + 1, 5) if r["company"] else ""
        name = " ".join(x for x in (r["first"], r["last"]) if x)
        desc = ""
        if r["first"] == "Emma":
            desc = 'Met at "Nordic Logistics Expo", Göteborg, 2023; wants a quote for 40 units, "ASAP".'
        if r["first"] == "Göran":
            desc = "Styrelseordförande sedan 2021. Nås via assistenten."
        created = sf_datetime(n)
        modified = sf_datetime(n, later=True)
        v = {h: "" for h in SF_HEADER}
        v.update({
            "Id": cid, "IsDeleted": "false", "AccountId": acct, "LastName": r["last"],
            "FirstName": r["first"], "Salutation": r["sal"], "Name": name,
            "MailingStreet": r["street"], "MailingCity": r["city"], "MailingPostalCode": r["zip"],
            "MailingCountry": r["country"], "Phone": r["phone"], "MobilePhone": r["mobile"],
            "Email": r["email"], "Title": r["title"], "LeadSource": ["Web", "Trade Show", "Partner Referral", "Other"][n % 4],
            "Description": desc, "OwnerId": r["owner"], "HasOptedOutOfEmail": "true" if n % 9 == 0 else "false",
            "HasOptedOutOfFax": "false", "DoNotCall": "false", "CreatedDate": created, "CreatedById": creator,
            "LastModifiedDate": modified, "LastModifiedById": r["owner"], "SystemModstamp": modified,
            "LastActivityDate": modified[:10] if n % 3 == 0 else "",
            "Birthdate": f"19{60 + n % 35}-{1 + n % 12:02d}-{1 + (n * 3) % 28:02d}" if n % 5 == 0 else "",
        })
        if not r["last"]:
            v["LeadSource"] = ""
        lines.append(quote_all([v[h] for h in SF_HEADER]))
    text = "\r\n".join(lines) + "\r\n"
    write(os.path.join(HERE, "salesforce-contacts.csv"), text, "utf-8")
    return rows, len(SF_HEADER)


# --------------------------------------------------------------------------------------------
# 2. HubSpot contacts export
# --------------------------------------------------------------------------------------------

HS_HEADER = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
    "Contact owner", "Job Title", "Company Name", "City", "Country/Region", "Lifecycle Stage",
    "Lead Status", "Marketing contact status", "Create Date", "Last Activity Date",
    "Associated Company", "Primary Associated Company ID",
]
# HubSpot owners of the source portal: people, not Anchora users.
HS_OWNERS = ["Annika Berglund", "Mads Løkke", "Pilar Sáenz", "Tobias Wendt", ""]
HS_COMPANIES = {
    "Brightwater Ltd": ("brightwater.co.uk", "United Kingdom", "London"),
    "Nordvind AB": ("nordvind.se", "Sweden", "Stockholm"),
    "Bækgaard Consult A/S": ("baekgaard.dk", "Denmark", "Aarhus"),
    "Köhler Maschinenbau GmbH": ("koehler-maschinenbau.de", "Germany", "Köln"),
    "Construcciones Peña S.A.": ("construccionespena.es", "Spain", "Málaga"),
    "Nordlys Havbruk AS": ("nordlyshavbruk.no", "Norway", "Bodø"),
    "Núñez Ingeniería S.L.": ("nunez-ingenieria.es", "Spain", "Madrid"),
    "Harbour & Finch LLP": ("harbourfinch.ie", "Ireland", "Dublin"),
    "Öresund Logistik AB": ("oresundlogistik.se", "Sweden", "Malmö"),
    "Kjærgaard & Søn ApS": ("kjaergaard.dk", "Denmark", "København"),
    "Müller & Weiß GmbH": ("mueller-weiss.de", "Germany", "München"),
    "Ångfartyg Gruppen AB": ("angfartyg.se", "Sweden", "Göteborg"),
}
# (first, last, title, company, city or None for the company's, phone, mobile)
HS_PEOPLE = [
    ("Oliver", "Smith", "Head of Sales", "Brightwater Ltd", None, "+44 20 7946 0410", "+44 7700 900410"),
    ("Maja", "Lindqvist", "Säljchef", "Nordvind AB", None, "+46 8 465 004 20", "+46 70 174 06 20"),
    ("Anders", "Bækgaard", "Direktør", "Bækgaard Consult A/S", None, "+45 86 12 34 60", ""),
    ("Katrin", "Faßbender", "Einkäuferin", "Köhler Maschinenbau GmbH", None, "+49 221 9123460", ""),
    ("Begoña", "Martínez", "Directora comercial", "Construcciones Peña S.A.", "Logroño", "+34 941 22 33 44", "+34 644 556 677"),
    ("Birgitte", "Østergaard", "Innkjøpssjef", "Nordlys Havbruk AS", "Bodø\tNordland", "+47 75 50 12 34", ""),
    ("ÍÑIGO", "IBÁÑEZ", "Ingeniero jefe", "Núñez Ingeniería S.L.", "Bilbao", "+34 944 00 12 13", ""),
    ("lucía", "muñoz", "responsable de compras", "Núñez Ingeniería S.L.", None, "+34 915 22 41 82", ""),
    ("Liam", "Walsh", "Associate", "Harbour & Finch LLP", None, "+353 1 555 0150", ""),
    ("Henrik", "Blomé", "Inköpare", "Öresund Logistik AB", None, "+46 40 390 06 40", ""),
    ("Line", "Søgaard", "Bogholder", "Kjærgaard & Søn ApS", None, "+45 33 12 45 70", ""),
    ("Matthias", "Hoffmann", "Projektleiter", "Müller & Weiß GmbH", None, "+49 89 2154340", ""),
    ("Ángel", "Cañizares", "Jefe de compras", "Construcciones Peña S.A.", None, "+34 952 21 30 50", ""),
    ("Sofia", "Hägg", "Kundansvarig", "Ångfartyg Gruppen AB", None, "+46 31 390 06 30", ""),
    ("Niels", "Frederiksen", "Konsulent", "Bækgaard Consult A/S", "Odense", "+45 66 12 12 20", ""),
    ("Dieter", "Weißmüller", "Werkstattleiter", "Köhler Maschinenbau GmbH", "Düsseldorf", "+49 211 5566780", ""),
    ("Inés", "Ordóñez", "Arquitecta", "Núñez Ingeniería S.L.", None, "+34 915 22 41 85", ""),
    ("Amelia", "Hart", "Buyer", "Brightwater Ltd", "Bristol", "+44 117 496 0555", ""),
    ("Johan", "Ekström", "Controller", "Nordvind AB", None, "+46 8 465 004 25", ""),
    None,  # invalid
    ("Ole", "Brøndum", "Lagerchef", "Kjærgaard & Søn ApS", None, "+45 33 12 45 72", ""),
    None,  # Ángel Cañizares again
    ("Anke", "Schäfer", "Vertrieb Innendienst", "Müller & Weiß GmbH", "Augsburg", "+49 821 4455660", ""),
    ("Märta", "Lövgren", "Ekonomichef", "Öresund Logistik AB", "Helsingborg", "+46 42 390 06 50", ""),
    ("Florian", "Groß", "Servicetechniker", "Köhler Maschinenbau GmbH", None, "", "+49 160 7654321"),
    ("Javier", "Ortiz", "Delineante", "Núñez Ingeniería S.L.", "Toledo", "+34 925 11 22 33", ""),
    ("Hannah", "Price", "Office Manager", "Harbour & Finch LLP", "Manchester", "+44 161 496 0188", ""),
    ("Oskar", "Fröberg", "Projektledare", "Nordvind AB", "Uppsala", "+46 18 390 06 55", ""),
    ("Signe", "Kjær", "Praktikant", "Bækgaard Consult A/S", None, "", "+45 22 33 44 66"),
    ("Ingrid", "Nordén", "Hamnkapten", "Ångfartyg Gruppen AB", None, "+46 31 390 06 35", ""),
    ("Jesper", "Lykke", "Salgskonsulent", "Kjærgaard & Søn ApS", "Roskilde", "+45 46 12 34 56", ""),
    ("Petra", "Kühn", "Marketing", "Müller & Weiß GmbH", None, "+49 89 2154345", ""),
    ("Carmen", "Ruiz", "Administrativa", "Construcciones Peña S.A.", "Cádiz", "+34 956 11 22 40", ""),
    ("George", "Ellis", "Logistics Lead", "Brightwater Ltd", None, "+44 20 7946 0415", ""),
    ("Linnéa", "Strand", "Inköpsassistent", "Nordvind AB", None, "+46 8 465 004 27", ""),
    ("Asger", "Holm", "Driftsleder", "Nordlys Havbruk AS", "Tromsø", "+47 77 60 12 34", ""),
]
HS_STAGES = ["Lead", "Subscriber", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity", "Customer"]
HS_LEAD = ["New", "Open", "In Progress", "Connected", "Attempted to contact", ""]


def hs_rows() -> list[Row]:
    rows = []
    for i, p in enumerate(HS_PEOPLE):
        n = i + 1
        owner = HS_OWNERS[n % len(HS_OWNERS)]
        if p is None and n == 20:
            rows.append(Row(tags=[("invalid", "First Name, Last Name, Email",
                                   "no name and no e-mail: HubSpot keeps a contact with only a phone number")],
                            first="", last="", title="", company="Construcciones Peña S.A.",
                            city="", phone="+34 952 00 11 22", mobile="", email="", owner=owner, n=n))
            continue
        if p is None and n == 22:
            rows.append(Row(tags=[("no-email", "Email", "no e-mail (a Record ID, as every HubSpot row)"),
                                  ("repeat-name-company", "First Name, Last Name, Company Name",
                                   "same name and company as row {angel}, no e-mail, different phone")],
                            first="Ángel", last="Cañizares", title="", company="Construcciones Peña S.A.",
                            city="Málaga", phone="", mobile="+34 655 123 987", email="", owner="Pilar Sáenz", n=n))
            continue
        fn, ln, title, company, city, phone, mobile = p
        domain, country, ccity = HS_COMPANIES[company]
        email = f"{mail_local(fn, ln, german=country == 'Germany')}@{domain}"
        tags, label = [], None
        if fn == "Oliver":
            email = email.upper()
            tags.append(("caps-email", "Email", f"e-mail in capitals: {email}"))
        if fn == "ÍÑIGO":
            tags.append(("caps-name", "First Name, Last Name", "name in capitals: ÍÑIGO IBÁÑEZ"))
        if fn == "lucía":
            tags.append(("lower-name", "First Name, Last Name", "name in lower case: lucía muñoz"))
        if city and "\t" in city:
            tags.append(("tab", "City", "quoted cell holding a tab: 'Bodø⇥Nordland'"))
        if fn in ("Ángel", "Signe"):
            email = ""
            tags.append(("no-email", "Email", "no e-mail (a Record ID, as every HubSpot row)"))
            if fn == "Ángel":
                label = "angel"
        rows.append(Row(label=label, tags=tags, first=fn, last=ln, title=title, company=company,
                        city=city or ccity, country=country, phone=phone, mobile=mobile,
                        email=email, owner=owner, n=n))
    return rows


def build_hubspot():
    rows = hs_rows()
    lines = [quote_all(HS_HEADER)]
    company_ids = {c: str(9876543210 + 1117 * i) for i, c in enumerate(HS_COMPANIES)}
    for r in rows:
        n = r["n"]
        rid = str(51234567800 + 4019 * n)
        r["ext"] = rid
        created = f"{2022 + n % 3}-{1 + (n * 5) % 12:02d}-{1 + (n * 11) % 28:02d} {7 + n % 10:02d}:{(n * 17) % 60:02d}"
        last_act = f"2024-{1 + (n * 7) % 12:02d}-{1 + (n * 3) % 28:02d} {9 + n % 8:02d}:{(n * 23) % 60:02d}" if n % 3 else ""
        country = r.get("country", "")
        v = {
            "Record ID": rid, "First Name": r["first"], "Last Name": r["last"], "Email": r["email"],
            "Phone Number": r["phone"], "Mobile Phone Number": r["mobile"], "Contact owner": r["owner"],
            "Job Title": r["title"], "Company Name": r["company"], "City": r["city"],
            "Country/Region": country, "Lifecycle Stage": HS_STAGES[n % len(HS_STAGES)] if r["last"] else "Lead",
            "Lead Status": HS_LEAD[n % len(HS_LEAD)],
            "Marketing contact status": "Marketing contact" if r["email"] and n % 4 else "Non-marketing contact",
            "Create Date": created, "Last Activity Date": last_act,
            "Associated Company": r["company"] if n % 6 else "",
            "Primary Associated Company ID": company_ids[r["company"]] if n % 6 else "",
        }
        lines.append(quote_all([v[h] for h in HS_HEADER]))
    text = "\n".join(lines) + "\n"
    write(os.path.join(HERE, "hubspot-contacts.csv"), text, "utf-8", bom=b"\xef\xbb\xbf")
    return rows, len(HS_HEADER)


# --------------------------------------------------------------------------------------------
# 3. Pipedrive people export, opened in (English) Excel and saved as "Unicode Text"
# --------------------------------------------------------------------------------------------

PD_HEADER = [
    "Person - ID", "Person - Name", "Person - First name", "Person - Last name", "Person - Label",
    "Person - Organization", "Person - Email - Work", "Person - Email - Home",
    "Person - Phone - Work", "Person - Phone - Mobile", "Person - Job title",
    "Person - Postal address", "Person - City/town/village/locality of Postal address",
    "Person - Country of Postal address", "Person - Owner", "Person - Visible to",
    "Person - Person created", "Person - Update time",
]
PD_OWNERS = ["Johanna Vik", "Peter Brandt", "Lucía Serrano", "Tom Hayes"]
PD_LABELS = ["Hot lead", "Warm lead", "Cold lead", "Customer", ""]
PD_ORGS = {
    "Öresund Logistik AB": ("oresundlogistik.se", "Malmö", "Sweden"),
    "Bækgaard Consult A/S": ("baekgaard.dk", "Ærøskøbing", "Denmark"),
    "Nordvind AB": ("nordvind.se", "Stockholm", "Sweden"),
    "Köhler Maschinenbau GmbH": ("koehler-maschinenbau.de", "Köln", "Germany"),
    "Núñez Ingeniería S.L.": ("nunez-ingenieria.es", "Madrid", "Spain"),
    "Harbour & Finch LLP": ("harbourfinch.ie", "Dublin", "Ireland"),
    "Kjærgaard & Søn ApS": ("kjaergaard.dk", "København", "Denmark"),
    "Ångfartyg Gruppen AB": ("angfartyg.se", "Göteborg", "Sweden"),
    "Müller & Weiß GmbH": ("mueller-weiss.de", "München", "Germany"),
    "Construcciones Peña S.A.": ("construccionespena.es", "Málaga", "Spain"),
    "Brightwater Ltd": ("brightwater.co.uk", "London", "United Kingdom"),
    "Nordlys Havbruk AS": ("nordlyshavbruk.no", "Bodø", "Norway"),
}
# (first, last, organization, job title, work phone, mobile)
PD_PEOPLE = [
    ("Per", "Ärlebäck", "Öresund Logistik AB", "Transportplanerare", "+46 40 390 06 60", ""),
    ("METTE", "ÆRØ", "Bækgaard Consult A/S", "Partner", "+45 62 52 10 10", "+45 22 33 44 77"),
    ("Helena", "Wiklund", "Nordvind AB", "Inköpare", "4.67012E+10", ""),
    ("Frank", "Lehmann", "Köhler Maschinenbau GmbH", "Konstrukteur", "+49 221 9123470", ""),
    ("Rocío", "Sánchez", "Núñez Ingeniería S.L.", "Ingeniera de proyectos", "+34 915 22 41 90", ""),
    ("William", "Scott", "Harbour & Finch LLP", "Solicitor", "+353 1 555 0160", ""),
    ("Astrid", "Lund", "Kjærgaard & Søn ApS", "Indkøbschef", "+45 33 12 45 80", "+45 20 11 22 33"),
    ("Vera", "Nilsson", "Ångfartyg Gruppen AB", "", "+46 31 390 06 70", ""),
    ("Klaus", "Wagner", "Müller & Weiß GmbH", "Vertriebsingenieur", "+49 89 2154350", ""),
    ("Andrés", "Díaz", "Construcciones Peña S.A.", "Jefe de obra", "+34 952 21 30 60", ""),
    ("Chloe", "Evans", "Brightwater Ltd", "Category Manager", "+44 20 7946 0520", ""),
    ("Mats", "Håkansson", "Nordvind AB", "Lagerchef", "+46 8 465 004 30", ""),
    ("Tove", "Åberg", "Öresund Logistik AB", "Kundtjänst", "+46 40 390 06 62", ""),
    ("Henning", "Sørensen", "Bækgaard Consult A/S", "Seniorkonsulent", "+45 86 12 34 70", ""),
    ("Greta", "Vogel", "Köhler Maschinenbau GmbH", "Qualitätssicherung", "+49 221 9123472", ""),
    ("Pilar", "Ibarra", "Núñez Ingeniería S.L.", "Jefa de administración", "+34 915 22 41 92", ""),
    ("Ethan", "Moore", "Harbour & Finch LLP", "Trainee Solicitor", "+44 161 496 0190", ""),
    ("Kasper", "Dahl", "Kjærgaard & Søn ApS", "Sælger", "+45 33 12 45 82", ""),
    None,  # Mats Håkansson again
    ("Jutta", "Krämer", "Müller & Weiß GmbH", "Buchhalterin", "+49 89 2154352", ""),
    ("Elena", "Vázquez", "Construcciones Peña S.A.", "Arquitecta técnica", "+34 952 21 30 62", ""),
    ("Noah", "Reid", "Brightwater Ltd", "Warehouse Supervisor", "+44 20 7946 0522", ""),
    ("Ebba", "Sundén", "Ångfartyg Gruppen AB", "Redare", "+46 31 390 06 72", ""),
    ("Mikkel", "Ravn", "Nordlys Havbruk AS", "Driftssjef", "+47 75 50 12 40", ""),
    ("Lena", "Brückner", "Köhler Maschinenbau GmbH", "Personalreferentin", "+49 221 9123474", ""),
    ("Diego", "Herrero", "Núñez Ingeniería S.L.", "Topógrafo", "+34 915 22 41 94", ""),
    ("jack", "murphy", "Harbour & Finch LLP", "legal assistant", "+353 1 555 0162", ""),
    ("Stina", "Rydén", "Nordvind AB", "Ekonomiassistent", "+46 8 465 004 32", ""),
    ("Bo", "Kjeldsen", "Bækgaard Consult A/S", "Revisor", "+45 86 12 34 72", ""),
    ("Isabel", "Crespo", "Núñez Ingeniería S.L.", "Delineante", "+34 915 22 41 96", ""),
]


def pd_rows() -> list[Row]:
    rows = []
    for i, p in enumerate(PD_PEOPLE):
        n = i + 1
        owner = PD_OWNERS[n % len(PD_OWNERS)]
        if p is None:
            first = next(r for r in rows if r.label == "mats")
            rows.append(Row(tags=[("no-email", "Person - Email - Work", "no e-mail (a Person - ID)"),
                                  ("repeat-name-phone", "Person - Name, Person - Phone - Work",
                                   "same name and work phone as row {mats}, no e-mail, no organization")],
                            first="Mats", last="Håkansson", company="", title="", phone=first["phone"],
                            mobile="", email="", owner=PD_OWNERS[2], n=n, pid=True))
            continue
        fn, ln, org, title, phone, mobile = p
        domain, city, country = PD_ORGS[org]
        email = f"{mail_local(fn, ln, german=country == 'Germany')}@{domain}"
        tags, label = [], None
        if fn == "METTE":
            tags.append(("caps-name", "Person - Name, Person - First name, Person - Last name", "name in capitals: METTE ÆRØ"))
            email = f"m.aero@{domain}"
        if fn == "jack":
            tags.append(("lower-name", "Person - Name, Person - First name, Person - Last name", "name in lower case: jack murphy"))
        if "E+" in phone:
            tags.append(("sci-phone", "Person - Phone - Work", "phone turned into scientific notation by Excel: 4.67012E+10"))
        if fn == "Mats":
            email = ""
            label = "mats"
            tags.append(("no-email", "Person - Email - Work", "no e-mail (a Person - ID)"))
        if fn == "Vera":
            label = "vera"
            tags.append(("dup-first", "Person - Email - Work", "first of the same person twice (see row {vera2})"))
        address = ""
        if fn == "Astrid":
            address = "Nørregade 18, 2. sal\n1165 København K"
            tags.append(("line-break", "Person - Postal address", "quoted cell holding a line break: 'Nørregade 18, 2. sal⏎1165 København K'"))
        rows.append(Row(label=label, tags=tags, first=fn, last=ln, company=org, title=title,
                        phone=phone, mobile=mobile, email=email, owner=owner, city=city,
                        country=country, address=address, n=n, pid=True))
    # Rows a salesperson typed into the sheet in Excel before saving: no Person - ID, no dates.
    n = len(rows)
    vera = next(r for r in rows if r.label == "vera")
    rows.append(Row(label="vera2", tags=[("dup-later", "Person - Email - Work",
                                          "same e-mail as row {vera}; adds Job title and Phone - Mobile, leaves Organization, Phone - Work and Owner empty; typed in by hand (no Person - ID)")],
                    first="Vera", last="Nilsson", company="", title="Inköpsansvarig", phone="",
                    mobile="+46 70 174 06 42", email=vera["email"], owner="", city="Göteborg",
                    country="Sweden", address="", n=n + 1, pid=False))
    rows.append(Row(tags=[("no-email-no-id", "Person - ID, Person - Email - Work", "no e-mail and no external id (typed in by hand)"),
                          ("repeat-name-company", "Person - Name, Person - Organization",
                           "same name and organization as row {frank}, no phone")],
                    first="Frank", last="Lehmann", company="Köhler Maschinenbau GmbH", title="", phone="",
                    mobile="", email="", owner="", city="Köln", country="Germany", address="", n=n + 2, pid=False))
    rows.append(Row(tags=[("invalid", "Person - Name, Person - First name, Person - Last name, Person - Email - Work",
                           "no name and no e-mail: only an organization and a phone (typed in by hand)")],
                    first="", last="", company="Nordvind AB", title="", phone="+46 8 465 004 77", mobile="",
                    email="", owner="", city="", country="", address="", n=n + 3, pid=False))
    rows.append(Row(tags=[("no-email-no-id", "Person - ID, Person - Email - Work", "no e-mail and no external id (typed in by hand), no earlier look-alike")],
                    first="Ronja", last="Falk", company="Nordvind AB", title="Trainee", phone="",
                    mobile="+46 70 174 06 44", email="", owner="", city="Stockholm", country="Sweden",
                    address="", n=n + 4, pid=False))
    for r in rows:
        if r["first"] == "Frank" and r["email"]:
            r.label = "frank"
    return rows


def build_pipedrive():
    rows = pd_rows()
    lines = [quote_needed(PD_HEADER, "\t")]
    for r in rows:
        n = r["n"]
        pid = str(1040 + 3 * n) if r["pid"] else ""
        r["ext"] = pid
        name = " ".join(x for x in (r["first"], r["last"]) if x)
        # English (US) Excel writes the dates back as it shows them: m/d/yyyy h:mm.
        created = f"{1 + (n * 5) % 12}/{1 + (n * 11) % 28}/{2021 + n % 4} {8 + n % 9}:{(n * 19) % 60:02d}" if r["pid"] else ""
        updated = f"{1 + (n * 7) % 12}/{1 + (n * 3) % 28}/2024 {9 + n % 8}:{(n * 31) % 60:02d}" if r["pid"] else ""
        address = r.get("address", "")
        if not address and r["pid"] and r.get("city"):
            address = f"{r['city']}, {r['country']}"
        v = {
            "Person - ID": pid, "Person - Name": name, "Person - First name": r["first"],
            "Person - Last name": r["last"], "Person - Label": PD_LABELS[n % len(PD_LABELS)] if r["pid"] else "",
            "Person - Organization": r["company"], "Person - Email - Work": r["email"],
            "Person - Email - Home": "", "Person - Phone - Work": r["phone"],
            "Person - Phone - Mobile": r["mobile"], "Person - Job title": r["title"],
            "Person - Postal address": address,
            "Person - City/town/village/locality of Postal address": r.get("city", "") if r["pid"] else "",
            "Person - Country of Postal address": r.get("country", "") if r["pid"] else "",
            "Person - Owner": r["owner"], "Person - Visible to": ("Entire company" if n % 3 else "Owner & followers") if r["pid"] else "",
            "Person - Person created": created, "Person - Update time": updated,
        }
        if r["first"] == "Chloe":
            v["Person - Email - Home"] = "chloe.evans@example.co.uk"
        lines.append(quote_needed([v[h] for h in PD_HEADER], "\t"))
    text = "\r\n".join(lines) + "\r\n"
    write(os.path.join(HERE, "pipedrive-people.txt"), text, "utf-16-le", bom=b"\xff\xfe")
    return rows, len(PD_HEADER)


# --------------------------------------------------------------------------------------------
# 4. Lime CRM person list, saved by Swedish Excel as "CSV (semikolonavgränsad)"
# --------------------------------------------------------------------------------------------

LIME_HEADER = ["Id", "Förnamn", "Efternamn", "Befattning", "Företag", "Telefon", "Mobiltelefon",
               "E-post", "Postadress", "Ort", "Ansvarig", "Skapad"]
LIME_OWNERS = ["Anders Lind", "Britt-Marie Ek", "Kjell Sandberg", "anders.lind@exempel.se"]
LIME_COMPANIES = {
    "Nordvind AB": ("nordvind.se", "Stockholm"),
    "Ångfartyg Gruppen AB": ("angfartyg.se", "Göteborg"),
    "Öresund Logistik AB": ("oresundlogistik.se", "Malmö"),
    "Västerås Energi & Vatten AB": ("vev.se", "Västerås"),
    "Jönköpings Trä AB": ("jonkopingstra.se", "Jönköping"),
    "Umeå Fiskehamn AB": ("umeafiskehamn.se", "Umeå"),
    "Örebro Bygg & Montage AB": ("orebrobygg.se", "Örebro"),
    'Bageri "Söta Bullen" AB': ("sotabullen.se", "Lund"),
}
# (first, last, title, company, phone, mobile)
LIME_PEOPLE = [
    ("Erik", "Öberg", "Inköpschef", "Nordvind AB", "08-465 004 10", "070-174 06 05"),
    ("Anna", "Ångström", "VD; styrelseledamot", "Ångfartyg Gruppen AB", "031-390 06 10", "070-174 06 06"),
    ("Lars", "Åkesson", "Logistikchef", "Öresund Logistik AB", "040-390 06 21", "070-174 06 07"),
    ("Karin", "Sjöström", "Marknadschef", "Nordvind AB", "08-465 004 14", "070-174 06 09"),
    ("Björn", "Nyström", "Teknisk chef", "Ångfartyg Gruppen AB", "031-390 06 12", ""),
    ("Sofia", "Hägg", "Driftchef", "Västerås Energi & Vatten AB", "021-390 06 80", ""),
    ("Johan", "Ekström", "Snickare", "Jönköpings Trä AB", "036-12 34 56", "070-174 06 11"),
    ("Elin", "Söderberg", "", "Umeå Fiskehamn AB", "090-390 06 90", ""),
    ("Göran", "Holmqvist", "Platschef", "Örebro Bygg & Montage AB", "019-390 06 95", "070-174 06 12"),
    ("Maja", "Lindqvist", "Bagare", 'Bageri "Söta Bullen" AB', "046-390 06 99", ""),
    ("Mikael", "Östlund", "Säljare – export", "Öresund Logistik AB", "040-390 06 33", "070-174 06 08"),
    ("märta", "lövgren", "ekonomichef", "Öresund Logistik AB", "040-390 06 34", ""),
    ("Henrik", "Blomé", "Inköpare", "Nordvind AB", "4,67012E+10", ""),
    ("Ingrid", "Nordén", "Hamnkapten", "Ångfartyg Gruppen AB", "031-390 06 35", ""),
    ("Oskar", "Fröberg", "Projektledare", "Västerås Energi & Vatten AB", "021-390 06 81", ""),
    ("GUSTAV", "WÅHLIN", "PROJEKTLEDARE", "Jönköpings Trä AB", "036-12 34 60", ""),
    ("Linnéa", "Strand", "Fiskeriinspektör", "Umeå Fiskehamn AB", "090-390 06 91", ""),
    ("Åsa", "Dahlén", "Arbetsledare", "Örebro Bygg & Montage AB", "019-390 06 96", ""),
    ("Ida", "Bäckström", "Konditor", 'Bageri "Söta Bullen" AB', "046-390 06 98", ""),
    ("Per", "Ärlebäck", "Transportplanerare", "Öresund Logistik AB", "040-390 06 60", ""),
    ("Stina", "Rydén", "Ekonomiassistent", "Nordvind AB", "08-465 004 32", ""),
    ("Tove", "Åberg", "Kundtjänst", "Öresund Logistik AB", "040-390 06 62", ""),
    ("Ebba", "Sundén", "Redare", "Ångfartyg Gruppen AB", "031-390 06 72", ""),
    ("Helena", "Wiklund", "Inköpare", "Nordvind AB", "08-465 004 33", ""),
    ("Mats", "Håkansson", "Lagerchef", "Nordvind AB", "08-465 004 30", ""),
    ("Kristina", "Åhman", "Miljöingenjör", "Västerås Energi & Vatten AB", "021-390 06 83", ""),
    ("Nils", "Öhrn", "Sågverksarbetare", "Jönköpings Trä AB", "036-12 34 62", ""),
    ("Agneta", "Lönn", "Hamnchef", "Umeå Fiskehamn AB", "090-390 06 93", ""),
    ("Jonas", "Krantz", "Byggledare", "Örebro Bygg & Montage AB", "019-390 06 97", ""),
    ("Ulla", "Sköld", "Butikschef", 'Bageri "Söta Bullen" AB', "046-390 06 97", ""),
    ("Viktor", "Hellström", "Chaufför", "Öresund Logistik AB", "040-390 06 64", ""),
    ("Sara", "Engström", "Marknadsassistent", "Nordvind AB", "08-465 004 35", ""),
    ("Fredrik", "Löfgren", "Styrman", "Ångfartyg Gruppen AB", "031-390 06 74", ""),
    ("Emma", "Sjöberg", "Controller", "Västerås Energi & Vatten AB", "021-390 06 85", ""),
]


def lime_rows() -> list[Row]:
    rows = []
    for i, p in enumerate(LIME_PEOPLE):
        n = i + 1
        fn, ln, title, company, phone, mobile = p
        domain, city = LIME_COMPANIES[company]
        email = f"{mail_local(fn, ln)}@{domain}"
        tags, label = [], None
        address = ""
        if fn == "Anna":
            tags.append(("separator-in-cell", "Befattning", "quoted cell holding the separator: 'VD; styrelseledamot'"))
        if company.startswith("Bageri") and fn == "Maja":
            tags.append(("quotes", "Företag", "quoted cell holding doubled quotes: 'Bageri \"Söta Bullen\" AB'"))
        if fn == "Johan":
            label = "johan"
        if fn == "Elin":
            label = "elin"
            tags.append(("dup-first", "E-post", "first of the same person twice (see row {elin2})"))
        if fn == "Göran":
            label = "goran"
        if fn == "märta":
            tags.append(("lower-name", "Förnamn, Efternamn", "name in lower case: märta lövgren"))
        if fn == "GUSTAV":
            tags.append(("caps-name", "Förnamn, Efternamn", "name (and title) in capitals: GUSTAV WÅHLIN"))
        if "E+" in phone:
            tags.append(("sci-phone", "Telefon", "phone turned into scientific notation by Excel: 4,67012E+10"))
        if fn == "Lars":
            address = "Box 1234\n211 22 Malmö"
            tags.append(("line-break", "Postadress", "quoted cell holding a line break: 'Box 1234⏎211 22 Malmö'"))
        owner = LIME_OWNERS[n % len(LIME_OWNERS)]
        if owner.endswith("@exempel.se"):
            tags.append(("owner-email", "Ansvarig", f"owner given as an e-mail address that is no user's: {owner}"))
        rows.append(Row(label=label, tags=tags, first=fn, last=ln, title=title, company=company,
                        phone=phone, mobile=mobile, email=email, city=city, address=address,
                        owner=owner, n=n, lid=True))
    # Rows added by hand in Excel: no Id, no Skapad.
    base = len(rows)
    elin = next(r for r in rows if r.label == "elin")
    johan = next(r for r in rows if r.label == "johan")
    goran = next(r for r in rows if r.label == "goran")
    extra = [
        Row(label="elin2", tags=[("dup-later", "E-post",
                                  "same e-mail as row {elin}; adds Befattning and Mobiltelefon, leaves Telefon, Ort and Ansvarig empty; typed in by hand (no Id)")],
            first="Elin", last="Söderberg", title="Kvalitetsansvarig", company="Umeå Fiskehamn AB",
            phone="", mobile="070-174 06 50", email=elin["email"], city="", address="", owner=""),
        Row(tags=[("no-email-no-id", "Id, E-post", "no e-mail and no external id"),
                  ("repeat-name-phone", "Förnamn, Efternamn, Telefon",
                   "same name and phone as row {johan}, written +46 36 12 34 56 instead of 036-12 34 56 (equal once normalised with country code 46)")],
            first="Johan", last="Ekström", title="", company="", phone="+46 36 12 34 56",
            mobile="", email="", city="Jönköping", address="", owner="Kjell Sandberg"),
        Row(tags=[("no-email-no-id", "Id, E-post", "no e-mail and no external id"),
                  ("repeat-name-company", "Förnamn, Efternamn, Företag",
                   "same name and company as row {goran}, no phone")],
            first="Göran", last="Holmqvist", title="Platschef", company="Örebro Bygg & Montage AB",
            phone="", mobile="", email="", city="Örebro", address="", owner=""),
        Row(tags=[("invalid", "Förnamn, Efternamn, E-post", "no name and no e-mail: only a company and a switchboard number")],
            first="", last="", title="", company="Ångfartyg Gruppen AB", phone="031-390 06 00",
            mobile="", email="", city="Göteborg", address="", owner=""),
        Row(tags=[("no-email-no-id", "Id, E-post", "no e-mail and no external id, no earlier look-alike")],
            first="Rut", last="Ångman", title="Sommarvikarie", company="Umeå Fiskehamn AB", phone="",
            mobile="070-174 06 51", email="", city="Umeå", address="", owner="Britt-Marie Ek"),
        Row(tags=[], first="Klas", last="Nordqvist", title="Elektriker", company="Västerås Energi & Vatten AB",
            phone="021-390 06 87", mobile="", email="klas.nordqvist@vev.se", city="Västerås", address="",
            owner="Kjell Sandberg"),
        Row(tags=[], first="Lisa", last="Ek", title="Praktikant", company="Nordvind AB",
            phone="", mobile="070-174 06 52", email="lisa.ek@nordvind.se", city="Stockholm", address="",
            owner="Anders Lind"),
        Row(tags=[], first="Hampus", last="Törnqvist", title="Kock", company='Bageri "Söta Bullen" AB',
            phone="046-390 06 96", mobile="", email="hampus.tornqvist@sotabullen.se", city="Lund", address="",
            owner="Britt-Marie Ek"),
    ]
    for k, r in enumerate(extra):
        r["n"] = base + k + 1
        r["lid"] = False
        rows.append(r)
    return rows


def build_lime():
    rows = lime_rows()
    lines = [quote_needed(LIME_HEADER, ";")]
    for r in rows:
        n = r["n"]
        lid = str(3001 + 7 * n) if r["lid"] else ""
        r["ext"] = lid
        created = f"{2020 + n % 5}-{1 + (n * 5) % 12:02d}-{1 + (n * 11) % 28:02d} {8 + n % 9:02d}:{(n * 19) % 60:02d}" if r["lid"] else ""
        v = {"Id": lid, "Förnamn": r["first"], "Efternamn": r["last"], "Befattning": r["title"],
             "Företag": r["company"], "Telefon": r["phone"], "Mobiltelefon": r["mobile"],
             "E-post": r["email"], "Postadress": r["address"], "Ort": r["city"], "Ansvarig": r["owner"],
             "Skapad": created}
        lines.append(quote_needed([v[h] for h in LIME_HEADER], ";"))
    text = "\r\n".join(lines) + "\r\n"
    write(os.path.join(HERE, "lime-persons-sv.csv"), text, "cp1252")
    return rows, len(LIME_HEADER)


# --------------------------------------------------------------------------------------------
# 5. Outlook contacts, exported by German Outlook ("Kommagetrennte Werte")
# --------------------------------------------------------------------------------------------

OUTLOOK_HEADER = [
    "Anrede", "Vorname", "Weitere Vornamen", "Nachname", "Suffix", "Firma", "Abteilung", "Position",
    "Straße geschäftlich", "Straße geschäftlich 2", "Straße geschäftlich 3", "Ort geschäftlich",
    "Region geschäftlich", "Postleitzahl geschäftlich", "Land/Region geschäftlich", "Straße privat",
    "Straße privat 2", "Straße privat 3", "Ort privat", "Bundesland/Kanton privat",
    "Postleitzahl privat", "Land/Region privat", "Weitere Straße", "Weitere Straße 2",
    "Weitere Straße 3", "Weiterer Ort", "Weiteres/r Bundesland/Kanton", "Weitere Postleitzahl",
    "Weiteres/e Land/Region", "Telefon Assistent", "Fax geschäftlich", "Telefon geschäftlich",
    "Telefon geschäftlich 2", "Rückmeldung", "Autotelefon", "Telefon Firma", "Fax privat",
    "Telefon (privat)", "Telefon (privat 2)", "ISDN", "Mobiltelefon", "Weiteres Fax",
    "Weiteres Telefon", "Pager", "Haupttelefon", "Mobiltelefon 2", "Telefon für Hörbehinderte",
    "Telex", "Abrechnungsinformation", "Assistent(in)", "Benutzer 1", "Benutzer 2", "Benutzer 3",
    "Benutzer 4", "Beruf", "Büro", "E-Mail-Adresse", "E-Mail-Typ", "E-Mail: Angezeigter Name",
    "E-Mail 2: Adresse", "E-Mail 2: Typ", "E-Mail 2: Angezeigter Name", "E-Mail 3: Adresse",
    "E-Mail 3: Typ", "E-Mail 3: Angezeigter Name", "Empfohlen von", "Geburtstag", "Geschlecht",
    "Hobby", "Initialen", "Internet Frei/Gebucht", "Jahrestag", "Kategorien", "Kinder", "Konto",
    "Name des/r Vorgesetzten", "Notizen", "Organisationsnr.", "Ort", "Partner/in",
    "Postfach geschäftlich", "Postfach privat", "Priorität", "Privat", "Reisekilometer",
    "Sozialversicherungsnr.", "Sprache", "Stichwörter", "Vertraulichkeit", "Verzeichnisserver",
    "Webseite", "Weiteres Postfach",
]
OL_COMPANIES = {
    "Müller & Weiß GmbH": ("mueller-weiss.de", "Leopoldstraße 120", "80802", "München", "Bayern", "Deutschland", "+49 (89) 2154330"),
    "Köhler Maschinenbau GmbH": ("koehler-maschinenbau.de", "Hansaring 12", "50670", "Köln", "Nordrhein-Westfalen", "Deutschland", "+49 (221) 9123450"),
    "Stadtwerke Gießen AG": ("stadtwerke-giessen.de", "Lahnstraße 31", "35398", "Gießen", "Hessen", "Deutschland", "+49 (641) 7080"),
    "Núñez Ingeniería S.L.": ("nunez-ingenieria.es", "Calle de Alcalá 88", "28009", "Madrid", "", "Spanien", "+34 (915) 224180"),
    "Bækgaard Consult A/S": ("baekgaard.dk", "Åboulevarden 31", "8000", "Aarhus C", "", "Dänemark", "+45 86123450"),
    "Nordvind AB": ("nordvind.se", "Sveavägen 44", "111 34", "Stockholm", "", "Schweden", "+46 (8) 46500410"),
    "Brightwater Ltd": ("brightwater.co.uk", "12 Fenchurch Street", "EC3M 3BY", "London", "", "Großbritannien", "+44 (20) 79460321"),
    "Kjærgaard & Søn ApS": ("kjaergaard.dk", "Nørregade 18", "1165", "København K", "", "Dänemark", "+45 33124567"),
    "Fröhlich Elektro e.K.": ("froehlich-elektro.de", "Marktplatz 3", "97070", "Würzburg", "Bayern", "Deutschland", "+49 (931) 3219870"),
}
# (Anrede, first, last, company, position, business phone, mobile)
OL_PEOPLE = [
    ("Herr", "Jürgen", "Müller", "Müller & Weiß GmbH", "Geschäftsführer", "+49 (89) 2154331", "+49 (171) 5523310"),
    ("Frau", "CLAUDIA", "WEIß", "Müller & Weiß GmbH", "Einkaufsleiterin", "+49 (89) 2154332", ""),
    ("Herr", "Thomas", "Köhler", "Köhler Maschinenbau GmbH", "Vertriebsleiter", "+49 (221) 9123451", "+49 (160) 1234567"),
    ("Frau", "Sabine", "Krüger", "Köhler Maschinenbau GmbH", "Assistentin der Geschäftsführung", "+49 (221) 9123452", ""),
    ("Herr", "Stefan", "Groß", "Müller & Weiß GmbH", "", "+49 (89) 2154335", ""),
    ("Frau", "Anke", "Schäfer", "Müller & Weiß GmbH", "Vertrieb Innendienst", "+49 (89) 2154336", ""),
    ("Herr", "dieter", "weißmüller", "Köhler Maschinenbau GmbH", "werkstattleiter", "+49 (221) 9123456", ""),
    ("Herr", "José", "Núñez", "Núñez Ingeniería S.L.", "Director técnico", "+34 (915) 224180", "+34 612334455"),
    ("Frau", "Mette", "Bækgaard", "Bækgaard Consult A/S", "Partner", "+45 86123450", ""),
    ("Herr", "Erik", "Öberg", "Nordvind AB", "Inköpschef", "+46 (8) 46500410", "+46 (70) 1740605"),
    ("Ms.", "Emma", "Clarke", "Brightwater Ltd", "Procurement Manager", "+44 (20) 79460321", ""),
    ("Herr", "Uwe", "Böhm", "Müller & Weiß GmbH", "Techniker", "4,67012E+10", ""),
    ("Frau", "Heike", "Jäger", "Köhler Maschinenbau GmbH", "Leiterin Einkauf", "+49 (221) 9123455", ""),
    ("Frau", "Katrin", "Faßbender", "Köhler Maschinenbau GmbH", "Einkäuferin", "+49 (221) 9123460", ""),
    ("Herr", "Matthias", "Hoffmann", "Müller & Weiß GmbH", "Projektleiter", "+49 (89) 2154340", ""),
    ("Frau", "Ursula", "Schröder", "Köhler Maschinenbau GmbH", "Buchhaltung", "+49 (211) 5566770", ""),
    ("Herr", "Florian", "Kühn", "Stadtwerke Gießen AG", "Netzplaner", "+49 (641) 708123", ""),
    ("Frau", "Birgit", "Lorenz", "Stadtwerke Gießen AG", "Referentin Einkauf", "+49 (641) 708124", ""),
    None,  # Stefan Groß again
    None,  # Katrin Faßbender again
    None,  # the invalid company card
    ("Herr", "Ralf", "Zimmermann", "Stadtwerke Gießen AG", "Vorstand", "+49 (641) 708100", ""),
    ("Frau", "Jutta", "Krämer", "Müller & Weiß GmbH", "Buchhalterin", "+49 (89) 2154352", ""),
    ("Herr", "Andreas", "Weber", "Fröhlich Elektro e.K.", "Elektromeister", "+49 (931) 3219871", ""),
    ("Frau", "Monika", "Schulz", "Fröhlich Elektro e.K.", "Büro", "+49 (931) 3219872", ""),
    ("Herr", "Lars", "Nielsen", "Kjærgaard & Søn ApS", "Salgschef", "+45 33124570", ""),
    ("Frau", "Lucía", "Muñoz", "Núñez Ingeniería S.L.", "Responsable de compras", "+34 (915) 224182", ""),
    ("Herr", "Wolfgang", "Bäumer", "Köhler Maschinenbau GmbH", "Konstrukteur", "+49 (221) 9123470", ""),
    ("Frau", "Petra", "Kühn", "Müller & Weiß GmbH", "Marketing", "", "+49 (152) 3344556"),
    ("Herr", "Kai", "Mößner", "Stadtwerke Gießen AG", "Techniker", "+49 (641) 708130", ""),
    ("Frau", "Susanne", "Hübner", "Fröhlich Elektro e.K.", "Inhaberin", "+49 (931) 3219870", ""),
    ("Herr", "Bernd", "Fröhlich", "Fröhlich Elektro e.K.", "Seniorchef", "+49 (931) 3219873", ""),
]


def ol_rows() -> list[Row]:
    rows = []
    for i, p in enumerate(OL_PEOPLE):
        n = i + 1
        if p is None:
            if n == 19:
                stefan = next(r for r in rows if r.label == "stefan")
                rows.append(Row(label="stefan2", tags=[
                    ("dup-later", "E-Mail-Adresse", "same e-mail as row {stefan}, written in capitals; adds Position and Mobiltelefon, leaves Firma and Telefon geschäftlich empty"),
                    ("caps-email", "E-Mail-Adresse", f"e-mail in capitals: {stefan['email'].upper()}")],
                    sal="Herr", first="Stefan", last="Groß", company="", title="Key Account Manager",
                    phone="", mobile="+49 (151) 2233445", email=stefan["email"].upper(), n=n,
                    street="", city="", zip="", region="", country=""))
            elif n == 20:
                rows.append(Row(tags=[
                    ("no-email", "E-Mail-Adresse", "no e-mail (Outlook has no external id at all)"),
                    ("repeat-name-company", "Vorname, Nachname, Firma", "same name and company as row {katrin}, no e-mail, other phone")],
                    sal="Frau", first="Katrin", last="Faßbender", company="Köhler Maschinenbau GmbH",
                    title="Einkäuferin", phone="", mobile="+49 (170) 9988776", email="", n=n,
                    street="", city="Köln", zip="", region="", country="Deutschland"))
            else:
                rows.append(Row(tags=[("invalid", "Vorname, Nachname, E-Mail-Adresse",
                                       "no name and no e-mail: a company card (Firma and Telefon Firma only), as Outlook allows")],
                                sal="", first="", last="", company="Köhler Maschinenbau GmbH", title="",
                                phone="", mobile="", email="", n=n, company_phone="+49 (221) 9123450",
                                street="Hansaring 12", city="Köln", zip="50670", region="Nordrhein-Westfalen",
                                country="Deutschland"))
            continue
        sal, fn, ln, company, title, phone, mobile = p
        domain, street, zipc, city, region, country, _ = OL_COMPANIES[company]
        german = country == "Deutschland"
        email = f"{mail_local(fn, ln, german=german, style='initial' if german else 'dot')}@{domain}"
        tags, label = [], None
        if fn == "CLAUDIA":
            tags.append(("caps-name", "Vorname, Nachname", "name in capitals: CLAUDIA WEIß (ß kept, as Excel's UPPER() leaves it)"))
            email = f"c.weiss@{domain}"
        if fn == "dieter":
            tags.append(("lower-name", "Vorname, Nachname", "name in lower case: dieter weißmüller"))
        if fn == "Thomas":
            street = "Hansaring 12\r\n3. OG"
            tags.append(("line-break", "Straße geschäftlich", "quoted cell holding a line break (CRLF), as Outlook writes a two-line street: 'Hansaring 12⏎3. OG'"))
        if "E+" in phone:
            tags.append(("sci-phone", "Telefon geschäftlich", "phone turned into scientific notation by a spreadsheet: 4,67012E+10"))
        if fn == "Stefan":
            label = "stefan"
            tags.append(("dup-first", "E-Mail-Adresse", "first of the same person twice (see row {stefan2})"))
        if fn in ("Katrin", "Petra"):
            email = ""
            tags.append(("no-email", "E-Mail-Adresse", "no e-mail (Outlook has no external id at all)"))
            if fn == "Katrin":
                label = "katrin"
        rows.append(Row(label=label, tags=tags, sal=sal, first=fn, last=ln, company=company, title=title,
                        phone=phone, mobile=mobile, email=email, n=n, street=street, city=city, zip=zipc,
                        region=region, country=country))
    return rows


def build_outlook():
    rows = ol_rows()
    lines = [quote_all(OUTLOOK_HEADER)]
    for r in rows:
        n = r["n"]
        v = {h: "" for h in OUTLOOK_HEADER}
        name = " ".join(x for x in (r["first"], r["last"]) if x)
        v.update({
            "Anrede": r["sal"], "Vorname": r["first"], "Nachname": r["last"], "Firma": r["company"],
            "Position": r["title"], "Straße geschäftlich": r["street"], "Ort geschäftlich": r["city"],
            "Region geschäftlich": r["region"], "Postleitzahl geschäftlich": r["zip"],
            "Land/Region geschäftlich": r["country"], "Telefon geschäftlich": r["phone"],
            "Mobiltelefon": r["mobile"], "Telefon Firma": r.get("company_phone", ""),
            "E-Mail-Adresse": r["email"], "E-Mail-Typ": "SMTP" if r["email"] else "",
            "E-Mail: Angezeigter Name": f"{name} ({r['email']})" if r["email"] else "",
            # German Outlook writes an empty date as 0.0.00.
            "Geburtstag": "0.0.00", "Jahrestag": "0.0.00",
            "Geschlecht": "Unbestimmt",
            "Initialen": "".join(f"{x[0].upper()}." for x in (r["first"], r["last"]) if x),
            "Priorität": "Normal", "Privat": "Aus", "Vertraulichkeit": "Normal",
        })
        if n % 4 == 0 and r["last"]:
            v["Telefon geschäftlich 2"] = r["phone"][:-1] + str((int(r["phone"][-1]) + 5) % 10) if r["phone"][-1:].isdigit() else ""
        if n % 5 == 0 and r["last"]:
            v["Straße privat"] = "Am Anger 7"
            v["Ort privat"] = r["city"]
            v["Telefon (privat)"] = "+49 (30) 555010" + str(n % 10) if r["country"] == "Deutschland" else ""
        if n % 3 == 0 and r["email"]:
            v["Kategorien"] = "Kunden;Messe 2023"
            v["Webseite"] = "www." + r["email"].split("@")[1]
        if r["first"] == "José":
            v["E-Mail 2: Adresse"] = "jnunez@gmail.com"
            v["E-Mail 2: Typ"] = "SMTP"
            v["E-Mail 2: Angezeigter Name"] = "José Núñez (jnunez@gmail.com)"
            v["Notizen"] = "Spricht Deutsch, Englisch, Spanisch – Rückruf bitte vormittags. Rahmenvertrag 2024: 15.000 €."
        if r["first"] == "Jürgen":
            v["Abteilung"] = "Geschäftsleitung"
            v["Geburtstag"] = "14.3.1968"
        lines.append(quote_all([v[h] for h in OUTLOOK_HEADER]))
    text = "\r\n".join(lines) + "\r\n"
    write(os.path.join(HERE, "outlook-contacts-de.csv"), text, "cp1252")
    return rows, len(OUTLOOK_HEADER)


# --------------------------------------------------------------------------------------------
# Expected outcome, computed from the tags
# --------------------------------------------------------------------------------------------

def row_no(r: Row) -> int:
    return r["n"] + 1  # header is row 1


def resolve(text: str, rows: list[Row]) -> str:
    labels = {r.label: row_no(r) for r in rows if r.label}
    return text.format(**labels)


def expected(rows: list[Row], owner_mapped: bool):
    """Counts for an import matched on e-mail (`match_on: "email"`), every listed column mapped.

    'wanted' is what a correct import should do; 'now' is what the importer at commit 0cb9b8f
    does (read from crates/core/src/import/plan.rs and value.rs, not run)."""
    kinds = lambda r: {t[0] for t in r.tags}
    wanted = {"created": 0, "merged": 0, "rejected": 0}
    now = {"created": 0, "rejected": 0}
    seen = set()
    seen_now = set()
    for r in rows:
        k = kinds(r)
        email = r["email"].strip().lower()
        if "invalid" in k:
            wanted["rejected"] += 1
        elif email and email in seen:
            wanted["merged"] += 1
        else:
            wanted["created"] += 1
            if email:
                seen.add(email)
        # The code as it is: read (owner, phone), then key duplicates, then required fields.
        rejected = False
        if owner_mapped and r.get("owner", ""):
            rejected = True
        elif "sci-phone" in k:
            rejected = True
        elif email and email in seen_now:
            rejected = True
        elif not r["last"]:
            rejected = True
        if rejected:
            now["rejected"] += 1
        else:
            now["created"] += 1
            if email:
                seen_now.add(email)
    owners = sorted({r.get("owner", "") for r in rows if r.get("owner", "") and "invalid" not in kinds(r)})
    owner_rows = sum(1 for r in rows if r.get("owner", "") and "invalid" not in kinds(r))
    return wanted, now, owners, owner_rows


def feature_table(name: str, rows: list[Row]) -> list[str]:
    out = []
    for r in rows:
        for kind, column, note in r.tags:
            out.append(f"| `{name}` | {row_no(r)} | {column} | `{kind}` | {resolve(note, rows)} |")
    return out


def check(path, encoding, sep, ncols, nrows, bom: bytes):
    """Decode the file back and count rows and columns with the csv module."""
    import csv
    import io
    raw = open(path, "rb").read()
    assert raw.startswith(bom), path
    text = raw[len(bom):].decode(encoding)
    recs = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    assert len(recs) == nrows + 1, (path, len(recs), nrows + 1)
    for i, rec in enumerate(recs):
        assert len(rec) == ncols, (path, i + 1, len(rec), ncols)
    return recs


def main():
    built = {
        "salesforce-contacts.csv": build_salesforce(),
        "hubspot-contacts.csv": build_hubspot(),
        "pipedrive-people.txt": build_pipedrive(),
        "lime-persons-sv.csv": build_lime(),
        "outlook-contacts-de.csv": build_outlook(),
    }
    fmt = {
        "salesforce-contacts.csv": ("utf-8", ",", b""),
        "hubspot-contacts.csv": ("utf-8", ",", b"\xef\xbb\xbf"),
        "pipedrive-people.txt": ("utf-16-le", "\t", b"\xff\xfe"),
        "lime-persons-sv.csv": ("cp1252", ";", b""),
        "outlook-contacts-de.csv": ("cp1252", ",", b""),
    }
    for name, (rows, ncols) in built.items():
        enc, sep, bom = fmt[name]
        check(os.path.join(HERE, name), enc, sep, ncols, len(rows), bom)
    write_readme(built)
    for name, (rows, ncols) in built.items():
        print(f"{name}: {len(rows)} rows, {ncols} columns")


# --------------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------------

def write_readme(built):
    sf_rows_, sf_cols = built["salesforce-contacts.csv"]
    hs_rows_, hs_cols = built["hubspot-contacts.csv"]
    pd_rows_, pd_cols = built["pipedrive-people.txt"]
    li_rows_, li_cols = built["lime-persons-sv.csv"]
    ol_rows_, ol_cols = built["outlook-contacts-de.csv"]

    def summary(name, rows, owner_mapped, owner_col):
        wanted, now, owners, owner_rows = expected(rows, owner_mapped)
        k = lambda kind: [row_no(r) for r in rows if any(t[0] == kind for t in r.tags)]
        lines = [
            f"- **Rows:** {len(rows)} data rows (rows 2–{len(rows) + 1}).",
            f"- **Correct import** (`match_on: \"email\"`): **{wanted['created']} created, {wanted['merged']} merged into an earlier row, {wanted['rejected']} rejected.**",
        ]
        rej = k("invalid")
        lines.append(f"  - Rejected: row {', '.join(map(str, rej))} — `last_name is required` (no name, no e-mail, so no key either).")
        dl = k("dup-later")
        if dl:
            df = k("dup-first")
            lines.append(f"  - Merged: row {dl[0]} into the record of row {df[0]} (same e-mail): its non-empty cells fill the record, its empty cells change nothing.")
        sci = k("sci-phone")
        warn = []
        if sci:
            warn.append(f"row {sci[0]}: the phone is a spreadsheet's scientific notation (digits lost) — import the row without the phone and say so")
        lk = [(row_no(r), t) for r in rows for t in r.tags if t[0].startswith("repeat-")]
        for rn, t in lk:
            ref = resolve(t[2], rows).split("row ")[1].split(",")[0].split(" ")[0]
            what = "name + company" if t[0] == "repeat-name-company" else "name + phone"
            warn.append(f"row {rn}: likely duplicate of row {ref} ({what}; no e-mail to match on, so it is created)")
        if owner_col:
            warn.append(f"{owner_rows} rows name an owner in `{owner_col}` that is no user ({len(owners)} distinct: {', '.join(owners)}) — keep the row, leave the owner to the importing user, list the unknown owners once")
        tb = k("tab")
        if tb:
            warn.append(f"row {tb[0]}: a tab inside the city cell — store it as one space ('Bodø Nordland')")
        lines.append("  - Warnings: " + ("; ".join(warn) if warn else "none") + ".")
        if owner_col:
            _, now_mapped, _, _ = expected(rows, True)
            _, now_unmapped, _, _ = expected(rows, False)
            lines.append(
                f"- **Importer at 0cb9b8f** (read from the code, not run): with `{owner_col}` left unmapped: "
                f"{now_unmapped['created']} created, {now_unmapped['rejected']} rejected; with it mapped to `owner`: "
                f"{now_mapped['created']} created, {now_mapped['rejected']} rejected (every row with an owner fails "
                f"`owner \"…\" is no user's e-mail address or name`).")
        else:
            lines.append(f"- **Importer at 0cb9b8f** (read from the code, not run): {now['created']} created, {now['rejected']} rejected.")
        return lines

    def now_notes(rows, has_owner=True):
        k = lambda kind: [row_no(r) for r in rows if any(t[0] == kind for t in r.tags)]
        notes = []
        if k("sci-phone"):
            notes.append(f"row {k('sci-phone')[0]} is rejected (`phone must be a phone number of 5–17 digits`) instead of imported without its phone")
        if k("dup-later"):
            notes.append(f"row {k('dup-later')[0]} is rejected (`has the same email as row {k('dup-first')[0]}`) instead of merged")
        if notes:
            head = "Differences (owner column unmapped)" if has_owner else "Differences"
            return [f"  - {head}: " + "; ".join(notes) + "."]
        return []

    table = ["| File | Row | Column(s) | What | Detail |", "| --- | --- | --- | --- | --- |"]
    for name, (rows, _) in built.items():
        table += feature_table(name, rows)

    text = f"""# CRM export fixtures

Contact lists as five other CRMs (and Outlook) export them, for testing the CSV importer
(`crates/core/src/import`). Names are Swedish, Danish/Norwegian, German, Spanish and English, with
non-ASCII letters in every case. All people, companies, addresses and ids are made up; Swedish
mobile numbers are from the range PTS keeps for fiction (070-174 06 xx), UK ones from Ofcom's
drama ranges.

The files are written by `build_fixtures.py` (Python 3, standard library, deterministic), which
also writes this README's tables from the same data: run `python3 build_fixtures.py` after an edit.
`make_salesforce_5000.py` writes a 5,000-row Salesforce file for load tests (see the end).

`file` calls the two Windows-1252 files "Non-ISO extended-ASCII text": they hold `–` (0x96)
and `€` (0x80), bytes that mean those characters only in Windows-1252 (in Latin-1 they are
control codes): `lime-persons-sv.csv` row {[row_no(r) for r in li_rows_ if r['first']=='Mikael'][0]} (`Befattning`), `outlook-contacts-de.csv` row
{[row_no(r) for r in ol_rows_ if r['first']=='José'][0]} (`Notizen`). Neither file is valid UTF-8, so the importer's detection falls to
Windows-1252 as it should.

Row numbers below are the importer's: the header is row 1, the first data row is row 2, and a
quoted cell with a line break in it does not start a new row (so in the Salesforce, Pipedrive,
Lime and Outlook files the physical line number differs from the row number after that cell).

## Summary

| File | Encoding | Separator | Line ends | Quoting | Rows | Columns |
| --- | --- | --- | --- | --- | --- | --- |
| `salesforce-contacts.csv` | UTF-8, no BOM | `,` | CRLF | every cell, empty ones too (`""`) | {len(sf_rows_)} | {sf_cols} |
| `hubspot-contacts.csv` | UTF-8 with BOM (EF BB BF) | `,` | LF | every cell | {len(hs_rows_)} | {hs_cols} |
| `pipedrive-people.txt` | UTF-16 LE with BOM (FF FE) | tab | CRLF | only cells holding a tab, quote or line break (Excel) | {len(pd_rows_)} | {pd_cols} |
| `lime-persons-sv.csv` | Windows-1252 | `;` | CRLF | only cells holding `;`, quote or line break (Excel) | {len(li_rows_)} | {li_cols} |
| `outlook-contacts-de.csv` | Windows-1252 | `,` | CRLF | every cell, empty ones too (`""`) | {len(ol_rows_)} | {ol_cols} |

## What a correct import yields

Assumptions, for every file: the person object with its standard fields; the columns mapped as
listed per file (everything else unmapped); `match_on: "email"` (the importer's default would be
`external_id` where one is mapped; see the note at the end); `create_related: true`; an empty
database whose users are none of the owners named in the files. Anchora's person has one phone
field; the mobile columns are left unmapped (or mapped to a custom `mobile` field, which changes
no count).

"Correct" is what these files are meant to test for; where the importer at commit 0cb9b8f does
otherwise (as read from `plan.rs`/`value.rs`; nothing was run), both are given.

### `salesforce-contacts.csv` — Salesforce Contact export

- **Layout:** the Contact object's standard fields by API name, in the object's field order,
  as the weekly Data Export (Setup → Data Export, `Contact.csv` in the zip) and Data Loader's
  "Export All" write them: every value in double quotes (empty ones as `""`), comma only,
  18-character ids (`003…` contacts, `001…` accounts, `005…` users, with the case checksum
  suffix), datetimes as `2023-04-12T08:15:30.000Z`, booleans `true`/`false`, dates `yyyy-mm-dd`.
  No `RecordTypeId` (an org without contact record types) and no custom fields.
- **Sources:** field list and types: Salesforce *Object Reference — Contact*
  (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contact.htm)
  and *Field Reference — Contact*
  (https://developer.salesforce.com/docs/platform/field-reference/references/field-reference/salesforce-field-reference-contact.html);
  column order: a public importer of Data Export zips that lists `Contact.csv`'s columns in file
  order (`"Id","IsDeleted","MasterRecordId","AccountId","Salutation","RecordTypeId","OtherStreet",…,"Jigsaw","JigsawContactId"`);
  quoting: Data Loader's `CSVColumnVisitor.java` (github.com/forcedotcom/dataloader, every value
  quoted, `"` doubled) and `CSVFileWriter.java` (rows end with `BufferedWriter.newLine()`, i.e.
  CRLF on Windows); commas only on export: forcedotcom/dataloader issue #723. Data Loader before
  v61 wrote the header in capitals (`capitalizedHeadings`), and since PR #1404 (Dec 2024) it
  writes a BOM on UTF-8 output; this file follows the Data Export form (API-name case, no BOM).
- **Mapping:** `Id`→external_id, `FirstName`→first_name, `LastName`→last_name, `Email`→email,
  `Phone`→phone, `Title`→title, `MailingCity`→city, `AccountId`→nothing (an id; the account's
  name is not in Contact.csv, so no company is linked), `OwnerId`→nothing (a Salesforce user id:
  no Anchora user; mapping it to `owner` rejects every row today). `Name` repeats first + last;
  it is in Data Loader's all-fields export, while the weekly Data Export may leave it out (the
  public column list cited above has no `Name`).
{chr(10).join(summary("salesforce-contacts.csv", sf_rows_, False, None))}
  - Also: row {[row_no(r) for r in sf_rows_ if r['first']=='Lars'][0]}'s `MailingStreet` has a line break inside quotes (LF inside a CRLF file);
    row {[row_no(r) for r in sf_rows_ if r['first']=='Emma'][0]}'s `Description` holds commas and doubled quotes. Neither is mapped; both must parse.

### `hubspot-contacts.csv` — HubSpot contacts export

- **Layout:** what Contacts → Export (view export, CSV) writes: `Record ID`, `First Name`,
  `Last Name`, `Email`, then the view's columns with their labels (`Phone Number`,
  `Contact owner`, `Create Date`, `Lifecycle Stage`, `Associated Company`,
  `Primary Associated Company ID`…), every value quoted, UTF-8 with a BOM. Owners are shown by
  name; `Create Date` as `yyyy-mm-dd hh:mm`; lifecycle stages by label. A HubSpot portal keeps
  one contact per e-mail, so this file has no e-mail duplicates; contacts without e-mail exist.
- **Sources:** column names and order of real exports seen in public code: a script checking
  `hubspot-crm-exports-all-contacts-2023-02-21.csv` (`"Record ID","First Name","Last Name",…,"City",…,"Company Name",…,"Contact owner",…,"Create Date",…`),
  an exercise modelled on an export (`"Record ID","First Name","Last Name","Email","Phone Number","Contact owner","Primary Associated Company ID","Last Activity Date","Lead Status","Marketing contact status","Create Date","Associated Company"`),
  and a parser noting the export's quoting (`"Record ID","First Name","Last Name","Email",...`);
  HubSpot's *Set up your import files* / *How do I import contacts* (knowledge.hubspot.com:
  `Contact owner` holds the owner, contacts are de-duplicated by e-mail, lifecycle stage labels).
  The date format and the LF line ends are not confirmed by a source.
- **Mapping:** `Record ID`→external_id, `First Name`→first_name, `Last Name`→last_name,
  `Email`→email, `Phone Number`→phone, `Job Title`→title, `City`→city,
  `Company Name`→company, `Contact owner`→owner.
{chr(10).join(summary("hubspot-contacts.csv", hs_rows_, True, "Contact owner"))}
  - Row {[row_no(r) for r in hs_rows_ if r['first']=='Oliver'][0]}'s e-mail is in capitals: the key folds case, the domain is stored in lower case.
  - The importer at 0cb9b8f keeps the tab in row {[row_no(r) for r in hs_rows_ if any(t[0]=='tab' for t in r.tags)][0]}'s city (`one_line` in `cells.rs` only joins line breaks).

### `pipedrive-people.txt` — Pipedrive people export, saved by Excel as "Unicode Text"

- **Layout:** Pipedrive's people export columns, `Person - <field>` (`Person - ID`,
  `Person - Name`, `Person - First name`, `Person - Last name`, `Person - Label`,
  `Person - Organization`, `Person - Email - Work`/`Home`, `Person - Phone - Work`/`Mobile`,
  `Person - Job title`, `Person - Postal address` and its parts, `Person - Owner`,
  `Person - Visible to`, `Person - Person created`, `Person - Update time`), opened in English
  (US) Excel and saved as *Unicode Text (*.txt)*: UTF-16 LE with a BOM, tab-separated, CRLF,
  quotes only where a cell holds a tab, quote or line break, dates rewritten the way Excel shows
  them (`4/12/2023 9:15`), and a phone Excel had turned into a number shown as `4.67012E+10`.
  The last four rows were typed into the sheet by hand before saving (no `Person - ID`).
- **Sources:** column names from public code reading Pipedrive exports: a migration kit reading
  `Person - ID`, `Person - Name`, `Person - First name`, `Person - Last name`, `Person - Job title`,
  `Person - Email - Work`/`Home`/`Other`, `Person - Phone - Work`/`Mobile`/`Home`/`Other`,
  `Person - Labels`/`Person - Label`, `Person - Postal address`, `Person - City/town/village/locality of Postal address`,
  `Person - Country of Postal address`, `Person - Person created`, `Person - Update time`;
  export-to-sheet scripts with `Person - Owner`, `Person - Person created`; an importer test
  mapping `"Person - Name", "Person - Organization", "Person - Email - Work", …, "Person - Owner"`.
  Pipedrive's own field list: https://developers.pipedrive.com/docs/api/v1/PersonFields.
  Excel's *Unicode Text* format (UTF-16 LE, BOM, tab, CRLF) is Excel's documented save format.
- **Mapping:** `Person - ID`→external_id, `Person - First name`→first_name,
  `Person - Last name`→last_name, `Person - Email - Work`→email, `Person - Phone - Work`→phone,
  `Person - Job title`→title, `Person - City/town/village/locality of Postal address`→city,
  `Person - Organization`→company, `Person - Owner`→owner.
{chr(10).join(summary("pipedrive-people.txt", pd_rows_, True, "Person - Owner"))}
{chr(10).join(now_notes(pd_rows_))}

### `lime-persons-sv.csv` — Lime CRM person list, saved by Swedish Excel

- **Layout:** a person list exported from Lime CRM to Excel and saved by Swedish Excel as
  *CSV (semikolonavgränsad)*: Windows-1252, `;`, CRLF, quotes only where a cell holds `;`, a
  quote or a line break, dates as Swedish Excel shows them (`2023-04-12 08:15`), national
  phone numbers (`08-465 004 10`), a phone Excel turned into `4,67012E+10`. Columns: `Id`,
  `Förnamn`, `Efternamn`, `Befattning`, `Företag`, `Telefon`, `Mobiltelefon`, `E-post`,
  `Postadress`, `Ort`, `Ansvarig` (names, and once an e-mail address), `Skapad`. The last eight
  rows were typed in by hand (no `Id`, no `Skapad`).
- **Sources:** Lime's import guide (https://faq.lime-technologies.com/hc/sv/articles/212244545-Hur-g%C3%B6r-jag-en-import)
  and the Lime Easy import article (…/211682549) for the Swedish field naming (`Person.Namn`,
  `Företag.Namn`, files prepared in Excel); Lime's ERP-connector docs for the person fields
  (first name, last name, e-mail, direct phone, mobile phone, company). No public sample of a
  Lime person-list export was found: the column set is the one asked for, with Lime's Swedish
  labels, and the `Id` column (the record id, there if the user added it to the list) is an
  assumption.
- **Mapping:** `Id`→external_id, `Förnamn`→first_name, `Efternamn`→last_name, `E-post`→email,
  `Telefon`→phone, `Befattning`→title, `Ort`→city, `Företag`→company, `Ansvarig`→owner.
  Phone likeness needs the default country 46 (`036-12 34 56` = `+46 36 12 34 56`).
{chr(10).join(summary("lime-persons-sv.csv", li_rows_, True, "Ansvarig"))}
{chr(10).join(now_notes(li_rows_))}

### `outlook-contacts-de.csv` — German Outlook contacts export

- **Layout:** File → Öffnen und Exportieren → Importieren/Exportieren → In Datei exportieren →
  *Kommagetrennte Werte*, in German Outlook: the {ol_cols} German column names in Outlook's
  order, every value quoted (empty ones as `""`), comma, Windows-1252, CRLF, a two-line street
  with CRLF inside its quotes, empty dates written `0.0.00`, `Geschlecht` `Unbestimmt`,
  `Priorität`/`Vertraulichkeit` `Normal`, `Privat` `Aus`, `E-Mail-Typ` `SMTP`,
  `E-Mail: Angezeigter Name` as `Name (address)`, phones in Outlook's canonical form
  `+49 (89) 2154330`. One business phone had been through a spreadsheet (`4,67012E+10`).
  Outlook has no external id and no owner column.
- **Note on the header:** the real German header says `E-Mail: Angezeigter Name` (and
  `E-Mail 2: Angezeigter Name`…), not `E-Mail-Anzeigename`; home phones are
  `Telefon (privat)`/`Telefon (privat 2)` (older Outlook versions wrote `Telefon privat` and had
  `Name Assistent`, `Partner`, `Regierungsnr.` instead of `Assistent(in)`,
  `Partner/in`, `Sozialversicherungsnr.`).
- **Sources:** Microsoft's *Create or edit .csv files to import into Outlook*
  (https://support.microsoft.com/en-us/office/create-or-edit-csv-files-to-import-into-outlook-4518d70d-8fe9-46ad-94fa-1494247193c7)
  for the 92 columns and their order (English names); the German names and order from two
  independent public vCard-to-Outlook-CSV converters written to produce files German Outlook
  maps without help (identical 92-name lists), and an older exporter (bytemine GmbH, 2013,
  "field names like Outlook uses", quoting every field, CRLF) for the Outlook 2007 variant.
- **Mapping:** `Vorname`→first_name, `Nachname`→last_name, `E-Mail-Adresse`→email,
  `Telefon geschäftlich`→phone, `Position`→title, `Ort geschäftlich`→city, `Firma`→company.
{chr(10).join(summary("outlook-contacts-de.csv", ol_rows_, False, None))}
{chr(10).join(now_notes(ol_rows_, has_owner=False))}
  - Row {[row_no(r) for r in ol_rows_ if r.label=='stefan2'][0]}'s e-mail is row {[row_no(r) for r in ol_rows_ if r.label=='stefan'][0]}'s in capitals: it must still match (the key folds case).

### With the default key instead of `match_on: "email"`

Where an external id is mapped (all but Outlook), leaving `match_on` out matches on
`external_id`. Then the later row of each same-e-mail pair (it has no id) has no key: it is
created as a new record and listed as a likely duplicate of the earlier row (same e-mail)
instead of being merged — one more record and one fewer merge in `pipedrive-people.txt` and
`lime-persons-sv.csv`. Nothing else changes.

## Where each case is

| File | Row | Column(s) | What | Detail |
| --- | --- | --- | --- | --- |
{chr(10).join(table[2:])}

Cases spread over the files, by kind:

- same person twice: `pipedrive-people.txt`, `lime-persons-sv.csv`, `outlook-contacts-de.csv`
  (`dup-first`/`dup-later`);
- scientific-notation phone: `pipedrive-people.txt` (`4.67012E+10`), `lime-persons-sv.csv` and
  `outlook-contacts-de.csv` (`4,67012E+10`);
- tab or line break inside quotes: `hubspot-contacts.csv` (tab), the four others (line break);
- owners that are no users: every row's `Contact owner`/`Person - Owner`/`Ansvarig` (names, and
  `anders.lind@exempel.se` in the Lime file), every `OwnerId` in the Salesforce file;
- rows without e-mail (`no-email`) or without e-mail and external id (`no-email-no-id`), some
  repeating an earlier row's name + company or name + phone (`repeat-*`);
- one truly invalid row per file (`invalid`);
- names in capitals and in lower case (`caps-name`, `lower-name`) in every file;
- an e-mail in capitals (`caps-email`): `hubspot-contacts.csv`, `outlook-contacts-de.csv`.

## `make_salesforce_5000.py`

`python3 make_salesforce_5000.py [out.csv] [--rows N] [--seed S]` writes a Salesforce
`Contact.csv` in the same layout as `salesforce-contacts.csv` (default 5,000 rows to
`salesforce-contacts-5000.csv`, seed 20240611; same seed, same bytes). Every `OwnerId` is a
`005…` id (25 of them) that matches no Anchora user. Every e-mail is unique (so nothing
merges); about 6 % of the contacts have none; a handful of rows — 7 of 5,000 with the default
seed, `rows // 700` in general — are truly invalid (no name, no e-mail; the script prints their
row numbers). Some streets hold line breaks, some descriptions quotes, some names are in
capitals or lower case. The script prints these counts and what a correct import
(`Id`→external_id, names/`Email`/`Phone`/`Title`/`MailingCity` mapped, `OwnerId` unmapped,
`match_on: "email"`) should report: with the default seed, 4,993 created, 0 merged, 7 rejected
(`last_name is required`). Mapping `OwnerId` to `owner` should only add a warning; the importer
at 0cb9b8f then rejects every row. The output is not kept in the repository; write it where
the test wants it.
"""
    with open(os.path.join(HERE, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main()
