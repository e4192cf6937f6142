//! The exports of five other systems, in the layouts and encodings they really write
//! (`testdata/exports`, with what a correct import yields in its README): imported with
//! warnings instead of rejections, the same person twice merged, and every file imported again
//! without one new record.

use super::H;
use anchora_core::Clock;
use anchora_core::import::job::WarningKind;
use anchora_core::import::mapping::{combine, suggest};
use anchora_core::import::service::sha256_hex;
use anchora_core::import::{ImportJob, ImportSettings, JobStatus};
use anchora_core::store::*;
use std::collections::BTreeMap;
use std::io::{Cursor, Read};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../testdata/exports/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn settings(mapping: &[(&str, &str)]) -> ImportSettings {
    ImportSettings {
        object: "person".into(),
        mapping: mapping
            .iter()
            .map(|(h, t)| ((*h).to_string(), Some((*t).to_string())))
            .collect::<BTreeMap<_, _>>(),
        match_on: Some("email".into()),
        create_related: true,
        dry_run: false,
        default_owner: None,
        left_out: Vec::new(),
        selection: None,
    }
}

/// A workspace of its own per file: "an empty database whose users are none of the owners".
struct Ws {
    crm: anchora_core::service::Crm,
    store: std::sync::Arc<anchora_store::SqlStore>,
    admin: anchora_core::auth::Principal,
}

impl Ws {
    async fn new(h: &H, name: &str) -> Ws {
        let store = h.instance.add_workspace(name, h.clock.now()).await.unwrap();
        let admin = super::add_user(
            &*store,
            "admin@example.com",
            anchora_core::auth::Role::Admin,
            h.clock.now(),
        )
        .await;
        let crm = anchora_core::service::Crm::new(store.clone(), h.clock.clone());
        Ws { crm, store, admin }
    }
}

async fn import(h: &Ws, settings: ImportSettings, name: &str, bytes: &[u8]) -> ImportJob {
    let job = h
        .crm
        .import_now(
            &h.admin,
            settings,
            name,
            sha256_hex(bytes),
            Cursor::new(bytes.to_vec()),
            &mut |_| true,
        )
        .await
        .unwrap();
    assert_eq!(job.status, JobStatus::Done, "{job:?}");
    job
}

async fn rejected_rows(h: &Ws, job: &ImportJob) -> Vec<(u64, String)> {
    h.store
        .import_rejects(job.id, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.number, r.reason))
        .collect()
}

async fn warnings(h: &Ws, job: &ImportJob, kind: WarningKind) -> Vec<(u64, String)> {
    h.store
        .import_warnings(job.id, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|w| w.kind == kind)
        .map(|w| (w.row, w.detail))
        .collect()
}

async fn people(h: &Ws) -> i64 {
    let person = h.crm.object("person").await.unwrap().1;
    h.store.count_records(&person).await.unwrap()
}

struct Expected {
    file: &'static str,
    mapping: &'static [(&'static str, &'static str)],
    created: u64,
    merged: Vec<(u64, String)>,
    rejected: Vec<u64>,
    digits_lost: Vec<u64>,
    /// Unknown owners: rows naming one, and the distinct names.
    owners: (u64, usize),
}

