//! Onboarding checklists (C3): every new user gets a checklist, a copy of the template of their
//! role, so getting started is a routine like every other for a new employee. A step may tick
//! itself when the system sees it happen (the account made, the first sign-in, the first record
//! of an object, a training attended); the others are ticked by hand by the user, a key user of
//! their team, their team's lead or an administrator. Steps have a due day counted from the
//! user's start; overdue ones show on My work.

mod service;

pub use service::{ChecklistView, OnboardingBoard, OnboardingFollowUp, PersonProgress, PersonRef, StepView};

use crate::auth::Role;
use crate::error::{Error, FieldError, Result};
use crate::ids::{CourseId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The most steps a template holds.
pub const MAX_STEPS: usize = 30;
/// The latest a step may be due, in days from the user's start.
pub const MAX_DUE_DAYS: u32 = 365;
const MAX_TITLE: usize = 200;

/// What the system watches for to tick a step itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "RawCondition")]
pub enum Condition {
    /// Ticked the moment the checklist starts.
    AccountCreated,
    /// The user's first successful sign-in.
    FirstSignIn,
    /// The first record of this object the user creates.
    FirstRecord { object: String },
    /// An attended session of this course, or (none named) of any course for their role.
    Training {
        #[serde(default)]
        course: Option<CourseId>,
    },
}

/// A condition as sent: its kind and what that kind takes, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    kind: String,
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    course: Option<CourseId>,
}

impl TryFrom<RawCondition> for Condition {
    type Error = String;

    fn try_from(raw: RawCondition) -> std::result::Result<Self, String> {
        let condition = match raw.kind.as_str() {
            "account_created" => Condition::AccountCreated,
            "first_sign_in" => Condition::FirstSignIn,
            "first_record" => Condition::FirstRecord {
                object: raw.object.clone().ok_or("first_record names the object in `object`")?,
            },
            "training" => Condition::Training { course: raw.course },
            other => {
                return Err(format!(
                    "unknown kind `{other}`, expected one of account_created, first_sign_in, first_record, training"
                ));
            }
        };
        if raw.object.is_some() && raw.kind != "first_record" {
            return Err("only first_record takes an object".into());
        }
        if raw.course.is_some() && raw.kind != "training" {
            return Err("only training takes a course".into());
        }
        Ok(condition)
    }
}

impl Condition {
    pub fn kind(&self) -> &'static str {
        match self {
            Condition::AccountCreated => "account_created",
            Condition::FirstSignIn => "first_sign_in",
            Condition::FirstRecord { .. } => "first_record",
            Condition::Training { .. } => "training",
        }
    }
}

/// One step of a role's template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateStep {
    /// What to do, as the administrator words it (data, not translated).
    pub title: String,
    /// Due this many days after the user's start; `None`: whenever.
    #[serde(default)]
    pub due_days: Option<u32>,
    /// What ticks it; `None`: ticked by hand.
    #[serde(default)]
    pub condition: Option<Condition>,
}

/// The steps a new user of one role starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    pub role: Role,
    pub steps: Vec<TemplateStep>,
    /// 0 for the standard template nobody has changed; bumped by every save.
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<UserId>,
}

/// The standard steps' titles in the UI's languages (English first): the titles are data a
/// new user reads, so the standard templates come in their language until an administrator
/// writes their own.
const STANDARD_TITLES: [[&str; 5]; 10] = [
    [
        "Account created",
        "Konto skapat",
        "Konto angelegt",
        "Konto oprettet",
        "Cuenta creada",
    ],
    [
        "First sign-in",
        "Första inloggningen",
        "Erste Anmeldung",
        "Første login",
        "Primer inicio de sesión",
    ],
    [
        "Met your key user",
        "Träffat din superanvändare",
        "Key-User kennengelernt",
        "Mødt din superbruger",
        "Conocer a tu usuario clave",
    ],
    [
        "Training done",
        "Utbildning genomförd",
        "Schulung besucht",
        "Kursus gennemført",
        "Formación hecha",
    ],
    [
        "First deal entered",
        "Första affären registrerad",
        "Erste Verkaufschance erfasst",
        "Første salgsmulighed oprettet",
        "Primera oportunidad registrada",
    ],
    [
        "Key-user training done",
        "Superanvändarutbildning genomförd",
        "Key-User-Schulung besucht",
        "Superbrugerkursus gennemført",
        "Formación de usuario clave hecha",
    ],
    [
        "First person entered",
        "Första personen registrerad",
        "Erste Person erfasst",
        "Første person oprettet",
        "Primera persona registrada",
    ],
    [
        "Met the other key users",
        "Träffat de andra superanvändarna",
        "Die anderen Key-User kennengelernt",
        "Mødt de andre superbrugere",
        "Conocer a los demás usuarios clave",
    ],
    [
        "Administrator training done",
        "Administratörsutbildning genomförd",
        "Administratorschulung besucht",
        "Administratorkursus gennemført",
        "Formación de administrador hecha",
    ],
    [
        "Met the system owner",
        "Träffat systemägaren",
        "Systemverantwortlichen kennengelernt",
        "Mødt systemejeren",
        "Conocer al responsable del sistema",
    ],
];

