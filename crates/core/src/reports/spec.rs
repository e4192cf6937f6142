//! What a report is (object, filter, groupings, measure, chart) and its check against the
//! metadata, each mistake named by its place in the spec (`groups[1].bucket`).

use crate::error::{Error, FieldError, Result};
use crate::filter::{Filter, filter_field, relation_target, split_related};
use crate::meta::{FieldDef, FieldType, ObjectDef, Schema};
use crate::period::Bucket;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The most groups one grouping shows; the rest are added up as "other".
pub const MAX_GROUPS: usize = 200;

/// The pseudo-field that groups by the owner's team.
pub const TEAM: &str = "team";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    pub object: String,
    /// In the one filter language; relative periods are worked out when the report runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Json>,
    /// Up to two: rows, then columns of the pivot (the stacks of a stacked chart).
    #[serde(default)]
    pub groups: Vec<Grouping>,
    #[serde(default)]
    pub measure: Measure,
    #[serde(default)]
    pub chart: ChartKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grouping {
    /// A field, `owner`, `created_by`, `created_at`, `updated_at`, or `team` (the owner's); or
    /// one of a related record, one hop away: `company.city` (a relation, a dot, and a field of
    /// the object it points at, `owner` too).
    pub field: String,
    /// For dates: the period they are counted by (month when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<Bucket>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    #[serde(default)]
    pub func: MeasureFn,
    /// The number, percentage or amount measured; none for a count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureFn {
    #[default]
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl MeasureFn {
    pub const ALL: [MeasureFn; 5] = [
        MeasureFn::Count,
        MeasureFn::Sum,
        MeasureFn::Avg,
        MeasureFn::Min,
        MeasureFn::Max,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MeasureFn::Count => "count",
            MeasureFn::Sum => "sum",
            MeasureFn::Avg => "avg",
            MeasureFn::Min => "min",
            MeasureFn::Max => "max",
        }
    }

    pub fn parse(s: &str) -> Option<MeasureFn> {
        MeasureFn::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    #[default]
    Bar,
    StackedBar,
    Line,
    Donut,
    Funnel,
    /// The table (or pivot) only.
    Table,
}

impl ChartKind {
    pub const ALL: [ChartKind; 6] = [
        ChartKind::Bar,
        ChartKind::StackedBar,
        ChartKind::Line,
        ChartKind::Donut,
        ChartKind::Funnel,
        ChartKind::Table,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChartKind::Bar => "bar",
            ChartKind::StackedBar => "stacked_bar",
            ChartKind::Line => "line",
            ChartKind::Donut => "donut",
            ChartKind::Funnel => "funnel",
            ChartKind::Table => "table",
        }
    }

    pub fn parse(s: &str) -> Option<ChartKind> {
        ChartKind::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Fields a report can group by: picklists, people, yes/no, relations, short text, dates, the
/// system fields (owner, creator, created, updated) and the owner's team.
pub fn groupable_fields(object: &ObjectDef) -> Vec<FieldDef> {
    let mut out: Vec<FieldDef> = object
        .active_fields()
        .filter(|f| f.filterable && groupable_type(f.field_type))
        .cloned()
        .collect();
    for name in ["owner", "created_by", "created_at", "updated_at"] {
        if object.field(name).is_none()
            && let Some(f) = crate::meta::system_field(name)
        {
            out.push(f);
        }
    }
    out.push(FieldDef::new(TEAM, "Team", FieldType::User));
    out
}

/// The fields of related records a report can group by, per relation of the object (one hop):
/// each relation, the object it points at, and that object's groupable fields (the owner's
/// team is the report's own object's only).
pub fn related_groupable_fields<'a>(
    schema: &'a Schema,
    object: &ObjectDef,
) -> Vec<(FieldDef, &'a ObjectDef, Vec<FieldDef>)> {
    object
        .active_fields()
        .filter(|f| f.field_type == FieldType::Relation)
        .filter_map(|f| relation_target(schema, object, &f.name).ok())
        .map(|(relation, target)| {
            let fields = groupable_fields(target)
                .into_iter()
                .filter(|f| !(f.name == TEAM && target.field(TEAM).is_none()))
                .collect();
            (relation, target, fields)
        })
        .collect()
}

/// The field a grouping names, for its words and choices: the object it belongs to (a related
/// one for `company.city`), the relation it is reached through, and the field.
#[derive(Debug, Clone)]
pub struct GroupField<'a> {
    pub object: &'a ObjectDef,
    pub relation: Option<FieldDef>,
    pub field: FieldDef,
}

/// The field a grouping names, if the report can group by it.
pub fn group_field<'a>(schema: &'a Schema, object: &'a ObjectDef, name: &str) -> Option<GroupField<'a>> {
    match split_related(name) {
        None => groupable_fields(object)
            .into_iter()
            .find(|f| f.name == name)
            .map(|field| GroupField {
                object,
                relation: None,
                field,
            }),
        Some(split) => {
            let (relation, field) = split.ok()?;
            let (relation, target) = relation_target(schema, object, relation).ok()?;
            let field = groupable_fields(target)
                .into_iter()
                .find(|f| f.name == field && !(f.name == TEAM && target.field(TEAM).is_none()))?;
            Some(GroupField {
                object: target,
                relation: Some(relation),
                field,
            })
        }
    }
}

