//! Metadata: objects and fields are rows, so administrators change the schema at run time.
//! The store turns each object into a table and each field into a typed column.

use crate::error::{Error, FieldError, Result};
use crate::write::WriteCtx;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    LongText,
    Number,
    Money,
    Percent,
    Date,
    Datetime,
    Boolean,
    Select,
    MultiSelect,
    Email,
    Phone,
    Url,
    Relation,
    User,
}

impl FieldType {
    pub const ALL: [FieldType; 15] = [
        FieldType::Text,
        FieldType::LongText,
        FieldType::Number,
        FieldType::Money,
        FieldType::Percent,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Boolean,
        FieldType::Select,
        FieldType::MultiSelect,
        FieldType::Email,
        FieldType::Phone,
        FieldType::Url,
        FieldType::Relation,
        FieldType::User,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::LongText => "long_text",
            FieldType::Number => "number",
            FieldType::Money => "money",
            FieldType::Percent => "percent",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Boolean => "boolean",
            FieldType::Select => "select",
            FieldType::MultiSelect => "multi_select",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
            FieldType::Relation => "relation",
            FieldType::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Text-like types share string operators (contains, starts_with).
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            FieldType::Text | FieldType::LongText | FieldType::Email | FieldType::Phone | FieldType::Url
        )
    }

    /// Types with an order, for lt/gt and ranges.
    pub fn is_ordered(self) -> bool {
        matches!(
            self,
            FieldType::Number | FieldType::Money | FieldType::Percent | FieldType::Date | FieldType::Datetime
        )
    }

    /// Text compared ignoring case keeps a folded copy beside it ([`crate::text::fold_case`]):
    /// filters, sorts and uniqueness read the copy, so both databases answer alike. Phone
    /// numbers hold no letters and are compared as written.
    pub fn folds(self) -> bool {
        matches!(
            self,
            FieldType::Text | FieldType::LongText | FieldType::Email | FieldType::Url
        )
    }

    /// Types whose values can be held unique (by a unique index).
    pub fn can_be_unique(self) -> bool {
        matches!(
            self,
            FieldType::Text | FieldType::Email | FieldType::Phone | FieldType::Url | FieldType::Number
        )
    }

    /// Long text and multi-select get no B-tree index: it would serve neither their filters
    /// (substring, membership) nor a sort; full-text search covers long text.
    pub fn indexable(self) -> bool {
        !matches!(self, FieldType::LongText | FieldType::MultiSelect)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub required: bool,
    pub filterable: bool,
    pub searchable: bool,
    /// No two live records hold the same value (ignoring case for text), held by a unique
    /// index: imports match on it, and a write that would repeat a value is refused.
    #[serde(default)]
    pub unique: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// For relations: the object pointed at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub standard: bool,
    pub archived: bool,
    pub position: i32,
}

impl FieldDef {
    pub fn new(name: &str, label: &str, field_type: FieldType) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            field_type,
            required: false,
            filterable: field_type != FieldType::LongText,
            searchable: false,
            unique: false,
            choices: Vec::new(),
            target: None,
            standard: false,
            archived: false,
            position: 0,
        }
    }

    fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }

    fn searchable(mut self) -> Self {
        self.searchable = true;
        self
    }

    fn unfiltered(mut self) -> Self {
        self.filterable = false;
        self
    }

    fn choices(mut self, values: &[(&str, &str)]) -> Self {
        self.choices = values
            .iter()
            .map(|(v, l)| Choice {
                value: (*v).into(),
                label: (*l).into(),
            })
            .collect();
        self
    }

    fn target(mut self, object: &str) -> Self {
        self.target = Some(object.into());
        self
    }

    pub fn has_choice(&self, value: &str) -> bool {
        self.choices.iter().any(|c| c.value == value)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectDef {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub standard: bool,
    pub archived: bool,
    /// Fields whose values, joined, name a record in lists and search results.
    pub title_fields: Vec<String>,
    pub fields: Vec<FieldDef>,
}

impl ObjectDef {
    /// An active (not archived) field by its API name.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name && !f.archived)
    }

    /// Any field, archived ones included.
    pub fn any_field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn active_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| !f.archived)
    }

    /// The SQL table holding this object's records.
    pub fn table(&self) -> String {
        table_name(&self.name)
    }

    pub fn is_activity(&self) -> bool {
        self.name == "activity"
    }
}

