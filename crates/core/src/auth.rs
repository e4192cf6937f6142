//! Who is asking, and what their role, their token's scope and the workspace's access policy
//! let them do. The permission matrix lives here, in one place, and every use case asks it.

use crate::error::{Error, ErrorCode, Result};
use crate::ids::{TeamId, TokenId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    KeyUser,
    User,
    ReadOnly,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::KeyUser, Role::User, Role::ReadOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::KeyUser => "key_user",
            Role::User => "user",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s || r.as_str().replace('_', "-") == s)
    }
}

/// The kinds of schema change an administrator may delegate to key users (A5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaChange {
    AddField,
    EditPicklist,
    SharedViews,
    /// Objects, archiving, purging, relabelling: administrators only.
    Structure,
}

/// Something a caller may or may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadRecords,
    WriteRecords,
    DeleteRecords,
    /// Destroy data for good: purge fields, erase people (GDPR).
    Purge,
    ChangeSchema(SchemaChange),
    ManageUsers,
    /// Change who sees what and what key users may change.
    ManageAccess,
    Export,
    /// Bring records in from files; merge duplicates found by scans.
    Import,
    MassMail,
    ViewAudit,
    /// Start implementation projects and extend the catalogue of project roles; who may change
    /// a project once it exists is the project's own business (its leaders).
    ManageProjects,
}

impl Permission {
    fn describe(self) -> &'static str {
        match self {
            Permission::ReadRecords => "read records",
            Permission::WriteRecords => "change records",
            Permission::DeleteRecords => "delete records",
            Permission::Purge => "destroy data for good",
            Permission::ChangeSchema(SchemaChange::AddField) => "add fields",
            Permission::ChangeSchema(SchemaChange::EditPicklist) => "edit picklists",
            Permission::ChangeSchema(SchemaChange::SharedViews) => "manage shared views",
            Permission::ChangeSchema(SchemaChange::Structure) => "change the schema",
            Permission::ManageUsers => "manage users",
            Permission::ManageAccess => "change access rules",
            Permission::Export => "export data",
            Permission::Import => "import data",
            Permission::MassMail => "send mass mailings",
            Permission::ViewAudit => "read the audit log",
            Permission::ManageProjects => "start projects or change the project role catalogue",
        }
    }
}

/// What an API token may be used for, on top of what its user's role allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            ReadRecords | Export | ViewAudit => true,
            WriteRecords | DeleteRecords | Import | MassMail | ManageProjects => self >= Scope::Write,
            Purge | ChangeSchema(_) | ManageUsers | ManageAccess => self == Scope::Admin,
        }
    }
}

/// Which records of an object a role sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Records the user owns.
    Own,
    /// Records owned by anyone in the user's team.
    Team,
    All,
}

/// The schema changes administrators let key users make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyUserRights {
    pub add_fields: bool,
    pub edit_picklists: bool,
    pub shared_views: bool,
}

impl Default for KeyUserRights {
    fn default() -> Self {
        Self {
            add_fields: true,
            edit_picklists: true,
            shared_views: true,
        }
    }
}

/// A workspace's access rules, set by administrators. Versioned with the schema, so every
/// request reads the rules that were current when it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessPolicy {
    /// Per object, per role; anything not named sees all (administrators always do).
    #[serde(default)]
    pub visibility: BTreeMap<String, BTreeMap<Role, Visibility>>,
    #[serde(default)]
    pub key_users: KeyUserRights,
}

impl AccessPolicy {
    pub fn visibility(&self, object: &str, role: Role) -> Visibility {
        if role == Role::Admin {
            return Visibility::All;
        }
        self.visibility
            .get(object)
            .and_then(|by_role| by_role.get(&role))
            .copied()
            .unwrap_or(Visibility::All)
    }
}

/// The role half of the matrix.
pub fn role_allows(role: Role, permission: Permission, policy: &AccessPolicy) -> bool {
    use Permission::*;
    match (role, permission) {
        (Role::Admin, _) => true,
        (_, ReadRecords) => true,
        (Role::ReadOnly, _) => false,
        (Role::KeyUser | Role::User, WriteRecords | DeleteRecords) => true,
        (Role::KeyUser, Export | Import | MassMail) => true,
        (Role::KeyUser, ChangeSchema(change)) => match change {
            SchemaChange::AddField => policy.key_users.add_fields,
            SchemaChange::EditPicklist => policy.key_users.edit_picklists,
            SchemaChange::SharedViews => policy.key_users.shared_views,
            SchemaChange::Structure => false,
        },
        _ => false,
    }
}

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Token(TokenId),
    Session,
    /// The command line, run by whoever may read the database.
    Local,
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub role: Role,
    pub team: Option<TeamId>,
    pub scope: Scope,
    pub credential: Credential,
}

