//! Imports and exports on both databases: a messy file in, every row accounted for, the same
//! file again changing nothing, batches that resume, and exports that show only what the
//! exporter may see.

use super::{H, add_user, list};
use anchora_core::auth::Role;
use anchora_core::export::{CsvSink, ExportRequest, Sink};
use anchora_core::import::service::sha256_hex;
use anchora_core::import::upload::Upload;
use anchora_core::import::{ImportJob, ImportSettings, JobStatus};
use anchora_core::jobs::JobCtx;
use anchora_core::store::*;
use anchora_core::{Clock, ErrorCode};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Cursor;

fn settings(object: &str, mapping: &[(&str, &str)]) -> ImportSettings {
    ImportSettings {
        object: object.into(),
        mapping: mapping
            .iter()
            .map(|(h, t)| ((*h).to_string(), (!t.is_empty()).then(|| (*t).to_string())))
            .collect::<BTreeMap<_, _>>(),
        match_on: None,
        create_related: true,
        dry_run: false,
        default_owner: None,
        left_out: Vec::new(),
        selection: None,
    }
}

async fn import(h: &H, settings: ImportSettings, name: &str, bytes: Vec<u8>) -> ImportJob {
    let sha = sha256_hex(&bytes);
    h.crm
        .import_now(&h.admin, settings, name, sha, Cursor::new(bytes), &mut |_| true)
        .await
        .unwrap()
}

async fn rejected_csv(h: &H, job: &ImportJob) -> String {
    let mut out = Vec::new();
    h.crm
        .write_rejected_csv(&h.admin, &job.id.to_string(), &mut out)
        .await
        .unwrap();
    String::from_utf8(out).unwrap()
}

/// A Swedish Excel export: Windows-1252, semicolons, decimal commas, a quoted newline, and
/// every kind of bad row.
fn swedish_file() -> Vec<u8> {
    let text = "Förnamn;Efternamn;E-post;Telefon;Titel;Företag;Org.nr;Anteckning\r\n\
        Åsa;Öberg;asa@acme.se;+46 8 123 456;\"Inköpschef\r\nNorden\";Acme AB;556677-8899;\r\n\
        Jörg;Müller;jorg@bolaget.se;08-765 43 21;VD;Bolaget i Norr AB;;\r\n\
        Bad;Mail;not-an-address;;;;;\r\n\
        ;;nolastname@acme.se;;;;;\r\n\
        Åsa;;ASA@acme.se;;;;;\r\n\
        Ragged;Row;r@x.se;;;;;;extra\r\n\
        Per;Ek;per@acme.se;;;;5566778899;\r\n\
        Eva;Lund;eva@nowhere.se;;;;111111-2222;\r\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    bytes.into_owned()
}

