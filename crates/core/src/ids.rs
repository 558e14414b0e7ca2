//! Identifiers. Files and jobs get time-ordered UUIDv7s so listings sort by creation.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A stored file: an upload or a job output.
    FileId
);
uuid_id!(
    /// A job: inputs plus ordered steps.
    JobId
);
uuid_id!(
    /// An account.
    UserId
);
uuid_id!(
    /// A signed-in session: one sign-in, its refresh tokens and its web cookie.
    SessionId
);
uuid_id!(
    /// An API key (the id, not the secret).
    ApiKeyId
);

/// Who owns a file or job: `user:<id>` for accounts, `guest:<hash>` for cookie guests.
/// Nothing is visible across owners.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OwnerId(pub String);

impl OwnerId {
    pub fn guest(token_hash: &str) -> Self {
        Self(format!("guest:{token_hash}"))
    }

    pub fn user(id: UserId) -> Self {
        Self(format!("user:{id}"))
    }

    /// The account owning this, for `user:` owners.
    pub fn user_id(&self) -> Option<UserId> {
        self.0.strip_prefix("user:")?.parse().ok()
    }

    pub fn is_guest(&self) -> bool {
        self.0.starts_with("guest:")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
