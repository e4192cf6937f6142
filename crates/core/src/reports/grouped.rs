//! Reports: an object's records counted (and a number or amount added up) per value of a
//! picklist, a person or a yes/no field, over every record the reader may see. The grouping,
//! the order of the groups and the sums per currency are decided here; a page or an API only
//! words and draws them.

use crate::auth::{Permission, Principal};
use crate::error::Result;
use crate::meta::{FieldDef, FieldType, ObjectDef, system_field};
use crate::service::Crm;
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One group of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportGroup {
    /// The group's value; `Value::Null` for the records without one.
    pub key: Value,
    pub count: i64,
    /// The measure added up per currency (`""` when the measure is no amount, or the record
    /// names no currency), in the field's own unit: minor units for money.
    pub sums: BTreeMap<String, f64>,
}

/// A report as asked, with what else it could have asked.
#[derive(Debug, Clone)]
pub struct GroupedReport {
    pub object: ObjectDef,
    /// Fields the report may group by: picklists, people, yes/no, and the owner.
    pub groupable: Vec<FieldDef>,
    /// Fields it may add up: numbers, amounts and percentages.
    pub summable: Vec<FieldDef>,
    /// The grouping used: the one asked for when it may group, else the first there is.
    pub group: Option<FieldDef>,
    pub sum: Option<FieldDef>,
    /// Groups in reading order: a picklist's own order (a pipeline reads left to right), people
    /// by name, yes before no, and the records without a value last.
    pub groups: Vec<ReportGroup>,
    pub total: i64,
}

impl GroupedReport {
    /// Whether every group's sum is in one and the same currency, so the sums can be drawn on
    /// one scale (else a chart shows the counts).
    pub fn one_currency(&self) -> bool {
        let currencies: BTreeSet<&String> = self.groups.iter().flat_map(|g| g.sums.keys()).collect();
        self.sum.is_some() && currencies.len() <= 1
    }
}

/// Fields a report can group by: picklists, people and yes/no, and the owner.
pub fn groupable(object: &ObjectDef) -> Vec<FieldDef> {
    let mut out: Vec<FieldDef> = object
        .active_fields()
        .filter(|f| f.filterable && matches!(f.field_type, FieldType::Select | FieldType::User | FieldType::Boolean))
        .cloned()
        .collect();
    if let Some(owner) = system_field("owner") {
        out.push(owner);
    }
    out
}

/// Fields a report can add up.
pub fn summable(object: &ObjectDef) -> Vec<FieldDef> {
    object
        .active_fields()
        .filter(|f| f.filterable && matches!(f.field_type, FieldType::Number | FieldType::Money | FieldType::Percent))
        .cloned()
        .collect()
}

impl Crm {
    /// Count (and add up) an object's records the caller may see, per value of one field.
    /// Amounts are added up per currency, never across currencies.
    pub async fn grouped_report(
        &self,
        who: &Principal,
        object: &str,
        group: Option<&str>,
        sum: Option<&str>,
    ) -> Result<GroupedReport> {
        let (schema, object) = self.object(object).await?;
        who.require(Permission::ReadRecords, &schema.policy)?;
        let groupable = groupable(&object);
        let summable = summable(&object);
        let group = group
            .and_then(|g| groupable.iter().find(|f| f.name == g))
            .or_else(|| groupable.first())
            .cloned();
        let sum = sum.and_then(|s| summable.iter().find(|f| f.name == s)).cloned();
        let mut report = GroupedReport {
            object,
            groupable,
            summable,
            group,
            sum,
            groups: Vec::new(),
            total: 0,
        };
        let Some(group) = report.group.clone() else {
            return Ok(report);
        };
        let currency = report
            .sum
            .as_ref()
            .filter(|s| s.field_type == FieldType::Money)
            .and_then(|_| report.object.field("currency"))
            .filter(|f| f.field_type == FieldType::Select)
            .cloned();
        let mut by = vec![group.name.as_str()];
        if let Some(c) = &currency {
            by.push(c.name.as_str());
        }
        let rows = self
            .aggregate(
                who,
                &report.object.name,
                &by,
                report.sum.as_ref().map(|s| s.name.as_str()),
                None,
            )
            .await?;
        let names: HashMap<crate::ids::UserId, String> = if group.field_type == FieldType::User {
            self.store
                .users()
                .await?
                .into_iter()
                .map(|u| (u.id, u.name.to_lowercase()))
                .collect()
        } else {
            HashMap::new()
        };
        let rank = |v: &Value| -> (usize, String) {
            match v {
                Value::Select(s) => (
                    group
                        .choices
                        .iter()
                        .position(|c| &c.value == s)
                        .unwrap_or(usize::MAX - 1),
                    s.clone(),
                ),
                Value::User(u) => (0, names.get(u).cloned().unwrap_or_default()),
                Value::Bool(b) => (usize::from(!*b), String::new()),
                _ => (usize::MAX, String::new()),
            }
        };
        // One group per value: the rows come split by currency too.
        let mut groups: Vec<ReportGroup> = Vec::new();
        for row in rows {
            let key = row.keys.first().cloned().unwrap_or(Value::Null);
            let cur = match row.keys.get(1) {
                Some(Value::Select(c)) => c.clone(),
                _ => String::new(),
            };
            let at = match groups.iter().position(|g| g.key == key) {
                Some(at) => at,
                None => {
                    groups.push(ReportGroup {
                        key,
                        count: 0,
                        sums: BTreeMap::new(),
                    });
                    groups.len() - 1
                }
            };
            if let Some(g) = groups.get_mut(at) {
                g.count += row.count;
                if let Some(s) = row.sum {
                    *g.sums.entry(cur).or_default() += s;
                }
            }
        }
        groups.sort_by_cached_key(|g| rank(&g.key));
        report.total = groups.iter().map(|g| g.count).sum();
        report.groups = groups;
        Ok(report)
    }
}
