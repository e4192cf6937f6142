//! Which column goes into which field: the targets a column can have, and suggestions read off
//! the header in any of our five languages, exactly or nearly.

use crate::error::{Error, FieldError, Result};
use crate::meta::{FieldType, ObjectDef, Schema};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where one column's values go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A field of the imported object.
    Field { field: String },
    /// A relation found by a field of the related record: `company.org_number`, `company.name`.
    Related { field: String, key: String },
    /// The owner, found by e-mail address or name.
    Owner,
}

impl Target {
    /// The name a mapping uses: `first_name`, `company.org_number`, `owner`.
    pub fn name(&self) -> String {
        match self {
            Target::Field { field } => field.clone(),
            Target::Related { field, key } => format!("{field}.{key}"),
            Target::Owner => "owner".into(),
        }
    }

    /// Read a target name against the object. A relation named alone is found by the related
    /// object's title field (`company` = `company.name`).
    pub fn parse(schema: &Schema, object: &ObjectDef, name: &str) -> std::result::Result<Target, String> {
        if name == "owner" {
            return Ok(Target::Owner);
        }
        let (field_name, key) = match name.split_once('.') {
            Some((f, k)) => (f, Some(k)),
            None => (name, None),
        };
        let field = object
            .field(field_name)
            .ok_or_else(|| format!("{} has no field {field_name:?}", object.name))?;
        match (field.field_type, key) {
            (FieldType::Relation, key) => {
                let target_name = field.target.as_deref().unwrap_or_default();
                let target = schema.object(target_name).map_err(|e| e.detail)?;
                let key = match key {
                    Some(k) => k.to_string(),
                    None => target
                        .title_fields
                        .first()
                        .cloned()
                        .ok_or_else(|| format!("{target_name} has no title field to match on"))?,
                };
                match target.field(&key) {
                    Some(f) if f.field_type.is_textual() => Ok(Target::Related {
                        field: field.name.clone(),
                        key,
                    }),
                    Some(_) => Err(format!("{target_name}.{key} is not a text field to match on")),
                    None => Err(format!("{target_name} has no field {key:?}")),
                }
            }
            (_, Some(_)) => Err(format!("{field_name} is not a relation")),
            (FieldType::User, None) => Err(format!("{field_name} holds a user; map it to owner instead")),
            (_, None) => Ok(Target::Field {
                field: field.name.clone(),
            }),
        }
    }
}

/// Every column's target, in column order (`None`: not imported).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    pub columns: Vec<Option<Target>>,
}

