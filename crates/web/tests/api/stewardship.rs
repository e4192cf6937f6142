//! Stewardship (issue 23, points 3, 5 and 6) over HTTP: the plan read by everyone and written
//! by administrators at its version (409 with the plan as it is now), its gaps, the backlog
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
    assert_eq!(r.status, StatusCode::CONFLICT);
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
    assert_eq!(r.status, StatusCode::CONFLICT);
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
    let mut change = request.clone();
    change["version"] = json!(2);
    change["title"] = json!("Show amounts and close dates on the board");
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
    assert_eq!(r.status, StatusCode::CONFLICT);
    // A draft is out of a plain user's sight.
    let r = as_(&nils_token, Method::GET, &apath, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = as_(&kim_token, Method::DELETE, &apath, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}
