//! The OpenAPI document against the router: every route the API answers is documented, and
//! nothing documented is missing from the router. axum's router does not list its routes, so
//! they are read from the `.route("…", get(…).post(…))` calls in `crates/web/src/api/*.rs`.

use super::H;
use serde_json::Value as Json;
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `{anything}` → `{}`, so a route's parameter names need not be the document's.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// The text up to the `)` that closes the call whose `(` came just before it.
fn call_arguments(text: &str) -> &str {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..i];
                }
            }
            _ => {}
        }
    }
    panic!("an unclosed .route( call");
}

/// The methods a method router answers: `get(…)`, `.post(…)`, `axum::routing::delete(…)`.
fn methods_of(router: &str) -> Vec<&'static str> {
    let bytes = router.as_bytes();
    let mut found = Vec::new();
    for method in METHODS {
        let mut from = 0;
        while let Some(i) = router[from..].find(method) {
            let start = from + i;
            let end = start + method.len();
            from = end;
            let before_ok = start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
            let after = router[end..].trim_start();
            if before_ok && after.starts_with('(') {
                found.push(method);
            }
        }
    }
    found
}

/// (METHOD, path shape) of every `.route(…)` in the API's source files.
fn routes() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        assert!(
            !source.contains(".nest("),
            "{}: the route check reads full paths from .route(…) calls; a nested router would hide its prefix",
            path.display()
        );
        let mut rest = source.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + ".route(".len()..];
            let arguments = call_arguments(rest);
            let open = arguments.find('"').expect("a route's path is a string literal");
            let close = open + 1 + arguments[open + 1..].find('"').unwrap();
            let route = &arguments[open + 1..close];
            let methods = methods_of(&arguments[close + 1..]);
            assert!(!methods.is_empty(), "no method found for {route} in {}", path.display());
            for m in methods {
                out.insert((m.to_uppercase(), shape(route)));
            }
        }
    }
    out
}

/// (METHOD, path shape) of every operation in the document; `/records/person/…` is the
/// router's `/records/{object}/…`.
fn documented(doc: &Json, objects: &[String]) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let mut path = path.clone();
        for o in objects {
            let concrete = format!("/records/{o}");
            if path == concrete || path.starts_with(&format!("{concrete}/")) {
                path = format!("/records/{{object}}{}", &path[concrete.len()..]);
            }
        }
        for method in item.as_object().unwrap().keys() {
            if METHODS.contains(&method.as_str()) {
                out.insert((method.to_uppercase(), shape(&path)));
            }
        }
    }
    out
}

pub(super) async fn every_route_is_in_the_openapi_document(h: H) {
    let routes = routes();
    assert!(
        routes.len() >= 90,
        "the route reader found only {} routes",
        routes.len()
    );
    assert!(routes.contains(&("PATCH".into(), "/records/{}/{}".into())));
    assert!(routes.contains(&("DELETE".into(), "/projects/{}/members/{}".into())));
    let doc = h.get("/api/v1/openapi.json").await.body;
    let objects: Vec<String> = h.get("/api/v1/objects").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    let documented = documented(&doc, &objects);
    let missing: Vec<String> = routes
        .difference(&documented)
        .map(|(m, p)| format!("{m} /api/v1{p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document (add them in crates/web/src/api/openapi/):\n{}",
        missing.join("\n")
    );
    let extra: Vec<String> = documented
        .difference(&routes)
        .map(|(m, p)| format!("{m} /api/v1{p}"))
        .collect();
    assert!(
        extra.is_empty(),
        "documented but no route answers them:\n{}",
        extra.join("\n")
    );
    // Every live object has every record operation.
    let per_object = |o: &str| -> BTreeSet<(String, String)> {
        documented
            .iter()
            .filter(|(_, p)| p.starts_with("/records/{}"))
            .filter(|(m, p)| {
                let concrete = p.replacen("/records/{}", &format!("/records/{o}"), 1);
                let named = concrete.replace("{}", "{id}");
                doc["paths"][&named].get(m.to_lowercase()).is_some()
            })
            .cloned()
            .collect()
    };
    let person = per_object("person");
    assert!(person.len() >= 8, "{person:?}");
    for o in &objects {
        assert_eq!(per_object(o), person, "{o} lacks record operations person has");
    }
}

/// Every operation answers 401 and 403 as problems; one that takes JSON also 400, 413, 415 and
/// 422; every error it documents is application/problem+json.
pub(super) async fn openapi_operations_document_their_problems(h: H) {
    let doc = h.get("/api/v1/openapi.json").await.body;
    let responses = &doc["components"]["responses"];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let answers = op["responses"].as_object().unwrap();
            let name = format!("{method} {path}");
            for status in ["401", "403"] {
                assert!(answers.contains_key(status), "{name} lacks {status}");
            }
            if op["requestBody"]["content"].get("application/json").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(answers.contains_key(status), "{name} takes JSON but lacks {status}");
                }
            }
            for (status, answer) in answers {
                if status.starts_with('4') || status.starts_with('5') {
                    let reference = answer["$ref"].as_str().unwrap();
                    let target = &responses[reference.rsplit('/').next().unwrap()];
                    assert!(
                        target["content"].get("application/problem+json").is_some(),
                        "{name}: {status} is not a problem"
                    );
                }
            }
        }
    }
}
