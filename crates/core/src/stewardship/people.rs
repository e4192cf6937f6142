//! Who the support chain reaches, as the stewardship organisation says: the key users who cover
//! a team (department), and the system owner a question goes to when the vendor's agreed time
//! runs out. The support module asks these; the stewardship plan answers them.

use crate::auth::Role;
use crate::error::Result;
use crate::ids::{TeamId, UserId};
use crate::service::Crm;

// Asked by the support chain, being built (issue 23).
#[allow(dead_code)]
impl Crm {
    /// The key users who answer a team's questions first: the team's members with the key-user
    /// role (none for a user without a team).
    pub(crate) async fn key_users_of(&self, team: Option<TeamId>) -> Result<Vec<UserId>> {
        let Some(team) = team else {
            return Ok(Vec::new());
        };
        Ok(self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.team == Some(team) && u.role == Role::KeyUser && u.active)
            .map(|u| u.id)
            .collect())
    }

    /// The system owner, when the stewardship plan names one.
    pub(crate) async fn system_owner(&self) -> Result<Option<UserId>> {
        Ok(None)
    }
}
