//! The plan's gaps, flagged as the project's health rules flag a project group: each says the
//! problem as the reader would put it, what to do about it, and where. Nothing here reads a
//! store; the use case hands over the plan, the users and the teams.

use super::plan::Plan;
use crate::auth::Role;
use crate::identity::{Team, User};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    NoSystemOwner,
    NoAdministrator,
    TeamWithoutKeyUser,
    InactivePerson,
    NoVendorContact,
    NoForum,
    NoGoLive,
}

impl GapKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::NoSystemOwner => "no_system_owner",
            GapKind::NoAdministrator => "no_administrator",
            GapKind::TeamWithoutKeyUser => "team_without_key_user",
            GapKind::InactivePerson => "inactive_person",
            GapKind::NoVendorContact => "no_vendor_contact",
            GapKind::NoForum => "no_forum",
            GapKind::NoGoLive => "no_go_live",
        }
    }
}

/// One gap: what is wrong, in words, what to do, and the part of the plan page to do it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub kind: GapKind,
    /// The team or person it is about, by name; empty when it is about the plan as a whole.
    pub subject: String,
    /// The problem, in English (the UI says it in the reader's language from `kind`).
    pub problem: String,
    /// What to do about it.
    pub fix: String,
    /// Where to fix it: the plan's edit page at the right section.
    pub link: String,
}

fn gap(kind: GapKind, subject: &str, problem: String, fix: &str, section: &str) -> Gap {
    Gap {
        kind,
        subject: subject.to_string(),
        problem,
        fix: fix.to_string(),
        link: format!("/stewardship/plan/edit#{section}"),
    }
}

/// Judge a plan against the workspace's users and teams.
pub fn gaps(plan: &Plan, users: &[User], teams: &[Team]) -> Vec<Gap> {
    let by_id: HashMap<_, &User> = users.iter().map(|u| (u.id, u)).collect();
    let mut out = Vec::new();
    if plan.system_owner.and_then(|u| by_id.get(&u)).is_none() {
        out.push(gap(
            GapKind::NoSystemOwner,
            "",
            "No system owner — no one owns the CRM, its priorities and its budget after go-live.".into(),
            "Name a system owner.",
            "owners",
        ));
    }
    if plan.administrators.is_empty() {
        out.push(gap(
            GapKind::NoAdministrator,
            "",
            "No administrator or IT contact — key users have no one to pass questions on to.".into(),
            "Name at least one administrator or IT contact.",
            "owners",
        ));
    }
    for t in teams {
        let named = plan
            .key_users_for(t.id)
            .iter()
            .any(|u| by_id.get(u).is_some_and(|u| u.active));
        let by_role = users
            .iter()
            .any(|u| u.team == Some(t.id) && u.role == Role::KeyUser && u.active);
        if !named && !by_role {
            out.push(gap(
                GapKind::TeamWithoutKeyUser,
                &t.name,
                format!(
                    "No key user for {} — key users answer colleagues' questions before they reach IT.",
                    t.name
                ),
                "Assign a key user to the team.",
                "key-users",
            ));
        }
    }
    let mut flagged = std::collections::HashSet::new();
    for (_, id) in plan.people() {
        let Some(u) = by_id.get(&id) else {
            continue;
        };
        if !u.active && flagged.insert(id) {
            out.push(gap(
                GapKind::InactivePerson,
                &u.name,
                format!(
                    "{} is named in the plan but can no longer sign in — their questions and decisions go nowhere.",
                    u.name
                ),
                "Replace them with an active user.",
                "owners",
            ));
        }
    }
    if plan.vendor_contacts.is_empty() {
        out.push(gap(
            GapKind::NoVendorContact,
            "",
            "No vendor contact — questions IT cannot solve have nowhere to go.".into(),
            "Add the vendor's support contact and what the agreement promises.",
            "vendor",
        ));
    }
    if plan.forum.every_weeks.is_none() || plan.forum.name.is_empty() {
        out.push(gap(
            GapKind::NoForum,
            "",
            "No forum or rhythm for further development — adjustments pile up with no one deciding them.".into(),
            "Name the forum (e.g. the key-user group) and how often it meets.",
            "forum",
        ));
    }
    if plan.go_live.is_none() {
        out.push(gap(
            GapKind::NoGoLive,
            "",
            "No go-live date — no one knows when the plan takes over from the project.".into(),
            "Set the go-live date.",
            "go-live",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{TeamId, UserId};
    use crate::stewardship::plan::{Forum, TeamKeyUsers, VendorContact};
    use chrono::Utc;

    fn user(name: &str, role: Role, team: Option<TeamId>, active: bool) -> User {
        let mut u = User::new(UserId(uuid::Uuid::now_v7()), None, name, role, Utc::now());
        u.team = team;
        u.active = active;
        u
    }

    fn kinds(g: &[Gap]) -> Vec<(GapKind, &str)> {
        g.iter().map(|g| (g.kind, g.subject.as_str())).collect()
    }

    #[test]
    fn an_empty_plan_has_every_gap_and_a_full_one_none() {
        let sales = Team {
            id: TeamId(uuid::Uuid::now_v7()),
            name: "Sales".into(),
            created_at: Utc::now(),
        };
        let support = Team {
            id: TeamId(uuid::Uuid::now_v7()),
            name: "Support".into(),
            created_at: Utc::now(),
        };
        let owner = user("Olle", Role::Admin, None, true);
        let ku = user("Karin", Role::KeyUser, Some(support.id), true);
        let gone = user("Gustav", Role::User, Some(sales.id), false);
        let users = vec![owner.clone(), ku.clone(), gone.clone()];
        let teams = vec![sales.clone(), support.clone()];
        let empty = gaps(&Plan::default(), &users, &teams);
        assert_eq!(
            kinds(&empty),
            [
                (GapKind::NoSystemOwner, ""),
                (GapKind::NoAdministrator, ""),
                (GapKind::TeamWithoutKeyUser, "Sales"),
                (GapKind::NoVendorContact, ""),
                (GapKind::NoForum, ""),
                (GapKind::NoGoLive, ""),
            ]
        );
        assert!(empty[2].problem.starts_with("No key user for Sales"));
        assert_eq!(empty[2].link, "/stewardship/plan/edit#key-users");

        let mut plan = Plan {
            system_owner: Some(owner.id),
            administrators: vec![owner.id],
            key_users: vec![TeamKeyUsers {
                team: sales.id,
                users: vec![gone.id],
            }],
            vendor_contacts: vec![VendorContact {
                name: "Vera".into(),
                company: "Vendor AB".into(),
                email: String::new(),
                phone: String::new(),
                agreement: String::new(),
            }],
            forum: Forum {
                name: "Key-user group".into(),
                every_weeks: Some(4),
                ..Forum::default()
            },
            go_live: Some("2027-03-01".parse().unwrap()),
            ..Plan::default()
        };
        // An inactive key user covers no one, and is flagged by name.
        assert_eq!(
            kinds(&gaps(&plan, &users, &teams)),
            [
                (GapKind::TeamWithoutKeyUser, "Sales"),
                (GapKind::InactivePerson, "Gustav")
            ]
        );
        plan.key_users[0].users = vec![ku.id];
        assert!(gaps(&plan, &users, &teams).is_empty());
    }
}
