//! Accounts' life: register, verify, sign in and out, refresh, reset and change passwords,
//! delete.

use super::tokens::{self, AccessClaims};
use super::{Caller, passwords};
use crate::Pipeline;
use crate::error::{Error, Result};
use chrono::{Duration, Utc};
use scanpro_core::accounts::Role;
use scanpro_core::{ErrorCode, OwnerId, SessionId};
use scanpro_store::{Meta, RefreshUse, SessionRecord, UserRecord};

const VERIFY: &str = "verify";
const RESET: &str = "reset";
const LINK_LIFETIME_HOURS: i64 = 24;
const RESET_LIFETIME_MINUTES: i64 = 60;

/// What a sign-in hands out.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// The web session cookie's value (HttpOnly; browsers only).
    pub cookie: String,
    pub cookie_max_age: i64,
    pub user: UserRecord,
}

/// What a registration asks for.
pub struct Registration<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub role: Role,
}

impl Pipeline {
    /// Makes an account. With mail going out it must be verified by the emailed link first;
    /// otherwise it is active at once.
    pub async fn register(&self, new: Registration<'_>) -> Result<UserRecord> {
        let accounts = self.accounts();
        let user = create_user(&self.meta, new, &accounts.default_plan, !accounts.verify_email).await?;
        if !user.email_verified {
            self.send_link(&user, VERIFY, Duration::hours(LINK_LIFETIME_HOURS)).await?;
        }
        self.audit(&format!("user:{}", user.id), "registered", None, None, None).await;
        Ok(user)
    }