/// A standard step's title in a language (`sv`, `de`, `da`, `es`; English otherwise).
fn standard_title(english: &str, locale: &str) -> String {
    let column = match locale.get(..2) {
        Some("sv") => 1,
        Some("de") => 2,
        Some("da") => 3,
        Some("es") => 4,
        _ => 0,
    };
    STANDARD_TITLES
        .iter()
        .find(|row| row.first() == Some(&english))
        .and_then(|row| row.get(column))
        .map_or_else(|| english.to_string(), |t| (*t).to_string())
}

impl Template {
    /// The template shipped for a role, until an administrator changes it (in English).
    pub fn standard(role: Role) -> Template {
        Template::standard_in(role, "en")
    }

    /// The template shipped for a role, its titles in a language of the UI.
    pub fn standard_in(role: Role, locale: &str) -> Template {
        let step = |title: &str, due_days: Option<u32>, condition: Option<Condition>| TemplateStep {
            title: standard_title(title, locale),
            due_days,
            condition,
        };
        let created = step("Account created", None, Some(Condition::AccountCreated));
        let signed_in = step("First sign-in", Some(2), Some(Condition::FirstSignIn));
        let trained = |title: &str| step(title, Some(14), Some(Condition::Training { course: None }));
        let first =
            |title: &str, object: &str| step(title, Some(14), Some(Condition::FirstRecord { object: object.into() }));
        let steps = match role {
            Role::User => vec![
                created,
                signed_in,
                step("Met your key user", Some(7), None),
                trained("Training done"),
                first("First deal entered", "deal"),
            ],
            Role::KeyUser => vec![
                created,
                signed_in,
                trained("Key-user training done"),
                first("First person entered", "person"),
                step("Met the other key users", Some(30), None),
            ],
            Role::Admin => vec![
                created,
                signed_in,
                trained("Administrator training done"),
                step("Met the system owner", Some(14), None),
            ],
            Role::ReadOnly => vec![created, signed_in, step("Met your key user", Some(14), None)],
        };
        Template {
            role,
            steps,
            version: 0,
            updated_at: None,
            updated_by: None,
        }
    }
}

/// Check a template's steps: each mistake named by its place (`steps[2].title`). Objects and
/// courses are checked against what exists.
pub fn check_steps(steps: &[TemplateStep], objects: &[&str], courses: &[CourseId]) -> Result<Vec<TemplateStep>> {
    let mut errors = Vec::new();
    if steps.len() > MAX_STEPS {
        errors.push(FieldError::new("steps", format!("holds at most {MAX_STEPS} steps")));
    }
    let mut out = Vec::with_capacity(steps.len());
    for (i, s) in steps.iter().enumerate() {
        let at = |name: &str| format!("steps[{i}].{name}");
        let title = s.title.trim();
        if title.is_empty() {
            errors.push(FieldError::new(at("title"), "must not be empty"));
        } else if title.chars().count() > MAX_TITLE {
            errors.push(FieldError::new(
                at("title"),
                format!("must be at most {MAX_TITLE} characters"),
            ));
        } else if title.chars().any(char::is_control) {
            errors.push(FieldError::new(at("title"), "must not hold control characters"));
        }
        if s.due_days.is_some_and(|d| d > MAX_DUE_DAYS) {
            errors.push(FieldError::new(
                at("due_days"),
                format!("is a number of days from 0 to {MAX_DUE_DAYS}, or null"),
            ));
        }
        match &s.condition {
            Some(Condition::FirstRecord { object }) if !objects.contains(&object.as_str()) => {
                errors.push(FieldError::new(at("condition.object"), "names no object in use"));
            }
            Some(Condition::Training { course: Some(c) }) if !courses.contains(c) => {
                errors.push(FieldError::new(at("condition.course"), "names no course"));
            }
            _ => {}
        }
        out.push(TemplateStep {
            title: title.to_string(),
            due_days: s.due_days,
            condition: s.condition.clone(),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Error::validation(errors))
    }
}

/// Who ticked a step and when; `by` is `None` when it ticked itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Done {
    pub at: DateTime<Utc>,
    pub by: Option<UserId>,
}

