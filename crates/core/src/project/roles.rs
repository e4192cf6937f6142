//! The catalogue of project roles (B1, B4, B5) and who holds them. One person may hold several.

use serde::{Deserialize, Serialize};

/// What a role is for a department or a user group, when it is held on behalf of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleScope {
    Project,
    Department,
    UserGroup,
}

/// A role in the catalogue. Administrators can add their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDef {
    pub key: String,
    /// The name people read, for roles administrators add (the standard ones are translated).
    #[serde(default)]
    pub label: String,
    /// Every project needs someone in it (B1).
    pub required: bool,
    /// Counts towards "too technical" (B2).
    pub technical: bool,
    /// Part of the core project group (B3), as opposed to lasting or vendor roles.
    pub core_team: bool,
    pub scope: RoleScope,
    /// Held by the vendor's people (B5).
    pub vendor: bool,
}

impl RoleDef {
    fn new(key: &str) -> Self {
        Self {
            key: key.into(),
            label: String::new(),
            required: false,
            technical: false,
            core_team: false,
            scope: RoleScope::Project,
            vendor: false,
        }
    }
    fn required(mut self) -> Self {
        self.required = true;
        self
    }
    fn technical(mut self) -> Self {
        self.technical = true;
        self
    }
    fn core(mut self) -> Self {
        self.core_team = true;
        self
    }
    fn scoped(mut self, scope: RoleScope) -> Self {
        self.scope = scope;
        self
    }
    fn vendor(mut self) -> Self {
        self.vendor = true;
        self
    }
}

pub const PROJECT_LEADER: &str = "project_leader";
pub const DECISION_MAKER: &str = "management_decision_maker";
pub const DEPARTMENT_REPRESENTATIVE: &str = "department_representative";
pub const CHAMPION: &str = "champion";
pub const TECHNICAL_EXPERT: &str = "technical_expert";
pub const INFORMAL_INFLUENCER: &str = "informal_influencer";
pub const SYSTEM_OWNER: &str = "system_owner";
pub const ADMINISTRATOR: &str = "administrator";
pub const KEY_USER: &str = "key_user";
pub const VENDOR_PROJECT_LEAD: &str = "vendor_project_lead";
pub const VENDOR_SUPPORT: &str = "vendor_support";
pub const VENDOR_BACK_OFFICE: &str = "vendor_back_office";

/// The standard catalogue, from the seeds.
pub fn standard_catalogue() -> Vec<RoleDef> {
    vec![
        RoleDef::new(PROJECT_LEADER).required().core(),
        RoleDef::new(DECISION_MAKER).required().core(),
        RoleDef::new(DEPARTMENT_REPRESENTATIVE)
            .required()
            .core()
            .scoped(RoleScope::Department),
        RoleDef::new(CHAMPION).required().core(),
        RoleDef::new(TECHNICAL_EXPERT).required().core().technical(),
        RoleDef::new(INFORMAL_INFLUENCER).required().core(),
        RoleDef::new(SYSTEM_OWNER).required(),
        RoleDef::new(ADMINISTRATOR).technical(),
        RoleDef::new(KEY_USER).scoped(RoleScope::UserGroup),
        RoleDef::new(VENDOR_PROJECT_LEAD).vendor(),
        RoleDef::new(VENDOR_SUPPORT).vendor().technical(),
        RoleDef::new(VENDOR_BACK_OFFICE).vendor(),
    ]
}

/// One role held by one member, on behalf of a department or user group when the role is
/// scoped so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub role: String,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub user_group: Option<String>,
}

impl Assignment {
    pub fn new(role: &str) -> Self {
        Self {
            role: role.into(),
            department: None,
            user_group: None,
        }
    }
    pub fn for_department(role: &str, department: &str) -> Self {
        Self {
            department: Some(department.into()),
            ..Self::new(role)
        }
    }
    pub fn for_group(role: &str, group: &str) -> Self {
        Self {
            user_group: Some(group.into()),
            ..Self::new(role)
        }
    }
}

/// A person in the project group: an Anchora user or an external contact (the vendor's staff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    pub roles: Vec<Assignment>,
}

impl Member {
    pub fn holds(&self, role: &str) -> bool {
        self.roles.iter().any(|a| a.role == role)
    }
}
