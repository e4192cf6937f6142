//! Integrity under concurrency and hostile input (issue 16), on both databases: values that
//! must stay unique, relations to records the caller may not see, the field limit, NUL
//! characters, and case folding for the letters of five languages.

use super::{H, add_user, list, names, person};
use anchora_core::auth::{AccessPolicy, Role, Visibility};
use anchora_core::import::service::sha256_hex;
use anchora_core::import::{ImportSettings, JobStatus};
use anchora_core::service::ListParams;
use anchora_core::store::*;
use anchora_core::value::Value;
use anchora_core::{Clock, ErrorCode};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::io::Cursor;

/// People named in the spellings real files hold: capitals, composed and decomposed letters.
const SPELLINGS: [&str; 14] = [
    "Öberg",
    "ÖBERG",
    "öberg",
    "O\u{308}berg",
    "Oberg",
    "Ærø",
    "ÆRØ",
    "Müller",
    "MÜLLER",
    "Núñez",
    "NÚÑEZ",
    "Straße",
    "STRASSE",
    "Élodie",
];

pub async fn case_folds_alike_for_the_letters_of_five_languages(h: H) {
    for last in SPELLINGS {
        person(&h, json!({"last_name": last, "city": last})).await;
    }
    let count = |f: Json| {
        let h = &h;
        async move { list(h, "person", f, "last_name").await.len() }
    };
    for (op, value, expected) in [
        ("contains", "öberg", 4),
        ("contains", "ÖBERG", 4),
        ("contains", "O\u{308}BERG", 4),
        ("starts_with", "öb", 4),
        ("starts_with", "ÖB", 4),
        ("eq", "öBeRg", 4),
        ("eq", "oberg", 1),
        ("ne", "öberg", 10),
        ("contains", "ærø", 2),
        ("starts_with", "Æ", 2),
        ("contains", "üll", 2),
        ("eq", "núñez", 2),
        ("contains", "Ñ", 2),
        ("contains", "strasse", 2),
        ("contains", "STRAẞE", 2),
        ("starts_with", "élo", 1),
        ("starts_with", "e", 0),
    ] {
        for field in ["last_name", "city"] {
            let got = count(json!({"field": field, "op": op, "value": value})).await;
            assert_eq!(got, expected, "{field} {op} {value:?} on {}", h.store.backend());
        }
    }
    let found = count(json!({"field": "last_name", "op": "in", "value": ["öberg", "NÚÑEZ"]})).await;
    assert_eq!(found, 6);
    // Phone numbers are compared as written: a prefix is a prefix, punctuation and all.
    h.crm
        .update_field(&h.admin, "person", "phone", json!({"filterable": true}))
        .await
        .unwrap();
    person(&h, json!({"last_name": "Phoned", "phone": "+46 8 123 45 67"})).await;
    person(&h, json!({"last_name": "Local", "phone": "46 81 23 45"})).await;
    for (op, value, expected) in [
        ("starts_with", "+46", 1),
        ("starts_with", "46", 1),
        ("contains", "46", 2),
    ] {
        let got = count(json!({"field": "phone", "op": op, "value": value})).await;
        assert_eq!(got, expected, "phone {op} {value:?} on {}", h.store.backend());
    }
    // Sorted by the folded text in code-point order, the same on both databases; keyset pages
    // walk it without gaps or repeats.
    let all = names(
        &list(
            &h,
            "person",
            json!({"field": "last_name", "op": "is_empty", "value": false}),
            "last_name",
        )
        .await,
    );
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let params = ListParams {
            sort: Some("last_name".into()),
            limit: Some("3".into()),
            cursor: cursor.clone(),
            ..Default::default()
        };
        let (o, page) = h.crm.list(&h.admin, "person", &params).await.unwrap();
        walked.extend(
            page.records
                .iter()
                .map(|r| r.to_json(&o)["last_name"].as_str().unwrap().to_string()),
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(walked, all);
    let folded: Vec<String> = all.iter().map(|n| anchora_core::text::fold_case(n)).collect();
    let mut sorted = folded.clone();
    sorted.sort();
    assert_eq!(folded, sorted, "{all:?}");
    // A prefix is a range of the folded copy, which its index serves.
    if h.store.backend() == "sqlite" {
        let (_, object) = h.crm.object("person").await.unwrap();
        let mut query = anchora_core::query::ListQuery::all();
        query.filter = Some(
            anchora_core::filter::Filter::parse(&json!({"field": "last_name", "op": "starts_with", "value": "Öb"}))
                .unwrap()
                .resolve(&object, chrono::Utc::now())
                .unwrap(),
        );
        let sql = h.store.list_sql(&object, &query);
        let plan = h
            .store
            .pool()
            .exec()
            .fetch_all(anchora_store::db::Sql::plain(format!("EXPLAIN QUERY PLAN {sql}")))
            .await
            .unwrap();
        let plan: Vec<String> = plan.iter().map(|r| r.string(3).unwrap()).collect();
        assert!(
            plan.iter().any(|p| p.contains("ix_obj_person__fold_last_name")),
            "{plan:?}"
        );
    }
}

/// How many live people hold an external id (ignoring case).
async fn holders(h: &H, external_id: &str) -> usize {
    list(
        h,
        "person",
        json!({"field": "external_id", "op": "eq", "value": external_id}),
        "last_name",
    )
    .await
    .len()
}

pub async fn unique_values_are_refused_naming_the_record_that_holds_them(h: H) {
    let first = person(&h, json!({"last_name": "Öberg", "external_id": "SF-0031"})).await;
    // The same id in another case and with spaces around it is the same id.
    let e = h
        .crm
        .create(
            &h.admin,
            "person",
            &json!({"last_name": "Other", "external_id": " sf-0031 "}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    assert_eq!(e.errors[0].field, "external_id");
    assert!(e.errors[0].message.contains("Öberg"), "{}", e.errors[0].message);
    let existing = e.existing.expect("the admin may see the holder");
    assert_eq!(existing.id.to_string(), first["id"].as_str().unwrap());
    // An update that would take it is refused the same way.
    let second = person(&h, json!({"last_name": "Second"})).await;
    let e = h
        .crm
        .update(
            &h.admin,
            "person",
            second["id"].as_str().unwrap(),
            &json!({"external_id": "SF-0031"}),
            Some(1),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "external_id");
    // Someone who may not see the holder learns only that the value is taken.
    let mut policy = AccessPolicy::default();
    policy
        .visibility
        .entry("person".into())
        .or_default()
        .insert(Role::User, Visibility::Own);
    h.store.set_policy(&policy).await.unwrap();
    let seller = add_user(&*h.store, "seller@example.com", Role::User, h.clock.now()).await;
    let e = h
        .crm
        .create(
            &seller,
            "person",
            &json!({"last_name": "Mine", "external_id": "sf-0031"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "external_id");
    assert!(e.existing.is_none());
    assert!(!e.errors[0].message.contains("Öberg") && !e.detail.contains(first["id"].as_str().unwrap()));
    // In the trash, the value is free; the trashed record cannot come back while another holds it.
    h.crm
        .delete(&h.admin, "person", first["id"].as_str().unwrap(), Some(1))
        .await
        .unwrap();
    let taker = person(&h, json!({"last_name": "Taker", "external_id": "SF-0031"})).await;
    let e = h
        .crm
        .restore(&h.admin, "person", first["id"].as_str().unwrap(), None)
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "external_id");
    assert_eq!(holders(&h, "sf-0031").await, 1);
    // A merge may give the kept record the other's unique value, and undo it.
    let entry = h
        .crm
        .merge(
            &h.admin,
            "person",
            json!({"keep": second["id"], "gone": taker["id"], "keep_version": 1, "gone_version": 1,
                   "values": {"external_id": "gone"}}),
        )
        .await
        .unwrap();
    let (_, kept) = h
        .crm
        .get(&h.admin, "person", second["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(kept.get("external_id").to_text().as_deref(), Some("SF-0031"));
    h.crm.undo_merge(&h.admin, &entry.id.to_string()).await.unwrap();
    let (_, back) = h
        .crm
        .get(&h.admin, "person", taker["id"].as_str().unwrap())
        .await
        .unwrap();
    assert!(back.deleted_at.is_none());
    assert_eq!(holders(&h, "SF-0031").await, 1);
}

pub async fn concurrent_writers_never_double_a_unique_value(h: H) {
    for round in 0..12 {
        let id = format!("EXT-{round}");
        let mut tasks = Vec::new();
        for n in 0..8 {
            let crm = h.crm.clone();
            let admin = h.admin.clone();
            // Half spell it in lower case: the same id.
            let value = if n % 2 == 0 { id.clone() } else { id.to_lowercase() };
            tasks.push(tokio::spawn(async move {
                crm.create(
                    &admin,
                    "person",
                    &json!({"last_name": format!("Racer {n}"), "external_id": value}),
                )
                .await
            }));
        }
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => won += 1,
                Err(e) => {
                    assert_eq!(e.code, ErrorCode::ValidationFailed, "{e:?}");
                    assert_eq!(e.errors[0].field, "external_id");
                }
            }
        }
        assert_eq!(won, 1, "round {round} on {}", h.store.backend());
        assert_eq!(holders(&h, &id).await, 1);
    }
}

pub async fn a_field_made_unique_names_the_records_that_share_a_value(h: H) {
    let field = h
        .crm
        .add_field(
            &h.admin,
            "person",
            json!({"name": "member_no", "label": "Member no", "type": "text"}),
        )
        .await
        .unwrap();
    assert!(!field.unique);
    let a = person(&h, json!({"last_name": "A", "member_no": "M-1"})).await;
    let b = person(&h, json!({"last_name": "B", "member_no": "m-1"})).await;
    let e = h
        .crm
        .update_field(&h.admin, "person", "member_no", json!({"unique": true}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "unique");
    for id in [&a["id"], &b["id"]] {
        assert!(
            e.errors[0].message.contains(id.as_str().unwrap()),
            "{}",
            e.errors[0].message
        );
    }
    h.crm
        .update(
            &h.admin,
            "person",
            b["id"].as_str().unwrap(),
            &json!({"member_no": "M-2"}),
            Some(1),
        )
        .await
        .unwrap();
    let field = h
        .crm
        .update_field(&h.admin, "person", "member_no", json!({"unique": true}))
        .await
        .unwrap();
    assert!(field.unique);
    let e = h
        .crm
        .create(&h.admin, "person", &json!({"last_name": "C", "member_no": "m-2"}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "member_no");
    let e = h
        .crm
        .update_field(&h.admin, "person", "last_name", json!({"unique": "yes"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    let e = h
        .crm
        .add_field(
            &h.admin,
            "person",
            json!({"name": "flag", "label": "Flag", "type": "boolean", "unique": true}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "unique");
}

/// The file of one round: `rows` people keyed by external id.
fn people_file(rows: usize, round: usize) -> Vec<u8> {
    let mut out = String::from("External ID,First Name,Last Name,Email\n");
    for n in 0..rows {
        out.push_str(&format!("R{round}-{n:05},Åsa,Öberg {n},asa.{round}.{n}@example.se\n"));
    }
    out.into_bytes()
}

/// An import matching on external ids runs while people with the ids of its last rows are
/// made through the API: every id ends up on exactly one person, and the job's counts add up.
pub async fn an_import_never_doubles_records_made_while_it_runs(h: H) {
    const ROWS: usize = 6_000;
    const RACED: usize = 40;
    for round in 0..4 {
        let bytes = people_file(ROWS, round);
        let settings = ImportSettings {
            object: "person".into(),
            mapping: [
                ("External ID", "external_id"),
                ("First Name", "first_name"),
                ("Last Name", "last_name"),
                ("Email", "email"),
            ]
            .iter()
            .map(|(a, b)| ((*a).to_string(), Some((*b).to_string())))
            .collect::<BTreeMap<_, _>>(),
            match_on: Some("external_id".into()),
            create_related: true,
            dry_run: false,
            default_owner: None,
            left_out: Vec::new(),
            selection: None,
        };
        let crm = h.crm.clone();
        let admin = h.admin.clone();
        let sha = sha256_hex(&bytes);
        let import = tokio::spawn(async move {
            crm.import_now(&admin, settings, "race.csv", sha, Cursor::new(bytes), &mut |_| true)
                .await
        });
        // Ids from all over the file, made at times spread over the import: some before their
        // row's batch is written (the import updates them), some after (the API is refused).
        let raced: Vec<usize> = (0..RACED).map(|i| i * (ROWS / RACED) + round).collect();
        let mut creators = Vec::new();
        for (i, n) in raced.iter().copied().enumerate() {
            let crm = h.crm.clone();
            let admin = h.admin.clone();
            creators.push(tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis((i as u64 * 37) % 1_500)).await;
                crm.create(
                    &admin,
                    "person",
                    &json!({"last_name": "Made meanwhile", "external_id": format!("r{round}-{n:05}")}),
                )
                .await
            }));
        }
        let mut made = 0;
        for c in creators {
            match c.await.unwrap() {
                Ok(_) => made += 1,
                Err(e) => assert_eq!(e.errors[0].field, "external_id", "{e:?}"),
            }
        }
        let job = import.await.unwrap().unwrap();
        eprintln!("round {round}: {:?}, {made} made through the API", job.counts);
        assert_eq!(job.status, JobStatus::Done);
        let c = job.counts;
        assert_eq!(c.rejected, 0, "{c:?}");
        assert_eq!(c.created + c.updated + c.unchanged, ROWS as u64, "{c:?}");
        assert_eq!(
            c.created + made,
            ROWS as u64,
            "every person made once: {c:?}, {made} by the API"
        );
        for n in raced {
            let id = format!("R{round}-{n:05}");
            assert_eq!(holders(&h, &id).await, 1, "{id} on {}", h.store.backend());
        }
    }
    let (_, object) = h.crm.object("person").await.unwrap();
    assert_eq!(h.store.count_records(&object).await.unwrap(), 4 * ROWS as i64);
}

/// A user who may see only their own people can neither point at someone else's person nor
/// find out that it exists, and reads no id of it anywhere.
pub async fn relations_to_records_out_of_sight_are_refused_and_withheld(h: H) {
    let mut policy = AccessPolicy::default();
    policy
        .visibility
        .entry("person".into())
        .or_default()
        .insert(Role::User, Visibility::Own);
    h.store.set_policy(&policy).await.unwrap();
    let seller = add_user(&*h.store, "seller@example.com", Role::User, h.clock.now()).await;
    let theirs = person(&h, json!({"last_name": "Someone else's"})).await;
    let theirs_id = theirs["id"].as_str().unwrap().to_string();
    let (o, mine) = h
        .crm
        .create(&seller, "person", &json!({"last_name": "Mine"}))
        .await
        .unwrap();
    let mine = mine.to_json(&o);
    let made_up = anchora_core::RecordId::new_at(h.clock.now()).to_string();
    // Writes: the person out of sight is refused in the very words a made-up id gets.
    let refusal = |body: Json| {
        let crm = h.crm.clone();
        let seller = seller.clone();
        async move { crm.create(&seller, "activity", &body).await.unwrap_err() }
    };
    for (field, bodies) in [
        (
            "person",
            [
                json!({"type": "note", "subject": "x", "person": theirs_id}),
                json!({"type": "note", "subject": "x", "person": made_up}),
            ],
        ),
        (
            "links[0]",
            [
                json!({"type": "note", "subject": "x", "links": [{"object": "person", "id": theirs_id}]}),
                json!({"type": "note", "subject": "x", "links": [{"object": "person", "id": made_up}]}),
            ],
        ),
    ] {
        let [hidden, absent] = bodies;
        let (a, b) = (refusal(hidden).await, refusal(absent).await);
        assert_eq!(a.code, ErrorCode::ValidationFailed);
        assert_eq!((&a.errors, &a.detail), (&b.errors, &b.detail), "{field}");
        assert_eq!(a.errors[0].field, field);
    }
    // What an administrator wrote: a note on both people, linked to both.
    let (o, note) = h
        .crm
        .create(
            &h.admin,
            "activity",
            &json!({"type": "note", "subject": "Met both", "person": theirs_id,
                    "links": [{"object": "person", "id": theirs_id}, {"object": "person", "id": mine["id"]}]}),
        )
        .await
        .unwrap();
    let note_id = note.id.to_string();
    let note_json = note.to_json(&o);
    let e = h
        .crm
        .update(&seller, "activity", &note_id, &json!({"person": theirs_id}), Some(1))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "person");
    // Reads: the note is there, without the id or name of the person out of sight.
    let (o, seen) = h.crm.get(&seller, "activity", &note_id).await.unwrap();
    let seen = seen.to_json(&o);
    assert!(!seen.to_string().contains(&theirs_id), "{seen}");
    assert!(seen.get("person").is_none());
    assert_eq!(seen["withheld"], json!(["person"]));
    assert_eq!(
        seen["links"],
        json!([{"object": "person", "id": mine["id"]}, {"object": "person", "withheld": true}])
    );
    let params = ListParams::default();
    let (o, page) = h.crm.list(&seller, "activity", &params).await.unwrap();
    let listed: Vec<Json> = page.records.iter().map(|r| r.to_json(&o)).collect();
    assert!(!json!(listed).to_string().contains(&theirs_id));
    let mine_id = anchora_core::RecordId::parse(mine["id"].as_str().unwrap()).unwrap();
    let timeline = h.crm.timeline(&seller, "person", mine_id, 50).await.unwrap();
    assert_eq!(timeline.len(), 1);
    assert!(!timeline[0].to_json(&o).to_string().contains(&theirs_id));
    // Writing back what was read keeps what was withheld; replacing the links keeps the
    // link out of sight.
    let mut back = seen.clone();
    back["subject"] = json!("Met both, again");
    h.crm.update(&seller, "activity", &note_id, &back, None).await.unwrap();
    h.crm
        .update(&seller, "activity", &note_id, &json!({"links": []}), Some(2))
        .await
        .unwrap();
    let (o, now) = h.crm.get(&h.admin, "activity", &note_id).await.unwrap();
    let now = now.to_json(&o);
    assert_eq!(now["person"], json!(theirs_id));
    assert_eq!(now["links"], json!([{"object": "person", "id": theirs_id}]));
    // History and a refused stale write name no one out of sight either.
    let history = h.crm.history(&seller, "activity", &note_id, None, None).await.unwrap();
    let history: Vec<Json> = history.iter().map(|c| c.to_json()).collect();
    assert!(!json!(history).to_string().contains(&theirs_id), "{history:?}");
    let stale = h
        .crm
        .update(&seller, "activity", &note_id, &json!({"subject": "late"}), Some(1))
        .await
        .unwrap_err();
    assert_eq!(stale.code, ErrorCode::VersionConflict);
    assert!(!stale.current.unwrap().to_string().contains(&theirs_id));
    let _ = note_json;
}

/// The column slots a table takes: PostgreSQL counts dropped columns until the table is
/// rewritten.
async fn slots(h: &H, table: &str) -> (i64, i64) {
    use anchora_store::db::Sql;
    let (all, dropped) = match h.store.backend() {
        "sqlite" => (
            format!("SELECT COUNT(*) FROM pragma_table_info('{table}')"),
            "SELECT 0".to_string(),
        ),
        _ => (
            format!("SELECT COUNT(*) FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attnum > 0"),
            format!(
                "SELECT COUNT(*) FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attnum > 0 AND attisdropped"
            ),
        ),
    };
    let pool = h.store.pool();
    let a = pool
        .exec()
        .fetch_optional(Sql::plain(all))
        .await
        .unwrap()
        .unwrap()
        .i64(0)
        .unwrap();
    let d = pool
        .exec()
        .fetch_optional(Sql::plain(dropped))
        .await
        .unwrap()
        .unwrap()
        .i64(0)
        .unwrap();
    (a, d)
}

pub async fn the_field_limit_is_kept_before_any_ddl_and_purged_fields_free_their_slots(h: H) {
    let crm = h.crm.clone().with_max_fields(14);
    let add = |name: String| {
        let crm = crm.clone();
        let admin = h.admin.clone();
        async move {
            crm.add_field(&admin, "person", json!({"name": name, "label": name, "type": "text"}))
                .await
        }
    };
    let standard = h.crm.object("person").await.unwrap().1.active_fields().count();
    for n in standard..14 {
        add(format!("extra_{n}")).await.unwrap();
    }
    let before = slots(&h, "obj_person").await;
    let e = add("one_too_many".into()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    assert_eq!(e.errors[0].field, "name");
    assert!(
        e.errors[0].message.contains("14 active fields"),
        "{}",
        e.errors[0].message
    );
    assert_eq!(
        slots(&h, "obj_person").await,
        before,
        "refused before any column was added"
    );
    // An archived field leaves the active ones; its column stays until it is purged.
    crm.remove_field(&h.admin, "person", "extra_13", false).await.unwrap();
    add("in_its_place".into()).await.unwrap();

    // The table's own limit: room for two more text fields (two columns each).
    let kept = person(&h, json!({"last_name": "Kept", "extra_12": "still here"})).await;
    let (used, _) = slots(&h, "obj_person").await;
    h.store.set_column_budget(used + 4);
    let crm = crm.with_max_fields(100);
    for name in ["room_1", "room_2"] {
        crm.add_field(&h.admin, "person", json!({"name": name, "label": name, "type": "text"}))
            .await
            .unwrap();
    }
    let e = crm
        .add_field(
            &h.admin,
            "person",
            json!({"name": "no_room", "label": "No room", "type": "text"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "name");
    assert!(
        e.errors[0].message.contains("purge archived fields"),
        "{}",
        e.errors[0].message
    );
    // Purging an archived field frees its slots, on PostgreSQL by rewriting the table.
    crm.remove_field(&h.admin, "person", "room_1", false).await.unwrap();
    crm.remove_field(&h.admin, "person", "room_1", true).await.unwrap();
    crm.add_field(
        &h.admin,
        "person",
        json!({"name": "no_room", "label": "No room", "type": "text"}),
    )
    .await
    .unwrap();
    let (_, dropped) = slots(&h, "obj_person").await;
    assert_eq!(dropped, 0, "the rewrite left no dropped columns behind");
    let (o, r) = h
        .crm
        .get(&h.admin, "person", kept["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(r.to_json(&o)["extra_12"], "still here");
    assert_eq!(
        list(
            &h,
            "person",
            json!({"field": "extra_12", "op": "starts_with", "value": "STILL"}),
            "last_name"
        )
        .await
        .len(),
        1,
        "indexes and folded copies came through the rewrite"
    );
    person(&h, json!({"last_name": "X", "external_id": "after-rewrite"})).await;
    let e = h
        .crm
        .create(
            &h.admin,
            "person",
            &json!({"last_name": "Y", "external_id": "AFTER-REWRITE"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "external_id", "the unique index came through too");
}

/// A NUL (which PostgreSQL's text cannot hold) is refused naming its field, in every filter
/// operator and in every text value, the same on both databases.
pub async fn nul_is_refused_in_every_operator_and_value(h: H) {
    use anchora_core::filter::Op;
    person(&h, json!({"last_name": "Öberg", "email": "asa@example.se"})).await;
    for field in [
        "last_name",
        "first_name",
        "email",
        "city",
        "external_id",
        "created_at",
        "owner",
        "company",
        "email_consent",
    ] {
        for op in Op::ALL {
            let value = match op {
                Op::In => json!(["Ö\u{0}berg"]),
                _ => json!("Ö\u{0}berg"),
            };
            let params = ListParams {
                filter: Some(json!({"field": field, "op": op.as_str(), "value": value}).to_string()),
                ..Default::default()
            };
            let e = h.crm.list(&h.admin, "person", &params).await.unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidFilter, "{field} {op:?}: {e:?}");
            assert!(e.errors[0].field.starts_with("filter."), "{field} {op:?}: {e:?}");
        }
    }
    for field in [
        "first_name",
        "last_name",
        "email",
        "phone",
        "title",
        "city",
        "external_id",
        "email_consent_source",
    ] {
        let mut body = json!({"last_name": "Ok"});
        body[field] = json!("a\u{0}b");
        let e = h.crm.create(&h.admin, "person", &body).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed, "{field}");
        assert_eq!(e.errors[0].field, field);
    }
    let e = h
        .crm
        .save_view(
            &h.admin,
            "person",
            "Mine\u{0}",
            &[("sort".into(), "last_name".into())],
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    // A file name is only a label: what no database holds is left out of it.
    let bytes = b"Last name\nBerg\n".to_vec();
    let settings = ImportSettings {
        object: "person".into(),
        mapping: [("Last name".to_string(), Some("last_name".to_string()))]
            .into_iter()
            .collect(),
        match_on: Some(String::new()),
        create_related: true,
        dry_run: false,
        default_owner: None,
        left_out: Vec::new(),
        selection: None,
    };
    let job = h
        .crm
        .import_now(
            &h.admin,
            settings,
            "list\u{0}.csv",
            sha256_hex(&bytes),
            Cursor::new(bytes),
            &mut |_| true,
        )
        .await
        .unwrap();
    assert_eq!(job.file_name, "list.csv");
}

async fn has_index(h: &H, name: &str) -> bool {
    use anchora_store::db::Sql;
    let sql = match h.store.backend() {
        "sqlite" => Sql::new(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?1",
            vec![name.into()],
        ),
        _ => Sql::new(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1",
            vec![name.into()],
        ),
    };
    h.store.pool().exec().fetch_optional(sql).await.unwrap().is_some()
}

/// A bulk load into an empty table goes without its indexes; when its process dies, a running
/// server builds them again once the job has been quiet for two minutes.
/// An import job of people, claimed (running), as a bulk load has.
async fn running_person_import(h: &H) -> anchora_core::import::ImportJob {
    let job = anchora_core::import::ImportJob::new(
        ImportSettings {
            object: "person".into(),
            mapping: BTreeMap::new(),
            match_on: None,
            create_related: true,
            dry_run: false,
            default_owner: None,
            left_out: Vec::new(),
            selection: None,
        },
        "big.csv",
        String::new(),
        Vec::new(),
        JobStatus::Queued,
        h.admin.user_id,
        h.clock.now(),
    );
    h.store.create_import_job(&job, None, None).await.unwrap();
    assert!(
        h.store
            .claim_import(job.id, h.clock.now(), h.clock.now())
            .await
            .unwrap()
    );
    job
}

pub async fn indexes_a_dead_bulk_load_dropped_are_built_again(h: H) {
    let (_, object) = h.crm.object("person").await.unwrap();
    let job = running_person_import(&h).await;
    h.store.set_bulk_load(&object, Some(job.id)).await.unwrap();
    assert!(!has_index(&h, "ix_obj_person__fold_last_name").await);
    assert!(
        has_index(&h, "ux_obj_person__fold_external_id").await,
        "unique indexes stay"
    );
    h.clock.advance(chrono::Duration::seconds(30));
    assert!(h.crm.repair_bulk_loads().await.unwrap().is_empty(), "the load is alive");
    h.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(h.crm.repair_bulk_loads().await.unwrap(), vec!["person".to_string()]);
    assert!(has_index(&h, "ix_obj_person__fold_last_name").await);
    assert!(h.crm.repair_bulk_loads().await.unwrap().is_empty(), "repaired once");
}

/// A finished bulk load leaves the planner statistics of the table it filled: PostgreSQL
/// otherwise planned the next import's reads for an empty table (64 s instead of 11).
pub async fn a_finished_bulk_load_leaves_the_planner_its_statistics(h: H) {
    use anchora_store::db::Sql;
    let (_, object) = h.crm.object("person").await.unwrap();
    let job = running_person_import(&h).await;
    h.store.set_bulk_load(&object, Some(job.id)).await.unwrap();
    for n in 0..40 {
        person(
            &h,
            json!({"last_name": format!("Øster {n}"), "email": format!("o{n}@example.dk")}),
        )
        .await;
    }
    h.store.set_bulk_load(&object, None).await.unwrap();
    let sql = match h.store.backend() {
        "sqlite" => Sql::plain("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'obj_person'"),
        _ => {
            Sql::plain("SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'obj_person'")
        }
    };
    let row = h.store.pool().exec().fetch_optional(sql).await.unwrap().unwrap();
    assert!(row.i64(0).unwrap() > 0, "the table has statistics");
}

/// A key user who may not see a company merges two people: a relation to that company stays
/// as it is, neither overwritten nor cleared; sorting by it is not offered to them.
pub async fn merging_keeps_relations_the_merger_may_not_see(h: H) {
    let mut policy = AccessPolicy::default();
    policy
        .visibility
        .entry("company".into())
        .or_default()
        .insert(Role::KeyUser, Visibility::Own);
    h.store.set_policy(&policy).await.unwrap();
    let keyuser = add_user(&*h.store, "key@example.com", Role::KeyUser, h.clock.now()).await;
    let (_, hidden) = h
        .crm
        .create(&h.admin, "company", &json!({"name": "Hidden AB"}))
        .await
        .unwrap();
    let (_, visible) = h
        .crm
        .create(&keyuser, "company", &json!({"name": "Visible AB"}))
        .await
        .unwrap();
    let keep = person(&h, json!({"last_name": "Öberg", "company": hidden.id.to_string()})).await;
    let gone = person(
        &h,
        json!({"last_name": "Oberg", "title": "CFO", "company": visible.id.to_string()}),
    )
    .await;
    let (o, seen) = h
        .crm
        .get(&keyuser, "person", keep["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(seen.to_json(&o)["withheld"], json!(["company"]));
    let e = h
        .crm
        .merge(
            &keyuser,
            "person",
            json!({"keep": keep["id"], "gone": gone["id"], "keep_version": 1, "gone_version": 1, "values": {"company": "gone"}}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "values.company");
    let entry = h
        .crm
        .merge(
            &keyuser,
            "person",
            json!({"keep": keep["id"], "gone": gone["id"], "keep_version": 1, "gone_version": 1, "values": {}}),
        )
        .await
        .unwrap();
    let (o, kept) = h
        .crm
        .get(&h.admin, "person", keep["id"].as_str().unwrap())
        .await
        .unwrap();
    let kept = kept.to_json(&o);
    assert_eq!(
        kept["company"],
        json!(hidden.id.to_string()),
        "not overwritten by the other's"
    );
    assert_eq!(kept["title"], "CFO", "what the merger sees is filled in as before");
    h.crm.undo_merge(&keyuser, &entry.id.to_string()).await.unwrap();
    let (o, back) = h
        .crm
        .get(&h.admin, "person", keep["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(back.to_json(&o)["company"], json!(hidden.id.to_string()));
    let params = ListParams {
        sort: Some("company".into()),
        ..Default::default()
    };
    let e = h.crm.list(&keyuser, "person", &params).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidSort);
    assert!(h.crm.list(&h.admin, "person", &params).await.is_ok());
}

/// Many records at once (an import's batch; on PostgreSQL written by COPY) hold exactly what
/// the same records written one by one hold: every field type, awkward text, the ends of each
/// range, and nothing at all.
pub async fn bulk_writes_keep_every_value_as_single_writes_do(h: H) {
    use anchora_core::value::Value;
    use chrono::{NaiveDate, TimeZone, Utc};
    let choices = json!([{"value": "a\"b", "label": "Quote"}, {"value": "c\\d", "label": "Backslash"}]);
    h.crm
        .create_object(
            &h.admin,
            json!({"name": "specimen", "label": "Specimen", "label_plural": "Specimens",
            "fields": [
                {"name": "notes", "label": "Notes", "type": "long_text"},
                {"name": "weight", "label": "Weight", "type": "number"},
                {"name": "share", "label": "Share", "type": "percent"},
                {"name": "price", "label": "Price", "type": "money"},
                {"name": "born", "label": "Born", "type": "date"},
                {"name": "seen", "label": "Seen", "type": "datetime"},
                {"name": "flag", "label": "Flag", "type": "boolean"},
                {"name": "kind", "label": "Kind", "type": "select", "choices": choices},
                {"name": "tags", "label": "Tags", "type": "multi_select", "choices": choices},
                {"name": "mail", "label": "Mail", "type": "email"},
                {"name": "tel", "label": "Phone", "type": "phone"},
                {"name": "site", "label": "Site", "type": "url"},
                {"name": "company", "label": "Company", "type": "relation", "target": "company"},
                {"name": "handler", "label": "Handler", "type": "user"}]}),
        )
        .await
        .unwrap();
    let (_, company) = h
        .crm
        .create(&h.admin, "company", &json!({"name": "Ærø Fisk ApS"}))
        .await
        .unwrap();
    let object = h.store.schema().await.unwrap().object("specimen").unwrap().clone();
    let texts = [
        "plain",
        "tab\there",
        "line\nbreak\r\nand carriage",
        "back\\slash",
        "\\N",
        "\\.",
        "Öberg Ærø Müller Núñez ß",
        "",
        "   ",
        "emoji 😀 and \u{1} control",
        "O\u{308}berg",
    ];
    let numbers = [0.1, -0.0, 1e300, 5e-324, -123_456.789, 42.0, f64::MAX];
    let money = [0, 1, -1, i64::MAX, i64::MIN, 25_000_000];
    let dates = [
        NaiveDate::from_ymd_opt(1, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 2, 28).unwrap(),
        NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
    ];
    let times = [
        Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap() + chrono::Duration::microseconds(999_999),
        Utc.with_ymd_and_hms(2026, 12, 3, 16, 0, 0).unwrap() + chrono::Duration::microseconds(1),
        Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
    ];
    let make = |n: usize| {
        let at = h.clock.now();
        let mut values = BTreeMap::new();
        // Every fifth record holds nothing at all.
        if n % 5 != 4 {
            let text = |k: usize| Value::Text(texts[(n + k) % texts.len()].to_string());
            values.insert("name".to_string(), text(0));
            values.insert("notes".to_string(), text(1));
            values.insert("weight".to_string(), Value::Number(numbers[n % numbers.len()]));
            values.insert("share".to_string(), Value::Percent(numbers[(n + 3) % numbers.len()]));
            values.insert("price".to_string(), Value::Money(money[n % money.len()]));
            values.insert("born".to_string(), Value::Date(dates[n % dates.len()]));
            values.insert("seen".to_string(), Value::DateTime(times[n % times.len()]));
            values.insert("flag".to_string(), Value::Bool(n.is_multiple_of(2)));
            values.insert("kind".to_string(), Value::Select("c\\d".into()));
            values.insert(
                "tags".to_string(),
                Value::MultiSelect(vec!["a\"b".into(), "c\\d".into()]),
            );
            values.insert("mail".to_string(), Value::Text(format!("öberg{n}@example.com")));
            values.insert("tel".to_string(), Value::Text("+46 70 123 45 67".into()));
            values.insert(
                "site".to_string(),
                Value::Text("https://example.com/a?b=c&d=\\e".into()),
            );
            values.insert("company".to_string(), Value::Relation(company.id));
            values.insert("handler".to_string(), Value::User(h.admin.user_id));
        }
        let mut record = anchora_core::record::Record::new(
            "specimen",
            anchora_core::RecordId::new_at(at),
            at,
            Some(h.admin.user_id),
        );
        record.values = values;
        record
    };
    let ctx = anchora_core::store::WriteCtx {
        actor: h.admin.user_id,
        now: h.clock.now(),
    };
    let bulk: Vec<_> = (0..60).map(make).collect();
    let single: Vec<_> = (0..60).map(make).collect();
    h.store.insert_records(&object, &bulk, ctx).await.unwrap();
    for record in &single {
        h.store.insert_record(&object, record, ctx).await.unwrap();
    }
    for (b, s) in bulk.iter().zip(&single) {
        let b_read = h.store.get_record(&object, b.id).await.unwrap().unwrap();
        let s_read = h.store.get_record(&object, s.id).await.unwrap().unwrap();
        // Written out, so that -0 and 0 differ (PostgreSQL keeps the sign either way; SQLite
        // keeps neither).
        assert_eq!(
            format!("{:?}", b_read.values),
            format!("{:?}", s_read.values),
            "record {} written in bulk",
            b.id
        );
        let held: BTreeMap<_, _> = b_read
            .values
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(held, b.values, "record {} as it was given", b.id);
        assert_eq!(
            (b_read.created_at, b_read.owner, b_read.version),
            (s_read.created_at, s_read.owner, s_read.version)
        );
    }
    // Each bulk record has its history, as a record written alone does, and can be found by
    // its words.
    for (b, s) in bulk.iter().zip(&single).take(10) {
        let of = |id: anchora_core::RecordId| {
            let crm = &h.crm;
            let admin = &h.admin;
            async move {
                crm.history(admin, "specimen", &id.to_string(), None, None)
                    .await
                    .unwrap()
            }
        };
        let (b_history, s_history) = (of(b.id).await, of(s.id).await);
        assert_eq!(b_history.len(), 1, "{b_history:?}");
        let strip = |c: &anchora_core::record::Change| {
            (
                c.at,
                c.actor,
                c.object.clone(),
                c.op,
                c.field.clone(),
                c.old.clone(),
                c.new.clone(),
            )
        };
        assert_eq!(strip(&b_history[0]), strip(&s_history[0]));
    }
    let hits = h.crm.search(&h.admin, "Núñez", Some("100")).await.unwrap();
    let found = |r: &anchora_core::record::Record| hits.iter().any(|hit| hit.id == r.id);
    let named = |r: &&anchora_core::record::Record| {
        r.values
            .get("name")
            .and_then(Value::to_text)
            .is_some_and(|t| t.contains("Núñez"))
    };
    assert!(bulk.iter().filter(named).all(found), "{hits:?}");
    assert!(single.iter().filter(named).all(found), "{hits:?}");
    // A NUL fails the whole write, named as a single write names it, and nothing of it stays:
    // also when the rows before it already went to the database.
    let mut alone = make(0);
    alone.values.insert("notes".into(), Value::Text("nul \0 here".into()));
    let refused = h.store.insert_record(&object, &alone, ctx).await.unwrap_err();
    let mut bad: Vec<_> = (0..3000).map(make).collect();
    bad[2990]
        .values
        .insert("notes".into(), Value::Text("nul \0 here".into()));
    let failed = h.store.insert_records(&object, &bad, ctx).await.unwrap_err();
    assert_eq!((failed.code, &failed.errors), (refused.code, &refused.errors));
    assert!(h.store.get_record(&object, bad[0].id).await.unwrap().is_none());
    // Every connection is sound afterwards: more bulk writes than the pool has connections.
    for chunk in bad[2991..].chunks(1).chain(bad[..2990].chunks(230)) {
        h.store.insert_records(&object, chunk, ctx).await.unwrap();
    }
    let count = h.store.count_records(&object).await.unwrap();
    assert_eq!(count, 120 + 2999);
}

/// Issue 18: a report's grouping is decided in core. Groups come in reading order (the
/// picklist's own order, people by name), one per value with its sums per currency, over the
/// records the caller may see; a field that cannot group or add up falls back to the default.
pub async fn reports_group_in_reading_order_with_sums_per_currency(h: H) {
    let now = h.clock.now();
    let zeta = add_user(&*h.store, "zeta@example.com", Role::User, now).await;
    let alpha = add_user(&*h.store, "alpha@example.com", Role::User, now).await;
    for (name, stage, amount, currency, owner) in [
        ("Won one", "won", "100.00", "SEK", h.admin.user_id),
        ("Lead EUR", "lead", "50.00", "EUR", zeta.user_id),
        ("Lead SEK", "lead", "25.00", "SEK", zeta.user_id),
        ("Lead SEK 2", "lead", "10.00", "SEK", alpha.user_id),
        ("Proposal", "proposal", "1.00", "SEK", h.admin.user_id),
    ] {
        let body = json!({"name": name, "stage": stage, "amount": amount, "currency": currency,
            "owner": owner.to_string()});
        h.crm.create(&h.admin, "deal", &body).await.unwrap();
    }
    let report = h
        .crm
        .grouped_report(&h.admin, "deal", Some("stage"), Some("amount"))
        .await
        .unwrap();
    let stages: Vec<(Value, i64)> = report.groups.iter().map(|g| (g.key.clone(), g.count)).collect();
    assert_eq!(
        stages,
        [
            (Value::Select("lead".into()), 3),
            (Value::Select("proposal".into()), 1),
            (Value::Select("won".into()), 1)
        ]
    );
    let lead = &report.groups[0];
    assert_eq!(lead.sums.get("EUR"), Some(&5000.0));
    assert_eq!(lead.sums.get("SEK"), Some(&3500.0));
    assert_eq!(report.total, 5);
    assert!(!report.one_currency(), "EUR and SEK are never added together");
    let by_owner = h
        .crm
        .grouped_report(&h.admin, "deal", Some("owner"), None)
        .await
        .unwrap();
    let owners: Vec<Value> = by_owner.groups.iter().map(|g| g.key.clone()).collect();
    assert_eq!(
        owners,
        [
            Value::User(h.admin.user_id),
            Value::User(alpha.user_id),
            Value::User(zeta.user_id)
        ],
        "people by name"
    );
    let fallback = h
        .crm
        .grouped_report(&h.admin, "deal", Some("password"), Some("name"))
        .await
        .unwrap();
    assert_eq!(fallback.group.map(|f| f.name), Some("stage".to_string()));
    assert!(fallback.sum.is_none());
    h.crm
        .set_access_policy(
            &h.admin,
            json!({"visibility": {"deal": {"user": "own"}}}),
            &anchora_core::accounts::Origin::default(),
        )
        .await
        .unwrap();
    let own = h
        .crm
        .grouped_report(&zeta, "deal", Some("stage"), Some("amount"))
        .await
        .unwrap();
    assert_eq!(own.total, 2, "only the deals zeta may see");
    assert_eq!(own.groups.len(), 1);
}
