//! The OpenAPI 3.1 document, generated at run time from the workspace's metadata: a custom
//! field added a second ago is in it.
//!
//! One module per area adds its paths through [`Doc`]; [`Op`] builds one operation with the
//! problems it can answer. To add an area: a module with `pub(super) fn add(doc: &mut Doc)`,
//! and its `add` in [`AREAS`]. The test `every_route_is_in_the_openapi_document` fails while a
//! route of the router is missing here.

mod admin;
mod adoption;
mod components;
mod consent;
mod currency;
mod dashboards;
mod duplicates;
mod forecast;
mod imports;
mod jobs;
mod mailings;
mod onboarding;
mod projects;
mod quality;
mod records;
mod reports;
mod schema;
mod selections;
mod stewardship;
mod support;
mod training;

use anchora_core::meta::Schema;
use serde_json::{Map, Value as Json, json};

/// Every area's paths, in the order they are added.
const AREAS: &[fn(&mut Doc)] = &[
    records::add,
    schema::add,
    admin::add,
    projects::add,
    imports::add,
    duplicates::add,
    quality::add,
    currency::add,
    jobs::add,
    consent::add,
    selections::add,
    mailings::add,
    reports::add,
    dashboards::add,
    forecast::add,
    adoption::add,
    onboarding::add,
    training::add,
    support::add,
    stewardship::add,
];

pub fn openapi_document(schema: &Schema, workspace: &str) -> Json {
    let mut doc = Doc {
        schema,
        paths: Map::new(),
        schemas: components::schemas(),
    };
    for add in AREAS {
        add(&mut doc);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": format!("Anchora API — workspace {workspace}"), "version": env!("CARGO_PKG_VERSION"),
            "description": "Records of every object, standard and custom, generated from the workspace's metadata; \
                accounts, projects, imports, duplicates, data quality and settings. Every error is \
                application/problem+json with a stable `code`."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": doc.paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": doc.schemas,
            "responses": components::responses()
        }
    })
}

/// The document being built: the workspace's metadata to read, the paths and named schemas to
/// add to.
pub(super) struct Doc<'a> {
    pub schema: &'a Schema,
    paths: Map<String, Json>,
    schemas: Map<String, Json>,
}

impl Doc<'_> {
    /// One operation at `path` (under `/api/v1`, with `{param}`s as the router names them or
    /// otherwise) answering `method`.
    pub fn op(&mut self, method: &str, path: &str, op: Op) {
        let item = self
            .paths
            .entry(path.to_string())
            .or_insert_with(|| Json::Object(Map::new()));
        if let Some(item) = item.as_object_mut() {
            item.insert(method.to_string(), op.finish());
        }
    }

    /// A named schema in `components/schemas`; returns the `$ref` to it.
    pub fn named(&mut self, name: &str, schema: Json) -> Json {
        self.schemas.insert(name.to_string(), schema);
        schema_ref(name)
    }

    /// The live objects' API names, for `{object}` in paths.
    pub fn object_names(&self) -> Vec<&str> {
        self.schema
            .objects
            .values()
            .filter(|o| !o.archived)
            .map(|o| o.name.as_str())
            .collect()
    }

    /// `{object}` in a path: one of the live objects (another name answers 404).
    pub fn object_param(&self) -> Json {
        let names = self.object_names();
        let example = if names.contains(&"person") {
            "person"
        } else {
            names.first().copied().unwrap_or("person")
        };
        json!({"name": "object", "in": "path", "required": true, "example": example,
            "schema": {"type": "string", "enum": names}, "description": "an object's API name"})
    }
}

pub(super) fn schema_ref(name: &str) -> Json {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A path parameter.
pub(super) fn path_param(name: &str, schema: Json, description: &str) -> Json {
    json!({"name": name, "in": "path", "required": true, "schema": schema, "description": description})
}

/// A path parameter that is an id.
pub(super) fn uuid_param(name: &str, description: &str) -> Json {
    path_param(name, json!({"type": "string", "format": "uuid"}), description)
}

/// A query parameter.
pub(super) fn query(name: &str, schema: Json, description: &str) -> Json {
    json!({"name": name, "in": "query", "schema": schema, "description": description})
}

/// `?limit=`: 1 to the API's largest page.
pub(super) fn limit_query() -> Json {
    query(
        "limit",
        json!({"type": "integer", "minimum": 1, "maximum": anchora_core::query::MAX_LIMIT,
            "default": anchora_core::query::DEFAULT_LIMIT}),
        "how many at most",
    )
}

/// The schema, or null (what serde's `Option` takes).
pub(super) fn or_null(schema: Json) -> Json {
    match schema.get("type").cloned() {
        Some(Json::String(t)) => {
            let mut s = schema;
            if let Some(fields) = s.as_object_mut() {
                fields.insert("type".into(), json!([t, "null"]));
            }
            s
        }
        _ => json!({"anyOf": [schema, {"type": "null"}]}),
    }
}

/// A yes-or-no query parameter: `true` or `1` is yes, anything else (or nothing) no.
pub(super) fn flag(name: &str, description: &str) -> Json {
    query(
        name,
        json!({"type": "string", "examples": ["true", "false"]}),
        &format!("{description} (true or 1 for yes; anything else no)"),
    )
}

/// A user's or record's id in a query, or nothing (an empty value filters nothing).
pub(super) fn optional_uuid() -> Json {
    json!({"type": "string", "pattern": "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$"})
}

/// `{"data": [item…]}`.
pub(super) fn data_of(item: Json) -> Json {
    json!({"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": item}}})
}

