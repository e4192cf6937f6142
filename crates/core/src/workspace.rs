//! Workspaces: isolated tenants of one installation.

pub const DEFAULT_WORKSPACE: &str = "main";

/// Workspace names become file names and PostgreSQL schema names: a–z, 0–9 and '-', 1–32
/// characters, starting with a letter.
pub fn valid_workspace_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}
