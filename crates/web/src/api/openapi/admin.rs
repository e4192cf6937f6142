//! Accounts and safety: the caller, users, teams, tokens, the access policy, the audit and
//! change logs, and the GDPR's export and erasure of a person.

use super::{Doc, Op, data_of, flag, limit_query, line, optional_uuid, or_null, query, strict, uuid_param};
use anchora_core::audit::AuditKind;
use anchora_core::identity::LOCALE_CHOICES;
use serde_json::{Value as Json, json};

const TAG: &str = "Accounts";
const ROLES: [&str; 4] = ["admin", "key_user", "user", "read_only"];

/// A new password as the server takes it: 10 characters or more, not one character repeated
/// (said here as: a lower-case letter followed by a digit somewhere), at most 1024 bytes.
fn new_password() -> Json {
    json!({"type": "string", "pattern": "^[A-Za-z0-9]{4,40}[a-z][0-9][A-Za-z0-9]{4,40}$",
        "description": "at least 10 characters, not one character repeated, not your e-mail address, at most 1024 bytes"})
}

/// A team's id, or "" or null for none (422 when no team has it).
fn team_id() -> Json {
    json!({"anyOf": [{"type": "string", "format": "uuid"}, {"const": ""}, {"type": "null"}],
        "description": "a team's id, or \"\" or null for none (422 when no team has it)"})
}

/// An e-mail address one signs in with.
fn email() -> Json {
    json!({"type": "string", "maxLength": 254,
        "pattern": "^[A-Za-z0-9_+-]{1,40}(\\.[A-Za-z0-9_+-]{1,20})?@([A-Za-z0-9]{1,30}\\.){1,3}[A-Za-z]{2,12}$",
        "description": "an e-mail address (kept in lower case); one no other user has (else 409)"})
}

