//! Stewardship (issue 23, points 3, 5 and 6) over HTTP: the plan read by everyone and written
//! by administrators at its version (412 with the plan as it is now), its gaps, the backlog
//! with votes and decisions, answers and their suggestions; every refusal as problem+json
//! naming its field, 403 for read-scoped tokens and those whose role does not allow it, 404
//! for what does not exist.

use super::*;

async fn member(h: &H, email: &str, role: &str, team: &str) -> String {
    let body = json!({"email": email, "name": email, "role": role, "password": identity::PASSWORD, "team": team});
    let r = h.post("/api/v1/users", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

pub async fn stewardship_over_http(h: H) {
    let sales = identity::team(&h, "Sales").await;
    let kim = member(&h, "kim@example.se", "key_user", &sales).await;
    member(&h, "nils@example.se", "user", &sales).await;
    member(&h, "ada@example.se", "admin", &sales).await;
    let kim_token = identity::token_of(&h, "kim@example.se", Scope::Write).await;
    let kim_reading = identity::token_of(&h, "kim@example.se", Scope::Read).await;
    let nils_token = identity::token_of(&h, "nils@example.se", Scope::Write).await;
    let ada_reading = identity::token_of(&h, "ada@example.se", Scope::Read).await;
    let as_ = |token: &str, method: Method, path: &str, body: Option<Json>| {
        let token = token.to_string();
        let path = path.to_string();
        let h = &h;
        async move { identity::as_token(h, &token, method, &path, body).await }
    };

    // The plan: everyone reads it, with its gaps; only administrators with a writing token
    // change it.
    let r = as_(&nils_token, Method::GET, "/api/v1/stewardship/plan", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["version"], 0);
    assert_eq!(r.body["may_edit"], false);
    assert_eq!(r.body["matrix"]["rows"][2][2], "urgent");
    let plan = json!({"version": 0, "system_owner": kim, "administrators": [kim],
        "key_users": [{"team": sales, "users": [kim]}],
        "vendor_contacts": [{"name": "Vera Lind", "company": "CRM Partner AB"}],
        "forum": {"name": "Key-user group", "every_weeks": 4, "next_meeting": "2026-12-01"},
        "go_live": "2027-01-11"});
    for token in [&nils_token, &kim_token, &ada_reading] {
        let r = as_(token, Method::PUT, "/api/v1/stewardship/plan", Some(plan.clone())).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    let mut bad = plan.clone();
    bad["forum"]["every_weeks"] = json!(0);
    let r = h.put("/api/v1/stewardship/plan", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "forum.every_weeks");
    let mut bad = plan.clone();
    bad["key_users"][0]["team"] = json!(kim);
    let r = h.put("/api/v1/stewardship/plan", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "key_users[0].team");
    let r = h.put("/api/v1/stewardship/plan", plan.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["version"], 1);
    assert_eq!(r.body["gaps"], json!([]));
    let r = h.put("/api/v1/stewardship/plan", plan.clone()).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.body["code"], "version_conflict");
    assert_eq!(r.body["current"]["version"], 1);
    let r = as_(&nils_token, Method::GET, "/api/v1/stewardship/gaps", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"], json!([]));

    // The backlog.
    let request = json!({"title": "Show amounts on the board", "value": 4, "effort": 1,
        "links": [{"kind": "field", "target": "deal.amount"}]});
    let r = as_(
        &nils_token,
        Method::POST,
        "/api/v1/stewardship/requests",
        Some(request.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_(
        &kim_reading,
        Method::POST,
        "/api/v1/stewardship/requests",
        Some(request.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut bad = request.clone();
    bad["links"][0]["target"] = json!("deal.colour");
    let r = as_(&kim_token, Method::POST, "/api/v1/stewardship/requests", Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "links[0].target");
    let r = as_(
        &kim_token,
        Method::POST,
        "/api/v1/stewardship/requests",
        Some(request.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/stewardship/requests/{id}");
    let r = as_(&kim_token, Method::POST, &format!("{path}/vote"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = as_(&kim_token, Method::POST, &format!("{path}/vote"), None).await;
    assert_eq!(r.body["votes"], 1);
    assert_eq!(r.body["voted"], true);
    let r = as_(
        &nils_token,
        Method::GET,
        "/api/v1/stewardship/requests?sort=votes",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["requests"][0]["votes"], 1);
    let r = as_(
        &nils_token,
        Method::GET,
        "/api/v1/stewardship/requests?sort=loudest",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "sort");
    let decide = json!({"version": 1, "status": "accepted", "note": "Small and wanted"});
    let r = as_(
        &kim_token,
        Method::POST,
        &format!("{path}/decide"),
        Some(decide.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = h
        .post(&format!("{path}/decide"), json!({"version": 1, "status": "done"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "status");
    let r = h.post(&format!("{path}/decide"), decide.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "accepted");
    let r = h.post(&format!("{path}/decide"), decide).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.body["code"], "version_conflict");
    assert_eq!(r.body["current"]["status"], "accepted");
    let r = as_(
        &kim_token,
        Method::POST,
        &format!("{path}/comments"),
        Some(json!({"body": "  "})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "body");
    // Accepted: its text and worth stay; its links may follow what changed.
    let mut change = request.clone();
    change["version"] = json!(2);
    change["title"] = json!("Show amounts and close dates on the board");
    let r = as_(&kim_token, Method::PUT, &path, Some(change.clone())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "title");
    change["title"] = request["title"].clone();
    change["links"] = json!([{"kind": "field", "target": "deal.amount"}, {"kind": "object", "target": "deal"}]);
    change["question"] = json!(uuid::Uuid::now_v7().to_string());
    let r = as_(&kim_token, Method::PUT, &path, Some(change.clone())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "question");
    change.as_object_mut().unwrap().remove("question");
    let r = as_(&kim_token, Method::PUT, &path, Some(change)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["version"], 3);
    let missing = "/api/v1/stewardship/requests/0190a4a0-0000-7000-8000-000000000000";
    assert_eq!(h.get(missing).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        h.get("/api/v1/stewardship/requests/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
    let r = h.send(Method::DELETE, &path, Some(&h.admin.clone()), &[], None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(h.get(&path).await.status, StatusCode::NOT_FOUND);

    // Answers.
    let answer = json!({"title": "Exporting deals", "body": "Open the list and choose Export.", "language": "en",
        "category": "Deals", "published": true});
    let r = as_(
        &nils_token,
        Method::POST,
        "/api/v1/stewardship/answers",
        Some(answer.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut bad = answer.clone();
    bad["language"] = json!("fr");
    let r = as_(&kim_token, Method::POST, "/api/v1/stewardship/answers", Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "language");
    let r = as_(
        &kim_token,
        Method::POST,
        "/api/v1/stewardship/answers",
        Some(answer.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let answer_id = r.body["id"].as_str().unwrap().to_string();
    let r = as_(
        &nils_token,
        Method::GET,
        "/api/v1/stewardship/answers/suggest?text=how%20to%20export&language=sv",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["data"][0]["id"], answer_id.as_str());
    let r = as_(&nils_token, Method::GET, "/api/v1/stewardship/answers?q=export", None).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    let r = as_(
        &nils_token,
        Method::GET,
        "/api/v1/stewardship/answers?language=xx",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let apath = format!("/api/v1/stewardship/answers/{answer_id}");
    let mut change = answer.clone();
    change["version"] = json!(1);
    change["published"] = json!(false);
    let r = as_(&kim_token, Method::PUT, &apath, Some(change.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = as_(&kim_token, Method::PUT, &apath, Some(change)).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.body["code"], "version_conflict");
    assert_eq!(r.body["current"]["version"], 2);
    // A draft is out of a plain user's sight.
    let r = as_(&nils_token, Method::GET, &apath, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The author and administrators still read the draft.
    let r = as_(&ada_reading, Method::GET, &apath, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = as_(&kim_token, Method::DELETE, &apath, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // A resolved question becomes a draft answer: 404 for no question, 422 before it is
    // solved, 403 for plain users, 201 with the question's text.
    let r = as_(
        &nils_token,
        Method::POST,
        "/api/v1/support/questions",
        Some(
            json!({"subject": "Where is the export?", "description": "I cannot find it.",
            "category": "usage", "priority": "normal"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let qid = r.body["id"].as_str().unwrap().to_string();
    let from = format!("/api/v1/stewardship/answers/from-question/{qid}");
    let r = as_(
        &kim_token,
        Method::POST,
        &format!("/api/v1/stewardship/answers/from-question/{}", uuid::Uuid::now_v7()),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = as_(&kim_token, Method::POST, &from, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "question");
    let r = as_(
        &kim_token,
        Method::POST,
        &format!("/api/v1/support/questions/{qid}/status"),
        Some(json!({"version": 1, "status": "resolved"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = as_(&nils_token, Method::POST, &from, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = as_(&kim_token, Method::POST, &from, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["title"], "Where is the export?");
    assert_eq!(r.body["published"], false);
    assert_eq!(r.body["source_question"], qid.as_str());
}

/// The pages: the plan with its gaps and the matrix as a grid, its form for administrators
/// only, the backlog with a vote and a decision, answers written and shown escaped; in the
/// reader's language.
pub async fn stewardship_pages_show_gaps_backlog_and_answers(h: H) {
    use super::identity::Browser;
    let sales = identity::team(&h, "Sales").await;
    identity::user(&h, "ada@example.se", "admin", Some(&sales)).await;
    identity::user(&h, "kim@example.se", "key_user", None).await;
    let r = h
        .post(
            "/api/v1/users",
            json!({"email": "sara@example.se", "name": "Sara", "role": "user", "password": identity::PASSWORD,
                "team": sales, "locale": "sv"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut ada = Browser::signed_in(&h, "ada@example.se").await;
    let mut kim = Browser::signed_in(&h, "kim@example.se").await;
    let mut sara = Browser::signed_in(&h, "sara@example.se").await;

    let page = ada.get(&h, "/stewardship").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("No key user for"), "{}", page.text);
    assert!(page.text.contains("id=\"priority-matrix\""));
    assert!(page.text.contains("href=\"/stewardship/plan/edit#key-users\""));
    // In Swedish for Sara, and no form for her.
    let page = sara.get(&h, "/stewardship").await;
    assert!(page.text.contains("Förvaltningsplan"), "{}", page.text);
    assert!(page.text.contains("Ingen superanvändare för"));
    assert!(!page.text.contains("id=\"plan-edit\""));
    assert_eq!(
        sara.get(&h, "/stewardship/plan/edit").await.status,
        StatusCode::FORBIDDEN
    );

    // The form saves the plan; the gaps it fills are gone.
    let page = ada.get(&h, "/stewardship/plan/edit").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = ada.csrf(&h).await;
    let kim_id = h.get("/api/v1/users").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "kim@example.se")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let team_field = format!("team-{sales}");
    let ku_field = format!("ku-{sales}");
    let saved = ada
        .form(
            &h,
            "/stewardship/plan",
            &[
                ("csrf", &csrf),
                ("version", "0"),
                ("system_owner", &kim_id),
                ("administrators", &kim_id),
                (&team_field, "1"),
                (&ku_field, &kim_id),
                ("v-name-0", "Vera Lind"),
                ("v-company-0", "CRM Partner AB"),
                ("v-email-0", ""),
                ("v-phone-0", ""),
                ("v-agreement-0", "Weekdays 8-17"),
                ("m-high-high", "urgent"),
                ("forum_name", "Key-user group"),
                ("every_weeks", "4"),
                ("next_meeting", "2026-12-01"),
                ("decider", ""),
                ("change_route", ""),
                ("go_live", "2027-01-11"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let page = ada.get(&h, "/stewardship?saved=1").await;
    assert!(page.text.contains("Nothing missing"), "{}", page.text);
    assert!(page.text.contains("Vera Lind"));
    // A stale form is shown again, saying so.
    let again = ada
        .form(
            &h,
            "/stewardship/plan",
            &[("csrf", &csrf), ("version", "0"), ("every_weeks", "4")],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text.contains("Someone else changed this first"));

    // The backlog: a key user proposes and votes; the administrator decides.
    let csrf_kim = kim.csrf(&h).await;
    let made = kim
        .form(
            &h,
            "/stewardship/requests",
            &[
                ("csrf", &csrf_kim),
                ("title", "Amounts on the board"),
                ("value", "4"),
                ("effort", "1"),
                ("links", "field deal.nothing"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(made.text.contains("links[0].target"));
    let made = kim
        .form(
            &h,
            "/stewardship/requests",
            &[
                ("csrf", &csrf_kim),
                ("title", "Amounts on the board"),
                ("value", "4"),
                ("effort", "1"),
                ("links", "field deal.amount"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    let href = made.headers["location"].to_str().unwrap().to_string();
    let voted = kim.form(&h, &format!("{href}/vote"), &[("csrf", &csrf_kim)]).await;
    assert_eq!(voted.status, StatusCode::SEE_OTHER);
    let page = sara.get(&h, "/stewardship/requests?sort=votes").await;
    assert!(page.text.contains("Amounts on the board"));
    assert!(!page.text.contains("id=\"request-form\""));
    let page = ada.get(&h, &href).await;
    assert!(page.text.contains("id=\"decide-form\""));
    let decided = ada
        .form(
            &h,
            &format!("{href}/decide"),
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("status", "accepted"),
                ("note", "Yes"),
            ],
        )
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.text);
    let page = sara.get(&h, &href).await;
    assert!(page.text.contains("Godkänt"), "{}", page.text);

    // Answers: written by a key user, shown escaped to everyone.
    let written = kim
        .form(
            &h,
            "/stewardship/answers",
            &[
                ("csrf", &csrf_kim),
                ("title", "Exportera affärer"),
                ("body", "Öppna listan <script>x</script>\n\n- välj Export"),
                ("language", "sv"),
                ("category", "Affärer"),
                ("published", "1"),
            ],
        )
        .await;
    assert_eq!(written.status, StatusCode::SEE_OTHER, "{}", written.text);
    let answer = written.headers["location"].to_str().unwrap().to_string();
    let page = sara.get(&h, &answer).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("&lt;script&gt;x&lt;/script&gt;"));
    assert!(page.text.contains("<li>välj Export</li>"));
    assert!(!page.text.contains("<script>x"));
    let page = sara.get(&h, "/stewardship/answers?q=export").await;
    assert!(page.text.contains("Exportera affärer"));
    assert!(!page.text.contains("id=\"answer-form\""));
}