impl Mapping {
    /// Read a mapping given as header → target name (a null or empty target skips the column).
    /// Headers not named keep no target. Every mistake is reported, each named
    /// `mapping.<header>`.
    pub fn from_names(
        schema: &Schema,
        object: &ObjectDef,
        headers: &[String],
        names: &BTreeMap<String, Option<String>>,
    ) -> Result<Mapping> {
        let mut errors = Vec::new();
        let mut columns: Vec<Option<Target>> = vec![None; headers.len()];
        for (header, name) in names {
            let Some(index) = headers.iter().position(|h| h == header) else {
                errors.push(FieldError::new(
                    format!("mapping.{header}"),
                    "is not a column of the file",
                ));
                continue;
            };
            let Some(name) = name.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
                continue;
            };
            match Target::parse(schema, object, name) {
                Ok(t) => {
                    if let Some(slot) = columns.get_mut(index) {
                        *slot = Some(t);
                    }
                }
                Err(message) => errors.push(FieldError::new(format!("mapping.{header}"), message)),
            }
        }
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for (target, header) in columns.iter().zip(headers) {
            if let Some(t) = target
                && let Some(first) = seen.insert(t.name(), header)
            {
                errors.push(FieldError::new(
                    format!("mapping.{header}"),
                    format!("{} is already filled from column {first:?}", t.name()),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Mapping { columns })
        } else {
            Err(Error::validation(errors))
        }
    }

    pub fn names(&self, headers: &[String]) -> BTreeMap<String, Option<String>> {
        headers
            .iter()
            .zip(&self.columns)
            .map(|(h, t)| (h.clone(), t.as_ref().map(Target::name)))
            .collect()
    }

    pub fn maps(&self, name: &str) -> bool {
        self.columns.iter().flatten().any(|t| t.name() == name)
    }
}

/// The mapping an import runs with: the importer's suggestions, then what the user chose on
/// top (a column named, a column skipped). What the user chose always wins: a column suggested
/// for a field the user put on another column is left out, and two columns suggested for one
/// field keep only the first. Each column left out is said in the returned notes; none stops
/// the import.
pub fn combine(headers: &[String], suggested: &Names, chosen: &Names) -> (Names, Vec<LeftOut>) {
    let mut out = suggested.clone();
    for (header, target) in chosen {
        out.insert(header.clone(), target.clone().filter(|t| !t.trim().is_empty()));
    }
    let target_of = |out: &Names, h: &str| {
        out.get(h)
            .cloned()
            .flatten()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    // Columns in file order, the user's first: they keep a target two columns share.
    let mut order: Vec<&String> = headers.iter().filter(|h| chosen.contains_key(*h)).collect();
    order.extend(headers.iter().filter(|h| !chosen.contains_key(*h)));
    let mut holder: BTreeMap<String, &String> = BTreeMap::new();
    let mut notes = Vec::new();
    for header in order {
        let Some(target) = target_of(&out, header) else {
            continue;
        };
        match holder.get(&target) {
            None => {
                holder.insert(target, header);
            }
            // Two columns the user chose for one field: theirs to settle (the mapping says
            // which), not ours to drop.
            Some(_) if chosen.contains_key(header) => {}
            Some(kept) => {
                notes.push(LeftOut {
                    column: header.clone(),
                    target,
                    kept: (*kept).clone(),
                });
                out.insert(header.clone(), None);
            }
        }
    }
    (out, notes)
}

/// A mapping by name: column header → target name (`None`: the column is not imported).
pub type Names = BTreeMap<String, Option<String>>;

/// A column [`combine`] left out: the target it was suggested for is filled from another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub column: String,
    pub target: String,
    pub kept: String,
}

impl std::fmt::Display for LeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "column {:?} was left out: {} is filled from column {:?}",
            self.column, self.target, self.kept
        )
    }
}

/// A suggested target for one column, and how sure we are (1 for an exact name).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub header: String,
    pub target: Option<String>,
    pub score: f64,
}

/// The closest a header may be to a name for a fuzzy match (Jaro-Winkler, on folded text).
const FUZZY_MIN: f64 = 0.9;

/// Suggest a target for every column: exact matches of field names, labels and the words for
/// them in English, Swedish, German, Danish and Spanish first, then near ones. Each target is
/// suggested once, for the column that fits it best.
pub fn suggest(schema: &Schema, object: &ObjectDef, headers: &[String]) -> Vec<Suggestion> {
    let candidates = candidates(schema, object);
    let mut scored: Vec<(f64, usize, String)> = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        let folded = fold(header);
        if folded.is_empty() {
            continue;
        }
        let mut best: BTreeMap<&str, f64> = BTreeMap::new();
        for (word, target) in &candidates {
            let score = if *word == folded {
                1.0
            } else if folded.len() >= 4 && word.len() >= 4 {
                strsim::jaro_winkler(&folded, word)
            } else {
                0.0
            };
            if score >= FUZZY_MIN {
                let slot = best.entry(target.as_str()).or_insert(0.0);
                *slot = slot.max(score);
            }
        }
        for (target, score) in best {
            scored.push((score, i, target.to_string()));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out: Vec<Suggestion> = headers
        .iter()
        .map(|h| Suggestion {
            header: h.clone(),
            target: None,
            score: 0.0,
        })
        .collect();
    let mut taken: Vec<String> = Vec::new();
    for (score, i, target) in scored {
        let Some(slot) = out.get_mut(i) else { continue };
        if slot.target.is_some() || taken.contains(&target) {
            continue;
        }
        taken.push(target.clone());
        slot.target = Some(target);
        slot.score = (score * 100.0).round() / 100.0;
    }
    out
}

/// Lower-case, accents folded, only letters and digits: "E-Mail-Adresse" → "emailadresse".
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match plain_letter(c) {
            Some(plain) => out.push_str(plain),
            None if c.is_alphanumeric() => out.push(c),
            None => {}
        }
    }
    out
}