impl Done {
    pub fn automatically(at: DateTime<Utc>) -> Self {
        Done { at, by: None }
    }
}

/// One step of a user's checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Its place in the checklist, from 1.
    pub number: u32,
    pub title: String,
    pub due_on: Option<NaiveDate>,
    pub condition: Option<Condition>,
    pub done: Option<Done>,
}

impl Step {
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.done.is_none() && self.due_on.is_some_and(|d| d < today)
    }
}

/// A user's checklist: a copy of their role's template made when they started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checklist {
    pub user: UserId,
    pub role: Role,
    pub started_at: DateTime<Utc>,
    /// Up to when the system has looked for what ticks its steps.
    pub checked_at: DateTime<Utc>,
    pub steps: Vec<Step>,
}

impl Checklist {
    /// A new user's checklist from a template: due days counted from the local day they
    /// started, and "account created" ticked at once.
    pub fn start(user: UserId, template: &Template, started_at: DateTime<Utc>, start_day: NaiveDate) -> Checklist {
        let steps = template
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| Step {
                number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                title: s.title.clone(),
                due_on: s.due_days.map(|d| start_day + Duration::days(i64::from(d))),
                condition: s.condition.clone(),
                done: (s.condition == Some(Condition::AccountCreated)).then(|| Done::automatically(started_at)),
            })
            .collect();
        Checklist {
            user,
            role: template.role,
            started_at,
            checked_at: started_at,
            steps,
        }
    }

    pub fn done(&self) -> usize {
        self.steps.iter().filter(|s| s.done.is_some()).count()
    }

    pub fn complete(&self) -> bool {
        self.steps.iter().all(|s| s.done.is_some())
    }

    /// Whether a step is still open that the system could tick.
    pub fn waits_for_the_system(&self) -> bool {
        self.steps.iter().any(|s| s.done.is_none() && s.condition.is_some())
    }
}

/// What the system saw a user do first since a moment (the earliest of each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstEvent {
    SignIn {
        user: UserId,
        at: DateTime<Utc>,
    },
    Created {
        user: UserId,
        object: String,
        at: DateTime<Utc>,
    },
}

/// Steps to tick on one checklist (each only if still open), and how far it has been looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticks {
    pub user: UserId,
    pub steps: Vec<(u32, Done)>,
    pub checked_at: DateTime<Utc>,
}

