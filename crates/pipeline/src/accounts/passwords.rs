//! Passwords: the policy a new one must meet, and Argon2id hashes in PHC strings.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

pub const MIN_CHARS: usize = 10;
/// Argon2 hashes at most this much; longer input only costs the server time.
pub const MAX_CHARS: usize = 256;
/// Ranks of zxcvbn's password frequency list (xato's 10 million passwords) counted as common.
const COMMON_RANK: usize = 10_000;
const COMMON_MAX_CHARS: usize = 40;

/// Why a password is refused; the message says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("password: use at least {MIN_CHARS} characters")]
    TooShort,
    #[error("password: use at most {MAX_CHARS} characters")]
    TooLong,
    #[error("password: this is one of the 10,000 most common passwords; choose another")]
    Common,
    #[error("password: do not use your email address as your password")]
    IsEmail,
}

/// Checks a new password against the policy.
pub fn check(password: &str, email: &str) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    let lower = password.to_lowercase();
    if lower == email.to_lowercase()
        || email.split('@').next().is_some_and(|local| local.len() >= MIN_CHARS && lower == local)
    {
        return Err(PasswordProblem::IsEmail);
    }
    if is_common(password) {
        return Err(PasswordProblem::Common);
    }
    Ok(())
}

/// Whether the whole password (case aside) is one of the most common passwords. The list holds
/// nothing this long, and zxcvbn slows down sharply on long input: those are not looked up.
fn is_common(password: &str) -> bool {
    use zxcvbn::matching::patterns::MatchPattern;
    if password.chars().count() > COMMON_MAX_CHARS {
        return false;
    }
    let entropy = zxcvbn::zxcvbn(password, &[]);
    let length = password.chars().count();
    entropy.sequence().iter().any(|found| match &found.pattern {
        MatchPattern::Dictionary(word) => {
            // The dictionary's type is not exported; its name is.
            format!("{:?}", word.dictionary_name) == "Passwords"
                && word.rank <= COMMON_RANK
                && !word.l33t
                && !word.reversed
                && found.token.chars().count() == length
        }
        _ => false,
    })
}

/// Argon2id with OWASP's second recommended setting (19 MiB, 2 passes, 1 lane).
fn argon2() -> &'static Argon2<'static> {
    static ARGON2: OnceLock<Argon2<'static>> = OnceLock::new();
    ARGON2.get_or_init(|| {
        let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    })
}

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2().hash_password(password.as_bytes(), &salt).expect("hashing a bounded password").to_string()
}

/// Whether `password` matches the stored hash. `None` (an unknown account, or one without a
/// password) is checked against a fixed hash, so a miss takes as long as a wrong password.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DECOY: OnceLock<String> = OnceLock::new();
    let decoy = DECOY.get_or_init(|| hash("a password no account has"));
    let candidate = stored.unwrap_or(decoy);
    let matches =
        PasswordHash::new(candidate).is_ok_and(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok());
    matches && stored.is_some()
}

/// Hashing and checking passwords at once, at most one per core: each takes 19 MiB and tens of
/// milliseconds, and a burst of sign-ins must not take the server's memory. Past a wait of
/// [`QUEUE_WAIT`], `busy`.
static SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from))
});
const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs `work` (hashing or checking) off the request threads, within [`SLOTS`].
async fn in_slot<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
    let _slot = tokio::time::timeout(QUEUE_WAIT, SLOTS.acquire()).await.map_err(|_| Busy)?.map_err(|_| Busy)?;
    tokio::task::spawn_blocking(work).await.map_err(|_| Busy)
}

/// Too many password checks are waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sign-ins are being checked right now; retry in a few seconds")]
pub struct Busy;

/// [`check`], then [`hash`]: a new password, checked and hashed off the request threads.
pub async fn checked_hash(password: &str, email: &str) -> Result<String, NewPasswordError> {
    let (password, email) = (password.to_owned(), email.to_owned());
    in_slot(move || check(&password, &email).map(|()| hash(&password))).await?.map_err(NewPasswordError::Policy)
}

/// [`verify`], off the request threads.
pub async fn verify_slowly(password: &str, stored: Option<&str>) -> Result<bool, Busy> {
    let (password, stored) = (password.to_owned(), stored.map(str::to_owned));
    in_slot(move || verify(&password, stored.as_deref())).await
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewPasswordError {
    #[error(transparent)]
    Policy(PasswordProblem),
    #[error(transparent)]
    Busy(#[from] Busy),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_short_common_and_email_passwords() {
        assert_eq!(check("short", "a@b.c"), Err(PasswordProblem::TooShort));
        assert_eq!(check("password123", "a@b.c"), Err(PasswordProblem::Common));
        assert_eq!(check("qwertyuiop", "a@b.c"), Err(PasswordProblem::Common));
        assert_eq!(check("1234567890", "a@b.c"), Err(PasswordProblem::Common));
        assert_eq!(check("ada.lovelace@example.com", "Ada.Lovelace@example.com"), Err(PasswordProblem::IsEmail));
        assert_eq!(check(&"x".repeat(MAX_CHARS + 1), "a@b.c"), Err(PasswordProblem::TooLong));
        assert_eq!(check("correct horse battery staple", "a@b.c"), Ok(()));
        assert_eq!(check("Tr0ub4dor&3-glacier", "a@b.c"), Ok(()));
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let stored = hash("correct horse battery staple");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery staple", Some(&stored)));
        assert!(!verify("correct horse battery stapler", Some(&stored)));
        assert!(!verify("a password no account has", None), "the decoy never signs anyone in");
        assert_ne!(hash("same"), hash("same"), "salted");
    }
}