pub fn table_name(object: &str) -> String {
    format!("obj_{object}")
}

/// Columns every record table has. Field names may not take them.
pub const SYSTEM_COLUMNS: [&str; 8] = [
    "id",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "owner",
    "deleted_at",
];

/// Names with meaning in the API besides the system columns.
const RESERVED_NAMES: [&str; 7] = ["object", "links", "withheld", "filter", "sort", "cursor", "limit"];

/// The system columns a filter or sort may use, as pseudo-fields.
pub fn system_field(name: &str) -> Option<FieldDef> {
    let def = match name {
        "created_at" => FieldDef::new("created_at", "Created", FieldType::Datetime),
        "updated_at" => FieldDef::new("updated_at", "Updated", FieldType::Datetime),
        "owner" => FieldDef::new("owner", "Owner", FieldType::User),
        "created_by" => FieldDef::new("created_by", "Created by", FieldType::User),
        _ => return None,
    };
    Some(def)
}

/// The whole schema of one workspace at one version.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Bumped by every metadata change, so every process can tell its cached copy is stale.
    pub version: i64,
    pub objects: BTreeMap<String, ObjectDef>,
    /// Who sees and may change what; versioned with the metadata.
    pub policy: crate::auth::AccessPolicy,
}

impl Schema {
    pub fn object(&self, name: &str) -> Result<&ObjectDef> {
        self.objects
            .get(name)
            .filter(|o| !o.archived)
            .ok_or_else(|| Error::new(crate::ErrorCode::UnknownObject, format!("no object named {name:?}")))
    }
}

/// API names: lower-case ASCII, digits and underscores, starting with a letter; short enough to
/// be a column name on both databases with prefixes added.
pub fn validate_api_name(field: &str, name: &str) -> std::result::Result<(), FieldError> {
    let ok_shape = name.len() <= 40
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok_shape {
        return Err(FieldError::new(
            field,
            "must be 1–40 characters: a–z, 0–9 and _, starting with a letter",
        ));
    }
    if SYSTEM_COLUMNS.contains(&name) || RESERVED_NAMES.contains(&name) {
        return Err(FieldError::new(field, format!("{name:?} is reserved")));
    }
    Ok(())
}

pub fn validate_label(field: &str, label: &str) -> std::result::Result<(), FieldError> {
    let trimmed = label.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 80 || trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must be 1–80 characters without control characters",
        ));
    }
    Ok(())
}

/// Consent to marketing e-mail on people (status, when, from where); mass mailings honour it.
pub fn consent_fields() -> [FieldDef; 3] {
    [
        FieldDef::new("email_consent", "E-mail consent", FieldType::Select).choices(&[
            ("unknown", "Unknown"),
            ("granted", "Granted"),
            ("withdrawn", "Withdrawn"),
        ]),
        FieldDef::new("email_consent_at", "Consent given or withdrawn", FieldType::Datetime),
        FieldDef::new("email_consent_source", "Consent source", FieldType::Text),
    ]
}

