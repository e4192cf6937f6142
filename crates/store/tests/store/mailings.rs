//! A mailing's recipients on both databases: many claimers at once, round after round, never
//! take one recipient twice (the promise that nobody gets a message twice rests on it); one
//! address goes to one recipient of a mailing (a unique index); settling touches only what the
//! claim still holds.

use super::*;
use anchora_core::ids::{MailingId, RecordId, SelectionId, TemplateId};
use anchora_core::mailings::{Mailing, MailingState, MailingStore, Outcome, Recipient, RecipientStatus};
use anchora_core::write::WriteCtx;
use std::collections::HashSet;

fn mailing(h: &H) -> Mailing {
    let now = h.clock.now();
    Mailing {
        id: MailingId::new_at(now),
        name: "Race".into(),
        selection: SelectionId::new_at(now),
        template: TemplateId::new_at(now),
        purpose: "newsletter".into(),
        state: MailingState::Sending,
        start_at: None,
        throttle: None,
        window: None,
        owner: h.admin.user_id,
        job: None,
        template_copy: None,
        prepared_at: Some(now),
        paused_because: None,
        version: 1,
        created_at: now,
        updated_at: now,
        finished_at: None,
    }
}

fn recipient(m: &Mailing, i: usize) -> Recipient {
    Recipient {
        mailing: m.id,
        person: RecordId(uuid::Uuid::now_v7()),
        email: Some(format!("p{i}@example.se")),
        language: None,
        status: RecipientStatus::Queued,
        skip: None,
        attempts: 0,
        next_try_at: None,
        detail: None,
        sent_at: None,
        tag: format!("main-{i:032x}"),
    }
}

pub async fn concurrent_claims_never_take_one_recipient_twice(h: H) {
    const PEOPLE: usize = 150;
    for round in 0..8 {
        let m = mailing(&h);
        h.store.create_mailing(&m).await.unwrap();
        let people: Vec<Recipient> = (0..PEOPLE).map(|i| recipient(&m, round * 1000 + i)).collect();
        h.store.add_recipients(&people).await.unwrap();
        let claim = |who: &'static str| {
            let store = h.store.clone();
            let now = h.clock.now();
            async move {
                let mut mine = Vec::new();
                loop {
                    // A claim PostgreSQL aborts (a deadlock between two claims) took nothing,
                    // its transaction rolled back; the job's next attempt claims again.
                    let got = match store.claim_recipients(m.id, now, 7, who).await {
                        Ok(got) => got,
                        Err(e) if e.code == anchora_core::ErrorCode::Unavailable => continue,
                        Err(e) => panic!("{who}: {e:?}"),
                    };
                    if got.is_empty() {
                        return mine;
                    }
                    assert!(got.len() <= 7, "a claim of 7 took {}", got.len());
                    mine.extend(got.into_iter().map(|r| r.person));
                }
            }
        };
        let (a, b, c, d) = tokio::join!(claim("a#1"), claim("b#1"), claim("c#1"), claim("d#1"));
        let mut all = HashSet::new();
        for id in a.iter().chain(&b).chain(&c).chain(&d) {
            assert!(all.insert(*id), "round {round}: {id} claimed twice");
        }
        assert_eq!(all.len(), PEOPLE, "round {round}");
        // Settling by another claimer changes nothing; the holder's settles.
        // Whoever got any: on a busy machine two claimers may take everything.
        let (holder, first) = [("a#1", &a), ("b#1", &b), ("c#1", &c), ("d#1", &d)]
            .into_iter()
            .find_map(|(who, got)| got.first().map(|p| (who, *p)))
            .unwrap();
        let outcome = Outcome {
            person: first,
            status: RecipientStatus::Sent,
            skip: None,
            attempts: 1,
            next_try_at: None,
            detail: None,
            sent_at: Some(h.clock.now()),
        };
        let ctx = WriteCtx {
            actor: h.admin.user_id,
            now: h.clock.now(),
        };
        h.store
            .settle_recipients(m.id, "z#9", std::slice::from_ref(&outcome), None, &[], &[], ctx)
            .await
            .unwrap();
        assert_eq!(h.store.recipient_counts(m.id).await.unwrap().get("sent"), None);
        h.store
            .settle_recipients(m.id, holder, std::slice::from_ref(&outcome), None, &[], &[], ctx)
            .await
            .unwrap();
        assert_eq!(h.store.recipient_counts(m.id).await.unwrap().get("sent"), Some(&1));
        // A dead claim's rows become uncertain; a live one's stay.
        let (dead, dead_got) = if holder == "c#1" { ("d#1", &d) } else { ("c#1", &c) };
        let marked = h.store.mark_uncertain(m.id, &[dead.to_string()]).await.unwrap();
        assert_eq!(marked as usize, dead_got.len());
        assert_eq!(
            h.store
                .recipient_counts(m.id)
                .await
                .unwrap()
                .get("uncertain")
                .copied()
                .unwrap_or(0) as usize,
            dead_got.len()
        );
    }
    // One address, one recipient: the database refuses a second row with it.
    let m = mailing(&h);
    h.store.create_mailing(&m).await.unwrap();
    let one = recipient(&m, 90_001);
    let mut twin = recipient(&m, 90_002);
    twin.email = one.email.clone();
    h.store.add_recipients(&[one, twin]).await.unwrap();
    assert_eq!(h.store.recipient_counts(m.id).await.unwrap().get("queued"), Some(&1));
}
