//! The project group's health (B1–B4): which rules hold, what is missing, and why each rule
//! matters. Thresholds are the project's own; the explanations are Fluent keys
//! (`health-<rule>-why`) so the UI says them in the user's language.

use super::roles::{DEPARTMENT_REPRESENTATIVE, KEY_USER, Member, RoleDef, SYSTEM_OWNER};
use crate::auth::Role;
use crate::ids::UserId;
use crate::training::{Attended, Course, trained_on};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Beyond this many people the core team should split into working groups (B3).
    pub max_core_team: usize,
    /// Above this share of technical people in the core team, it is "too technical" (B2).
    pub max_technical_share: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            max_core_team: 6,
            max_technical_share: 1.0 / 3.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    RolesFilled,
    DepartmentsRepresented,
    CoreTeamSize,
    NotTooTechnical,
    KeyUserPerGroup,
    SystemOwnerNamed,
    TrainedBeforeGoLive,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::RolesFilled => "roles_filled",
            Rule::DepartmentsRepresented => "departments_represented",
            Rule::CoreTeamSize => "core_team_size",
            Rule::NotTooTechnical => "not_too_technical",
            Rule::KeyUserPerGroup => "key_user_per_group",
            Rule::SystemOwnerNamed => "system_owner_named",
            Rule::TrainedBeforeGoLive => "trained_before_go_live",
        }
    }

    /// The Fluent key of the plain-language reason the rule exists.
    pub fn why_key(self) -> String {
        format!("health-{}-why", self.as_str().replace('_', "-"))
    }
}

/// One rule's verdict and what it found missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub rule: Rule,
    pub ok: bool,
    /// Roles, departments or user groups that lack someone; empty when `ok`.
    pub missing: Vec<String>,
    /// Figures behind the verdict (sizes and shares), for the UI to show.
    pub figures: Vec<(String, f64)>,
}

impl Check {
    fn new(rule: Rule, missing: Vec<String>) -> Self {
        Self {
            rule,
            ok: missing.is_empty(),
            missing,
            figures: Vec::new(),
        }
    }
}

/// People counts are small; as floating point they are exact.
fn count(n: usize) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Judge a project group.
pub fn assess(
    catalogue: &[RoleDef],
    members: &[Member],
    departments: &[String],
    user_groups: &[String],
    thresholds: Thresholds,
) -> Vec<Check> {
    let held: BTreeSet<&str> = members
        .iter()
        .flat_map(|m| m.roles.iter().map(|a| a.role.as_str()))
        .collect();
    let roles_filled = catalogue
        .iter()
        .filter(|r| r.required && !held.contains(r.key.as_str()))
        .map(|r| r.key.clone())
        .collect();

    let represented: BTreeSet<&str> = members
        .iter()
        .flat_map(|m| &m.roles)
        .filter(|a| a.role == DEPARTMENT_REPRESENTATIVE)
        .filter_map(|a| a.department.as_deref())
        .collect();
    let departments_missing = departments
        .iter()
        .filter(|d| !represented.contains(d.as_str()))
        .cloned()
        .collect();

    let is = |key: &str, pick: fn(&RoleDef) -> bool| catalogue.iter().any(|r| r.key == key && pick(r));
    let core: Vec<&Member> = members
        .iter()
        .filter(|m| m.roles.iter().any(|a| is(&a.role, |r| r.core_team && !r.vendor)))
        .collect();
    let technical = core
        .iter()
        .filter(|m| m.roles.iter().any(|a| is(&a.role, |r| r.technical)))
        .count();
    let mut size = Check::new(
        Rule::CoreTeamSize,
        if core.len() > thresholds.max_core_team {
            vec![format!("{} > {}", core.len(), thresholds.max_core_team)]
        } else {
            Vec::new()
        },
    );
    size.figures = vec![
        ("core_team".into(), count(core.len())),
        ("max".into(), count(thresholds.max_core_team)),
    ];
    let share = if core.is_empty() {
        0.0
    } else {
        count(technical) / count(core.len())
    };
    let mut tech = Check::new(
        Rule::NotTooTechnical,
        if share > thresholds.max_technical_share + f64::EPSILON {
            vec![format!("{technical}/{}", core.len())]
        } else {
            Vec::new()
        },
    );
    tech.figures = vec![
        ("technical".into(), count(technical)),
        ("core_team".into(), count(core.len())),
        ("share".into(), share),
        ("max_share".into(), thresholds.max_technical_share),
    ];

    let groups_with_key_user: BTreeSet<&str> = members
        .iter()
        .flat_map(|m| &m.roles)
        .filter(|a| a.role == KEY_USER)
        .filter_map(|a| a.user_group.as_deref())
        .collect();
    let groups_missing = user_groups
        .iter()
        .filter(|g| !groups_with_key_user.contains(g.as_str()))
        .cloned()
        .collect();

    let owner_missing = if held.contains(SYSTEM_OWNER) {
        Vec::new()
    } else {
        vec![SYSTEM_OWNER.to_string()]
    };
    vec![
        Check::new(Rule::RolesFilled, roles_filled),
        Check::new(Rule::DepartmentsRepresented, departments_missing),
        size,
        tech,
        Check::new(Rule::KeyUserPerGroup, groups_missing),
        Check::new(Rule::SystemOwnerNamed, owner_missing),
    ]
}

