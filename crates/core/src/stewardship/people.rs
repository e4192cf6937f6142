//! Who the support chain reaches, as the stewardship organisation says: the key users who cover
//! a team (department), and the system owner a question goes to when the vendor's agreed time
//! runs out. The support module asks these; the stewardship plan answers them.

use crate::auth::Role;
use crate::error::Result;
use crate::ids::{TeamId, UserId};
use crate::service::Crm;

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
        let named: Vec<UserId> = plan
            .plan
            .key_users_for(team)
            .into_iter()
            .filter(|id| users.iter().any(|u| u.id == *id && u.active))
            .collect();
        if !named.is_empty() {
            return Ok(named);
        }
        Ok(users
            .into_iter()
            .filter(|u| u.team == Some(team) && u.role == Role::KeyUser && u.active)
            .map(|u| u.id)
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