/// The four standard objects every workspace starts with.
pub fn standard_objects() -> Vec<ObjectDef> {
    use FieldType::*;
    let object = |name: &str, label: &str, plural: &str, title: &[&str], fields: Vec<FieldDef>| ObjectDef {
        name: name.into(),
        label: label.into(),
        label_plural: plural.into(),
        standard: true,
        archived: false,
        title_fields: title.iter().map(|s| (*s).to_string()).collect(),
        fields: fields
            .into_iter()
            .enumerate()
            .map(|(i, mut f)| {
                f.standard = true;
                f.position = i32::try_from(i).unwrap_or(i32::MAX);
                f
            })
            .collect(),
    };
    vec![
        object(
            "company",
            "Company",
            "Companies",
            &["name"],
            vec![
                FieldDef::new("name", "Name", Text).required().searchable(),
                FieldDef::new("org_number", "Organisation number", Text).searchable(),
                FieldDef::new("domain", "Domain", Text).searchable(),
                FieldDef::new("phone", "Phone", Phone).searchable().unfiltered(),
                FieldDef::new("address", "Address", Text).unfiltered(),
                FieldDef::new("city", "City", Text).searchable(),
                FieldDef::new("country", "Country", Text),
                FieldDef::new("external_id", "External id", Text).unique(),
            ],
        ),
        object(
            "person",
            "Person",
            "People",
            &["first_name", "last_name"],
            vec![
                FieldDef::new("first_name", "First name", Text).searchable(),
                FieldDef::new("last_name", "Last name", Text).required().searchable(),
                FieldDef::new("email", "E-mail", Email).searchable(),
                FieldDef::new("phone", "Phone", Phone).searchable().unfiltered(),
                FieldDef::new("title", "Title", Text),
                FieldDef::new("city", "City", Text),
                FieldDef::new("company", "Company", Relation).target("company"),
                consent_fields()[0].clone(),
                consent_fields()[1].clone(),
                consent_fields()[2].clone(),
                FieldDef::new("external_id", "External id", Text).unique(),
                // The language written to them in: a mailing picks its template's variant by it.
                FieldDef::new("language", "Language", Select).choices(&[
                    ("en", "English"),
                    ("sv", "Svenska"),
                    ("de", "Deutsch"),
                    ("da", "Dansk"),
                    ("es", "Español"),
                    ("nb", "Norsk"),
                    ("fi", "Suomi"),
                    ("fr", "Français"),
                    ("nl", "Nederlands"),
                ]),
            ],
        ),
        object(
            "deal",
            "Deal",
            "Deals",
            &["name"],
            vec![
                FieldDef::new("name", "Name", Text).required().searchable(),
                FieldDef::new("stage", "Stage", Select).required().choices(&[
                    ("lead", "Lead"),
                    ("qualified", "Qualified"),
                    ("proposal", "Proposal"),
                    ("negotiation", "Negotiation"),
                    ("won", "Won"),
                    ("lost", "Lost"),
                ]),
                FieldDef::new("amount", "Amount", Money),
                FieldDef::new("currency", "Currency", Select).choices(&[
                    ("SEK", "SEK"),
                    ("EUR", "EUR"),
                    ("DKK", "DKK"),
                    ("NOK", "NOK"),
                    ("GBP", "GBP"),
                    ("USD", "USD"),
                ]),
                FieldDef::new("probability", "Probability", Percent),
                FieldDef::new("expected_close", "Expected close", Date),
                FieldDef::new("company", "Company", Relation).target("company"),
                // Empty: the stage's own (see `forecast::default_category`).
                FieldDef::new("forecast_category", "Forecast category", Select).choices(&[
                    ("pipeline", "Pipeline"),
                    ("best_case", "Best case"),
                    ("commit", "Commit"),
                    ("closed", "Closed"),
                    ("omitted", "Omitted"),
                ]),
            ],
        ),
        object(
            "activity",
            "Activity",
            "Activities",
            &["subject"],
            vec![
                FieldDef::new("type", "Type", Select).required().choices(&[
                    ("call", "Call"),
                    ("meeting", "Meeting"),
                    ("email", "E-mail"),
                    ("task", "Task"),
                    ("note", "Note"),
                ]),
                FieldDef::new("subject", "Subject", Text).required().searchable(),
                FieldDef::new("body", "Body", LongText).searchable(),
                FieldDef::new("due_at", "Due", Datetime),
                FieldDef::new("done", "Done", Boolean),
                FieldDef::new("company", "Company", Relation).target("company"),
                FieldDef::new("person", "Person", Relation).target("person"),
                FieldDef::new("deal", "Deal", Relation).target("deal"),
            ],
        ),
    ]
}

/// What an administrator sends to create a custom field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewField {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(default)]
    pub required: bool,
    pub filterable: Option<bool>,
    #[serde(default)]
    pub searchable: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub choices: Vec<Choice>,
    pub target: Option<String>,
}