    /// Signs in with email and password. `guest`: the browser's guest, whose files and jobs
    /// pass to the account.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        guest: Option<&OwnerId>,
        address: Option<&str>,
    ) -> Result<SignedIn> {
        let user = self.meta.user_by_email(email.trim()).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let matches = passwords::verify_slowly(password, stored).await.map_err(busy)?;
        let Some(user) = user.filter(|_| matches) else {
            self.audit(&email.trim().to_lowercase(), "sign_in_failed", None, address, None).await;
            return Err(Error::rejected(ErrorCode::InvalidCredentials, "the email or the password is wrong"));
        };
        self.start_session(user, guest, address).await
    }

    /// Opens a session for an account whose identity was proven (password or single sign-on).
    pub async fn start_session(
        &self,
        user: UserRecord,
        guest: Option<&OwnerId>,
        address: Option<&str>,
    ) -> Result<SignedIn> {
        if user.disabled {
            return Err(Error::rejected(
                ErrorCode::AccountDisabled,
                "this account is disabled; contact the administrator",
            ));
        }
        if !user.email_verified {
            return Err(Error::rejected(
                ErrorCode::Forbidden,
                "confirm your email address first: follow the link sent to it",
            ));
        }
        if let Some(guest) = guest.filter(|g| g.is_guest()) {
            self.meta.transfer_owner(guest, &user.owner()).await?;
        }
        let now = Utc::now();
        let (refresh_token, refresh_hash) = tokens::new_secret("rt_");
        let (cookie, cookie_hash) = tokens::new_secret("ss_");
        let session = SessionRecord {
            id: SessionId::new(),
            user_id: user.id,
            cookie_hash: Some(cookie_hash),
            created_at: now,
            expires_at: now + self.accounts().session_lifetime,
        };
        self.meta.insert_session(&session, &refresh_hash).await?;
        self.audit(&format!("user:{}", user.id), "sign_in", None, address, None).await;
        Ok(self.signed_in(user, &session, refresh_token, cookie))
    }

    fn signed_in(&self, user: UserRecord, session: &SessionRecord, refresh_token: String, cookie: String) -> SignedIn {
        let accounts = self.accounts();
        let now = Utc::now();
        let claims = AccessClaims::new(user.id, session.id, now, accounts.access_token_lifetime);
        SignedIn {
            access_token: accounts.token_keys.sign(&claims),
            refresh_token,
            expires_in: accounts.access_token_lifetime.num_seconds(),
            cookie,
            cookie_max_age: (session.expires_at - now).num_seconds().max(0),
            user,
        }
    }

    /// Trades a refresh token for a new pair. Each refresh token works once: one presented
    /// again means a copy exists, and the whole sign-in is ended.
    pub async fn refresh(&self, refresh_token: &str, address: Option<&str>) -> Result<SignedIn> {
        let refused = |why: &str| Error::rejected(ErrorCode::Unauthorized, why.to_owned());
        let session_id = match self.meta.use_refresh_token(&tokens::hash_secret(refresh_token)).await? {
            RefreshUse::Fresh(session) => session,
            RefreshUse::Replayed(session) => {
                self.meta.revoke_session(session).await?;
                self.audit(&format!("session:{session}"), "refresh_token_reused", None, address, None).await;
                return Err(refused("this refresh token was already used: the sign-in is ended; sign in again"));
            }
            RefreshUse::Unknown => return Err(refused("unknown refresh token")),
        };
        let (session, user) = self
            .meta
            .live_session(session_id, Utc::now())
            .await?
            .ok_or_else(|| refused("this sign-in has ended; sign in again"))?;
        if user.disabled {
            return Err(Error::rejected(
                ErrorCode::AccountDisabled,
                "this account is disabled; contact the administrator",
            ));
        }
        let (refresh_token, refresh_hash) = tokens::new_secret("rt_");
        self.meta.add_refresh_token(&refresh_hash, session.id).await?;
        // The web cookie stays as it is: it is not handed out again.
        Ok(self.signed_in(user, &session, refresh_token, String::new()))
    }

    /// Ends the caller's sign-in: its access tokens, refresh tokens and cookie stop working.
    pub async fn sign_out(&self, caller: &Caller) -> Result<()> {
        let (user, session) = caller.signed_in()?;
        self.meta.revoke_session(session).await?;
        self.audit(&format!("user:{}", user.id), "sign_out", None, None, None).await;
        Ok(())
    }

    /// Follows an emailed verification link.
    pub async fn verify_email(&self, token: &str) -> Result<UserRecord> {
        let user = self.spend_link(token, VERIFY).await?;
        let mut user = self.meta.user(user).await?;
        user.email_verified = true;
        self.meta.save_user(&user).await?;
        Ok(user)
    }

    /// Sends a reset link if an account has this email; says nothing either way, and answers
    /// before the email goes out, so the time taken does not tell either.
    pub async fn forgot_password(&self, email: &str) -> Result<()> {
        if let Some(user) = self.meta.user_by_email(email.trim()).await?.filter(|u| !u.disabled) {
            let pipeline = self.clone();
            tokio::spawn(async move {
                if let Err(e) = pipeline.send_link(&user, RESET, Duration::minutes(RESET_LIFETIME_MINUTES)).await {
                    tracing::warn!(error = %e, "no password reset email sent");
                }
            });
        }
        Ok(())
    }

    /// Sets a new password from an emailed reset link. Whoever reset it may not have been the
    /// owner: the account's sign-ins, API keys and other emailed links end too.
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<()> {
        // The link is spent only once the new password is accepted: a refused one keeps it.
        let link = tokens::hash_secret(token);
        let user = self.meta.email_token_user(&link, RESET, Utc::now()).await?.ok_or_else(link_refused)?;
        let mut user = self.meta.user(user).await?;
        let password_hash = passwords::checked_hash(password, &user.email).await.map_err(new_password_refused)?;
        self.spend_link(token, RESET).await?;
        user.password_hash = Some(password_hash);
        // The link reached the mailbox: the address is the owner's.
        user.email_verified = true;
        self.meta.save_user(&user).await?;
        self.meta.revoke_sessions_of(user.id).await?;
        self.meta.revoke_api_keys_of(user.id).await?;
        self.meta.spend_email_tokens_of(user.id).await?;
        self.audit(&format!("user:{}", user.id), "password_reset", None, None, None).await;
        Ok(())
    }

    /// Changes the password: every sign-in of the account ends, and a new one starts for
    /// this caller.
    pub async fn change_password(&self, caller: &Caller, current: &str, new: &str) -> Result<SignedIn> {
        let (user, _) = caller.signed_in()?;
        if !passwords::verify_slowly(current, user.password_hash.as_deref()).await.map_err(busy)? {
            return Err(Error::rejected(ErrorCode::InvalidCredentials, "current_password is wrong"));
        }
        let hash = passwords::checked_hash(new, &user.email).await.map_err(new_password_refused)?;
        let mut user = self.meta.user(user.id).await?;
        user.password_hash = Some(hash);
        self.meta.save_user(&user).await?;
        self.meta.revoke_sessions_of(user.id).await?;
        self.audit(&format!("user:{}", user.id), "password_changed", None, None, None).await;
        self.start_session(user, None, None).await
    }

    /// Deletes the caller's account and everything it owns.
    pub async fn delete_account(&self, caller: &Caller) -> Result<()> {
        let (user, _) = caller.signed_in()?;
        let user = user.clone();
        self.delete_user_and_everything(&user).await?;
        self.audit(&format!("user:{}", user.id), "account_deleted", None, None, None).await;
        Ok(())
    }

    /// Removes an account: its jobs (running ones cancelled), its files and their bytes, its
    /// sessions and keys.
    pub(crate) async fn delete_user_and_everything(&self, user: &UserRecord) -> Result<()> {
        let owner = user.owner();
        // Credentials first: nothing new can start while the rest goes.
        self.meta.revoke_sessions_of(user.id).await?;
        self.meta.revoke_api_keys_of(user.id).await?;
        for job in self.meta.active_job_ids(&owner).await? {
            self.cancel(&owner, job).await?;
        }
        loop {
            let files = self.meta.files_of(&owner, 500).await?;
            if files.is_empty() {
                break;
            }
            for file in files {
                self.delete_file(&owner, file.id).await?;
            }
        }
        self.meta.forget_jobs_of(&owner).await?;
        self.meta.delete_user(user.id).await?;
        Ok(())
    }

    async fn send_link(&self, user: &UserRecord, purpose: &str, lifetime: Duration) -> Result<()> {
        let (token, hash) = tokens::new_secret("");
        self.meta.insert_email_token(&hash, user.id, purpose, Utc::now() + lifetime).await?;
        let base = self.accounts().public_url.trim_end_matches('/');
        let (subject, page, what) = match purpose {
            VERIFY => ("Confirm your email address", "verify-email", "confirm your email address"),
            _ => ("Reset your password", "reset-password", "choose a new password"),
        };
        let body = format!(
            "Hello,\n\nTo {what} for ScanPro, open this link within {} minutes:\n\n{base}/{page}#token={token}\n\n\
             If you did not ask for this, ignore this email.\n",
            lifetime.num_minutes()
        );
        self.accounts().mailer.send(&user.email, subject, &body).await.map_err(|e| {
            tracing::error!(error = %e, "could not send an email");
            Error::rejected(ErrorCode::Unavailable, "the email could not be sent; try again later")
        })
    }

    async fn spend_link(&self, token: &str, purpose: &str) -> Result<scanpro_core::UserId> {
        self.meta.use_email_token(&tokens::hash_secret(token), purpose, Utc::now()).await?.ok_or_else(link_refused)
    }
}

