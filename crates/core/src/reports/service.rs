//! Saved reports: a spec under a name, its owner's or shared. Sharing takes the same right as
//! sharing a view; a shared report is changed by its owner or by whoever may share. Whoever
//! opens a report sees only the records they may see: a report keeps no figures.

use super::{ReportResult, ReportSpec, SavedReport};
use crate::auth::{Permission, Principal, SchemaChange};
use crate::error::{Error, Result};
use crate::ids::ReportId;
use crate::meta::Schema;
use crate::service::Crm;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

const MAX_NAME: usize = 120;

/// A report as its reader sees it: may they change it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportView {
    #[serde(flatten)]
    pub report: SavedReportBody,
    pub may_change: bool,
}

/// A saved report as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedReportBody {
    pub id: ReportId,
    pub name: String,
    pub owner: crate::ids::UserId,
    pub shared: bool,
    pub spec: ReportSpec,
    pub version: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<&SavedReport> for SavedReportBody {
    fn from(r: &SavedReport) -> Self {
        Self {
            id: r.id,
            name: r.name.clone(),
            owner: r.owner,
            shared: r.shared,
            spec: r.spec.clone(),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewReport {
    name: String,
    #[serde(default)]
    shared: bool,
    spec: ReportSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportChange {
    version: i64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    shared: Option<bool>,
    #[serde(default)]
    spec: Option<ReportSpec>,
}

fn checked_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::field(
            "name",
            format!("must be 1–{MAX_NAME} characters on one line"),
        ));
    }
    Ok(name.to_string())
}

impl Crm {
    fn may_change_report(who: &Principal, schema: &Schema, report: &SavedReport) -> bool {
        report.owner == who.user_id
            || (report.shared
                && who
                    .require(Permission::ChangeSchema(SchemaChange::SharedViews), &schema.policy)
                    .is_ok())
    }

    fn report_view(who: &Principal, schema: &Schema, report: &SavedReport) -> ReportView {
        ReportView {
            report: SavedReportBody::from(report),
            may_change: Self::may_change_report(who, schema, report),
        }
    }

    /// A saved report the caller may open (their own or a shared one), else not found.
    async fn readable_report(&self, who: &Principal, id: &str) -> Result<(std::sync::Arc<Schema>, SavedReport)> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let missing = || Error::not_found(format!("no report {id}"));
        let id = ReportId::parse(id).ok_or_else(missing)?;
        let report = self.store.report(id).await?.ok_or_else(missing)?;
        if report.owner != who.user_id && !report.shared {
            return Err(missing());
        }
        Ok((schema, report))
    }

    /// The caller's own reports and the shared ones, by name.
    pub async fn saved_reports(&self, who: &Principal) -> Result<Vec<ReportView>> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        Ok(self
            .store
            .reports(who.user_id)
            .await?
            .iter()
            .map(|r| Self::report_view(who, &schema, r))
            .collect())
    }

    pub async fn saved_report(&self, who: &Principal, id: &str) -> Result<ReportView> {
        let (schema, report) = self.readable_report(who, id).await?;
        Ok(Self::report_view(who, &schema, &report))
    }

    /// Run a saved report for the caller.
    pub async fn run_saved_report(&self, who: &Principal, id: &str) -> Result<(ReportView, ReportResult)> {
        let (schema, report) = self.readable_report(who, id).await?;
        let result = self.run_report(who, &report.spec).await?;
        Ok((Self::report_view(who, &schema, &report), result))
    }

    /// Keep a report under a name. It is checked by running it once, so a report that cannot
    /// run is never kept.
    pub async fn save_report(&self, who: &Principal, body: Json) -> Result<ReportView> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let new: NewReport = crate::service::from_body(body)?;
        let name = checked_name(&new.name)?;
        if new.shared {
            who.require(Permission::ChangeSchema(SchemaChange::SharedViews), &schema.policy)?;
        }
        self.check_spec(who, &new.spec).await?;
        let now = self.clock.now();
        let report = SavedReport {
            id: ReportId::new_at(now),
            name,
            owner: who.user_id,
            shared: new.shared,
            spec: new.spec,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.store.create_report(&report).await?;
        self.ask_for_report_indexes().await;
        Ok(Self::report_view(who, &schema, &report))
    }

    /// Change a report's name, sharing or spec, at the version the caller read.
    pub async fn change_report(&self, who: &Principal, id: &str, body: Json) -> Result<ReportView> {
        let (schema, current) = self.readable_report(who, id).await?;
        let change: ReportChange = crate::service::from_body(body)?;
        if !Self::may_change_report(who, &schema, &current) {
            return Err(Error::new(
                crate::error::ErrorCode::Forbidden,
                "only its owner, or whoever may share reports, changes a shared report",
            ));
        }
        if change.version != current.version {
            let view = Self::report_view(who, &schema, &current);
            return Err(Error::conflict(serde_json::to_value(view).unwrap_or(Json::Null)));
        }
        let mut next = current.clone();
        if let Some(name) = &change.name {
            next.name = checked_name(name)?;
        }
        if let Some(shared) = change.shared {
            if shared != current.shared {
                who.require(Permission::ChangeSchema(SchemaChange::SharedViews), &schema.policy)?;
            }
            next.shared = shared;
        }
        if let Some(spec) = change.spec {
            self.check_spec(who, &spec).await?;
            next.spec = spec;
        }
        next.version = current.version + 1;
        next.updated_at = self.clock.now();
        if !self.store.update_report(&next, current.version).await? {
            let (schema, now) = self.readable_report(who, id).await?;
            let view = Self::report_view(who, &schema, &now);
            return Err(Error::conflict(serde_json::to_value(view).unwrap_or(Json::Null)));
        }
        if next.spec != current.spec || next.shared != current.shared {
            self.ask_for_report_indexes().await;
        }
        Ok(Self::report_view(who, &schema, &next))
    }

    pub async fn delete_report(&self, who: &Principal, id: &str) -> Result<()> {
        let (schema, report) = self.readable_report(who, id).await?;
        if !Self::may_change_report(who, &schema, &report) {
            return Err(Error::new(
                crate::error::ErrorCode::Forbidden,
                "only its owner, or whoever may share reports, deletes a shared report",
            ));
        }
        self.store.delete_report(report.id).await?;
        self.ask_for_report_indexes().await;
        Ok(())
    }

    /// A spec that names an object the caller may read and runs.
    async fn check_spec(&self, who: &Principal, spec: &ReportSpec) -> Result<()> {
        let schema = self.schema().await?;
        let object = schema
            .object(&spec.object)
            .map_err(|_| Error::field("spec.object", format!("there is no object {:?}", spec.object)))?;
        let in_spec = |mut e: Error| {
            for f in &mut e.errors {
                f.field = format!("spec.{}", f.field);
            }
            e
        };
        spec.plan(&schema, object).map_err(in_spec)?;
        self.run_report(who, spec).await.map(|_| ()).map_err(in_spec)
    }
}