/// A lower-case accented letter of our five languages as plain ASCII (`ö` → `o`, `ß` → `ss`).
pub fn plain_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'å' | 'ä' | 'á' | 'à' | 'â' => "a",
        'æ' => "ae",
        'ö' | 'ø' | 'ó' | 'ò' | 'ô' => "o",
        'ü' | 'ú' | 'ù' | 'û' => "u",
        'é' | 'è' | 'ê' | 'ë' => "e",
        'í' | 'ì' | 'î' | 'ï' => "i",
        'ñ' => "n",
        'ç' => "c",
        'ß' => "ss",
        _ => return None,
    })
}

/// (folded word, target name) pairs for an object: names, labels, and the known words.
fn candidates(schema: &Schema, object: &ObjectDef) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for field in object.active_fields() {
        let target = match field.field_type {
            FieldType::User => continue,
            _ => field.name.clone(),
        };
        out.push((fold(&field.name), target.clone()));
        out.push((fold(&field.label), target.clone()));
        if field.field_type == FieldType::Relation
            && let Some(related) = field.target.as_deref().and_then(|t| schema.object(t).ok())
        {
            out.push((fold(&related.label), target.clone()));
        }
    }
    for (target, words) in WORDS {
        let known = Target::parse(schema, object, target).is_ok();
        if known {
            for word in *words {
                out.push((fold(word), (*target).to_string()));
            }
        }
    }
    out.retain(|(w, _)| !w.is_empty());
    out
}

const ORG_NUMBER_WORDS: &[&str] = &[
    "org number",
    "organisation number",
    "organization number",
    "orgnr",
    "org nr",
    "organisationsnummer",
    "corporate id",
    "company registration number",
    "registration number",
    "handelsregisternummer",
    "registernummer",
    "cvr",
    "cvr nummer",
    "cvr-nr",
    "cif",
    "nif",
    "número de identificación fiscal",
];

