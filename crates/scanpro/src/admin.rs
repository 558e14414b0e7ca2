//! `scanpro admin`: account administration from the server's host, for what the API cannot do
//! yet (the first admin).

use crate::config::Config;
use anyhow::Context;
use scanpro_core::accounts::Role;
use scanpro_pipeline::accounts::sign_in::{Registration, create_user};
use scanpro_store::Meta;
use std::io::BufRead;

#[derive(clap::Subcommand)]
pub enum AdminCommand {
    /// Make an account, active at once; its password is read from standard input.
    CreateUser {
        #[arg(long)]
        email: String,
        /// user or admin.
        #[arg(long, default_value = "user")]
        role: Role,
    },
}

pub fn run(config: Config, command: AdminCommand) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let meta = Meta::connect(&config.database_url()).await.context("connecting to the database")?;
        match meta.backend() {
            // The embedded database belongs to this host: bring it up to date like `serve` does.
            scanpro_store::meta::Backend::Sqlite => meta.migrate().await.context("migrating")?,
            scanpro_store::meta::Backend::Postgres => meta.check_schema().await.context("checking the schema")?,
        }
        match command {
            AdminCommand::CreateUser { email, role } => {
                let password = read_password()?;
                let registration = Registration { email: &email, password: &password, role };
                let user = create_user(&meta, registration, &config.default_plan, true)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
                println!("created {} {} ({})", user.role, user.email, user.id);
            }
        }
        Ok(())
    })
}

/// The first line of standard input, without its line end.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        anyhow::bail!(
            "give the password on standard input, e.g. `printf '%s' \"$PASSWORD\" | scanpro admin create-user …`"
        );
    }
    Ok(password)
}
