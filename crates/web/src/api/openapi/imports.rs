//! `/imports` (files in, as jobs) and `/records/{object}/export` (records out, as a stream).

use super::{Doc, Op, data_of, query, uuid_param};
use anchora_core::import::service::MAX_UPLOAD_BYTES;
use serde_json::{Value as Json, json};

const TAG: &str = "Import and export";

fn job() -> Json {
    json!({"type": "object", "properties": {
        "id": {"type": "string", "format": "uuid"}, "object": {"type": "string"}, "file_name": {"type": "string"},
        "status": {"type": "string", "enum": ["draft", "queued", "running", "done", "failed"]},
        "settings": {"type": "object"}, "headers": {"type": "array", "items": {"type": "string"}},
        "counts": {"type": "object", "properties": {"last_row": {"type": "integer"}, "created": {"type": "integer"},
            "updated": {"type": "integer"}, "unchanged": {"type": "integer"}, "rejected": {"type": "integer"},
            "merged": {"type": "integer", "description": "rows that repeated an earlier row's match key and went into its record"},
            "warnings": {"type": "integer"}, "related_created": {"type": "integer"}}},
        "summary": {"type": "string", "description": "imported N, updated N, merged N, rejected N, warnings N"},
        "error": {"type": ["string", "null"]}, "created_by": {"type": "string", "format": "uuid"},
        "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "rejected_csv": {"type": "string"}, "warnings_csv": {"type": "string"}}})
}

pub(super) fn add(doc: &mut Doc) {
    let job = doc.named("ImportJob", job());
    let objects: Vec<String> = doc.object_names().iter().map(|s| (*s).to_string()).collect();
    doc.op(
        "get",
        "/imports",
        Op::new(
            "list_imports",
            TAG,
            "Your imports (everyone's for administrators), newest first",
        )
        .ok("200", "Imports", data_of(job.clone())),
    );
    doc.op(
        "post",
        "/imports",
        Op::new(
            "upload_import",
            TAG,
            "Upload a CSV or XLSX file (form fields `object` and `file`): a draft import with its preview and suggested mapping",
        )
        .raw_body(json!({"required": true, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["object", "file"], "properties": {
                "object": {"type": "string", "enum": objects}, "file": {"type": "string", "format": "binary",
                    "description": format!("at most {MAX_UPLOAD_BYTES} bytes")}}}}}}))
        .ok(
            "201",
            "The draft import and how the file reads",
            json!({"type": "object", "properties": {"import": job.clone(), "preview": {"type": "object"}}}),
        )
        .problems(&["400", "404", "413", "415", "422", "429"]),
    );
    let id = || uuid_param("id", "the import's id");
    doc.op(
        "get",
        "/imports/{id}",
        Op::new("get_import", TAG, "The import and its progress")
            .description("With `likely_duplicates` (`total`, and the first 200 `rows`: a row that looks like a record already there, `like_record`, or an earlier row, `like_row`, with `score` and `reasons`), the first 200 `warnings` (`row`, `kind`: unknown_owner, digits_lost, merged_with or column_left_out, `detail`, `message`) and `unknown_owners` (each owner name that is no user, once, with its `rows`).")
            .params(vec![id()])
            .ok("200", "The import and its progress", job.clone()),
    );
    doc.op(
        "post",
        "/imports/{id}/start",
        Op::new("start_import", TAG, "Start a draft import with its mapping (a finished one starts again as a new import of the same file); it runs in the background")
            .params(vec![id()])
            .body(super::strict(&[], json!({
                "mapping": {"type": "object", "additionalProperties": {"type": ["string", "null"]}, "description": "column header → field (`first_name`, `company.org_number`, `owner`); null skips the column; a column not named keeps the field suggested for it, and a suggestion for a field a named column fills is left out (a warning on row 1)"},
                "match_on": {"type": ["string", "null"], "description": "the field rows are matched on to update records; \"\" always creates"},
                "create_related": {"type": "boolean", "description": "default true"}, "dry_run": {"type": "boolean"},
                "default_owner": {"type": ["string", "null"], "description": "e-mail of the active user who owns new records whose owner column names no user (default: you); 422 naming `default_owner` when no active user has it"},
                "into_selection": {"type": ["string", "null"], "maxLength": 100, "description": "put the records the import makes or updates into a new selection of this name (yours, static); ignored in a dry run"}})))
            .ok("202", "Queued", job)
            .problems(&["409"]),
    );
    for (path, operation, summary) in [
        (
            "/imports/{id}/rejected.csv",
            "rejected_rows",
            "Every rejected row with its row number and reason, as CSV",
        ),
        (
            "/imports/{id}/warnings.csv",
            "import_warnings",
            "Every warning on an imported row (row, kind, warning), as CSV",
        ),
    ] {
        doc.op(
            "get",
            path,
            Op::new(operation, TAG, summary).params(vec![id()]).answer(
                "200",
                json!({"description": "CSV (UTF-8 with BOM)", "content": {"text/csv": {"schema": {"type": "string"}}}}),
            ),
        );
    }
    let object = doc.object_param();
    let export = Op::new(
        "export_records",
        TAG,
        "Stream the records you may see as CSV or XLSX; more than 10,000 are built as a job instead (202), whose file /jobs/{id}/file gives once it is done",
    )
            .params(vec![
                object,
                query("format", json!({"type": "string", "enum": ["csv", "xlsx"]}), "csv by default"),
                json!({"name": "filter", "in": "query", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Filter"}}}}),
                query("sort", json!({"type": "string"}), "as the list takes it"),
                query("columns", json!({"type": "string"}), "fields, comma-separated (empty: the list's columns)"),
                query(
                    "ids",
                    json!({"type": "string", "pattern": "^( *[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12} *(, *[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12} *)*)?$"}),
                    "a selection: record ids, comma-separated (empty: all)",
                ),
            ])
            .answer("200", json!({"description": "The file", "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}}));
    let export = super::jobs::accepted(doc, export);
    doc.op("get", "/records/{object}/export", export);
}
