//! Customer journeys, requirements and the configuration they trace to, as use cases (B15,
//! B16). Leaders and members map journeys and write requirements; the traceability view joins
//! them with the CRM's schema and views as they are now.

use super::journeys::{
    self, ConfigItem, ConfigKind, Configured, Journey, Priority, Requirement, Touchpoint, Trace, Traceability,
};
use super::model::{CONFIGURATION, JOURNEY, REQUIREMENT};
use super::state::ProjectState;
use super::validate::{no_item, parse, patched, take_version, text};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::service::Crm;
use crate::store::{ItemWrite, ProjectBatch};
use serde::Deserialize;
use serde_json::Value as Json;

const MAX_TEXT: usize = 4000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JourneyInput {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    touchpoints: Vec<Touchpoint>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementInput {
    text: String,
    journey: Option<u32>,
    touchpoint: Option<usize>,
    priority: Priority,
    #[serde(default)]
    three_year: bool,
    #[serde(default)]
    why: String,
    #[serde(default)]
    phase: String,
    #[serde(default)]
    traces: Vec<Trace>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigInput {
    kind: ConfigKind,
    name: String,
    #[serde(default)]
    description: String,
}

fn validate_journey(mut j: Journey) -> Result<Journey> {
    j.name = text("name", &j.name, 200, true)?;
    j.description = text("description", &j.description, MAX_TEXT, false)?;
    if j.touchpoints.len() > 50 {
        return Err(Error::field("touchpoints", "at most 50 touchpoints"));
    }
    for t in &mut j.touchpoints {
        t.name = text("touchpoints", &t.name, 200, true)?;
        if t.tasks.len() > 50 {
            return Err(Error::field("touchpoints", "at most 50 tasks per touchpoint"));
        }
        t.tasks = t
            .tasks
            .iter()
            .map(|x| text("touchpoints", x, 400, true))
            .collect::<Result<_>>()?;
    }
    Ok(j)
}

impl ProjectState {
    pub fn journey(&self, number: u32) -> Option<&Journey> {
        self.journeys.iter().find(|j| j.number == number)
    }

    pub fn requirement(&self, number: u32) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.number == number)
    }
}

impl Crm {
    /// Leaders and members of the group work on journeys and requirements.
    async fn journey_writer(&self, who: &Principal, id: &str) -> Result<ProjectState> {
        let (state, rights) = self.project_state(who, id).await?;
        super::validate::require_writer(who)?;
        if !rights.edit && rights.member.is_none() {
            return Err(Error::new(
                crate::error::ErrorCode::Forbidden,
                "only members of the project group and its leaders map journeys and requirements",
            ));
        }
        Ok(state)
    }

    /// The configuration as it is now: every object and field of the schema (custom ones
    /// marked), shared views, and what the project recorded.
    pub async fn configured(&self, who: &Principal, state: &ProjectState) -> Result<Vec<Configured>> {
        let schema = self.schema().await?;
        let mut out = Vec::new();
        for o in schema.objects.values().filter(|o| !o.archived) {
            out.push(Configured {
                kind: ConfigKind::Object,
                target: o.name.clone(),
                label: o.label.clone(),
                custom: !o.standard,
            });
            for f in o.active_fields() {
                out.push(Configured {
                    kind: ConfigKind::Field,
                    target: format!("{}.{}", o.name, f.name),
                    label: format!("{}: {}", o.label, f.label),
                    custom: !f.standard,
                });
            }
            for v in self.store.views(&o.name, who.user_id).await? {
                if v.shared {
                    out.push(Configured {
                        kind: ConfigKind::View,
                        target: v.id.to_string(),
                        label: format!("{}: {}", o.label_plural, v.name),
                        custom: true,
                    });
                }
            }
        }
        for c in &state.configuration {
            out.push(Configured {
                kind: c.kind,
                target: c.number.to_string(),
                label: c.name.clone(),
                custom: true,
            });
        }
        Ok(out)
    }

    pub async fn traceability(&self, who: &Principal, state: &ProjectState) -> Result<(Traceability, Vec<Configured>)> {
        let configured = self.configured(who, state).await?;
        Ok((journeys::traceability(&state.requirements, &configured), configured))
    }

    pub async fn add_journey(&self, who: &Principal, id: &str, body: Json) -> Result<Journey> {
        let state = self.journey_writer(who, id).await?;
        let input: JourneyInput = parse(body)?;
        let journey = validate_journey(Journey {
            number: 0,
            version: 1,
            name: input.name,
            description: input.description,
            touchpoints: input.touchpoints,
        })?;
        let number = self.insert(&state, JOURNEY, &journey).await?;
        Ok(Journey { number, ..journey })
    }

    /// Touchpoints keep their places: requirements point at them by position, so a journey
    /// may gain touchpoints at the end or rename them, but not lose one a requirement uses.
    pub async fn update_journey(&self, who: &Principal, id: &str, number: u32, body: Json) -> Result<Journey> {
        let state = self.journey_writer(who, id).await?;
        let current = state.journey(number).ok_or_else(|| no_item("journey", number))?;
        let (version, mut patch) = take_version(body)?;
        patch.remove("number");
        let journey = validate_journey(patched(current, patch)?)?;
        if let Some(r) = state
            .requirements
            .iter()
            .find(|r| r.journey == Some(number) && r.touchpoint.is_some_and(|t| t >= journey.touchpoints.len()))
        {
            return Err(Error::field(
                "touchpoints",
                format!("requirement {} comes from a touchpoint this would remove", r.number),
            ));
        }
        self.save(&state, JOURNEY, number, version, journey).await
    }