fn groupable_type(t: FieldType) -> bool {
    matches!(
        t,
        FieldType::Select
            | FieldType::User
            | FieldType::Boolean
            | FieldType::Relation
            | FieldType::Text
            | FieldType::Email
            | FieldType::Date
            | FieldType::Datetime
    )
}

/// Fields a report can measure.
pub fn measurable_fields(object: &ObjectDef) -> Vec<FieldDef> {
    object
        .active_fields()
        .filter(|f| f.filterable && matches!(f.field_type, FieldType::Number | FieldType::Money | FieldType::Percent))
        .cloned()
        .collect()
}

/// One grouping as it is counted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Dim {
    /// By a field's value as kept.
    Field(FieldDef),
    /// By the owner's team.
    Team,
    /// By the period a date falls in.
    Period { field: FieldDef, bucket: Bucket },
    /// By a related record's field, one hop away (`company.city`): `inner` is a
    /// [`Dim::Field`] or [`Dim::Period`] of the object the relation points at.
    Related {
        relation: FieldDef,
        object: String,
        inner: Box<Dim>,
    },
}

impl Dim {
    /// What the grouping counts by: the related record's field for [`Dim::Related`].
    pub(crate) fn leaf(&self) -> &Dim {
        match self {
            Dim::Related { inner, .. } => inner,
            other => other,
        }
    }

    /// The field a filter names for it (`company.city` for a related record's; the owner
    /// for the team).
    pub(crate) fn filter_name(&self) -> String {
        match self {
            Dim::Field(f) | Dim::Period { field: f, .. } => f.name.clone(),
            Dim::Team => "owner".to_string(),
            Dim::Related { relation, inner, .. } => format!("{}.{}", relation.name, inner.filter_name()),
        }
    }
}

/// A spec checked against its object.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub filter: Option<Filter>,
    pub dims: Vec<Dim>,
    pub func: MeasureFn,
    pub measure: Option<FieldDef>,
}