impl Principal {
    /// A caller with the full power of their role (a web session, the command line).
    pub fn new(user_id: UserId, role: Role, team: Option<TeamId>, credential: Credential) -> Self {
        Self {
            user_id,
            role,
            team,
            scope: Scope::Admin,
            credential,
        }
    }

    pub fn may(&self, permission: Permission, policy: &AccessPolicy) -> bool {
        role_allows(self.role, permission, policy) && self.scope.allows(permission)
    }

    pub fn require(&self, permission: Permission, policy: &AccessPolicy) -> Result<()> {
        if self.may(permission, policy) {
            return Ok(());
        }
        let detail = if role_allows(self.role, permission, policy) {
            format!(
                "this token's scope ({}) does not allow you to {}",
                self.scope.as_str(),
                permission.describe()
            )
        } else {
            format!("the role {} may not {}", self.role.as_str(), permission.describe())
        };
        Err(Error::new(ErrorCode::Forbidden, detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, scope: Scope) -> Principal {
        Principal {
            user_id: UserId(uuid::Uuid::nil()),
            role,
            team: None,
            scope,
            credential: Credential::Session,
        }
    }

    #[test]
    fn the_matrix() {
        let p = AccessPolicy::default();
        assert!(!role_allows(Role::ReadOnly, Permission::WriteRecords, &p));
        assert!(role_allows(Role::ReadOnly, Permission::ReadRecords, &p));
        assert!(role_allows(Role::User, Permission::WriteRecords, &p));
        assert!(!role_allows(Role::User, Permission::Export, &p));
        assert!(role_allows(Role::KeyUser, Permission::Export, &p));
        assert!(!role_allows(Role::KeyUser, Permission::ManageUsers, &p));
        assert!(!role_allows(Role::KeyUser, Permission::Purge, &p));
        assert!(!role_allows(
            Role::KeyUser,
            Permission::ChangeSchema(SchemaChange::Structure),
            &p
        ));
        assert!(role_allows(Role::Admin, Permission::Purge, &p));
        assert!(role_allows(Role::Admin, Permission::ManageAccess, &p));
    }

    #[test]
    fn admins_decide_what_key_users_may_change() {
        let mut p = AccessPolicy::default();
        let add = Permission::ChangeSchema(SchemaChange::AddField);
        assert!(role_allows(Role::KeyUser, add, &p));
        assert!(!role_allows(Role::User, add, &p));
        p.key_users.add_fields = false;
        assert!(!role_allows(Role::KeyUser, add, &p));
        assert!(role_allows(
            Role::KeyUser,
            Permission::ChangeSchema(SchemaChange::EditPicklist),
            &p
        ));
    }

    #[test]
    fn scopes_narrow_what_a_role_allows() {
        let p = AccessPolicy::default();
        let read = principal(Role::Admin, Scope::Read);
        assert!(read.may(Permission::ReadRecords, &p));
        assert!(!read.may(Permission::WriteRecords, &p));
        let e = read.require(Permission::WriteRecords, &p).unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        assert!(e.detail.contains("scope"), "{}", e.detail);
        let write = principal(Role::Admin, Scope::Write);
        assert!(write.may(Permission::WriteRecords, &p));
        assert!(!write.may(Permission::ManageUsers, &p));
        // A broad scope never lends a role more than it has.
        assert!(!principal(Role::ReadOnly, Scope::Admin).may(Permission::WriteRecords, &p));
    }

    #[test]
    fn visibility_defaults_to_all_and_admins_always_see_everything() {
        let mut p = AccessPolicy::default();
        assert_eq!(p.visibility("person", Role::User), Visibility::All);
        p.visibility
            .entry("person".into())
            .or_default()
            .insert(Role::User, Visibility::Team);
        p.visibility
            .entry("person".into())
            .or_default()
            .insert(Role::Admin, Visibility::Own);
        assert_eq!(p.visibility("person", Role::User), Visibility::Team);
        assert_eq!(p.visibility("person", Role::Admin), Visibility::All);
        assert_eq!(p.visibility("company", Role::User), Visibility::All);
        let json: AccessPolicy = serde_json::from_value(serde_json::json!({
            "visibility": {"person": {"user": "own", "key_user": "team"}},
            "key_users": {"add_fields": false, "edit_picklists": true, "shared_views": false}
        }))
        .unwrap();
        assert_eq!(json.visibility("person", Role::KeyUser), Visibility::Team);
        assert!(serde_json::from_value::<AccessPolicy>(serde_json::json!({"visibilty": {}})).is_err());
    }
}
