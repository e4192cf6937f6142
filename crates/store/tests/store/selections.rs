//! Selections on both databases: picked by hand and by filter, others added, a suppression
//! list taken away, counted as they are built, seen as the reader may see them.

use super::*;

pub async fn selections_combine_picked_filtered_and_suppressed_records(h: H) {
    let mut ids = Vec::new();
    for (first, last, city) in [
        ("Åsa", "Öberg", "Malmö"),
        ("ÅSA", "ÖBERG", "MALMÖ"),
        ("Søren", "Ærø", "Aarhus"),
        ("Jürgen", "Müller", "München"),
        ("José", "Núñez", "Málaga"),
    ] {
        let p = person(&h, json!({"first_name": first, "last_name": last, "city": city})).await;
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    // Dynamic: everyone in Malmö, however the spreadsheet wrote it.
    let malmo = json!({"field": "city", "op": "eq", "value": "malmö"});
    let count = h
        .crm
        .preview_selection(&h.admin, json!({"name": "Malmö", "object": "person", "filter": malmo}))
        .await
        .unwrap();
    assert_eq!(count, 2, "counted as it is built, nothing kept");
    assert!(h.crm.list_selections(&h.admin).await.unwrap().is_empty());
    let city = h
        .crm
        .create_selection(&h.admin, json!({"name": "Malmö", "object": "person", "filter": malmo}))
        .await
        .unwrap();
    assert_eq!(city.count, Some(2));
    // Static: Søren and José picked by hand.
    let picked = h
        .crm
        .create_selection(
            &h.admin,
            json!({"name": "Picked", "object": "person", "members": [ids[2], ids[4]]}),
        )
        .await
        .unwrap();
    assert_eq!(picked.count, Some(2));
    // A suppression list: the upper-case Åsa (a duplicate) and José.
    let suppress = h
        .crm
        .create_selection(
            &h.admin,
            json!({"name": "Do not write", "object": "person", "members": [ids[1], ids[4]]}),
        )
        .await
        .unwrap();
    let all = h
        .crm
        .create_selection(
            &h.admin,
            json!({"name": "Campaign", "object": "person",
                   "include": [city.selection.id, picked.selection.id],
                   "exclude": [suppress.selection.id]}),
        )
        .await
        .unwrap();
    assert_eq!(all.count, Some(2), "Malmö's Åsa and Søren: {all:?}");
    let members = h
        .crm
        .selection_members(&h.admin, &all.selection.id.to_string())
        .await
        .unwrap();
    let mut want = vec![
        anchora_core::RecordId::parse(&ids[0]).unwrap(),
        anchora_core::RecordId::parse(&ids[2]).unwrap(),
    ];
    want.sort();
    assert_eq!(members, want);
    // A new Malmö person joins the dynamic part at once; picking and unpicking move the rest.
    person(
        &h,
        json!({"first_name": "Nils", "last_name": "Nyberg", "city": "Malmö"}),
    )
    .await;
    let again = h
        .crm
        .get_selection(&h.admin, &all.selection.id.to_string())
        .await
        .unwrap();
    assert_eq!(again.count, Some(3));
    let out = h
        .crm
        .pick_members(
            &h.admin,
            &suppress.selection.id.to_string(),
            json!({"records": [ids[4]]}),
            true,
        )
        .await
        .unwrap();
    assert_eq!(out.count, Some(1));
    assert_eq!(
        h.crm
            .get_selection(&h.admin, &all.selection.id.to_string())
            .await
            .unwrap()
            .count,
        Some(4)
    );
    // Mistakes name their field: a filter on no such field, a part of another object, no name.
    let e = h
        .crm
        .create_selection(
            &h.admin,
            json!({"name": "x", "object": "person", "filter": {"field": "shoe", "op": "eq", "value": 1}}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidFilter);
    let companies = h
        .crm
        .create_selection(&h.admin, json!({"name": "Firms", "object": "company"}))
        .await
        .unwrap();
    let e = h
        .crm
        .create_selection(
            &h.admin,
            json!({"name": "x", "object": "person", "include": [companies.selection.id]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "include");
    let e = h
        .crm
        .create_selection(&h.admin, json!({"name": " ", "object": "person"}))
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "name");
    // A selection others name stays; the one naming it goes first.
    let e = h
        .crm
        .delete_selection(&h.admin, &suppress.selection.id.to_string())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    h.crm
        .delete_selection(&h.admin, &all.selection.id.to_string())
        .await
        .unwrap();
    h.crm
        .delete_selection(&h.admin, &suppress.selection.id.to_string())
        .await
        .unwrap();

    // A seller who sees only their own people: another's private selection is not there; a
    // shared one holds only what the seller may see.
    let seller = add_user(&*h.store, "seller@example.com", Role::User, h.clock.now()).await;
    let mut policy = anchora_core::auth::AccessPolicy::default();
    policy
        .visibility
        .entry("person".into())
        .or_default()
        .insert(Role::User, anchora_core::auth::Visibility::Own);
    h.store.set_policy(&policy).await.unwrap();
    let e = h
        .crm
        .get_selection(&seller, &city.selection.id.to_string())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let shared = h
        .crm
        .create_selection(
            &h.admin,
            json!({"name": "Everyone in Malmö", "object": "person", "filter": malmo, "shared": true}),
        )
        .await
        .unwrap();
    assert_eq!(shared.count, Some(3));
    let seen = h
        .crm
        .get_selection(&seller, &shared.selection.id.to_string())
        .await
        .unwrap();
    assert_eq!(seen.count, Some(0), "none of them is the seller's");
    assert!(!seen.may_change);
    let e = h
        .crm
        .pick_members(
            &seller,
            &shared.selection.id.to_string(),
            json!({"records": [ids[0]]}),
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    // Sharing is for those who may send mass mailings.
    let e = h
        .crm
        .create_selection(&seller, json!({"name": "Mine", "object": "person", "shared": true}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    // A shared suppression list that draws on a private list keeps its people out for every
    // reader, though the reader may not use the private list itself.
    let bounced = h
        .crm
        .create_selection(
            &h.admin,
            json!({"name": "Bounced", "object": "person", "members": [ids[0]]}),
        )
        .await
        .unwrap();
    let do_not_mail = h
        .crm
        .create_selection(
            &h.admin,
            json!({"name": "Do not mail", "object": "person", "include": [bounced.selection.id], "shared": true}),
        )
        .await
        .unwrap();
    let everyone = h
        .crm
        .create_selection(
            &h.admin,
            json!({"name": "Everyone", "object": "person", "filter": {"field": "last_name", "op": "is_empty", "value": false},
                   "exclude": [do_not_mail.selection.id], "shared": true}),
        )
        .await
        .unwrap();
    let members = h
        .crm
        .selection_members(&h.admin, &everyone.selection.id.to_string())
        .await
        .unwrap();
    assert!(!members.contains(&anchora_core::RecordId::parse(&ids[0]).unwrap()));
    // Naming one selection twice is refused (each part is worked out once anyway).
    let e = h
        .crm
        .create_selection(
            &h.admin,
            json!({"name": "x", "object": "person", "include": [bounced.selection.id], "exclude": [bounced.selection.id]}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.errors[0].field, "include");
    // Picking records one may not see keeps nothing of them.
    let mine = h
        .crm
        .create_selection(
            &seller,
            json!({"name": "Mine", "object": "person", "members": [ids[0], ids[2]]}),
        )
        .await
        .unwrap();
    assert_eq!(mine.count, Some(0));
    assert_eq!(
        h.crm.list_selections(&seller).await.unwrap().len(),
        4,
        "their own and the three shared"
    );
}
