//! Integrity under concurrency and hostile input (issue 16), on both databases: values that
//! must stay unique, relations to records the caller may not see, the field limit, NUL
//! characters, and case folding for the letters of five languages.

use super::{H, add_user, list, names, person};
use anchora_core::auth::Role;
use anchora_core::service::ListParams;
use anchora_core::{ErrorCode, Store};
use serde_json::{Value as Json, json};

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

#[allow(dead_code)]
async fn unused(h: &H) {
    let _ = add_user(&*h.store, "x@example.com", Role::User, h.clock.now()).await;
    let _ = ErrorCode::NotFound;
}

use anchora_core::Clock;
