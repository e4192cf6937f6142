#!/usr/bin/env python3
"""Write a large Salesforce Contact.csv in the layout of salesforce-contacts.csv.

    python3 make_salesforce_5000.py [OUT] [--rows N] [--seed S]

Defaults: OUT = salesforce-contacts-5000.csv next to this script, N = 5000, S = 20240611.
Python 3 standard library only; the same seed writes the same bytes.

The layout is the Contact export of a Salesforce org (weekly Data Export / Data Loader): API
field names as headers, every value in double quotes (empty ones as ""), comma, UTF-8 without a
BOM, CRLF, 18-character ids, datetimes as 2023-04-12T08:15:30.000Z. See README.md.

What the file holds, and what it is for:
- every OwnerId (and CreatedById/LastModifiedById) is a 005... user id of the source org that
  matches no Anchora user;
- every e-mail is unique; some contacts have none (Salesforce allows that);
- a few rows are truly invalid: no LastName, no FirstName, no Name and no Email (Salesforce
  itself would not hold them; they stand for a damaged or hand-edited export);
- some MailingStreet cells hold a line break, some Descriptions commas and quotes, some names
  are in capitals or lower case.

At the end the script prints the counts, and what a correct import should report with
Id -> external_id, FirstName/LastName/Email/Phone/Title/MailingCity mapped, OwnerId unmapped,
match_on "email".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random

HEADER = [
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

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def sf18(id15: str) -> str:
    """Append Salesforce's 3-character case-safe checksum to a 15-character id."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, c in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= c <= "Z":
                bits |= 1 << i
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return id15 + suffix