    pub async fn add_requirement(&self, who: &Principal, id: &str, body: Json) -> Result<Requirement> {
        let state = self.journey_writer(who, id).await?;
        let input: RequirementInput = parse(body)?;
        let requirement = self
            .validate_requirement(
                who,
                &state,
                Requirement {
                    number: 0,
                    version: 1,
                    text: input.text,
                    journey: input.journey,
                    touchpoint: input.touchpoint,
                    priority: input.priority,
                    three_year: input.three_year,
                    why: input.why,
                    phase: input.phase,
                    traces: input.traces,
                    from_change: None,
                },
            )
            .await?;
        let number = self.insert(&state, REQUIREMENT, &requirement).await?;
        Ok(Requirement { number, ..requirement })
    }

    pub async fn update_requirement(&self, who: &Principal, id: &str, number: u32, body: Json) -> Result<Requirement> {
        let state = self.journey_writer(who, id).await?;
        let current = state
            .requirement(number)
            .ok_or_else(|| no_item("requirement", number))?;
        let (version, mut patch) = take_version(body)?;
        for key in ["number", "from_change"] {
            if patch.remove(key).is_some() {
                return Err(Error::field(key, "cannot be changed here"));
            }
        }
        let before = current.traces.clone();
        let mut requirement = patched(current, patch)?;
        // Traces kept from before stay even if what they point at has gone since: the
        // traceability view lists them as dangling rather than the edit failing.
        let new: Vec<Trace> = requirement
            .traces
            .iter()
            .filter(|t| !before.contains(t))
            .cloned()
            .collect();
        let kept: Vec<Trace> = requirement
            .traces
            .iter()
            .filter(|t| before.contains(t))
            .cloned()
            .collect();
        requirement.traces = new;
        let mut requirement = self.validate_requirement(who, &state, requirement).await?;
        requirement.traces.extend(kept);
        requirement.traces.sort();
        self.save(&state, REQUIREMENT, number, version, requirement).await
    }

    async fn validate_requirement(
        &self,
        who: &Principal,
        state: &ProjectState,
        mut r: Requirement,
    ) -> Result<Requirement> {
        r.text = text("text", &r.text, MAX_TEXT, true)?;
        r.why = text("why", &r.why, MAX_TEXT, false)?;
        r.phase = text("phase", &r.phase, 80, false)?;
        if !r.phase.is_empty() && !state.project.settings.phases.iter().any(|p| p.name == r.phase) {
            return Err(Error::field("phase", format!("the project has no phase {:?}", r.phase)));
        }
        match (r.journey, r.touchpoint) {
            (Some(j), t) => {
                let journey = state
                    .journey(j)
                    .ok_or_else(|| Error::field("journey", format!("there is no journey {j}")))?;
                if let Some(t) = t
                    && t >= journey.touchpoints.len()
                {
                    return Err(Error::field("touchpoint", format!("journey {j} has no touchpoint {t}")));
                }
            }
            (None, Some(_)) => return Err(Error::field("touchpoint", "a touchpoint belongs to a journey")),
            (None, None) => {}
        }
        if r.traces.len() > 50 {
            return Err(Error::field("traces", "at most 50 traces"));
        }
        if !r.traces.is_empty() {
            let configured = self.configured(who, state).await?;
            for t in &mut r.traces {
                t.target = t.target.trim().to_string();
                if !configured.iter().any(|c| c.kind == t.kind && c.target == t.target) {
                    return Err(Error::field(
                        "traces",
                        format!("there is no {} {:?}", t.kind.as_str(), t.target),
                    ));
                }
            }
        }
        r.traces.sort();
        r.traces.dedup();
        Ok(r)
    }

    /// Record a report, process or training the CRM's configuration includes.
    pub async fn add_config_item(&self, who: &Principal, id: &str, body: Json) -> Result<ConfigItem> {
        let state = self.journey_writer(who, id).await?;
        let input: ConfigInput = parse(body)?;
        if input.kind.from_schema() {
            return Err(Error::field(
                "kind",
                "objects, fields and views come from the CRM itself; record reports, processes and training here",
            ));
        }
        let item = ConfigItem {
            number: 0,
            version: 1,
            kind: input.kind,
            name: text("name", &input.name, 200, true)?,
            description: text("description", &input.description, MAX_TEXT, false)?,
        };
        let number = self.insert(&state, CONFIGURATION, &item).await?;
        Ok(ConfigItem { number, ..item })
    }

    /// Remove a recorded item; requirements traced to it then show a dangling trace.
    pub async fn delete_config_item(&self, who: &Principal, id: &str, number: u32, version: i64) -> Result<()> {
        let state = self.journey_writer(who, id).await?;
        if !state.configuration.iter().any(|c| c.number == number) {
            return Err(no_item("configuration item", number));
        }
        self.write(
            state.project.id,
            ProjectBatch {
                items: vec![ItemWrite::Delete {
                    kind: CONFIGURATION,
                    number,
                    expected_version: version,
                }],
                ..ProjectBatch::default()
            },
        )
        .await
        .map(|_| ())
    }
}