fn files() -> Vec<Expected> {
    vec![
        Expected {
            file: "salesforce-contacts.csv",
            mapping: &[
                ("Id", "external_id"),
                ("FirstName", "first_name"),
                ("LastName", "last_name"),
                ("Email", "email"),
                ("Phone", "phone"),
                ("Title", "title"),
                ("MailingCity", "city"),
            ],
            created: 39,
            merged: vec![],
            rejected: vec![30],
            digits_lost: vec![],
            owners: (0, 0),
        },
        Expected {
            file: "hubspot-contacts.csv",
            mapping: &[
                ("Record ID", "external_id"),
                ("First Name", "first_name"),
                ("Last Name", "last_name"),
                ("Email", "email"),
                ("Phone Number", "phone"),
                ("Job Title", "title"),
                ("City", "city"),
                ("Company Name", "company"),
                ("Contact owner", "owner"),
            ],
            created: 35,
            merged: vec![],
            rejected: vec![21],
            digits_lost: vec![],
            owners: (28, 4),
        },
        Expected {
            file: "pipedrive-people.txt",
            mapping: &[
                ("Person - ID", "external_id"),
                ("Person - First name", "first_name"),
                ("Person - Last name", "last_name"),
                ("Person - Email - Work", "email"),
                ("Person - Phone - Work", "phone"),
                ("Person - Job title", "title"),
                ("Person - City/town/village/locality of Postal address", "city"),
                ("Person - Organization", "company"),
                ("Person - Owner", "owner"),
            ],
            created: 32,
            merged: vec![(32, "9".into())],
            rejected: vec![34],
            digits_lost: vec![4],
            owners: (30, 4),
        },
        Expected {
            file: "lime-persons-sv.csv",
            mapping: &[
                ("Id", "external_id"),
                ("Förnamn", "first_name"),
                ("Efternamn", "last_name"),
                ("E-post", "email"),
                ("Telefon", "phone"),
                ("Befattning", "title"),
                ("Ort", "city"),
                ("Företag", "company"),
                ("Ansvarig", "owner"),
            ],
            created: 40,
            merged: vec![(36, "9".into())],
            rejected: vec![39],
            digits_lost: vec![14],
            owners: (39, 4),
        },
        Expected {
            file: "outlook-contacts-de.csv",
            mapping: &[
                ("Vorname", "first_name"),
                ("Nachname", "last_name"),
                ("E-Mail-Adresse", "email"),
                ("Telefon geschäftlich", "phone"),
                ("Position", "title"),
                ("Ort geschäftlich", "city"),
                ("Firma", "company"),
            ],
            created: 30,
            merged: vec![(20, "6".into())],
            rejected: vec![22],
            digits_lost: vec![13],
            owners: (0, 0),
        },
    ]
}

pub async fn real_exports_import_with_warnings_and_again_without_a_new_record(h: H) {
    let mut hubspot = None;
    for (i, want) in files().into_iter().enumerate() {
        let h = Ws::new(&h, &format!("file{i}")).await;
        let bytes = fixture(want.file);
        let job = import(&h, settings(want.mapping), want.file, &bytes).await;
        let c = job.counts;
        let what = format!("{}: {}", want.file, c.summary());
        assert_eq!(c.created, want.created, "{what}");
        assert_eq!(c.updated, 0, "{what}");
        assert_eq!(c.merged, want.merged.len() as u64, "{what}");
        let rejected = rejected_rows(&h, &job).await;
        assert_eq!(
            rejected,
            want.rejected
                .iter()
                .map(|n| (*n, "last_name is required".to_string()))
                .collect::<Vec<_>>(),
            "{what}"
        );
        assert_eq!(warnings(&h, &job, WarningKind::MergedWith).await, want.merged, "{what}");
        let lost: Vec<u64> = warnings(&h, &job, WarningKind::DigitsLost)
            .await
            .into_iter()
            .map(|(row, field)| {
                assert_eq!(field, "phone");
                row
            })
            .collect();
        assert_eq!(lost, want.digits_lost, "{what}");
        let owners = h.store.import_unknown_owners(job.id, 100).await.unwrap();
        assert_eq!(
            (owners.iter().map(|o| o.rows).sum::<u64>(), owners.len()),
            want.owners,
            "{what}: {owners:?}"
        );
        assert_eq!(
            c.warnings,
            want.merged.len() as u64 + want.digits_lost.len() as u64 + want.owners.0,
            "{what}"
        );
        let total = want.created as i64;
        assert_eq!(people(&h).await, total, "{what}");

        // The same file again: every row finds its record, by e-mail or, without one, by the
        // same name and company or phone.
        let again = import(&h, settings(want.mapping), want.file, &bytes).await;
        let c = again.counts;
        let what = format!("{} again: {}", want.file, c.summary());
        assert_eq!(c.created, 0, "{what}");
        assert_eq!(c.rejected, want.rejected.len() as u64, "{what}");
        assert_eq!(people(&h).await, total, "{what}");
        if want.file.starts_with("hubspot") {
            hubspot = Some(h);
        }
    }
    let h = hubspot.unwrap();
    let admin = h.admin.user_id;
    // Rows naming an owner who is no user were kept, owned by the importing user; the tab in
    // a HubSpot city cell became a space; the merged Pipedrive row filled its record.
    let params = anchora_core::service::ListParams {
        filter: Some(serde_json::json!({"field": "city", "op": "contains", "value": "Bodø"}).to_string()),
        ..Default::default()
    };
    let (o, page) = h.crm.list(&h.admin, "person", &params).await.unwrap();
    let bodo: Vec<serde_json::Value> = page.records.iter().map(|r| r.to_json(&o)).collect();
    assert_eq!(bodo.len(), 1, "{bodo:?}");
    assert_eq!(bodo[0]["city"], "Bodø Nordland");
    assert_eq!(bodo[0]["owner"], admin.to_string());
}