/// Where templates and checklists are kept.
#[async_trait]
pub trait OnboardingStore: Send + Sync {
    /// The templates administrators saved (roles without one use the standard template).
    async fn onboarding_templates(&self) -> Result<Vec<Template>>;
    /// Save a role's template if it is still at `expected` (0: never saved); false when not.
    async fn put_onboarding_template(&self, template: &Template, expected: i64) -> Result<bool>;
    /// Keep a new checklist; false when the user has one already.
    async fn start_checklist(&self, checklist: &Checklist) -> Result<bool>;
    async fn checklist(&self, user: UserId) -> Result<Option<Checklist>>;
    /// The checklists of these users (those who have one).
    async fn checklists(&self, users: &[UserId]) -> Result<Vec<Checklist>>;
    /// Tick open steps (a ticked step stays as it was) and note how far each was looked at.
    async fn tick_steps(&self, ticks: &[Ticks]) -> Result<()>;
    /// Tick or untick one step by hand; false when the checklist has no such step.
    async fn set_step(&self, user: UserId, number: u32, done: Option<Done>) -> Result<bool>;
    /// The first sign-in and the first record created per object of each of these users at or
    /// after `since`.
    async fn first_events(&self, users: &[UserId], since: DateTime<Utc>) -> Result<Vec<FirstEvent>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checklist_copies_its_template_counts_due_days_from_the_start_and_ticks_the_account() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let user = UserId(uuid::Uuid::nil());
        let day = now.date_naive();
        let c = Checklist::start(user, &Template::standard(Role::User), now, day);
        assert_eq!(c.steps.len(), 5);
        assert_eq!(c.steps[0].done, Some(Done::automatically(now)));
        assert_eq!(c.steps[1].due_on, Some(day + Duration::days(2)));
        assert_eq!(c.steps[0].due_on, None);
        assert_eq!(c.done(), 1);
        assert!(!c.complete() && c.waits_for_the_system());
        assert!(c.steps[1].overdue(day + Duration::days(3)));
        assert!(
            !c.steps[1].overdue(day + Duration::days(2)),
            "due that day is not overdue"
        );
    }

    #[test]
    fn the_standard_templates_come_in_the_new_users_language() {
        let titles = |locale: &str| -> Vec<String> {
            Template::standard_in(Role::KeyUser, locale)
                .steps
                .into_iter()
                .map(|s| s.title)
                .collect()
        };
        assert_eq!(titles("sv")[1], "Första inloggningen");
        assert_eq!(titles("de")[2], "Key-User-Schulung besucht");
        assert_eq!(titles("en-GB"), titles("en"));
        // Every standard title has its four translations.
        for role in Role::ALL {
            for step in Template::standard(role).steps {
                let row = STANDARD_TITLES.iter().find(|row| row[0] == step.title);
                assert!(
                    row.is_some_and(|r| r.iter().all(|t| !t.is_empty())),
                    "{} has no translations",
                    step.title
                );
            }
        }
    }

    #[test]
    fn conditions_read_and_write_as_tagged_objects() {
        let c: Condition =
            serde_json::from_value(serde_json::json!({"kind": "first_record", "object": "deal"})).unwrap();
        assert_eq!(c, Condition::FirstRecord { object: "deal".into() });
        let t: Condition = serde_json::from_value(serde_json::json!({"kind": "training"})).unwrap();
        assert_eq!(t, Condition::Training { course: None });
        assert!(serde_json::from_value::<Condition>(serde_json::json!({"kind": "first_sign_in", "x": 1})).is_err());
        assert!(
            serde_json::from_value::<Condition>(serde_json::json!({"kind": "first_sign_in", "object": "deal"}))
                .is_err()
        );
        assert!(serde_json::from_value::<Condition>(serde_json::json!({"kind": "first_record"})).is_err());
        assert!(serde_json::from_value::<Condition>(serde_json::json!({"kind": "lunch"})).is_err());
        assert_eq!(
            serde_json::to_value(Condition::FirstSignIn).unwrap(),
            serde_json::json!({"kind": "first_sign_in"})
        );
    }

    #[test]
    fn template_mistakes_are_named_by_their_place() {
        let step = |title: &str, due: Option<u32>, c: Option<Condition>| TemplateStep {
            title: title.into(),
            due_days: due,
            condition: c,
        };
        let e = check_steps(
            &[
                step("Fine", Some(3), None),
                step("  ", Some(400), None),
                step("Deal", None, Some(Condition::FirstRecord { object: "yacht".into() })),
                step(
                    "Course",
                    None,
                    Some(Condition::Training {
                        course: Some(CourseId(uuid::Uuid::nil())),
                    }),
                ),
            ],
            &["deal"],
            &[],
        )
        .unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "steps[1].title",
                "steps[1].due_days",
                "steps[2].condition.object",
                "steps[3].condition.course"
            ]
        );
        let ok = check_steps(&[step(" Meet Anna ", Some(0), None)], &[], &[]).unwrap();
        assert_eq!(ok[0].title, "Meet Anna");
    }
}
