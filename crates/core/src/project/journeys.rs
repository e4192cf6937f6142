//! Customer journeys and requirements (B15, B16): requirements start from the customer's
//! journey, not from the software. A journey has ordered touchpoints with the tasks done at
//! each; requirements come from a touchpoint (or from a change request carried over), say why
//! users need them, and are traced to the configuration that meets them. The traceability view
//! shows requirements nothing meets and configuration no requirement asked for.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Touchpoint {
    pub name: String,
    /// What the customer or the user does there.
    #[serde(default)]
    pub tasks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    #[serde(default)]
    pub number: u32,
    #[serde(default)]
    pub version: i64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub touchpoints: Vec<Touchpoint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Must,
    Should,
    Could,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Must, Priority::Should, Priority::Could];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Must => "must",
            Priority::Should => "should",
            Priority::Could => "could",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// The kinds of configuration a requirement is met by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigKind {
    Object,
    Field,
    View,
    Report,
    Process,
    Training,
}

impl ConfigKind {
    pub const ALL: [ConfigKind; 6] = [
        ConfigKind::Object,
        ConfigKind::Field,
        ConfigKind::View,
        ConfigKind::Report,
        ConfigKind::Process,
        ConfigKind::Training,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConfigKind::Object => "object",
            ConfigKind::Field => "field",
            ConfigKind::View => "view",
            ConfigKind::Report => "report",
            ConfigKind::Process => "process",
            ConfigKind::Training => "training",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Objects, fields and views live in the CRM's schema; reports, processes and training are
    /// recorded in the project.
    pub fn from_schema(self) -> bool {
        matches!(self, ConfigKind::Object | ConfigKind::Field | ConfigKind::View)
    }
}

/// A pointer from a requirement to configuration: `field` `deal.amount`, `object` `ticket`,
/// `view` by its name, `process` by the number of the project's configuration item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Trace {
    pub kind: ConfigKind,
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    #[serde(default)]
    pub number: u32,
    #[serde(default)]
    pub version: i64,
    pub text: String,
    pub journey: Option<u32>,
    /// Index of the journey's touchpoint.
    pub touchpoint: Option<usize>,
    pub priority: Priority,
    /// Needed within the three-year horizon rather than at go-live.
    #[serde(default)]
    pub three_year: bool,
    /// Why users need it, in their words.
    #[serde(default)]
    pub why: String,
    /// The phase it belongs to.
    #[serde(default)]
    pub phase: String,
    #[serde(default)]
    pub traces: Vec<Trace>,
    /// The rejected or deferred change request it was carried over from.
    pub from_change: Option<u32>,
}

/// A piece of configuration the project recorded (a report, a process, a training), so that
/// requirements can be traced to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigItem {
    #[serde(default)]
    pub number: u32,
    #[serde(default)]
    pub version: i64,
    pub kind: ConfigKind,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Configuration as it exists: the schema's objects and fields, shared views, and the
/// project's recorded items, each with the trace target that names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Configured {
    pub kind: ConfigKind,
    pub target: String,
    pub label: String,
    /// Made for this CRM (a custom object or field, a view, a recorded item) rather than
    /// shipped with it: only such configuration needs a requirement behind it.
    pub custom: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Traceability {
    /// Requirements traced to nothing.
    pub untraced: Vec<u32>,
    /// Configuration no requirement is traced to.
    pub unrequired: Vec<Configured>,
    /// Traces to configuration that is not there (removed, renamed or mistyped).
    pub dangling: Vec<(u32, Trace)>,
}

pub fn traceability(requirements: &[Requirement], configured: &[Configured]) -> Traceability {
    let exists: HashSet<(ConfigKind, &str)> = configured.iter().map(|c| (c.kind, c.target.as_str())).collect();
    let mut traced: HashSet<(ConfigKind, &str)> = HashSet::new();
    // A field's object counts as required when the field is.
    for r in requirements {
        for t in &r.traces {
            traced.insert((t.kind, t.target.as_str()));
            if t.kind == ConfigKind::Field
                && let Some((object, _)) = t.target.split_once('.')
            {
                traced.insert((ConfigKind::Object, object));
            }
        }
    }
    let mut out = Traceability::default();
    for r in requirements {
        if r.traces.is_empty() {
            out.untraced.push(r.number);
        }
        for t in &r.traces {
            if !exists.contains(&(t.kind, t.target.as_str())) {
                out.dangling.push((r.number, t.clone()));
            }
        }
    }
    out.unrequired = configured
        .iter()
        .filter(|c| c.custom && !traced.contains(&(c.kind, c.target.as_str())))
        .cloned()
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirement(number: u32, traces: &[(ConfigKind, &str)]) -> Requirement {
        Requirement {
            number,
            version: 1,
            text: format!("requirement {number}"),
            journey: Some(1),
            touchpoint: Some(0),
            priority: Priority::Must,
            three_year: false,
            why: String::new(),
            phase: String::new(),
            traces: traces
                .iter()
                .map(|(kind, target)| Trace {
                    kind: *kind,
                    target: (*target).to_string(),
                })
                .collect(),
            from_change: None,
        }
    }

    fn configured(kind: ConfigKind, target: &str) -> Configured {
        Configured {
            kind,
            target: target.into(),
            label: target.into(),
            custom: true,
        }
    }

    #[test]
    fn lists_untraced_requirements_unrequired_configuration_and_dangling_traces() {
        let requirements = vec![
            requirement(1, &[(ConfigKind::Field, "ticket.sla_hours")]),
            requirement(2, &[]),
            requirement(3, &[(ConfigKind::Training, "9"), (ConfigKind::Field, "deal.gone")]),
        ];
        let config = vec![
            configured(ConfigKind::Object, "ticket"),
            configured(ConfigKind::Field, "ticket.sla_hours"),
            configured(ConfigKind::Field, "company.segment"),
            configured(ConfigKind::Training, "9"),
            configured(ConfigKind::Process, "10"),
            Configured {
                custom: false,
                ..configured(ConfigKind::Field, "company.name")
            },
        ];
        let t = traceability(&requirements, &config);
        assert_eq!(t.untraced, vec![2]);
        assert_eq!(
            t.unrequired,
            vec![
                configured(ConfigKind::Field, "company.segment"),
                configured(ConfigKind::Process, "10")
            ],
            "the ticket object is required through its field"
        );
        assert_eq!(
            t.dangling,
            vec![(
                3,
                Trace {
                    kind: ConfigKind::Field,
                    target: "deal.gone".into()
                }
            )]
        );
    }
}