impl ReportSpec {
    /// Check the spec against its object (and, for a related record's field, the object the
    /// relation points at in the schema): every mistake by its place.
    pub(crate) fn plan(&self, schema: &Schema, object: &ObjectDef) -> Result<Plan> {
        let mut errors = Vec::new();
        let filter = match &self.filter {
            None | Some(Json::Null) => None,
            Some(json) => match Filter::parse(json) {
                Ok(f) => Some(f),
                Err(e) => {
                    errors.extend(e.errors);
                    None
                }
            },
        };
        if self.groups.len() > 2 {
            errors.push(FieldError::new("groups", "a report groups by at most two fields"));
        }
        let mut dims = Vec::new();
        for (i, g) in self.groups.iter().enumerate().take(2) {
            match dim(schema, object, g) {
                Ok(d) => dims.push(d),
                Err(e) => errors.push(FieldError::new(format!("groups[{i}].{}", e.field), e.message)),
            }
        }
        if let [a, b] = dims.as_slice()
            && a == b
        {
            errors.push(FieldError::new("groups[1].field", "is the same grouping as the first"));
        }
        let measure = match (self.measure.func, &self.measure.field) {
            (MeasureFn::Count, None) => None,
            (MeasureFn::Count, Some(_)) => {
                errors.push(FieldError::new("measure.field", "a count measures no field"));
                None
            }
            (_, None) => {
                errors.push(FieldError::new(
                    "measure.field",
                    "names the number or amount to measure",
                ));
                None
            }
            (_, Some(name)) => match measurable_fields(object).into_iter().find(|f| &f.name == name) {
                Some(f) => Some(f),
                None => {
                    errors.push(FieldError::new(
                        "measure.field",
                        format!("{name:?} is not a number, percentage or amount of {}", object.name),
                    ));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        Ok(Plan {
            filter,
            dims,
            func: self.measure.func,
            measure,
        })
    }
}

fn dim(schema: &Schema, object: &ObjectDef, g: &Grouping) -> std::result::Result<Dim, FieldError> {
    let Some(split) = split_related(&g.field) else {
        return own_dim(object, g, true);
    };
    let (relation, field) = split.map_err(|m| FieldError::new("field", m))?;
    let (relation, target) = relation_target(schema, object, relation).map_err(|m| FieldError::new("field", m))?;
    let inner = own_dim(
        target,
        &Grouping {
            field: field.to_string(),
            bucket: g.bucket,
        },
        false,
    )?;
    Ok(Dim::Related {
        relation,
        object: target.name.clone(),
        inner: Box::new(inner),
    })
}

/// A grouping by one of the object's own fields; by the owner's team when `team` allows it.
fn own_dim(object: &ObjectDef, g: &Grouping, team: bool) -> std::result::Result<Dim, FieldError> {
    if team && g.field == TEAM && object.field(TEAM).is_none() {
        return match g.bucket {
            Some(_) => Err(FieldError::new("bucket", "only dates are bucketed")),
            None => Ok(Dim::Team),
        };
    }
    let field = filter_field(object, &g.field)
        .filter(|f| groupable_type(f.field_type))
        .ok_or_else(|| {
            FieldError::new(
                "field",
                format!("{:?} is not a field {} can be grouped by", g.field, object.name),
            )
        })?;
    match (field.field_type, g.bucket) {
        (FieldType::Date | FieldType::Datetime, bucket) => Ok(Dim::Period {
            field,
            bucket: bucket.unwrap_or(Bucket::Month),
        }),
        (_, Some(_)) => Err(FieldError::new("bucket", "only dates are bucketed")),
        (_, None) => Ok(Dim::Field(field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::standard_objects;
    use serde_json::json;

    fn deal() -> ObjectDef {
        standard_objects().into_iter().find(|o| o.name == "deal").unwrap()
    }

    fn schema() -> Schema {
        Schema {
            objects: standard_objects().into_iter().map(|o| (o.name.clone(), o)).collect(),
            ..Default::default()
        }
    }

    fn spec(json: Json) -> ReportSpec {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_spec_names_each_mistake_by_its_place() {
        let s = spec(json!({
            "object": "deal",
            "groups": [{"field": "stage", "bucket": "week"}, {"field": "nope"}],
            "measure": {"func": "sum", "field": "name"}
        }));
        let e = s.plan(&schema(), &deal()).unwrap_err();
        let places: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(places, ["groups[0].bucket", "groups[1].field", "measure.field"]);
    }

    #[test]
    fn dates_are_bucketed_by_month_unless_told_and_team_is_the_owners() {
        let s = spec(json!({
            "object": "deal",
            "groups": [{"field": "expected_close"}, {"field": "team"}],
            "measure": {"func": "avg", "field": "amount"}
        }));
        let plan = s.plan(&schema(), &deal()).unwrap();
        assert!(matches!(
            &plan.dims[0],
            Dim::Period {
                bucket: Bucket::Month,
                ..
            }
        ));
        assert_eq!(plan.dims[1], Dim::Team);
        assert_eq!(plan.measure.unwrap().name, "amount");
        let twice = spec(json!({"object": "deal", "groups": [{"field": "stage"}, {"field": "stage"}]}));
        assert_eq!(
            twice.plan(&schema(), &deal()).unwrap_err().errors[0].field,
            "groups[1].field"
        );
    }

    #[test]
    fn a_related_records_field_is_grouped_by_one_hop_and_each_mistake_named() {
        let s = spec(json!({
            "object": "deal",
            "groups": [{"field": "company.city"}, {"field": "company.created_at", "bucket": "quarter"}]
        }));
        let plan = s.plan(&schema(), &deal()).unwrap();
        let Dim::Related {
            relation,
            object,
            inner,
        } = &plan.dims[0]
        else {
            panic!("related expected")
        };
        assert_eq!((relation.name.as_str(), object.as_str()), ("company", "company"));
        assert!(matches!(inner.as_ref(), Dim::Field(f) if f.name == "city"));
        assert_eq!(plan.dims[0].filter_name(), "company.city");
        assert!(matches!(
            plan.dims[1].leaf(),
            Dim::Period {
                bucket: Bucket::Quarter,
                ..
            }
        ));
        let owner = spec(json!({"object": "deal", "groups": [{"field": "company.owner"}]}));
        assert!(owner.plan(&schema(), &deal()).is_ok(), "a related record's owner");
        for (field, message) in [
            ("nope.city", "no field"),
            ("stage.city", "no relation"),
            ("company.nope", "not a field company can be grouped by"),
            ("company.team", "not a field company can be grouped by"),
            ("company.address", "not a field company can be grouped by"),
            ("company.city.name", "more than one relation"),
        ] {
            let e = spec(json!({"object": "deal", "groups": [{"field": field}]}))
                .plan(&schema(), &deal())
                .unwrap_err();
            assert_eq!(e.errors[0].field, "groups[0].field", "{field}");
            assert!(
                e.errors[0].message.contains(message),
                "{field}: {}",
                e.errors[0].message
            );
        }
        let e = spec(json!({"object": "deal", "groups": [{"field": "company.city", "bucket": "week"}]}))
            .plan(&schema(), &deal())
            .unwrap_err();
        assert_eq!(e.errors[0].field, "groups[0].bucket");
        let sc = schema();
        let deal = deal();
        let related = related_groupable_fields(&sc, &deal);
        assert_eq!(related.len(), 1);
        assert!(related[0].2.iter().any(|f| f.name == "city") && related[0].2.iter().all(|f| f.name != TEAM));
        let g = group_field(&sc, &deal, "company.city").unwrap();
        assert_eq!((g.object.name.as_str(), g.field.name.as_str()), ("company", "city"));
        assert!(group_field(&sc, &deal, "company.nope").is_none());
    }
}