fn link_refused() -> Error {
    Error::rejected(ErrorCode::InvalidParams, "token: this link is unknown, used or expired; ask for a new one")
}

fn busy(e: passwords::Busy) -> Error {
    Error::rejected(ErrorCode::Busy, e.to_string())
}

fn new_password_refused(e: passwords::NewPasswordError) -> Error {
    match e {
        passwords::NewPasswordError::Policy(problem) => Error::rejected(ErrorCode::InvalidParams, problem.to_string()),
        passwords::NewPasswordError::Busy(e) => busy(e),
    }
}

/// Checks and stores a new account; what `register` and `scanpro admin create-user` share.
/// `verified`: the address needs no confirmation (no mail goes out, or an operator made it).
pub async fn create_user(meta: &Meta, new: Registration<'_>, plan: &str, verified: bool) -> Result<UserRecord> {
    let email = valid_email(new.email)?;
    let hash = passwords::checked_hash(new.password, &email).await.map_err(new_password_refused)?;
    let now = Utc::now();
    let user = UserRecord {
        id: scanpro_core::UserId::new(),
        email,
        password_hash: Some(hash),
        role: new.role,
        plan: plan.to_owned(),
        email_verified: verified,
        disabled: false,
        operations_limit: None,
        storage_limit: None,
        oidc_subject: None,
        created_at: now,
        updated_at: now,
    };
    meta.insert_user(&user).await?;
    Ok(user)
}

/// A plausible email address, lower-cased; the emailed link is the real check.
pub fn valid_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let plausible = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !plausible {
        return Err(Error::rejected(ErrorCode::InvalidParams, "email: give an address like ada@example.com"));
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails_are_checked_and_lower_cased() {
        assert_eq!(super::valid_email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in
            ["", "ada", "ada@", "@example.com", "ada@example", "a da@example.com", "ada@.com", "ada@example.com\n."]
        {
            assert!(super::valid_email(bad).is_err(), "{bad:?}");
        }
    }
}
