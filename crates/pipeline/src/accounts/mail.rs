//! Emails out: over SMTP when `smtp_url` is set, else into the log (accounts are then active
//! at once, since nobody could follow a link).

/// Where emails go.
#[derive(Debug, Clone)]
pub enum Mailer {
    /// Written to the log at `info`.
    Log,
    Smtp(Box<SmtpMailer>),
}

#[derive(Debug, Clone)]
pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("smtp_url: {0}")]
    Url(#[source] lettre::transport::smtp::Error),
    #[error("mail_from: {0}")]
    From(#[source] lettre::address::AddressError),
    #[error("the recipient {0:?} is not an address")]
    To(String),
    #[error("building the message: {0}")]
    Message(#[source] lettre::error::Error),
    #[error("sending: {0}")]
    Send(#[source] lettre::transport::smtp::Error),
}

impl Mailer {
    /// `smtp://host:port` (plain, for a relay on the host), `smtp://…?tls=required` or
    /// `smtps://host` (TLS), with `user:password@` when the server wants them.
    pub fn smtp(url: &str, from: &str) -> Result<Self, MailError> {
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(MailError::Url)?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from.parse().map_err(MailError::From)?;
        Ok(Self::Smtp(Box::new(SmtpMailer { transport, from })))
    }

    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        match self {
            Self::Log => {
                tracing::info!(to, subject, body, "email (no smtp_url: written here instead of sent)");
                Ok(())
            }
            Self::Smtp(smtp) => {
                use lettre::AsyncTransport;
                let message = lettre::Message::builder()
                    .from(smtp.from.clone())
                    .to(to.parse().map_err(|_| MailError::To(to.to_owned()))?)
                    .subject(subject)
                    .header(lettre::message::header::ContentType::TEXT_PLAIN)
                    .body(body.to_owned())
                    .map_err(MailError::Message)?;
                smtp.transport.send(message).await.map_err(MailError::Send)?;
                Ok(())
            }
        }
    }
}