class Ids:
    """Unique 18-character ids per key prefix (003 contact, 001 account, 005 user)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def new(self, prefix: str) -> str:
        while True:
            tail = "".join(self.rng.choice(B62) for _ in range(6))
            id18 = sf18(f"{prefix}5g0000{tail}")
            if id18.lower() not in self.used:  # unique even case-insensitively
                self.used.add(id18.lower())
                return id18


# Countries: (country, e-mail TLD, phone prefix, cities with postcodes, streets, salutations)
COUNTRIES = {
    "SE": ("Sweden", "se", "+46",
           [("Stockholm", "111 34"), ("Göteborg", "411 21"), ("Malmö", "211 22"), ("Uppsala", "753 20"),
            ("Västerås", "722 15"), ("Örebro", "702 10"), ("Linköping", "582 24"), ("Jönköping", "553 20"),
            ("Umeå", "903 26"), ("Luleå", "972 31")],
           ["Storgatan", "Drottninggatan", "Kungsgatan", "Sveavägen", "Östra Hamngatan", "Järnvägsgatan",
            "Södra Förstadsgatan", "Åsgatan"]),
    "DK": ("Denmark", "dk", "+45",
           [("København K", "1165"), ("Aarhus C", "8000"), ("Odense C", "5000"), ("Aalborg", "9000"),
            ("Ærøskøbing", "5970"), ("Esbjerg", "6700"), ("Roskilde", "4000"), ("Køge", "4600")],
           ["Nørregade", "Vestergade", "Østergade", "Søndergade", "Åboulevarden", "Kongensgade"]),
    "NO": ("Norway", "no", "+47",
           [("Oslo", "0150"), ("Bergen", "5003"), ("Bodø", "8006"), ("Tromsø", "9008"), ("Trondheim", "7011")],
           ["Storgata", "Kongens gate", "Sjøgata", "Strandgata"]),
    "DE": ("Germany", "de", "+49",
           [("München", "80802"), ("Köln", "50670"), ("Düsseldorf", "40212"), ("Nürnberg", "90402"),
            ("Gießen", "35398"), ("Würzburg", "97070"), ("Lübeck", "23552"), ("Göttingen", "37073"),
            ("Berlin", "10115"), ("Hamburg", "20095")],
           ["Hauptstraße", "Bahnhofstraße", "Schloßstraße", "Königstraße", "Mühlenweg", "Gartenstraße",
            "Leopoldstraße", "Marktplatz"]),
    "ES": ("Spain", "es", "+34",
           [("Madrid", "28009"), ("Barcelona", "08001"), ("Málaga", "29005"), ("A Coruña", "15003"),
            ("Logroño", "26001"), ("Cádiz", "11001"), ("León", "24001"), ("Bilbao", "48001")],
           ["Calle Mayor", "Gran Vía", "Calle de Alcalá", "Avenida de la Constitución", "Calle Larios",
            "Rúa Real", "Paseo de Gràcia"]),
    "GB": ("United Kingdom", "co.uk", "+44",
           [("London", "EC3M 3BY"), ("Manchester", "M3 3AP"), ("Bristol", "BS1 4DJ"), ("Leeds", "LS1 4DY"),
            ("Edinburgh", "EH1 1YZ")],
           ["High Street", "Station Road", "Church Lane", "King Street", "Fenchurch Street"]),
}
FIRST = {
    "SE": ["Erik", "Anna", "Lars", "Karin", "Björn", "Åsa", "Göran", "Märta", "Linnéa", "Jöns", "Sofia",
           "Oskar", "Ingrid", "Henrik", "Ebba", "Mikael", "Elin", "Gustav", "Tove", "Per"],
    "DK": ["Søren", "Mette", "Jens", "Birgitte", "Rasmus", "Freja", "Anders", "Line", "Niels", "Kirsten",
           "Mads", "Signe", "Bjørn", "Ærling"],
    "NO": ["Øystein", "Ingrid", "Håkon", "Solveig", "Bjørg", "Torbjørn", "Åse"],
    "DE": ["Jürgen", "Claudia", "Stefan", "Anke", "Thomas", "Sabine", "Uwe", "Katrin", "Matthias", "Heike",
           "Dieter", "Ursula", "Günter", "Jörg", "Bärbel", "Björn"],
    "ES": ["José", "María", "Íñigo", "Lucía", "Álvaro", "Begoña", "Raúl", "Nuria", "Ángel", "Inés",
           "Sofía", "Martín", "Adrián", "Maite"],
    "GB": ["Oliver", "Emma", "James", "Charlotte", "Daniel", "Sophie", "Liam", "Grace", "Amelia", "George"],
}
LAST = {
    "SE": ["Öberg", "Ångström", "Sjöström", "Åkesson", "Lindqvist", "Nyström", "Hägg", "Ekström",
           "Söderberg", "Wåhlin", "Bäckström", "Östlund", "Dahlén", "Holmqvist", "Lövgren", "Fröberg",
           "Nordén", "Blomé", "Ärlebäck", "Åberg"],
    "DK": ["Kjærgaard", "Ærø", "Møller", "Østergaard", "Dalsgård", "Holm", "Bækgaard", "Søgaard",
           "Frederiksen", "Brønnum", "Løkke", "Sørensen", "Kjeldsen", "Lykke"],
    "NO": ["Bjørnstad", "Haugen", "Sæther", "Løvås", "Kåsa", "Strøm", "Aasen"],
    "DE": ["Müller", "Weiß", "Groß", "Schäfer", "Köhler", "Krüger", "Böhm", "Faßbender", "Hoffmann",
           "Jäger", "Weißmüller", "Schröder", "Kühn", "Krämer", "Bäumer", "Mößner", "Hübner", "Fröhlich"],
    "ES": ["Núñez", "Peña", "Ibáñez", "Muñoz", "Gómez", "Martínez", "Fernández", "Castaño", "Cañizares",
           "Ordóñez", "Sánchez", "Díaz", "Vázquez", "Pérez", "Rodríguez"],
    "GB": ["Smith", "Clarke", "O'Brien", "Hughes", "Wright", "Turner", "Walsh", "Bennett", "Price", "Ellis"],
}
TITLES = {
    "SE": ["Inköpschef", "VD", "Säljare", "Ekonomichef", "Projektledare", "Logistikchef", "Marknadschef", "Controller"],
    "DK": ["Direktør", "Indkøber", "Salgschef", "Konsulent", "Bogholder", "Projektleder"],
    "NO": ["Daglig leder", "Innkjøpssjef", "Driftssjef", "Selger"],
    "DE": ["Geschäftsführer", "Einkaufsleiterin", "Vertriebsleiter", "Projektleiter", "Buchhaltung", "Techniker"],
    "ES": ["Director técnico", "Gerente", "Responsable de compras", "Jefe de obra", "Arquitecta", "Administrativa"],
    "GB": ["Procurement Manager", "Finance Director", "Operations Manager", "Head of Sales", "Buyer"],
}
COMPANY_WORDS = {
    "SE": (["Nordvind", "Ångfartyg", "Öresund", "Fjällräv", "Älvdal", "Skärgård", "Björkhaga", "Sjöbris"],
           ["Logistik AB", "Bygg AB", "Gruppen AB", "Konsult AB", "Trä AB", "Energi AB"]),
    "DK": (["Kjærgaard", "Bækgaard", "Nørrebro", "Østerbro", "Ærø", "Søholm"], ["& Søn ApS", "Consult A/S", "Handel ApS"]),
    "NO": (["Nordlys", "Fjordkraft", "Havbølge", "Sjøstjerne"], ["Havbruk AS", "Transport AS", "Eiendom AS"]),
    "DE": (["Müller & Weiß", "Köhler", "Großmann", "Süßwaren Bäcker", "Lößnitz", "Weißenfels"],
           ["GmbH", "Maschinenbau GmbH", "AG", "e.K.", "GmbH & Co. KG"]),
    "ES": (["Núñez", "Peña", "Ibáñez", "Cañada", "Logroño", "Montaña"], ["Ingeniería S.L.", "Construcciones S.A.", "Servicios S.L."]),
    "GB": (["Brightwater", "Harbour & Finch", "Kingsbridge", "Ashford"], ["Ltd", "LLP", "Holdings plc"]),
}
FOLD = {"ä": "a", "å": "a", "á": "a", "à": "a", "æ": "ae", "ö": "o", "ø": "o", "ó": "o", "ü": "u",
        "ú": "u", "é": "e", "è": "e", "í": "i", "ñ": "n", "ç": "c", "ß": "ss"}
FOLD_DE = dict(FOLD, ä="ae", ö="oe", ü="ue")
LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Trade Show", "Word of mouth", "Other", ""]


def ascii_part(s: str, german: bool) -> str:
    table = FOLD_DE if german else FOLD
    out = []
    for c in s.lower():
        if c in table:
            out.append(table[c])
        elif c.isascii() and (c.isalnum() or c == "-"):
            out.append(c)
    return "".join(out)


def quote_all(cells) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells)


def phone(rng: random.Random, prefix: str, mobile: bool) -> str:
    if prefix == "+46":
        return f"+46 70 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}" if mobile else \
            f"+46 {rng.choice(['8', '31', '40', '18', '90'])} {rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(10, 99)}"
    if prefix == "+44":
        return f"+44 7700 900{rng.randint(100, 999)}" if mobile else f"+44 20 7946 0{rng.randint(100, 999)}"
    if prefix == "+49":
        return f"+49 1{rng.choice(['51', '60', '71', '76'])} {rng.randint(1000000, 9999999)}" if mobile else \
            f"+49 {rng.choice(['89', '221', '211', '911', '641', '30'])} {rng.randint(100000, 9999999)}"
    if prefix == "+34":
        return f"+34 6{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}" if mobile else \
            f"+34 9{rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    return f"{prefix} {rng.randint(20, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"


def stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", default=os.path.join(here, "salesforce-contacts-5000.csv"))
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=20240611)
    args = ap.parse_args()
    n_rows = args.rows
    rng = random.Random(args.seed)
    ids = Ids(rng)

    # Users of the source org. None of them exists in Anchora.
    owners = [ids.new("005") for _ in range(25)]
    integration_user = ids.new("005")

    # Accounts, each in one country, with a mail domain.
    accounts = []
    used_domains = set()
    weights = [("SE", 30), ("DE", 22), ("DK", 14), ("ES", 14), ("GB", 12), ("NO", 8)]
    for _ in range(max(20, n_rows // 12)):
        cc = rng.choices([c for c, _ in weights], [w for _, w in weights])[0]
        heads, tails = COMPANY_WORDS[cc]
        name = f"{rng.choice(heads)} {rng.choice(tails)}"
        base = ascii_part(name.split(" ")[0].replace("&", ""), cc == "DE") or "firma"
        tld = COUNTRIES[cc][1]
        domain = f"{base}.{tld}"
        k = 2
        while domain in used_domains:
            domain = f"{base}{k}.{tld}"
            k += 1
        used_domains.add(domain)
        city, postcode = rng.choice(COUNTRIES[cc][3])
        street = f"{rng.choice(COUNTRIES[cc][4])} {rng.randint(1, 140)}"
        accounts.append({"id": ids.new("001"), "cc": cc, "domain": domain, "city": city,
                         "zip": postcode, "street": street})

    # Which rows are invalid: a handful, spread through the file, never the first.
    n_invalid = max(1, n_rows // 700)  # 7 for 5,000 rows
    invalid_rows = set(rng.sample(range(2, n_rows), n_invalid)) if n_rows > 2 else set()

    used_emails = set()
    counts = {"invalid": 0, "no_email": 0, "line_break": 0, "quotes": 0, "caps": 0, "lower": 0, "caps_email": 0}
    lines = [quote_all(HEADER)]
    base_time = dt.datetime(2018, 1, 1, 6, 0, 0)
    for i in range(n_rows):
        acct = rng.choice(accounts)
        cc = acct["cc"]
        country, tld, prefix, cities, streets = COUNTRIES[cc]
        created = base_time + dt.timedelta(minutes=rng.randint(0, 6 * 365 * 24 * 60), seconds=rng.randint(0, 59))
        modified = created + dt.timedelta(minutes=rng.randint(0, 400 * 24 * 60))
        owner = rng.choice(owners)
        v = {h: "" for h in HEADER}
        v.update({"Id": ids.new("003"), "IsDeleted": "false", "HasOptedOutOfEmail": "true" if rng.random() < 0.07 else "false",
                  "HasOptedOutOfFax": "false", "DoNotCall": "true" if rng.random() < 0.02 else "false",
                  "CreatedDate": stamp(created), "CreatedById": integration_user if rng.random() < 0.3 else owner,
                  "LastModifiedDate": stamp(modified), "LastModifiedById": owner, "SystemModstamp": stamp(modified),
                  "OwnerId": owner})
        if i in invalid_rows:
            # No name at all and no e-mail: only an account, a phone and the system columns.
            counts["invalid"] += 1
            v.update({"AccountId": acct["id"], "Phone": phone(rng, prefix, False), "MailingCity": acct["city"],
                      "MailingCountry": country})
            lines.append(quote_all([v[h] for h in HEADER]))
            continue
        first = rng.choice(FIRST["NO" if cc == "NO" else cc])
        last = rng.choice(LAST["NO" if cc == "NO" else cc])
        roll = rng.random()
        if roll < 0.01:
            first, last = first.upper(), last.upper()
            counts["caps"] += 1
        elif roll < 0.02:
            first, last = first.lower(), last.lower()
            counts["lower"] += 1
        german = cc == "DE"
        email = ""
        if rng.random() >= 0.06:  # 6 % have no e-mail
            local = f"{ascii_part(first, german)}.{ascii_part(last, german)}"
            email = f"{local}@{acct['domain']}"
            k = 2
            while email.lower() in used_emails:
                email = f"{local}{k}@{acct['domain']}"
                k += 1
            used_emails.add(email.lower())
            if rng.random() < 0.005:
                email = email.upper()
                counts["caps_email"] += 1
        else:
            counts["no_email"] += 1
        street = acct["street"]
        if rng.random() < 0.03:
            street = f"{street}\n{rng.choice(['Plan 2', 'Hus B', '3. OG', 'c/o Reception', '2. sal', 'Planta 4'])}"
            counts["line_break"] += 1
        description = ""
        if rng.random() < 0.05:
            description = f'Met at "{rng.choice(["Nordic Logistics Expo", "Hannover Messe", "Fitur"])}", {rng.choice(cities)[0]}; wants a quote, "ASAP".'
            counts["quotes"] += 1
        v.update({
            "AccountId": acct["id"], "LastName": last, "FirstName": first,
            "Salutation": rng.choice(["Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", ""]),
            "Name": f"{first} {last}", "MailingStreet": street, "MailingCity": acct["city"],
            "MailingPostalCode": acct["zip"], "MailingCountry": country,
            "Phone": phone(rng, prefix, False) if rng.random() < 0.85 else "",
            "MobilePhone": phone(rng, prefix, True) if rng.random() < 0.5 else "",
            "Email": email, "Title": rng.choice(TITLES["NO" if cc == "NO" else cc]),
            "LeadSource": rng.choice(LEAD_SOURCES), "Description": description,
            "LastActivityDate": (modified.date().isoformat() if rng.random() < 0.4 else ""),
            "Birthdate": (dt.date(rng.randint(1955, 2000), rng.randint(1, 12), rng.randint(1, 28)).isoformat()
                          if rng.random() < 0.1 else ""),
        })
        lines.append(quote_all([v[h] for h in HEADER]))

    with open(args.out, "wb") as f:
        f.write(("\r\n".join(lines) + "\r\n").encode("utf-8"))

    valid = n_rows - counts["invalid"]
    print(f"wrote {args.out}")
    print(f"rows: {n_rows} data rows ({n_rows + 1} with the header), {len(HEADER)} columns, seed {args.seed}")
    print(f"owners: {len(owners)} distinct OwnerId values, none of them an Anchora user")
    print(f"truly invalid rows (no name, no e-mail): {counts['invalid']} "
          f"(row numbers, header = 1: {', '.join(str(r + 2) for r in sorted(invalid_rows))})")
    print(f"rows without e-mail (valid): {counts['no_email']}; e-mail in capitals: {counts['caps_email']}; "
          f"names in capitals: {counts['caps']}; in lower case: {counts['lower']}")
    print(f"MailingStreet with a line break: {counts['line_break']}; Description with quotes: {counts['quotes']}")
    print("expected, correct import (Id->external_id, names/Email/Phone/Title/MailingCity mapped, OwnerId unmapped, "
          "match_on email):")
    print(f"  created {valid}, merged 0, rejected {counts['invalid']} (last_name is required)")
    print(f"  with OwnerId mapped to owner: every row names an unknown owner -> a correct import warns and creates {valid}; "
          f"the importer at 0cb9b8f rejects all {n_rows}")


if __name__ == "__main__":
    main()
