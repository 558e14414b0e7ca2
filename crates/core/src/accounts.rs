//! Who may do what: roles of callers and the scopes of API keys.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What a caller is allowed, beside owning their own files and jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A browser without an account, known by its signed cookie (only while `guest_access` is on).
    Guest,
    User,
    /// May administer users, tools and usage, and read any job (each read audited).
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guest => "guest",
            Self::User => "user",
            Self::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownName;
    fn from_str(name: &str) -> Result<Self, UnknownName> {
        match name {
            "guest" => Ok(Self::Guest),
            "user" => Ok(Self::User),
            "admin" => Ok(Self::Admin),
            _ => Err(UnknownName { kind: "role", name: name.into(), expected: "user, admin" }),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an API key may do. Sessions and access tokens may do all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "files:read")]
    FilesRead,
    #[serde(rename = "files:write")]
    FilesWrite,
    #[serde(rename = "jobs:read")]
    JobsRead,
    #[serde(rename = "jobs:write")]
    JobsWrite,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Self::FilesRead, Self::FilesWrite, Self::JobsRead, Self::JobsWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FilesRead => "files:read",
            Self::FilesWrite => "files:write",
            Self::JobsRead => "jobs:read",
            Self::JobsWrite => "jobs:write",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = UnknownName;
    fn from_str(name: &str) -> Result<Self, UnknownName> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == name).ok_or_else(|| UnknownName {
            kind: "scope",
            name: name.into(),
            expected: "files:read, files:write, jobs:read, jobs:write",
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role or scope name that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a {kind}; expected one of {expected}")]
pub struct UnknownName {
    pub kind: &'static str,
    pub name: String,
    pub expected: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), scope);
            assert_eq!(serde_json::to_value(scope).unwrap(), scope.as_str());
        }
        for role in [Role::Guest, Role::User, Role::Admin] {
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert!("files:delete".parse::<Scope>().is_err());
        assert_eq!("admin".parse::<Role>().unwrap(), Role::Admin);
    }
}
