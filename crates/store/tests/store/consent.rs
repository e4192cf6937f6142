//! Consent per purpose on both databases: purposes, consent given and withdrawn with its source,
//! the latest decision wins, a person's global "no e-mail" overrides, visibility, and a person
//! erased takes their consents along; their data export shows them.

use super::*;
use anchora_core::consent::{ConsentState, Skip, may_email};
use anchora_core::store::ConsentStore;

pub async fn consent_is_kept_per_purpose_with_its_proof(h: H) {
    // Purposes: a plain key, a name; the same key twice is refused.
    let news = h
        .crm
        .add_purpose(
            &h.admin,
            json!({"key": "newsletter", "name": "Nyhetsbrev", "description": "Once a month"}),
        )
        .await
        .unwrap();
    assert_eq!(news.key, "newsletter");
    h.crm
        .add_purpose(&h.admin, json!({"key": "events", "name": "Évènements"}))
        .await
        .unwrap();
    let again = h
        .crm
        .add_purpose(&h.admin, json!({"key": "newsletter", "name": "Again"}))
        .await
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::AlreadyExists);
    for (body, field) in [
        (json!({"key": "Newsletter", "name": "x"}), "key"),
        (json!({"key": "product", "name": "  "}), "name"),
        (json!({"key": "product", "name": "x", "colour": 1}), "colour"),
        (
            json!({"key": "product", "name": "x", "description": "a\u{0084}b"}),
            "description",
        ),
    ] {
        let e = h.crm.add_purpose(&h.admin, body).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed, "{field}");
    }
    // A seller may not add purposes (mass mailing is for key users and administrators).
    let seller = add_user(&*h.store, "seller@example.com", Role::User, h.clock.now()).await;
    let e = h
        .crm
        .add_purpose(&seller, json!({"key": "x", "name": "X"}))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    // Purposes by name as people read them (É sorts with E).
    let names: Vec<String> = h
        .crm
        .purposes(&h.admin)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["Évènements", "Nyhetsbrev"]);

    let asa = person(
        &h,
        json!({"first_name": "Åsa", "last_name": "Öberg", "email": "asa@firma.se"}),
    )
    .await;
    let asa_id = asa["id"].as_str().unwrap().to_string();
    let soren = person(
        &h,
        json!({"first_name": "Søren", "last_name": "Ærø", "email": "soren@firma.dk"}),
    )
    .await;
    let soren_id = soren["id"].as_str().unwrap().to_string();
    // Given on a web form, withdrawn by phone a day later: the latest decision holds; both kept.
    h.crm
        .record_consent(
            &h.admin,
            "person",
            &asa_id,
            json!({"purpose": "newsletter", "state": "granted", "source": "web form"}),
        )
        .await
        .unwrap();
    h.clock.advance(chrono::Duration::days(1));
    h.crm
        .record_consent(
            &h.admin,
            "person",
            &asa_id,
            json!({"purpose": "newsletter", "state": "withdrawn", "source": "phone call"}),
        )
        .await
        .unwrap();
    h.crm
        .record_consent(
            &h.admin,
            "person",
            &asa_id,
            json!({"purpose": "events", "state": "granted", "source": "fair stand"}),
        )
        .await
        .unwrap();
    h.crm
        .record_consent(
            &h.admin,
            "person",
            &soren_id,
            json!({"purpose": "newsletter", "state": "granted", "source": "import"}),
        )
        .await
        .unwrap();
    let mine = h.crm.person_consents(&h.admin, "person", &asa_id).await.unwrap();
    assert!(!mine.no_email);
    assert_eq!(mine.history.len(), 3);
    assert_eq!(mine.history[0].source, "web form");
    let now: Vec<(String, Option<ConsentState>)> = mine
        .purposes
        .iter()
        .map(|c| (c.purpose.key.clone(), c.consent.as_ref().map(|e| e.state)))
        .collect();
    assert_eq!(
        now,
        [
            ("events".to_string(), Some(ConsentState::Granted)),
            ("newsletter".to_string(), Some(ConsentState::Withdrawn))
        ]
    );
    // What a mailing asks, for many people at once: the latest decision per person.
    let ids = [
        anchora_core::RecordId::parse(&asa_id).unwrap(),
        anchora_core::RecordId::parse(&soren_id).unwrap(),
    ];
    let granted = h.store.granted_among("newsletter", &ids).await.unwrap();
    assert_eq!(granted.len(), 1);
    assert!(granted.contains(&ids[1]));
    assert_eq!(h.store.granted_among("events", &ids).await.unwrap().len(), 1);
    // Global "no e-mail" overrides a purpose's consent.
    let (_, soren_record) = h.crm.get(&h.admin, "person", &soren_id).await.unwrap();
    assert_eq!(may_email(&soren_record, Some(ConsentState::Granted)), Ok(()));
    h.crm
        .update(
            &h.admin,
            "person",
            &soren_id,
            &json!({"email_consent": "withdrawn", "version": soren_record.version}),
            None,
        )
        .await
        .unwrap();
    let (_, soren_record) = h.crm.get(&h.admin, "person", &soren_id).await.unwrap();
    assert_eq!(
        may_email(&soren_record, Some(ConsentState::Granted)),
        Err(Skip::NoEmail)
    );
    assert!(
        h.crm
            .person_consents(&h.admin, "person", &soren_id)
            .await
            .unwrap()
            .no_email
    );

    // Mistakes name their field; only people consent; a purpose must exist.
    for (body, field) in [
        (json!({"purpose": "newsletter", "state": "maybe", "source": "x"}), None),
        (
            json!({"purpose": "newsletter", "state": "granted", "source": " "}),
            Some("source"),
        ),
        (
            json!({"purpose": "fishing", "state": "granted", "source": "x"}),
            Some("purpose"),
        ),
    ] {
        let e = h
            .crm
            .record_consent(&h.admin, "person", &asa_id, body)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        if let Some(field) = field {
            assert_eq!(e.errors[0].field, field);
        }
    }
    let company = h
        .crm
        .create(&h.admin, "company", &json!({"name": "Firma AB"}))
        .await
        .unwrap()
        .1;
    let e = h
        .crm
        .person_consents(&h.admin, "company", &company.id.to_string())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);

    // Someone who may not see Åsa learns nothing of her consents, and cannot record one.
    let mut policy = anchora_core::auth::AccessPolicy::default();
    policy
        .visibility
        .entry("person".into())
        .or_default()
        .insert(Role::User, anchora_core::auth::Visibility::Own);
    h.store.set_policy(&policy).await.unwrap();
    let e = h.crm.person_consents(&seller, "person", &asa_id).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = h
        .crm
        .record_consent(
            &seller,
            "person",
            &asa_id,
            json!({"purpose": "events", "state": "withdrawn", "source": "x"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);

    // Her data export shows her consents; erased, she takes them along.
    let export = h.crm.export_person(&h.admin, &asa_id, None).await.unwrap();
    assert_eq!(export["consents"].as_array().unwrap().len(), 3);
    let admin_purge = h.admin.clone();
    h.crm.erase_person(&admin_purge, &asa_id, None).await.unwrap();
    assert!(h.store.consent_history(ids[0]).await.unwrap().is_empty());
    assert_eq!(h.store.consent_history(ids[1]).await.unwrap().len(), 1);
}