pub async fn import_checks_every_row_links_companies_and_runs_again_without_change(h: H) {
    // One company exists already, found by its organisation number however it is written.
    let (_, acme) = h
        .crm
        .create(
            &h.admin,
            "company",
            &json!({"name": "ACME Aktiebolag", "org_number": "556677-8899"}),
        )
        .await
        .unwrap();
    let bytes = swedish_file();
    let preview = h
        .crm
        .import_preview(
            &h.admin,
            "person",
            &Upload::from_bytes("kontakter.csv", &bytes.clone()).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(preview.encoding, Some("Windows-1252"));
    assert_eq!(preview.separator, Some(';'));
    let suggested: Vec<Option<&str>> = preview.suggestions.iter().map(|s| s.target.as_deref()).collect();
    assert_eq!(
        suggested,
        vec![
            Some("first_name"),
            Some("last_name"),
            Some("email"),
            Some("phone"),
            Some("title"),
            Some("company"),
            Some("company.org_number"),
            None
        ]
    );
    assert_eq!(preview.rows[0][4], "Inköpschef\r\nNorden");
    let mapping: Vec<(&str, &str)> = preview
        .headers
        .iter()
        .zip(&preview.suggestions)
        .map(|(h, s)| (h.as_str(), s.target.as_deref().unwrap_or("")))
        .collect();
    let s = settings("person", &mapping);

    // A dry run counts and reports, and writes no record.
    let mut dry = s.clone();
    dry.dry_run = true;
    let job = import(&h, dry, "kontakter.csv", bytes.clone()).await;
    assert_eq!(job.status, JobStatus::Done);
    assert_eq!(
        (job.counts.created, job.counts.merged, job.counts.rejected),
        (3, 1, 4),
        "{job:?}"
    );
    assert_eq!(
        h.store
            .count_records(&h.crm.object("person").await.unwrap().1)
            .await
            .unwrap(),
        0
    );

    let job = import(&h, s.clone(), "kontakter.csv", bytes.clone()).await;
    assert_eq!(job.status, JobStatus::Done, "{job:?}");
    // Row 6 is Åsa again (her e-mail in capitals): merged into row 2's record, a warning.
    assert_eq!(
        job.counts.summary(),
        "imported 3, updated 0, merged 1, rejected 4, warnings 1"
    );
    // Bolaget i Norr AB is new and made; Eva's organisation number names no company and
    // gives no name to make one from.
    assert_eq!(job.counts.related_created, 1);
    let people = list(
        &h,
        "person",
        json!({"field": "last_name", "op": "is_empty", "value": false}),
        "last_name",
    )
    .await;
    let by_name = |n: &str| people.iter().find(|p| p["last_name"] == n).unwrap().clone();
    let asa = by_name("Öberg");
    assert_eq!(asa["first_name"], "Åsa");
    assert_eq!(asa["title"], "Inköpschef, Norden");
    assert_eq!(asa["company"], acme.id.to_string(), "found by org number, not by name");
    assert_eq!(
        by_name("Ek")["company"],
        acme.id.to_string(),
        "org number without a dash"
    );
    let bolaget = list(
        &h,
        "company",
        json!({"field": "name", "op": "eq", "value": "Bolaget i Norr AB"}),
        "",
    )
    .await;
    assert_eq!(by_name("Müller")["company"], bolaget[0]["id"]);

    let report = rejected_csv(&h, &job).await;
    assert!(report.starts_with("\u{feff}row,reason,Förnamn,Efternamn"), "{report}");
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 5, "{report}");
    assert!(
        lines[1].starts_with("4,email must be an e-mail address"),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("5,last_name is required"), "{}", lines[2]);
    assert!(
        lines[3].starts_with("7,has 9 cells but the header names 8 columns"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].starts_with("9,\"no company with organisation number \"\"111111-2222\"\""),
        "{}",
        lines[4]
    );

    // The same file again changes nothing.
    let again = import(&h, s.clone(), "kontakter.csv", bytes.clone()).await;
    assert_eq!(
        again.counts.summary(),
        "imported 0, updated 0, merged 1, rejected 4, warnings 1"
    );
    assert_eq!(again.counts.unchanged, 3);
    assert_eq!(again.counts.related_created, 0);
    let companies = h
        .store
        .count_records(&h.crm.object("company").await.unwrap().1)
        .await
        .unwrap();
    assert_eq!(companies, 2);

    // A changed title updates that person only, found by e-mail whatever its case.
    let changed = encoding_rs::WINDOWS_1252
        .decode(&bytes)
        .0
        .replace("VD;", "Styrelseordförande;")
        .replace("jorg@bolaget.se", "JORG@Bolaget.se");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&changed);
    let third = import(&h, s, "kontakter.csv", bytes.into_owned()).await;
    assert_eq!(
        third.counts.summary(),
        "imported 0, updated 1, merged 1, rejected 4, warnings 1"
    );
    let jorg = list(
        &h,
        "person",
        json!({"field": "last_name", "op": "eq", "value": "Müller"}),
        "",
    )
    .await;
    assert_eq!(jorg[0]["title"], "Styrelseordförande");
    assert_eq!(jorg[0]["version"], 2);
}

fn numbered_people(n: usize, broken_every: usize) -> Vec<u8> {
    let mut text = String::from("external id,first name,last name,e-mail\n");
    for i in 0..n {
        let email = if broken_every > 0 && i % broken_every == 0 {
            "broken".to_string()
        } else {
            format!("p{i}@example.com")
        };
        text.push_str(&format!("X{i},Per{i},Son{i},{email}\n"));
    }
    text.into_bytes()
}