pub async fn a_user_mapping_wins_and_unknown_owners_go_to_the_default_owner(h: H) {
    let clock = h.clock.clone();
    let h = Ws::new(&h, "outlook").await;
    // German Outlook: the suggestions put a phone column on `phone`; the user names another.
    let bytes = fixture("outlook-contacts-de.csv");
    let schema = h.crm.schema().await.unwrap();
    let person = schema.object("person").unwrap().clone();
    let headers = anchora_core::import::source::open("outlook-contacts-de.csv", Cursor::new(bytes.clone()))
        .unwrap()
        .headers;
    let suggested: BTreeMap<String, Option<String>> = suggest(&schema, &person, &headers)
        .into_iter()
        .map(|s| (s.header, s.target))
        .collect();
    let chosen: BTreeMap<String, Option<String>> = [
        ("Telefon geschäftlich".to_string(), Some("phone".to_string())),
        ("E-Mail-Adresse".to_string(), Some("email".to_string())),
    ]
    .into_iter()
    .collect();
    let (mapping, left_out) = combine(&headers, &suggested, &chosen);
    assert_eq!(mapping["Telefon geschäftlich"].as_deref(), Some("phone"));
    let mut s = settings(&[]);
    s.mapping = mapping;
    s.left_out = left_out.into_iter().map(|l| l.column).collect();
    let columns_left_out = s.left_out.len();
    let job = import(&h, s, "outlook-contacts-de.csv", &bytes).await;
    assert!(job.counts.created >= 29, "{}", job.counts.summary());
    let notes = warnings(&h, &job, WarningKind::ColumnLeftOut).await;
    assert_eq!(notes.len(), columns_left_out);
    assert!(notes.iter().all(|(row, _)| *row == 1), "{notes:?}");

    // A Salesforce file of 5,000 rows whose every owner is a Salesforce user id, mapped to
    // owner, with the owner of the new records named.
    let mut zipped = zip::ZipArchive::new(Cursor::new(fixture("salesforce-contacts-5000.zip"))).unwrap();
    let mut big = Vec::new();
    zipped.by_index(0).unwrap().read_to_end(&mut big).unwrap();
    let owner = super::add_user(
        &*h.store,
        "sälj@exempel.se",
        anchora_core::auth::Role::User,
        clock.now(),
    )
    .await;
    let mut s = settings(&[
        ("Id", "external_id"),
        ("FirstName", "first_name"),
        ("LastName", "last_name"),
        ("Email", "email"),
        ("Phone", "phone"),
        ("Title", "title"),
        ("MailingCity", "city"),
        ("OwnerId", "owner"),
    ]);
    s.default_owner = Some("SÄLJ@exempel.se".into());
    let job = import(&h, s.clone(), "Contact.csv", &big).await;
    assert_eq!(
        (job.counts.created, job.counts.rejected),
        (4993, 7),
        "{}",
        job.counts.summary()
    );
    let owners = h.store.import_unknown_owners(job.id, 100).await.unwrap();
    assert_eq!(owners.len(), 25, "{owners:?}");
    assert_eq!(owners.iter().map(|o| o.rows).sum::<u64>(), 4993);
    let params = anchora_core::service::ListParams {
        filter: Some(serde_json::json!({"field": "owner", "op": "eq", "value": owner.user_id.to_string()}).to_string()),
        limit: Some("500".into()),
        ..Default::default()
    };
    let (_, page) = h.crm.list(&h.admin, "person", &params).await.unwrap();
    assert_eq!(page.records.len(), 500, "a page of the default owner's 4,993");

    // A default owner who is no active user stops the import before it starts.
    s.default_owner = Some("nobody@exempel.se".into());
    let err = h
        .crm
        .import_now(
            &h.admin,
            s,
            "Contact.csv",
            sha256_hex(&big),
            Cursor::new(big),
            &mut |_| true,
        )
        .await
        .unwrap_err();
    assert_eq!(err.errors[0].field, "default_owner", "{err:?}");
}