fn user() -> Json {
    json!({"type": "object", "required": ["id", "name", "role", "active"], "properties": {
        "id": {"type": "string", "format": "uuid"}, "email": {"type": ["string", "null"]}, "name": {"type": "string"},
        "role": {"enum": ROLES}, "active": {"type": "boolean"}, "locale": {"type": "string"},
        "team": {"type": ["string", "null"], "format": "uuid"}, "has_password": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"}}})
}

fn token() -> Json {
    json!({"type": "object", "required": ["id", "name", "scope"], "properties": {
        "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "user": {"type": "string", "format": "uuid"},
        "scope": {"enum": ["read", "write", "admin"]}, "created_at": {"type": "string", "format": "date-time"},
        "last_used_at": {"type": ["string", "null"], "format": "date-time"},
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "revoked_at": {"type": ["string", "null"], "format": "date-time"}}})
}

fn policy(objects: &[&str]) -> Json {
    let by_role = json!({"type": "object", "additionalProperties": false,
        "properties": {"key_user": {"$ref": "#/components/schemas/Visibility"}, "user": {"$ref": "#/components/schemas/Visibility"},
            "read_only": {"$ref": "#/components/schemas/Visibility"}, "admin": {"$ref": "#/components/schemas/Visibility"}}});
    let mut visibility = serde_json::Map::new();
    for o in objects {
        visibility.insert((*o).to_string(), by_role.clone());
    }
    strict(
        &[],
        json!({
            "visibility": {"type": "object", "additionalProperties": false, "properties": visibility,
                "description": "per object, per role: which records it sees (own, team or all); anything not named sees all, and administrators always do"},
            "key_users": strict(&["add_fields", "edit_picklists", "shared_views"], json!({
                "add_fields": {"type": "boolean"}, "edit_picklists": {"type": "boolean"}, "shared_views": {"type": "boolean"}}))}),
    )
}

/// The time filters and paging both logs share.
fn log_params() -> Vec<Json> {
    let time = json!({"type": "string", "format": "date-time"});
    vec![
        query("actor", optional_uuid(), "a user's id"),
        query("since", time.clone(), "RFC 3339"),
        query("until", time, "RFC 3339"),
        query(
            "before",
            json!({"type": "integer", "minimum": 1}),
            "next_before of the page before",
        ),
        limit_query(),
    ]
}

pub(super) fn add(doc: &mut Doc) {
    let objects: Vec<String> = doc.object_names().iter().map(|s| (*s).to_string()).collect();
    let objects: Vec<&str> = objects.iter().map(String::as_str).collect();
    let user_ref = doc.named("User", user());
    let token_ref = doc.named("Token", token());
    doc.named("Visibility", json!({"enum": ["own", "team", "all"]}));
    let policy_ref = doc.named("AccessPolicy", policy(&objects));
    let mut me = user();
    if let Some(props) = me.get_mut("properties").and_then(Json::as_object_mut) {
        props.insert("workspace".into(), json!({"type": "string"}));
        props.insert("scope".into(), json!({"type": ["string", "null"]}));
        props.insert(
            "authenticated_by".into(),
            json!({"enum": ["token", "session", "local"]}),
        );
        props.insert(
            "csrf_token".into(),
            json!({"type": "string", "description": "for a browser session: send it as X-CSRF-Token on writes"}),
        );
    }
    doc.op(
        "get",
        "/me",
        Op::new("me", TAG, "Who you are, and how you signed in").ok("200", "You", me),
    );
    doc.op(
        "post",
        "/me/password",
        Op::new("change_password", TAG, "Change your password (your other sessions end)")
            .body(strict(
                &["current_password", "new_password"],
                json!({"current_password": {"type": "string", "description": "a wrong one is 422, too many 429"},
                    "new_password": new_password()}),
            ))
            .no_content("Changed")
            .problems(&["429"]),
    );
    doc.op(
        "get",
        "/users",
        Op::new("list_users", TAG, "").ok("200", "Users", data_of(user_ref.clone())),
    );
    doc.op(
        "post",
        "/users",
        Op::new("create_user", TAG, "Add a user (administrators)")
            .body(strict(
                &["email", "name", "role"],
                json!({"email": email(), "name": line(120), "role": {"enum": ROLES},
                    "locale": or_null(json!({"enum": LOCALE_CHOICES})), "team": team_id(), "password": or_null(new_password())}),
            ))
            .ok("201", "Added", user_ref.clone())
            .problems(&["409"]),
    );
    let id = || uuid_param("id", "the user's id");
    doc.op(
        "get",
        "/users/{id}",
        Op::new("get_user", TAG, "")
            .params(vec![id()])
            .ok("200", "The user", user_ref.clone()),
    );
    doc.op(
        "patch",
        "/users/{id}",
        Op::new("update_user", TAG, "Change a user: your own name and locale; anything, for administrators (not your own role or active)")
            .params(vec![id()])
            .body(strict(
                &[],
                json!({"name": or_null(line(120)), "email": or_null(email()), "locale": or_null(json!({"enum": LOCALE_CHOICES})),
                    "role": or_null(json!({"enum": ROLES})), "team": team_id(), "active": {"type": ["boolean", "null"]}}),
            ))
            .ok("200", "Changed", user_ref)
            .problems(&["409"]),
    );
    let team = json!({"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"}}});
    doc.op(
        "get",
        "/teams",
        Op::new("list_teams", TAG, "").ok("200", "Teams", data_of(team.clone())),
    );
    doc.op(
        "post",
        "/teams",
        Op::new("create_team", TAG, "Add a team (administrators)")
            .body(strict(&["name"], json!({"name": line(120)})))
            .ok("201", "Added", team)
            .problems(&["409"]),
    );
    doc.op(
        "get",
        "/tokens",
        Op::new(
            "list_tokens",
            TAG,
            "Your API tokens (everyone's with all=true, for administrators)",
        )
        .params(vec![flag("all", "everyone's tokens (administrators)")])
        .ok("200", "Tokens", data_of(token_ref.clone())),
    );
    let mut created = token();
    if let Some(props) = created.get_mut("properties").and_then(Json::as_object_mut) {
        props.insert(
            "token".into(),
            json!({"type": "string", "description": "the secret: shown this once"}),
        );
    }
    doc.op(
        "post",
        "/tokens",
        Op::new("create_token", TAG, "A new API token for you; its scope at most your role's")
            .body(strict(
                &["name", "scope"],
                json!({"name": line(120), "scope": {"enum": ["read", "write", "admin"]},
                    "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": anchora_core::identity::MAX_TOKEN_DAYS}}),
            ))
            .ok("201", "The token, with its secret", created),
    );
    doc.op(
        "delete",
        "/tokens/{id}",
        Op::new(
            "revoke_token",
            TAG,
            "Revoke a token (yours; anyone's, for administrators)",
        )
        .params(vec![uuid_param("id", "the token's id")])
        .ok("200", "Revoked", token_ref),
    );
    doc.op(
        "get",
        "/access-policy",
        Op::new("access_policy", TAG, "").ok("200", "The policy", policy_ref.clone()),
    );
    doc.op(
        "put",
        "/access-policy",
        Op::new("set_access_policy", TAG, "Replace the access policy (administrators)")
            .body(policy_ref.clone())
            .ok("200", "The policy as saved", policy_ref),
    );
    let kinds: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
    let mut audit_params = vec![
        query(
            "kind",
            json!({"type": "string", "pattern": format!("^(({0})( *, *({0}))*)?$", kinds.join("|"))}),
            "event kinds, comma-separated",
        ),
        query("subject", json!({"type": "string"}), "what the event is about"),
    ];
    audit_params.extend(log_params());
    doc.op(
        "get",
        "/audit",
        Op::new(
            "audit_log",
            TAG,
            "The security audit log, newest first (administrators)",
        )
        .params(audit_params)
        .ok(
            "200",
            "Events",
            json!({"type": "object", "properties": {"data": {"type": "array", "items": {"type": "object"}},
                "next_before": {"type": ["integer", "null"]}}}),
        ),
    );
    let mut change_params = vec![query("object", json!({"type": "string"}), "an object's API name")];
    change_params.extend(log_params());
    doc.op(
        "get",
        "/changes",
        Op::new(
            "change_log",
            TAG,
            "The data change log across records, newest first (administrators)",
        )
        .params(change_params)
        .ok(
            "200",
            "Changes",
            json!({"type": "object", "properties": {"data": {"type": "array", "items": {"type": "object"}},
                "next_before": {"type": ["integer", "null"]}}}),
        )
        // An object named that does not exist.
        .problems(&["404"]),
    );
    let person = || uuid_param("id", "the person's id");
    doc.op(
        "get",
        "/gdpr/person/{id}",
        Op::new(
            "export_person",
            "GDPR",
            "Everything kept about a person, as JSON (administrators; audited)",
        )
        .params(vec![person()])
        .ok("200", "The person's data", json!({"type": "object"})),
    );
    doc.op(
        "post",
        "/gdpr/person/{id}/erase",
        Op::new(
            "erase_person",
            "GDPR",
            "Erase a person: their record and what points at them (administrators; audited)",
        )
        .params(vec![person()])
        .ok("200", "What was erased", json!({"type": "object"})),
    );
}