impl NewField {
    /// Check everything that can be checked without the database.
    pub fn into_def(self, schema: &Schema, object: &ObjectDef) -> Result<FieldDef> {
        let mut errors = Vec::new();
        if let Err(e) = validate_api_name("name", &self.name) {
            errors.push(e);
        }
        if object.any_field(&self.name).is_some() {
            errors.push(FieldError::new(
                "name",
                format!("{:?} exists already on {}", self.name, object.name),
            ));
        }
        if let Err(e) = validate_label("label", &self.label) {
            errors.push(e);
        }
        let field_type = FieldType::parse(&self.field_type);
        if field_type.is_none() {
            let names: Vec<&str> = FieldType::ALL.iter().map(|t| t.as_str()).collect();
            errors.push(FieldError::new("type", format!("must be one of {}", names.join(", "))));
        }
        if self.required {
            // A required field added to a table that already holds records would leave them
            // all invalid; it can be made required once they are filled.
            errors.push(FieldError::new("required", "a new field cannot start out required"));
        }
        let field_type = match field_type {
            Some(t) if errors.is_empty() => t,
            _ => return Err(Error::validation(errors)),
        };
        validate_choices(field_type, &self.choices)?;
        let target = match (field_type, self.target) {
            (FieldType::Relation, Some(t)) => {
                schema
                    .object(&t)
                    .map_err(|_| Error::field("target", format!("no object named {t:?}")))?;
                Some(t)
            }
            (FieldType::Relation, None) => {
                return Err(Error::field("target", "a relation needs a target object"));
            }
            (_, Some(_)) => return Err(Error::field("target", "only relations have a target")),
            (_, None) => None,
        };
        let filterable = self.filterable.unwrap_or(field_type != FieldType::LongText);
        if self.searchable && !field_type.is_textual() {
            return Err(Error::field("searchable", "only text fields can be searchable"));
        }
        if self.unique && !field_type.can_be_unique() {
            return Err(Error::field("unique", unique_types_message()));
        }
        let position = object
            .fields
            .iter()
            .map(|f| f.position)
            .max()
            .unwrap_or(0)
            .saturating_add(1);
        Ok(FieldDef {
            name: self.name,
            label: self.label.trim().to_string(),
            field_type,
            required: false,
            filterable,
            searchable: self.searchable,
            unique: self.unique,
            choices: self.choices,
            target,
            standard: false,
            archived: false,
            position,
        })
    }
}

pub fn validate_choices(field_type: FieldType, choices: &[Choice]) -> Result<()> {
    let is_select = matches!(field_type, FieldType::Select | FieldType::MultiSelect);
    if !is_select {
        return if choices.is_empty() {
            Ok(())
        } else {
            Err(Error::field("choices", "only select fields have choices"))
        };
    }
    if choices.is_empty() {
        return Err(Error::field("choices", "a select field needs at least one choice"));
    }
    if choices.len() > 500 {
        return Err(Error::field("choices", "at most 500 choices"));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, c) in choices.iter().enumerate() {
        if c.value.is_empty() || c.value.chars().count() > 100 || c.value.chars().any(char::is_control) {
            return Err(Error::field(format!("choices[{i}].value"), "must be 1–100 characters"));
        }
        validate_label(&format!("choices[{i}].label"), &c.label).map_err(|e| Error::validation(vec![e]))?;
        if !seen.insert(c.value.as_str()) {
            return Err(Error::field(format!("choices[{i}].value"), "appears twice"));
        }
    }
    Ok(())
}

/// What an administrator may change on an existing field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldPatch {
    pub label: Option<String>,
    pub choices: Option<Vec<Choice>>,
    pub filterable: Option<bool>,
    pub searchable: Option<bool>,
    pub unique: Option<bool>,
    pub archived: Option<bool>,
}

fn unique_types_message() -> String {
    let names: Vec<&str> = FieldType::ALL
        .iter()
        .filter(|t| t.can_be_unique())
        .map(|t| t.as_str())
        .collect();
    format!("only {} fields can be unique", names.join(", "))
}

impl FieldPatch {
    /// Only the picklist changes (what key users may be allowed to do).
    pub fn only_choices(&self) -> bool {
        self.choices.is_some()
            && self.label.is_none()
            && self.filterable.is_none()
            && self.searchable.is_none()
            && self.unique.is_none()
            && self.archived.is_none()
    }

    pub fn apply(self, current: &FieldDef) -> Result<FieldDef> {
        let mut next = current.clone();
        if let Some(label) = self.label {
            validate_label("label", &label).map_err(|e| Error::validation(vec![e]))?;
            next.label = label.trim().to_string();
        }
        if let Some(choices) = self.choices {
            validate_choices(current.field_type, &choices)?;
            next.choices = choices;
        }
        if let Some(filterable) = self.filterable {
            next.filterable = filterable;
        }
        if let Some(searchable) = self.searchable {
            if searchable && !current.field_type.is_textual() {
                return Err(Error::field("searchable", "only text fields can be searchable"));
            }
            next.searchable = searchable;
        }
        if let Some(unique) = self.unique {
            if unique && !current.field_type.can_be_unique() {
                return Err(Error::field("unique", unique_types_message()));
            }
            next.unique = unique;
        }
        if let Some(archived) = self.archived {
            if archived && current.standard {
                return Err(Error::field("archived", "standard fields cannot be archived"));
            }
            next.archived = archived;
        }
        Ok(next)
    }
}

