//! Reminders by e-mail: an overdue action to its owner, and each occasion of the communication
//! matrix to the members who send it, from the day it is due soon. Each goes once: a reminder
//! is kept as sent under a key naming what it is about and for which due date, so an action
//! moved to a later date, or the matrix's next occasion, is reminded again.
//! The job that sends them (`reminders`, every 15 minutes) words them in each reader's language
//! in the web crate; this module decides who is reminded of what.

use super::state::ProjectState;
use crate::ids::{ProjectId, UserId};
use chrono::NaiveDate;
use std::collections::HashMap;

/// What a reminder is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nudge {
    /// An open action past its due date.
    Action { number: u32, title: String, due: NaiveDate },
    /// An occasion of the communication matrix: what to send, to whom, by when.
    Communication {
        number: u32,
        content: String,
        audience: String,
        channel: String,
        due: NaiveDate,
        overdue: bool,
    },
}

/// One reminder to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// What makes it this reminder and no other (kept once sent).
    pub key: String,
    pub project: ProjectId,
    pub project_name: String,
    /// The member's name, their address, and (when they are a user) their language.
    pub name: String,
    pub email: String,
    pub user: Option<UserId>,
    pub locale: Option<String>,
    pub nudge: Nudge,
}

/// The reminders a project owes on `today`, before the sent ones are left out; members without
/// an address of their own get their user's (`emails`: the active users'). An action handed to
/// someone else, or moved to a later date, is owed again.
pub fn owed(state: &ProjectState, today: NaiveDate, emails: &HashMap<UserId, (String, String)>) -> Vec<Reminder> {
    let id = state.project.id;
    let member = |number: u32| state.members.iter().find(|m| m.number == number);
    let address = |m: &super::model::Member| -> Option<(String, Option<String>)> {
        let (email, locale) = match m.user.map(|u| emails.get(&u)) {
            Some(Some((email, locale))) => (email.clone(), Some(locale.clone())),
            // A member who is a user that can no longer sign in is not reminded.
            Some(None) => return None,
            None => (String::new(), None),
        };
        let email = if m.email.trim().is_empty() {
            email
        } else {
            m.email.trim().to_string()
        };
        (!email.is_empty()).then_some((email, locale))
    };
    let mut out = Vec::new();
    for a in state.actions.iter().filter(|a| a.overdue(today)) {
        let Some(m) = a.owner.and_then(member) else { continue };
        let Some((email, locale)) = address(m) else { continue };
        out.push(Reminder {
            key: format!("action/{id}/{}/{}/{}", a.number, a.due, m.number),
            project: id,
            project_name: state.project.settings.name.clone(),
            name: m.name.clone(),
            email,
            user: m.user,
            locale,
            nudge: Nudge::Action {
                number: a.number,
                title: a.title.clone(),
                due: a.due,
            },
        });
    }
    for (c, due, state_of) in state.communications_due(today) {
        if !state_of.remind() {
            continue;
        }
        for m in state.senders(c).into_iter().filter_map(member) {
            let Some((email, locale)) = address(m) else { continue };
            out.push(Reminder {
                key: format!("communication/{id}/{}/{due}/{}", c.number, m.number),
                project: id,
                project_name: state.project.settings.name.clone(),
                name: m.name.clone(),
                email,
                user: m.user,
                locale,
                nudge: Nudge::Communication {
                    number: c.number,
                    content: c.content.clone(),
                    audience: c.audience.clone(),
                    channel: c.channel.clone(),
                    due,
                    overdue: state_of == super::matrix::Due::Overdue,
                },
            });
        }
    }
    out
}
