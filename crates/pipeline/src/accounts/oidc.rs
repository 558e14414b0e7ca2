//! Single sign-on with OpenID Connect: the authorization code flow with PKCE, against any
//! provider configured by issuer URL, client id and secret. The provider is discovered at each
//! sign-in (its keys rotate); the ID token's signature, issuer, audience, expiry and nonce are
//! checked by `openidconnect`. What a sign-in must remember between leaving and coming back
//! ([`Pending`]) travels in a signed, short-lived cookie the API sets.
//!
//! An identity is found by its `issuer sub`; the first time, a new account is made for it
//! (without a password) if the provider vouches for its email address (`email_verified`) and no
//! account has that address yet. An existing account is never taken over by an identity that
//! claims its address: whoever registered it may not be who the provider vouches for.

use super::sign_in::SignedIn;
use crate::Pipeline;
use crate::error::{Error, Result};
use chrono::Utc;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope,
};
use scanpro_core::accounts::Role;
use scanpro_core::{ErrorCode, OwnerId, UserId};
use scanpro_store::UserRecord;
use serde::{Deserialize, Serialize};

/// The provider, as configured.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// `{public_url}/api/v1/auth/oidc/callback`, registered with the provider.
    pub redirect_uri: String,
    /// What the sign-in button calls the provider.
    pub name: String,
}

/// What a sign-in remembers while the browser is at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

fn unavailable(why: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %why, "single sign-on failed at the provider");
    Error::rejected(ErrorCode::Unavailable, "the sign-in provider could not be reached or refused; try again later")
}

fn refused(why: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %why, "single sign-on answer refused");
    Error::rejected(ErrorCode::Unauthorized, "the sign-in provider's answer did not hold; sign in again")
}

impl Pipeline {
    fn oidc(&self) -> Result<&OidcSettings> {
        self.accounts()
            .oidc
            .as_ref()
            .ok_or_else(|| Error::rejected(ErrorCode::NotFound, "single sign-on is not set up"))
    }

    async fn oidc_client(
        &self,
    ) -> Result<(
        openidconnect::core::CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        openidconnect::reqwest::Client,
    )> {
        let settings = self.oidc()?;
        // Redirects are never followed: a provider's answer cannot send the server elsewhere.
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(unavailable)?;
        let issuer = IssuerUrl::new(settings.issuer.clone()).map_err(unavailable)?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &http).await.map_err(unavailable)?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            Some(ClientSecret::new(settings.client_secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(settings.redirect_uri.clone()).map_err(unavailable)?);
        Ok((client, http))
    }

    /// Where to send the browser to sign in, and what to remember until it comes back.
    pub async fn oidc_start(&self) -> Result<(String, Pending)> {
        let (client, _) = self.oidc_client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        };
        Ok((url.to_string(), pending))
    }

    /// Finishes a sign-in the provider sent back with `code` and `state`.
    pub async fn oidc_finish(
        &self,
        pending: Pending,
        state: &str,
        code: &str,
        guest: Option<&OwnerId>,
        address: Option<&str>,
    ) -> Result<SignedIn> {
        use openidconnect::{OAuth2TokenResponse, TokenResponse};
        // Compared as hashes: the time taken says nothing about how much of it was right.
        if super::tokens::hash_secret(&pending.state) != super::tokens::hash_secret(state) {
            return Err(refused("the state does not match the sign-in this browser started"));
        }
        let (client, http) = self.oidc_client().await?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(unavailable)?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&http)
            .await
            .map_err(refused)?;
        let id_token = token.id_token().ok_or_else(|| refused("no ID token"))?;
        let claims = id_token.claims(&client.id_token_verifier(), &Nonce::new(pending.nonce)).map_err(refused)?;
        let subject = format!("{} {}", self.oidc()?.issuer, claims.subject().as_str());
        let (mut email, mut vouched) = (claims.email().map(|e| e.to_string()), claims.email_verified());
        if email.is_none() {
            // Conforming providers may keep scope claims for the userinfo endpoint.
            let info: openidconnect::core::CoreUserInfoClaims = client
                .user_info(token.access_token().clone(), Some(claims.subject().clone()))
                .map_err(unavailable)?
                .request_async(&http)
                .await
                .map_err(refused)?;
            (email, vouched) = (info.email().map(|e| e.to_string()), info.email_verified());
        }
        let email = email.map(|e| e.to_lowercase());
        let vouched = vouched.unwrap_or(false);
        let user = self.oidc_account(&subject, email, vouched).await?;
        self.start_session(user, guest, address).await
    }

    /// The account of an identity: found, or made for a vouched-for address nobody holds.
    async fn oidc_account(&self, subject: &str, email: Option<String>, vouched: bool) -> Result<UserRecord> {
        if let Some(user) = self.meta.user_by_oidc_subject(subject).await? {
            return Ok(user);
        }
        let email = email.ok_or_else(|| {
            Error::rejected(ErrorCode::Forbidden, "the sign-in provider gave no email address; allow ScanPro to see it")
        })?;
        if !vouched {
            return Err(Error::rejected(
                ErrorCode::Forbidden,
                "the sign-in provider does not confirm this email address",
            ));
        }
        if self.meta.user_by_email(&email).await?.is_some() {
            return Err(Error::rejected(
                ErrorCode::Conflict,
                "an account with this email already exists: sign in with its password",
            ));
        }
        let now = Utc::now();
        let user = UserRecord {
            id: UserId::new(),
            email,
            password_hash: None,
            role: Role::User,
            plan: self.accounts().default_plan.clone(),
            email_verified: true,
            disabled: false,
            operations_limit: None,
            storage_limit: None,
            oidc_subject: Some(subject.to_owned()),
            created_at: now,
            updated_at: now,
        };
        self.meta.insert_user(&user).await?;
        self.audit(&format!("user:{}", user.id), "registered_sso", None, None, None).await;
        Ok(user)
    }

    /// The provider's name, when single sign-on is set up.
    pub fn oidc_name(&self) -> Option<&str> {
        self.accounts().oidc.as_ref().map(|o| o.name.as_str())
    }
}