/// Someone the training rule looks at: a member of the project group who is a user, or a key
/// user of the workspace (C9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trainee {
    pub name: String,
    pub role: Role,
    pub user: UserId,
}

/// The project team and the key users are trained before go-live (C9): each has attended a
/// session of a course for their role on or before the target date, not run out by then.
/// Those who have not are named; the figures say how many of how many are.
pub fn trained_before_go_live(
    people: &[Trainee],
    courses: &[Course],
    attended: &[Attended],
    go_live: NaiveDate,
) -> Check {
    let missing: Vec<String> = people
        .iter()
        .filter(|p| {
            let theirs: Vec<Attended> = attended.iter().filter(|a| a.user == p.user).copied().collect();
            !trained_on(courses, p.role, &theirs, go_live)
        })
        .map(|p| p.name.clone())
        .collect();
    let mut check = Check::new(Rule::TrainedBeforeGoLive, missing);
    check.figures = vec![
        (
            "trained".into(),
            count(people.len().saturating_sub(check.missing.len())),
        ),
        ("people".into(), count(people.len())),
    ];
    check
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::roles::*;

    fn member(name: &str, roles: Vec<Assignment>) -> Member {
        Member {
            name: name.into(),
            roles,
        }
    }

    fn check(checks: &[Check], rule: Rule) -> &Check {
        checks.iter().find(|c| c.rule == rule).unwrap()
    }

    fn healthy() -> Vec<Member> {
        vec![
            member("Anna", vec![Assignment::new(PROJECT_LEADER), Assignment::new(CHAMPION)]),
            member(
                "Bertil",
                vec![Assignment::new(DECISION_MAKER), Assignment::new(SYSTEM_OWNER)],
            ),
            member(
                "Cecilia",
                vec![Assignment::for_department(DEPARTMENT_REPRESENTATIVE, "Sales")],
            ),
            member(
                "David",
                vec![
                    Assignment::for_department(DEPARTMENT_REPRESENTATIVE, "Service"),
                    Assignment::new(INFORMAL_INFLUENCER),
                ],
            ),
            member(
                "Erik",
                vec![Assignment::new(TECHNICAL_EXPERT), Assignment::new(ADMINISTRATOR)],
            ),
            member("Fia", vec![Assignment::for_group(KEY_USER, "Field sales")]),
            member("Vendor Vera", vec![Assignment::new(VENDOR_PROJECT_LEAD)]),
        ]
    }

    #[test]
    fn a_healthy_group_passes_every_rule() {
        let checks = assess(
            &standard_catalogue(),
            &healthy(),
            &["Sales".into(), "Service".into()],
            &["Field sales".into()],
            Thresholds::default(),
        );
        for c in &checks {
            assert!(c.ok, "{c:?}");
        }
        assert_eq!(checks.len(), 6);
    }

    #[test]
    fn missing_roles_departments_groups_and_owner_are_named() {
        let mut group = healthy();
        group.retain(|m| m.name != "David" && m.name != "Bertil");
        let checks = assess(
            &standard_catalogue(),
            &group,
            &["Sales".into(), "Service".into(), "Finance".into()],
            &["Field sales".into(), "Inside sales".into()],
            Thresholds::default(),
        );
        assert_eq!(
            check(&checks, Rule::RolesFilled).missing,
            [DECISION_MAKER, INFORMAL_INFLUENCER, SYSTEM_OWNER]
        );
        assert_eq!(
            check(&checks, Rule::DepartmentsRepresented).missing,
            ["Service", "Finance"]
        );
        assert_eq!(check(&checks, Rule::KeyUserPerGroup).missing, ["Inside sales"]);
        assert!(!check(&checks, Rule::SystemOwnerNamed).ok);
        // Filling the role makes the warning go away.
        group.push(member("Gustav", vec![Assignment::new(SYSTEM_OWNER)]));
        let checks = assess(&standard_catalogue(), &group, &[], &[], Thresholds::default());
        assert!(check(&checks, Rule::SystemOwnerNamed).ok);
    }

    #[test]
    fn core_team_size_and_technical_share() {
        let mut group = healthy();
        let t = Thresholds::default();
        let checks = assess(&standard_catalogue(), &group, &[], &[], t);
        // Core: Anna, Bertil, Cecilia, David, Erik (vendors and key users are not core).
        assert_eq!(check(&checks, Rule::CoreTeamSize).figures[0], ("core_team".into(), 5.0));
        assert!(check(&checks, Rule::NotTooTechnical).ok, "1 of 5 is technical");
        group.push(member(
            "Hugo",
            vec![Assignment::new(CHAMPION), Assignment::new(ADMINISTRATOR)],
        ));
        group.push(member("Ida", vec![Assignment::new(TECHNICAL_EXPERT)]));
        let checks = assess(&standard_catalogue(), &group, &[], &[], t);
        assert!(!check(&checks, Rule::CoreTeamSize).ok, "7 > 6");
        assert!(!check(&checks, Rule::NotTooTechnical).ok, "3 of 7 is over a third");
        assert_eq!(check(&checks, Rule::NotTooTechnical).missing, ["3/7"]);
        // Thresholds are the project's own.
        let lenient = Thresholds {
            max_core_team: 8,
            max_technical_share: 0.5,
        };
        let checks = assess(&standard_catalogue(), &group, &[], &[], lenient);
        assert!(check(&checks, Rule::CoreTeamSize).ok && check(&checks, Rule::NotTooTechnical).ok);
    }

    #[test]
    fn admins_can_extend_the_catalogue() {
        let mut catalogue = standard_catalogue();
        catalogue.push(RoleDef {
            key: "data_steward".into(),
            label: "Data steward".into(),
            required: true,
            technical: false,
            core_team: true,
            scope: RoleScope::Project,
            vendor: false,
        });
        let checks = assess(&catalogue, &healthy(), &[], &[], Thresholds::default());
        assert_eq!(check(&checks, Rule::RolesFilled).missing, ["data_steward"]);
        assert_eq!(Rule::RolesFilled.why_key(), "health-roles-filled-why");
    }

    #[test]
    fn the_team_and_key_users_are_trained_before_go_live() {
        use crate::ids::{CourseId, TrainingSessionId};
        let now = chrono::Utc::now();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let course = Course {
            id: CourseId::new_at(now),
            name: "Key users".into(),
            description: String::new(),
            audience: vec![Role::KeyUser, Role::Admin],
            refresh_months: Some(6),
            created_at: now,
            updated_at: now,
        };
        let person = |name: &str, role: Role, n: u128| Trainee {
            name: name.into(),
            role,
            user: UserId(uuid::Uuid::from_u128(n)),
        };
        let people = [
            person("Fia", Role::KeyUser, 1),
            person("Erik", Role::Admin, 2),
            person("Cecilia", Role::User, 3),
        ];
        let went = |n: u128, on: &str| Attended {
            user: UserId(uuid::Uuid::from_u128(n)),
            course: course.id,
            session: TrainingSessionId(uuid::Uuid::nil()),
            on: day(on),
            recorded_at: now,
        };
        // Fia in time; Erik after go-live; Cecilia attended, but the course is not for users.
        let attended = [went(1, "2027-01-10"), went(2, "2027-03-01"), went(3, "2027-01-10")];
        let c = trained_before_go_live(&people, std::slice::from_ref(&course), &attended, day("2027-02-26"));
        assert!(!c.ok);
        assert_eq!(c.missing, ["Erik", "Cecilia"]);
        assert_eq!(c.figures, [("trained".into(), 1.0), ("people".into(), 3.0)]);
        // A training that ran out before go-live does not count.
        let c = trained_before_go_live(
            &people[..1],
            std::slice::from_ref(&course),
            &attended,
            day("2027-08-01"),
        );
        assert_eq!(c.missing, ["Fia"]);
        assert!(trained_before_go_live(&[], &[], &[], day("2027-02-26")).ok);
        assert_eq!(Rule::TrainedBeforeGoLive.why_key(), "health-trained-before-go-live-why");
    }
}