/// Column headings seen in real exports, in en, sv, de, da and es, per target. A target that
/// does not exist on the imported object is skipped.
const WORDS: &[(&str, &[&str])] = &[
    (
        "first_name",
        &[
            "first name",
            "firstname",
            "given name",
            "forename",
            "förnamn",
            "tilltalsnamn",
            "vorname",
            "fornavn",
            "nombre",
            "nombre de pila",
        ],
    ),
    (
        "last_name",
        &[
            "last name",
            "lastname",
            "surname",
            "family name",
            "efternamn",
            "nachname",
            "familienname",
            "efternavn",
            "apellido",
            "apellidos",
        ],
    ),
    (
        "email",
        &[
            "email",
            "e-mail",
            "mail",
            "email address",
            "e-post",
            "epost",
            "e-postadress",
            "mejl",
            "e-mail-adresse",
            "emailadresse",
            "e-mailadresse",
            "correo",
            "correo electrónico",
            "email personal",
        ],
    ),
    (
        "phone",
        &[
            "phone",
            "telephone",
            "tel",
            "phone number",
            "mobile",
            "mobile phone",
            "cell",
            "telefon",
            "telefonnummer",
            "mobil",
            "mobilnummer",
            "mobiltelefon",
            "handy",
            "handynummer",
            "teléfono",
            "móvil",
            "celular",
            "número de teléfono",
        ],
    ),
    (
        "title",
        &[
            "title",
            "job title",
            "position",
            "role",
            "titel",
            "befattning",
            "yrkesroll",
            "tjänst",
            "berufsbezeichnung",
            "funktion",
            "stilling",
            "jobtitel",
            "cargo",
            "puesto",
        ],
    ),
    (
        "city",
        &[
            "city",
            "town",
            "ort",
            "stad",
            "postort",
            "stadt",
            "wohnort",
            "by",
            "bynavn",
            "ciudad",
            "localidad",
            "población",
            "municipio",
        ],
    ),
    (
        "company",
        &[
            "company",
            "company name",
            "organisation",
            "organization",
            "account",
            "account name",
            "employer",
            "företag",
            "företagsnamn",
            "bolag",
            "arbetsgivare",
            "firma",
            "firmenname",
            "unternehmen",
            "virksomhed",
            "firmanavn",
            "arbejdsgiver",
            "empresa",
            "compañía",
            "organización",
            "razón social",
        ],
    ),
    // A person's company by its number, or a company's own number: the same words.
    ("company.org_number", ORG_NUMBER_WORDS),
    ("org_number", ORG_NUMBER_WORDS),
    (
        "name",
        &[
            "name",
            "company",
            "company name",
            "account name",
            "namn",
            "företag",
            "företagsnamn",
            "firma",
            "firmenname",
            "unternehmen",
            "navn",
            "virksomhed",
            "firmanavn",
            "nombre",
            "empresa",
            "razón social",
        ],
    ),
    (
        "domain",
        &[
            "domain",
            "website",
            "web site",
            "web",
            "homepage",
            "url",
            "webbplats",
            "hemsida",
            "webbadress",
            "webseite",
            "internetseite",
            "homepage url",
            "hjemmeside",
            "sitio web",
            "página web",
            "dominio",
        ],
    ),
    (
        "address",
        &[
            "address",
            "street",
            "street address",
            "adress",
            "gatuadress",
            "besöksadress",
            "adresse",
            "straße",
            "anschrift",
            "gade",
            "dirección",
            "calle",
            "domicilio",
        ],
    ),
    ("country", &["country", "land", "länd", "staat", "país", "pais"]),
    (
        "external_id",
        &[
            "external id",
            "id",
            "customer number",
            "customer id",
            "kundnummer",
            "kundnr",
            "kund-id",
            "externt id",
            "kundennummer",
            "kunden-nr",
            "externe id",
            "kundenummer",
            "ekstern id",
            "número de cliente",
            "id externo",
            "legacy id",
            "crm id",
        ],
    ),
    (
        "owner",
        &[
            "owner",
            "account owner",
            "contact owner",
            "sales rep",
            "ägare",
            "säljare",
            "ansvarig",
            "kundansvarig",
            "besitzer",
            "verantwortlich",
            "betreuer",
            "ejer",
            "ansvarlig",
            "sælger",
            "propietario",
            "responsable",
            "vendedor",
        ],
    ),
    (
        "email_consent",
        &[
            "consent",
            "email consent",
            "samtycke",
            "einwilligung",
            "samtykke",
            "consentimiento",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::standard_objects;

    fn schema() -> Schema {
        let mut schema = Schema::default();
        for mut o in standard_objects() {
            if o.name == "person" || o.name == "company" {
                let mut f = crate::meta::FieldDef::new("external_id", "External id", FieldType::Text);
                f.standard = true;
                o.fields.push(f);
            }
            schema.objects.insert(o.name.clone(), o);
        }
        schema
    }

    fn suggested(object: &str, headers: &[&str]) -> Vec<Option<String>> {
        let schema = schema();
        let object = schema.objects.get(object).unwrap().clone();
        let headers: Vec<String> = headers.iter().map(|s| (*s).to_string()).collect();
        suggest(&schema, &object, &headers)
            .into_iter()
            .map(|s| s.target)
            .collect()
    }

    #[test]
    fn what_the_user_maps_wins_over_a_suggestion_and_a_shared_target_leaves_one_column_out() {
        let headers: Vec<String> = ["Telefon (privat)", "Telefon geschäftlich", "Nachname", "Name"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        let named = |pairs: &[(&str, Option<&str>)]| -> BTreeMap<String, Option<String>> {
            pairs
                .iter()
                .map(|(h, t)| ((*h).to_string(), t.map(str::to_string)))
                .collect()
        };
        let suggested = named(&[
            ("Telefon (privat)", Some("phone")),
            ("Telefon geschäftlich", None),
            ("Nachname", Some("last_name")),
            ("Name", Some("last_name")),
        ]);
        let chosen = named(&[("Telefon geschäftlich", Some("phone"))]);
        let (mapping, notes) = combine(&headers, &suggested, &chosen);
        assert_eq!(mapping["Telefon geschäftlich"].as_deref(), Some("phone"));
        assert_eq!(mapping["Telefon (privat)"], None, "the suggestion gives way");
        assert_eq!(
            mapping["Nachname"].as_deref(),
            Some("last_name"),
            "the first column keeps it"
        );
        assert_eq!(mapping["Name"], None);
        let notes: Vec<String> = notes.iter().map(ToString::to_string).collect();
        assert_eq!(
            notes,
            vec![
                "column \"Telefon (privat)\" was left out: phone is filled from column \"Telefon geschäftlich\"",
                "column \"Name\" was left out: last_name is filled from column \"Nachname\"",
            ]
        );
        let schema = schema();
        let person = schema.objects.get("person").unwrap();
        assert!(Mapping::from_names(&schema, person, &headers, &mapping).is_ok());
        // Two columns the user put on one field: not ours to pick, the mapping says so.
        let both = named(&[("Nachname", Some("last_name")), ("Name", Some(" last_name"))]);
        let (mapping, notes) = combine(&headers, &suggested, &both);
        assert!(notes.is_empty(), "{notes:?}");
        let err = Mapping::from_names(&schema, person, &headers, &mapping).unwrap_err();
        assert_eq!(err.errors[0].field, "mapping.Name", "{err:?}");
    }

    #[test]
    fn headers_in_five_languages_map_to_the_same_fields() {
        let want = vec![
            Some("first_name".to_string()),
            Some("last_name".to_string()),
            Some("email".to_string()),
            Some("phone".to_string()),
            Some("company".to_string()),
            Some("company.org_number".to_string()),
        ];
        for headers in [
            ["First name", "Last name", "E-mail", "Phone", "Company", "Org number"],
            [
                "Förnamn",
                "Efternamn",
                "E-post",
                "Telefon",
                "Företag",
                "Organisationsnummer",
            ],
            [
                "Vorname",
                "Nachname",
                "E-Mail-Adresse",
                "Telefonnummer",
                "Firma",
                "Handelsregisternummer",
            ],
            ["Fornavn", "Efternavn", "Email", "Mobil", "Virksomhed", "CVR-nr."],
            [
                "Nombre",
                "Apellidos",
                "Correo electrónico",
                "Teléfono",
                "Empresa",
                "CIF",
            ],
        ] {
            assert_eq!(suggested("person", &headers), want, "{headers:?}");
        }
    }

    #[test]
    fn near_misses_are_suggested_and_nonsense_is_not() {
        let got = suggested("person", &["Frst name", "Emial adress", "Shoe size", "", "Lastname"]);
        assert_eq!(got[0].as_deref(), Some("first_name"));
        assert_eq!(got[1].as_deref(), Some("email"));
        assert_eq!(got[2], None);
        assert_eq!(got[3], None);
        assert_eq!(got[4].as_deref(), Some("last_name"));
    }

    #[test]
    fn each_target_is_suggested_once_for_the_best_column() {
        let got = suggested("person", &["Mobil", "Telefon"]);
        // Both are words for phone, both exact: the first column wins, the second stays open.
        assert_eq!(got, vec![Some("phone".to_string()), None]);
        let got = suggested("company", &["Företagsnamn", "Webbplats", "Org.nr", "Id"]);
        assert_eq!(
            got,
            vec![
                Some("name".to_string()),
                Some("domain".to_string()),
                Some("org_number".to_string()),
                Some("external_id".to_string())
            ]
        );
    }

    #[test]
    fn mappings_are_checked_and_every_mistake_named() {
        let schema = schema();
        let person = schema.objects.get("person").unwrap().clone();
        let headers: Vec<String> = ["A", "B", "C", "D", "E"].iter().map(|s| (*s).to_string()).collect();
        let names: BTreeMap<String, Option<String>> = [
            ("A", Some("first_name")),
            ("B", Some("company.org_number")),
            ("C", Some("shoe_size")),
            ("D", Some("first_name")),
            ("Z", Some("email")),
        ]
        .iter()
        .map(|(h, t)| ((*h).to_string(), t.map(str::to_string)))
        .collect();
        let err = Mapping::from_names(&schema, &person, &headers, &names).unwrap_err();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["mapping.C", "mapping.Z", "mapping.D"]);
        let ok: BTreeMap<String, Option<String>> = [("A", Some("first_name")), ("B", Some("company")), ("E", None)]
            .iter()
            .map(|(h, t)| ((*h).to_string(), t.map(str::to_string)))
            .collect();
        let m = Mapping::from_names(&schema, &person, &headers, &ok).unwrap();
        assert_eq!(
            m.columns[1],
            Some(Target::Related {
                field: "company".into(),
                key: "name".into()
            })
        );
        assert!(Target::parse(&schema, &person, "first_name.x").is_err());
        assert!(Target::parse(&schema, &person, "company.nope").is_err());
        assert!(Target::parse(&schema, &person, "company.city").is_ok());
    }
}