impl Crm {
    /// Run a report sent whole (the API's body is a spec).
    pub async fn run_report_body(&self, who: &Principal, body: Json) -> Result<ReportResult> {
        let spec: ReportSpec = crate::service::from_body(body)?;
        // A body names its object: an unknown one is a mistake in the body, not a missing page.
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        if schema.object(&spec.object).is_err() {
            return Err(Error::field("object", format!("there is no object {:?}", spec.object)));
        }
        self.run_report(who, &spec).await
    }

    /// A saved report as a file, its groups named as the metadata names them (a choice by its
    /// label, a person or record by name, a period by its key).
    pub async fn saved_report_file(
        &self,
        who: &Principal,
        id: &str,
        format: crate::export::Format,
    ) -> Result<(String, Vec<u8>)> {
        let (view, result) = self.run_saved_report(who, id).await?;
        who.require(Permission::Export, &self.schema().await?.policy)?;
        let schema = self.schema().await?;
        let object = schema.object(&result.spec.object)?.clone();
        let group_fields: Vec<Option<crate::meta::FieldDef>> = result
            .spec
            .groups
            .iter()
            .map(|g| super::group_field(&schema, &object, &g.field).map(|g| g.field))
            .collect();
        let label = |axis: usize, h: &super::Header| -> String {
            use super::GroupValue as G;
            match &h.value {
                G::Choice(c) => group_fields
                    .get(axis)
                    .and_then(Option::as_ref)
                    .and_then(|f| f.choices.iter().find(|x| &x.value == c))
                    .map_or_else(|| c.clone(), |x| x.label.clone()),
                G::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
                G::Text(t) => t.clone(),
                G::Other => "other".to_string(),
                G::None => String::new(),
                _ => h.name.clone().unwrap_or_default(),
            }
        };
        let measure = result.spec.measure.field.as_ref().map(|f| {
            let label = object.field(f).map_or_else(|| f.clone(), |d| d.label.clone());
            format!("{} {label}", result.spec.measure.func.as_str())
        });
        let words = super::SheetWords {
            count: "count".into(),
            measure,
            total: "total".into(),
        };
        let rows = super::sheet(&result, &words, &label);
        Ok((view.report.name, super::sheet_file(&rows, format)?))
    }
}