/// An object that takes only the properties named; `required` are those it must have.
pub(super) fn strict(required: &[&str], properties: Json) -> Json {
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties})
}

/// Control characters a line may not hold.
const NO_CONTROL: &str = "\\u0000-\\u001f\\u007f-\\u009f";

/// One line the server requires (non-empty after trimming, no control characters), of at most
/// `max` characters.
pub(super) fn line(max: usize) -> Json {
    json!({"type": "string", "minLength": 1, "maxLength": max,
        "pattern": format!("^[^{NO_CONTROL}]*[^\\s{NO_CONTROL}][^{NO_CONTROL}]*$")})
}

/// Text the server requires (non-empty after trimming; line breaks and tabs, no other
/// control characters), of at most `max` characters.
pub(super) fn text(max: usize) -> Json {
    json!({"type": "string", "minLength": 1, "maxLength": max,
        "pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*\\S[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"})
}

/// Text that may be empty (line breaks and tabs, no other control characters), of at most
/// `max` characters.
pub(super) fn optional_text(max: usize) -> Json {
    json!({"type": "string", "maxLength": max,
        "pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"})
}

/// One operation: its answers and the problems it may answer. Every operation needs a caller
/// (401), may be refused (403), and may find the database unavailable (503); a JSON body adds
/// what reading one may answer.
pub(super) struct Op {
    op: Map<String, Json>,
    responses: Map<String, Json>,
    problems: Vec<&'static str>,
}

impl Op {
    pub fn new(id: &str, tag: &str, summary: &str) -> Self {
        let mut op = Map::new();
        op.insert("operationId".into(), json!(id));
        op.insert("tags".into(), json!([tag]));
        if !summary.is_empty() {
            op.insert("summary".into(), json!(summary));
        }
        Op {
            op,
            responses: Map::new(),
            problems: vec!["401", "403", "503"],
        }
    }

    /// Parameters in the order given; a query parameter may answer 400 (a malformed query
    /// string) or 422 (a value out of range).
    pub fn params(mut self, params: Vec<Json>) -> Self {
        if params.iter().any(|p| p.get("in") == Some(&json!("query"))) {
            self.problems.extend(["400", "422"]);
        }
        if params.iter().any(|p| p.get("in") == Some(&json!("path"))) {
            self.problems.push("404");
        }
        let list = self.op.entry("parameters").or_insert_with(|| json!([]));
        if let Some(list) = list.as_array_mut() {
            list.extend(params);
        }
        self
    }

    /// A required `application/json` body: a body that is not JSON is 400, too large 413, of
    /// another content type 415, and one the server refuses 422.
    pub fn body(mut self, schema: Json) -> Self {
        self.op.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": schema}}}),
        );
        self.problems.extend(["400", "413", "415", "422"]);
        self
    }

    /// A request body of another kind, as the document writes it.
    pub fn raw_body(mut self, body: Json) -> Self {
        self.op.insert("requestBody".into(), body);
        self
    }

    /// An `application/json` answer.
    pub fn ok(self, status: &str, description: &str, schema: Json) -> Self {
        self.answer(
            status,
            json!({"description": description, "content": {"application/json": {"schema": schema}}}),
        )
    }

    /// 204 No Content.
    pub fn no_content(self, description: &str) -> Self {
        self.answer("204", json!({"description": description}))
    }

    /// An answer as the document writes it.
    pub fn answer(mut self, status: &str, response: Json) -> Self {
        self.responses.insert(status.into(), response);
        self
    }

    /// More problems it may answer.
    pub fn problems(mut self, codes: &[&'static str]) -> Self {
        self.problems.extend(codes);
        self
    }

    /// A longer description.
    pub fn description(mut self, text: &str) -> Self {
        self.op.insert("description".into(), json!(text));
        self
    }

    fn finish(mut self) -> Json {
        self.problems.sort_unstable();
        self.problems.dedup();
        for code in self.problems {
            self.responses.insert(
                code.into(),
                json!({"$ref": format!("#/components/responses/Problem{code}")}),
            );
        }
        self.op.insert("responses".into(), Json::Object(self.responses));
        Json::Object(self.op)
    }
}