/// What an administrator sends to create a custom object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewObject {
    pub name: String,
    pub label: String,
    pub label_plural: Option<String>,
    /// The object gets a required `name` text field to title its records; more fields follow.
    #[serde(default)]
    pub fields: Vec<NewField>,
}

impl NewObject {
    pub fn into_def(self, schema: &Schema) -> Result<ObjectDef> {
        let mut errors = Vec::new();
        if let Err(e) = validate_api_name("name", &self.name) {
            errors.push(e);
        }
        if schema.objects.contains_key(&self.name) {
            errors.push(FieldError::new(
                "name",
                format!("an object named {:?} exists already", self.name),
            ));
        }
        if let Err(e) = validate_label("label", &self.label) {
            errors.push(e);
        }
        let plural = self.label_plural.unwrap_or_else(|| self.label.clone());
        if let Err(e) = validate_label("label_plural", &plural) {
            errors.push(e);
        }
        if self.fields.len() > 200 {
            errors.push(FieldError::new("fields", "at most 200 fields at once"));
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        let mut name_field = FieldDef::new("name", "Name", FieldType::Text);
        name_field.required = true;
        name_field.searchable = true;
        let mut def = ObjectDef {
            name: self.name,
            label: self.label.trim().to_string(),
            label_plural: plural.trim().to_string(),
            standard: false,
            archived: false,
            title_fields: vec!["name".into()],
            fields: vec![name_field],
        };
        for (i, nf) in self.fields.into_iter().enumerate() {
            let field = nf.into_def(schema, &def).map_err(|mut e| {
                for fe in &mut e.errors {
                    fe.field = format!("fields[{i}].{}", fe.field);
                }
                e
            })?;
            def.fields.push(field);
        }
        Ok(def)
    }
}

/// Public description of an object, as the API shows it.
pub fn describe_object(def: &ObjectDef) -> serde_json::Value {
    serde_json::json!({
        "name": def.name,
        "label": def.label,
        "label_plural": def.label_plural,
        "standard": def.standard,
        "archived": def.archived,
        "title_fields": def.title_fields,
        "fields": def.fields,
    })
}

/// Where the schema is kept: objects, fields and the access policy, versioned together.
#[async_trait]
pub trait SchemaStore: Send + Sync {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// The current schema; cheap when nothing changed (a version check, then a cached copy).
    async fn schema(&self) -> Result<Arc<Schema>>;
    /// The schema at a version the caller has just read: the cached copy when it is that
    /// version, without asking the database again.
    async fn schema_at(&self, version: i64) -> Result<Arc<Schema>> {
        let _ = version;
        self.schema().await
    }
    async fn create_object(&self, object: &ObjectDef, ctx: WriteCtx) -> Result<()>;
    async fn update_object(&self, object: &ObjectDef) -> Result<()>;
    /// Adds the column (and its index when filterable) in the same transaction as the row.
    async fn add_field(&self, object: &ObjectDef, field: &FieldDef) -> Result<()>;
    async fn update_field(&self, object: &ObjectDef, before: &FieldDef, after: &FieldDef) -> Result<()>;
    /// Drops an archived field's column and its data for good.
    async fn purge_field(&self, object: &ObjectDef, field: &FieldDef) -> Result<()>;
    /// The access policy is versioned with the schema: setting it bumps the schema version.
    async fn set_policy(&self, policy: &crate::auth::AccessPolicy) -> Result<()>;
}

/// Workspace settings (the reporting currency, the quality rules), as JSON text by key.
#[async_trait]
pub trait SettingStore: Send + Sync {
    /// A workspace setting (JSON text) by key.
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    async fn put_setting(&self, key: &str, body: &str) -> Result<()>;
    /// Keep a setting only if none is kept under its key (the first of two writers wins).
    async fn put_setting_if_absent(&self, key: &str, body: &str) -> Result<()>;
}