pub async fn import_jobs_resume_after_their_last_batch_and_never_write_half(h: H) {
    let bytes = numbered_people(12_000, 1000);
    let s = settings(
        "person",
        &[
            ("external id", "external_id"),
            ("first name", "first_name"),
            ("last name", "last_name"),
            ("e-mail", "email"),
        ],
    );
    let queued = h
        .crm
        .queue_import(
            &h.admin,
            s.clone(),
            &Upload::from_bytes("people.csv", &bytes.clone()).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(queued.status, JobStatus::Queued);
    // Stop after the first batch of 5,000 rows, as a process would that is shut down.
    let mut batches = 0;
    let stopped = h
        .crm
        .run_import(queued.id, &mut |_| {
            batches += 1;
            false
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stopped.status, JobStatus::Failed);
    assert!(
        stopped.error.as_deref().unwrap().contains("stopped after row 5001"),
        "{stopped:?}"
    );
    let person = h.crm.object("person").await.unwrap().1;
    assert_eq!(
        h.store.count_records(&person).await.unwrap(),
        4995,
        "exactly one batch, rejected rows aside"
    );
    let kept = h.store.import_job(queued.id).await.unwrap().unwrap();
    assert_eq!(kept.counts.last_row, 5001);
    assert_eq!(kept.counts.rejected, 5);

    // Running it again goes on after row 5001: nothing twice, nothing lost.
    let done = h.crm.run_import(queued.id, &mut |_| true).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Done, "{done:?}");
    assert_eq!(
        done.counts.summary(),
        "imported 11988, updated 0, merged 0, rejected 12, warnings 0"
    );
    assert_eq!(h.store.count_records(&person).await.unwrap(), 11_988);
    let report = rejected_csv(&h, &done).await;
    assert_eq!(report.lines().count(), 13);
    // Each person is found by name and e-mail, from the first batch, from the batch after the
    // stop, and from the last (the documents are numbered by the writer, batch after batch).
    for (query, title) in [
        ("Per4999", "Per4999 Son4999"),
        ("Son6001", "Per6001 Son6001"),
        ("p11999", "Per11999 Son11999"),
    ] {
        let hits = h.crm.search(&h.admin, query, None).await.unwrap();
        let titles: Vec<&str> = hits.iter().map(|hit| hit.title.as_str()).collect();
        assert_eq!(titles, [title], "{query}");
    }
    // A finished job is not taken again.
    assert!(h.crm.run_import(queued.id, &mut |_| true).await.unwrap().is_none());

    // A file without a column to match on cannot be imported twice by mistake.
    let plain = settings("person", &[("first name", "first_name"), ("last name", "last_name")]);
    let small = numbered_people(3, 0);
    import(&h, plain.clone(), "small.csv", small.clone()).await;
    let err = h
        .crm
        .import_now(
            &h.admin,
            plain,
            "small.csv",
            sha256_hex(&small),
            Cursor::new(small),
            &mut |_| true,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AlreadyExists);

    // Users cannot import; key users can.
    let user = add_user(&*h.store, "user@example.com", Role::User, h.clock.now()).await;
    let err = h
        .crm
        .queue_import(
            &user,
            s.clone(),
            &Upload::from_bytes("people.csv", &bytes.clone()).unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    let key_user = add_user(&*h.store, "key@example.com", Role::KeyUser, h.clock.now()).await;
    let mut ks = s;
    ks.dry_run = true;
    h.crm
        .queue_import(&key_user, ks, &Upload::from_bytes("people.csv", &bytes).unwrap())
        .await
        .unwrap();
    // The administrator sees both users' jobs; the key user only theirs.
    assert_eq!(h.crm.import_jobs(&key_user, 50).await.unwrap().len(), 1);
    assert!(h.crm.import_jobs(&h.admin, 50).await.unwrap().len() >= 3);
}

pub async fn exports_stream_what_the_exporter_may_see_and_import_back(h: H) {
    use anchora_core::auth::Visibility;
    let seller = add_user(&*h.store, "seller@example.com", Role::KeyUser, h.clock.now()).await;
    let (_, acme) = h
        .crm
        .create(&h.admin, "company", &json!({"name": "Acme AB"}))
        .await
        .unwrap();
    for i in 0..2500 {
        let owner = if i % 2 == 0 { h.admin.user_id } else { seller.user_id };
        h.crm
            .create(
                &h.admin,
                "person",
                &json!({"first_name": format!("P{i}"), "last_name": format!("=cmd|' /C calc'!A{i}"),
                        "email": format!("p{i}@x.se"), "company": acme.id.to_string(), "owner": owner.to_string()}),
            )
            .await
            .unwrap();
    }
    // Key users see only their own people.
    let mut policy = h.crm.schema().await.unwrap().policy.clone();
    policy
        .visibility
        .entry("person".into())
        .or_default()
        .insert(Role::KeyUser, Visibility::Own);
    h.store.set_policy(&policy).await.unwrap();

    let mut out: Vec<u8> = Vec::new();
    let request = ExportRequest {
        object: "person".into(),
        ..Default::default()
    };
    let mut sink: Box<dyn Sink> = Box::new(CsvSink::new(&mut out).unwrap());
    let n = h.crm.export(&seller, &request, sink.as_mut()).await.unwrap();
    sink.finish().unwrap();
    assert_eq!(n, 1250);
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("\u{feff}id,First name,Last name,E-mail"));
    assert_eq!(text.lines().count(), 1251);
    assert!(text.contains(",'=cmd|' /C calc'!A1,"), "formulas are defused");
    assert!(text.contains(",Acme AB,"), "relations by name");
    assert!(!text.contains("P0,"), "the admin's people stay out");

    // Users may not export at all.
    let user = add_user(&*h.store, "u@example.com", Role::User, h.clock.now()).await;
    let mut sink = CsvSink::new(Vec::new()).unwrap();
    assert_eq!(
        h.crm.export(&user, &request, &mut sink).await.unwrap_err().code,
        ErrorCode::Forbidden
    );

    // A filtered export as XLSX, read back by the importer.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.xlsx");
    let mut sink: Box<dyn Sink> = Box::new(anchora_core::export::XlsxSink::new(&path).unwrap());
    let filtered = ExportRequest {
        object: "person".into(),
        filter: Some(json!({"field": "first_name", "op": "starts_with", "value": "P1"}).to_string()),
        sort: Some("first_name".into()),
        columns: vec!["first_name".into(), "email".into()],
        ids: None,
    };
    let n = h.crm.export(&h.admin, &filtered, sink.as_mut()).await.unwrap();
    sink.finish().unwrap();
    assert_eq!(n, 1111);
    let bytes = std::fs::read(&path).unwrap();
    let preview = h
        .crm
        .import_preview(&h.admin, "person", &Upload::from_bytes("people.xlsx", &bytes).unwrap())
        .await
        .unwrap();
    assert_eq!(preview.format, "xlsx");
    assert_eq!(
        preview.headers,
        vec!["id", "First name", "E-mail", "Owner", "Created", "Updated"]
    );
    assert_eq!(preview.rows[0][1], "P1");
}

pub async fn duplicates_are_scanned_queued_dismissed_and_checked_before_saving(h: H) {
    let (_, acme) = h
        .crm
        .create(&h.admin, "company", &json!({"name": "Acme AB"}))
        .await
        .unwrap();
    let acme = acme.id.to_string();
    let mut ids = Vec::new();
    for body in [
        json!({"first_name": "Åsa", "last_name": "Öberg", "email": "asa@acme.se", "phone": "08-123 45 67", "company": acme}),
        json!({"first_name": "Åsa", "last_name": "Öbreg", "email": "ASA@acme.se", "company": acme}),
        json!({"first_name": "Öberg", "last_name": "Åsa", "phone": "+46 8 123 45 67"}),
        json!({"first_name": "Åsa", "last_name": "Öberg", "email": "asa@other.se", "phone": "040-99 88 77"}),
        json!({"first_name": "Per", "last_name": "Ek", "email": "per@acme.se", "company": acme}),
    ] {
        let (_, r) = h.crm.create(&h.admin, "person", &body).await.unwrap();
        ids.push(r.id);
    }
    let open = h
        .crm
        .scan_duplicates(&h.admin, "person", "46", &JobCtx::detached())
        .await
        .unwrap();
    // Åsa three times; her namesake and Per stay out. The typo (no phone) and the swapped
    // name (no e-mail, no company) share nothing to block on, so they meet through the first.
    assert_eq!(open, 2);
    let queue = h.crm.duplicate_queue(&h.admin, "person", 50).await.unwrap();
    let pairs: Vec<(usize, usize)> = queue
        .iter()
        .map(|(p, _, _)| {
            let i = |id| ids.iter().position(|x| *x == id).unwrap();
            let (x, y) = (i(p.a), i(p.b));
            (x.min(y), x.max(y))
        })
        .collect();
    for want in [(0, 1), (0, 2)] {
        assert!(pairs.contains(&want), "{pairs:?}");
    }
    assert!(queue.iter().all(|(p, _, _)| p.score >= 0.9 && p.a < p.b));

    // Dismissed pairs stay dismissed through the next scan.
    let (first, _, _) = &queue[0];
    h.crm
        .dismiss_duplicate(&h.admin, "person", &first.b.to_string(), &first.a.to_string())
        .await
        .unwrap();
    let err = h
        .crm
        .dismiss_duplicate(&h.admin, "person", &first.a.to_string(), &first.b.to_string())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert_eq!(
        h.crm
            .scan_duplicates(&h.admin, "person", "46", &JobCtx::detached())
            .await
            .unwrap(),
        1
    );
    assert_eq!(h.crm.duplicate_queue(&h.admin, "person", 50).await.unwrap().len(), 1);

    // Before saving a new person: the same e-mail in other case is shown as a likely match.
    let matches = h
        .crm
        .possible_duplicates(
            &h.admin,
            "person",
            &json!({"first_name": "Asa", "last_name": "Oberg", "email": "Asa@ACME.se"}),
        )
        .await
        .unwrap();
    assert_eq!(matches.first().map(|m| m.record.id), Some(ids[0]), "{matches:?}");
    let none = h
        .crm
        .possible_duplicates(&h.admin, "person", &json!({"first_name": "Ny", "last_name": "Person"}))
        .await
        .unwrap();
    assert!(none.is_empty());
    let err = h
        .crm
        .possible_duplicates(&h.admin, "person", &json!({"email": 7}))
        .await
        .unwrap_err();
    assert_eq!(err.errors[0].field, "email");

    // Users may not scan or dismiss; key users may.
    let user = add_user(&*h.store, "plain@example.com", Role::User, h.clock.now()).await;
    assert_eq!(
        h.crm
            .scan_duplicates(&user, "person", "46", &JobCtx::detached())
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let key = add_user(&*h.store, "steward2@example.com", Role::KeyUser, h.clock.now()).await;
    assert_eq!(h.crm.duplicate_queue(&key, "person", 50).await.unwrap().len(), 1);
}

pub async fn merging_picks_values_relinks_everything_keeps_history_and_undoes(h: H) {
    let company = |name: &str| json!({"name": name});
    let (_, acme) = h.crm.create(&h.admin, "company", &company("Acme AB")).await.unwrap();
    let (_, acme2) = h
        .crm
        .create(&h.admin, "company", &company("ACME Aktiebolag"))
        .await
        .unwrap();
    let (_, keep) = h
        .crm
        .create(
            &h.admin,
            "person",
            &json!({"first_name": "Åsa", "last_name": "Öberg", "email": "asa@acme.se", "company": acme2.id.to_string()}),
        )
        .await
        .unwrap();
    let (_, gone) = h
        .crm
        .create(
            &h.admin,
            "person",
            &json!({"first_name": "Åsa", "last_name": "Öbreg", "email": "asa@acme.se", "phone": "08-123 45 67", "title": "CFO"}),
        )
        .await
        .unwrap();
    let (_, call) = h
        .crm
        .create(
            &h.admin,
            "activity",
            &json!({"type": "call", "subject": "Intro", "person": gone.id.to_string(),
                    "links": [{"object": "person", "id": gone.id.to_string()}, {"object": "company", "id": acme.id.to_string()}]}),
        )
        .await
        .unwrap();
    let body = |keep_version: i64, gone_version: i64| {
        json!({"keep": keep.id.to_string(), "gone": gone.id.to_string(), "keep_version": keep_version,
               "gone_version": gone_version, "values": {"last_name": "keep", "title": "gone"}})
    };
    // Seen at an old version: refused, nothing merged.
    let err = h.crm.merge(&h.admin, "person", body(0, 1)).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::VersionConflict);
    let err = h
        .crm
        .merge(&h.admin, "person", json!({"keep": keep.id.to_string(), "gone": gone.id.to_string(), "keep_version": 1, "gone_version": 1, "values": {"shoe": "keep"}}))
        .await
        .unwrap_err();
    assert_eq!(err.errors[0].field, "values.shoe");
    let err = h
        .crm
        .merge(
            &h.admin,
            "person",
            json!({"keep": keep.id.to_string(), "gone": keep.id.to_string(), "keep_version": 1, "gone_version": 1}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.errors[0].field, "gone");

    let entry = h.crm.merge(&h.admin, "person", body(1, 1)).await.unwrap();
    let (def, kept) = h.crm.get(&h.admin, "person", &keep.id.to_string()).await.unwrap();
    let kept = kept.to_json(&def);
    assert_eq!(kept["last_name"], "Öberg", "chosen: the kept record's");
    assert_eq!(kept["title"], "CFO", "chosen: the other's");
    assert_eq!(kept["phone"], "08-123 45 67", "empty here, so filled from the other");
    assert_eq!(kept["company"], acme2.id.to_string());
    let (_, moved) = h.crm.get(&h.admin, "activity", &call.id.to_string()).await.unwrap();
    assert_eq!(moved.get("person"), &anchora_core::value::Value::Relation(keep.id));
    assert!(moved.links.iter().any(|l| l.id == keep.id) && !moved.links.iter().any(|l| l.id == gone.id));
    let (_, trashed) = h.crm.get(&h.admin, "person", &gone.id.to_string()).await.unwrap();
    assert!(
        trashed.deleted_at.is_some(),
        "the merged record is in the trash with its history"
    );
    let history = h
        .crm
        .history(&h.admin, "person", &keep.id.to_string(), None, None)
        .await
        .unwrap();
    assert!(
        history.iter().any(|c| c.field.as_deref() == Some("title")),
        "{history:?}"
    );
    let timeline = h.crm.timeline(&h.admin, "person", keep.id, 10).await.unwrap();
    assert_eq!(timeline.len(), 1, "the call is on the kept person's timeline");

    // Undo puts everything back, once.
    let undone = h.crm.undo_merge(&h.admin, &entry.id.to_string()).await.unwrap();
    assert!(undone.undone_at.is_some());
    let (_, back) = h.crm.get(&h.admin, "person", &keep.id.to_string()).await.unwrap();
    assert!(back.get("title").is_null() && back.get("phone").is_null());
    let (_, restored) = h.crm.get(&h.admin, "person", &gone.id.to_string()).await.unwrap();
    assert!(restored.deleted_at.is_none());
    let (_, call_back) = h.crm.get(&h.admin, "activity", &call.id.to_string()).await.unwrap();
    assert_eq!(call_back.get("person"), &anchora_core::value::Value::Relation(gone.id));
    assert!(call_back.links.iter().any(|l| l.id == gone.id));
    let err = h.crm.undo_merge(&h.admin, &entry.id.to_string()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::AlreadyExists);

    // Companies: people and activities follow the company that stays.
    let entry = h
        .crm
        .merge(
            &h.admin,
            "company",
            json!({"keep": acme.id.to_string(), "gone": acme2.id.to_string(), "keep_version": 1, "gone_version": 1}),
        )
        .await
        .unwrap();
    assert_eq!(entry.relinked.len(), 1, "{entry:?}");
    let (_, p) = h.crm.get(&h.admin, "person", &keep.id.to_string()).await.unwrap();
    assert_eq!(p.get("company"), &anchora_core::value::Value::Relation(acme.id));
    // An undo after the kept company changed again is refused.
    let (_, a) = h.crm.get(&h.admin, "company", &acme.id.to_string()).await.unwrap();
    h.crm
        .update(
            &h.admin,
            "company",
            &acme.id.to_string(),
            &json!({"city": "Lund"}),
            Some(a.version),
        )
        .await
        .unwrap();
    let err = h.crm.undo_merge(&h.admin, &entry.id.to_string()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::VersionConflict);
    // Users may not merge.
    let user = add_user(&*h.store, "merger@example.com", Role::User, h.clock.now()).await;
    let err = h.crm.merge(&user, "person", body(1, 1)).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
}

pub async fn quality_is_measured_per_record_owner_and_team_with_each_users_fix_list(h: H) {
    let seller = add_user(&*h.store, "seller@example.com", Role::User, h.clock.now()).await;
    let (_, full) = h
        .crm
        .create(
            &h.admin,
            "person",
            &json!({"first_name": "Ann", "last_name": "Full", "email": "ann@x.se", "phone": "+46 8 123 456",
                    "title": "CEO", "city": "Lund", "owner": seller.user_id.to_string()}),
        )
        .await
        .unwrap();
    let (_, thin) = h
        .crm
        .create(
            &h.admin,
            "person",
            &json!({"last_name": "Thin", "owner": seller.user_id.to_string()}),
        )
        .await
        .unwrap();
    h.crm
        .create(&h.admin, "person", &json!({"last_name": "Admins", "email": "a@x.se"}))
        .await
        .unwrap();
    // A year later nobody has touched them: all stale.
    h.clock.advance(chrono::Duration::days(400));
    let report = h.crm.quality(&h.admin, "person").await.unwrap();
    assert_eq!(report.overall.records, 3);
    assert_eq!(report.overall.stale, 3);
    assert_eq!(report.by_owner.len(), 2);
    let sellers = report
        .by_owner
        .iter()
        .find(|(o, _)| *o == Some(seller.user_id))
        .unwrap()
        .1
        .clone();
    assert_eq!(sellers.records, 2);
    // Ann has 8 of 10 weighted points (no company), Thin none.
    assert!((sellers.completeness - 0.4).abs() < 1e-9, "{sellers:?}");
    let list = h.crm.fix_list(&seller, "person", 10).await.unwrap();
    assert_eq!(list.total, 2);
    assert_eq!(list.worst[0].0.id, thin.id, "the worst first");
    assert_eq!(list.worst[1].0.id, full.id);
    let one = h.crm.fix_list(&seller, "person", 1).await.unwrap();
    assert_eq!(
        (one.total, one.worst.len()),
        (2, 1),
        "the count is of all, the list cut"
    );
    assert_eq!(h.crm.quality_board(&h.admin, "person").await.unwrap().day, None);

    // Administrators set the weights; a rule naming a field that is not there is refused.
    let err = h
        .crm
        .set_quality_rules(&h.admin, json!({"weights": {"person": {"shoe": 1}}, "stale_months": 6}))
        .await
        .unwrap_err();
    assert_eq!(err.errors[0].field, "weights.person.shoe");
    assert_eq!(
        h.crm
            .set_quality_rules(&seller, json!({"weights": {}, "stale_months": 6}))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    h.crm
        .set_quality_rules(
            &h.admin,
            json!({"weights": {"person": {"email": 1}}, "stale_months": 24}),
        )
        .await
        .unwrap();
    let report = h.crm.quality(&h.admin, "person").await.unwrap();
    assert_eq!(report.overall.stale, 0);
    assert!(
        (report.overall.completeness - 2.0 / 3.0).abs() < 1e-9,
        "{:?}",
        report.overall
    );
    // Only what the caller may see is counted.
    let mut policy = h.crm.schema().await.unwrap().policy.clone();
    policy
        .visibility
        .entry("person".into())
        .or_default()
        .insert(Role::User, anchora_core::auth::Visibility::Own);
    h.store.set_policy(&policy).await.unwrap();
    assert_eq!(h.crm.quality(&seller, "person").await.unwrap().overall.records, 2);

    // Kept day by day, the trend shows: Thin gets an e-mail the next day.
    assert!(h.crm.record_quality_day("person", &JobCtx::detached()).await.unwrap() >= 3);
    h.clock.advance(chrono::Duration::days(1));
    let (_, t) = h.crm.get(&h.admin, "person", &thin.id.to_string()).await.unwrap();
    h.crm
        .update(
            &h.admin,
            "person",
            &thin.id.to_string(),
            &json!({"email": "thin@x.se"}),
            Some(t.version),
        )
        .await
        .unwrap();
    h.crm.record_quality_day("person", &JobCtx::detached()).await.unwrap();
    h.crm.record_quality_day("person", &JobCtx::detached()).await.unwrap();
    let trend = h.crm.quality_trend(&h.admin, "person", 30).await.unwrap();
    assert_eq!(trend.len(), 2, "one row a day, however often kept");
    assert!(
        trend[1].summary.completeness > trend[0].summary.completeness,
        "{trend:?}"
    );
    assert_eq!(trend[1].summary.records, 3);
    // A user's trend is their own records'.
    let mine = h.crm.quality_trend(&seller, "person", 30).await.unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[1].summary.records, 2);

    // The dashboard reads the newest kept day: every row for a data steward, a user's own
    // row only (the seller is in no team, so no team's row either).
    let board = h.crm.quality_board(&h.admin, "person").await.unwrap();
    assert_eq!(board.day, Some(h.clock.now().date_naive()));
    assert!(board.everyone);
    let overall = board.rows.iter().find(|r| r.scope == "all").unwrap();
    assert_eq!(overall.summary.records, 3);
    assert!(
        board
            .rows
            .iter()
            .any(|r| r.scope == "owner" && r.key == seller.user_id.to_string())
    );
    assert!(board.rows.iter().any(|r| r.scope == "team"));
    let board = h.crm.quality_board(&seller, "person").await.unwrap();
    assert!(!board.everyone);
    let scopes: Vec<(&str, &str)> = board.rows.iter().map(|r| (r.scope.as_str(), r.key.as_str())).collect();
    assert_eq!(scopes, vec![("owner", seller.user_id.to_string().as_str())]);
    assert_eq!(board.rows[0].summary.records, 2);
}

pub async fn import_shows_rows_that_look_like_records_already_there(h: H) {
    let (_, asa) = h
        .crm
        .create(
            &h.admin,
            "person",
            &json!({"first_name": "Åsa", "last_name": "Öberg", "phone": "08-123 45 67", "city": "Lund"}),
        )
        .await
        .unwrap();
    // Row 2: Åsa again, her phone written internationally, no accents, with an e-mail address
    // no record has (a row without any key would be taken for her and update her). Row 4:
    // row 3 again, without the e-mail. Row 5: a namesake of Åsa's with her own phone elsewhere.
    let file = "first_name,last_name,email,phone,city\n\
        Asa,Oberg,asa@oberg.se,+46 8 123 45 67,Lund\n\
        Nils,Holm,nils@holm.se,070-123 45 67,Umeå\n\
        Nils,Holm,,0701234567,\n\
        Åsa,Öberg,asa@elsewhere.de,+49 30 1234567,Berlin\n";
    let mapping = [
        ("first_name", "first_name"),
        ("last_name", "last_name"),
        ("email", "email"),
        ("phone", "phone"),
        ("city", "city"),
    ];
    let mut check = settings("person", &mapping);
    check.dry_run = true;
    let job = import(&h, check, "people.csv", file.as_bytes().to_vec()).await;
    assert_eq!(job.status, JobStatus::Done);
    let (total, found) = h
        .crm
        .import_likely_duplicates(&h.admin, &job.id.to_string(), 50)
        .await
        .unwrap();
    assert_eq!(total, 2, "{found:?}");
    assert_eq!(
        (found[0].row, found[0].like_record, found[0].like_row),
        (2, Some(asa.id), None)
    );
    assert_eq!(
        (found[1].row, found[1].like_record, found[1].like_row),
        (4, None, Some(3))
    );
    assert!(found.iter().all(|m| m.score >= 0.9));
    assert_eq!(
        list(
            &h,
            "person",
            json!({"field": "last_name", "op": "is_empty", "value": false}),
            "last_name"
        )
        .await
        .len(),
        1,
        "a check writes no records"
    );

    // Imported, the rows are there and the match names the record row 3 became.
    let job = import(&h, settings("person", &mapping), "people.csv", file.as_bytes().to_vec()).await;
    assert_eq!(job.counts.created, 4);
    let (total, found) = h
        .crm
        .import_likely_duplicates(&h.admin, &job.id.to_string(), 50)
        .await
        .unwrap();
    assert_eq!(total, 2);
    let nils = list(
        &h,
        "person",
        json!({"field": "last_name", "op": "is_empty", "value": false}),
        "last_name",
    )
    .await
    .into_iter()
    .find(|p| p["email"] == "nils@holm.se")
    .unwrap();
    assert_eq!(
        found[1].like_record.map(|r| r.to_string()),
        nils["id"].as_str().map(String::from)
    );
    // Only the importer (and administrators) see a job's matches.
    let seller = add_user(&*h.store, "seller@example.com", Role::KeyUser, h.clock.now()).await;
    let err = h
        .crm
        .import_likely_duplicates(&seller, &job.id.to_string(), 50)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
}
