//! Who the support chain reaches, as the stewardship organisation says: the key users who cover
//! a team (department), and the system owner a question goes to when the vendor's agreed time
//! runs out. The support module asks these; the stewardship plan answers them.

use crate::auth::Role;
use crate::error::Result;
use crate::identity::User;
use crate::ids::{TeamId, UserId};
use crate::service::Crm;
use crate::stewardship::Plan;

/// The key users who answer `team`'s questions first, from the plan and the users read once.
fn covering(plan: &Plan, users: &[User], team: TeamId) -> Vec<UserId> {
    let named: Vec<UserId> = plan
        .key_users_for(team)
        .into_iter()
        .filter(|id| users.iter().any(|u| u.id == *id && u.active))
        .collect();
    if !named.is_empty() {
        return named;
    }
    users
        .iter()
        .filter(|u| u.team == Some(team) && u.role == Role::KeyUser && u.active)
        .map(|u| u.id)
        .collect()
}

impl Crm {
    /// The key users who answer a team's questions first: the active ones the stewardship plan
    /// names for the team; when it names none who can still sign in, the team's active members
    /// with the key-user role (none for a user without a team).
    pub async fn key_users_of(&self, team: Option<TeamId>) -> Result<Vec<UserId>> {
        let Some(team) = team else {
            return Ok(Vec::new());
        };
        let plan = self.current_plan().await?;
        let users = self.store.users().await?;
        Ok(covering(&plan.plan, &users, team))
    }

    /// The teams whose questions a user answers first as their key user (see `key_users_of`),
    /// with one read of the plan and the users for all teams.
    pub async fn key_user_teams(&self, user: UserId) -> Result<Vec<TeamId>> {
        let plan = self.current_plan().await?;
        let users = self.store.users().await?;
        Ok(self
            .store
            .teams()
            .await?
            .into_iter()
            .filter(|t| covering(&plan.plan, &users, t.id).contains(&user))
            .map(|t| t.id)
            .collect())
    }

    /// The system owner the stewardship plan names, when they can still sign in.
    pub async fn system_owner(&self) -> Result<Option<UserId>> {
        let Some(owner) = self.current_plan().await?.plan.system_owner else {
            return Ok(None);
        };
        Ok(self.store.user(owner).await?.filter(|u| u.active).map(|u| u.id))
    }
}
