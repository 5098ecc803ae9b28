//! `steward user …` and `steward token create`: the people who sign in and their API
//! tokens, managed from the command line (audited as `system:cli`).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::Subcommand;
use steward_domain::auth::Role;

use super::{open, CLI_ACTOR};
use crate::config::DatabaseConfig;
use crate::services::Services;

#[derive(Debug, Subcommand)]
pub(super) enum UserCommand {
    /// Add a user who signs in with a password, read from standard input.
    Add {
        #[arg(long)]
        email: String,
        /// admin, owner, viewer or auditor.
        #[arg(long)]
        role: Role,
        /// Display name (default: the part of the email before the @).
        #[arg(long)]
        name: Option<String>,
    },
    /// Set a user's password (read from standard input); also lifts a sign-in lockout.
    SetPassword {
        #[arg(long)]
        email: String,
    },
    /// Change a user's role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: Role,
    },
    /// Link a user to a single sign-on account (its subject at the configured issuer).
    /// Steward never links an account with a local password, or one already bound to
    /// another subject, by email on its own: an operator does it here, audited.
    LinkSso {
        #[arg(long)]
        email: String,
        /// The account's `sub` at the provider (Microsoft Entra ID: `TENANT/OID`).
        #[arg(long)]
        subject: String,
        /// The provider's issuer URL (default: STEWARD_OIDC_ISSUER).
        #[arg(long, env = "STEWARD_OIDC_ISSUER", hide_env_values = true)]
        issuer: String,
    },
    /// Let a user bound to single sign-on also sign in with a local password (an
    /// emergency account while the provider is down), or take that away (`--off`).
    BreakGlass {
        #[arg(long)]
        email: String,
        #[arg(long)]
        off: bool,
    },
    /// Remove a user's authenticator and recovery codes (a lost phone): they set up a
    /// new one at their next sign-in. Audited.
    ResetSecondFactor {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum TokenCommand {
    /// Create a token; prints the secret once.
    Create {
        /// The user the token acts as (an admin or owner).
        #[arg(long)]
        email: String,
        /// What the token is for, e.g. ci-inventory-sync.
        #[arg(long)]
        name: String,
        /// Comma-separated: inventory:read, audit:read, tokens:write.
        #[arg(long)]
        scopes: String,
        /// Lifetime in days (1-365).
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
}

/// Reads a password: hidden at a terminal, else the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password (at least 12 characters): ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    Ok(password)
}

/// `steward user …`.
pub(super) async fn user(
    database: &DatabaseConfig,
    command: UserCommand,
) -> anyhow::Result<ExitCode> {
    let store = open(database).await?;
    let services = Services::new(store.clone());
    let result = match command {
        UserCommand::Add { email, role, name } => {
            let password = read_password()?;
            services
                .auth
                .add_user(CLI_ACTOR, &email, name.as_deref(), role, &password)
                .await
                .map(|_| println!("Added {} as {role}.", email.trim().to_lowercase()))
        }
        UserCommand::SetRole { email, role } => services
            .auth
            .set_role(CLI_ACTOR, &email, role)
            .await
            .map(|before| {
                println!(
                    "{} was {before}, is now {role}.",
                    email.trim().to_lowercase()
                )
            }),
        UserCommand::LinkSso {
            email,
            subject,
            issuer,
        } => services
            .auth
            .link_sso(CLI_ACTOR, &email, &issuer, &subject)
            .await
            .map(|()| {
                println!(
                    "{} is linked to {subject} at {issuer}.",
                    email.trim().to_lowercase()
                )
            }),
        UserCommand::BreakGlass { email, off } => services
            .auth
            .set_break_glass(CLI_ACTOR, &email, !off)
            .await
            .map(|()| {
                println!(
                    "{} {} sign in with a local password while bound to single sign-on.",
                    email.trim().to_lowercase(),
                    if off { "may no longer" } else { "may" }
                )
            }),
        UserCommand::ResetSecondFactor { email } => {
            match services.auth.principal_by_email(&email).await {
                Ok(user) => services
                    .second_factor
                    .reset(CLI_ACTOR, user.user_id, &user.email)
                    .await
                    .map(|()| {
                        println!(
                            "{} sets up a new authenticator at their next sign-in.",
                            user.email
                        )
                    }),
                Err(error) => Err(error),
            }
        }
        UserCommand::SetPassword { email } => {
            let password = read_password()?;
            services
                .auth
                .set_password(CLI_ACTOR, &email, &password)
                .await
                .map(|()| println!("Password of {} changed.", email.trim().to_lowercase()))
        }
    };
    store.close().await;
    result?;
    Ok(ExitCode::SUCCESS)
}

/// `steward token create`.
pub(super) async fn token(
    database: &DatabaseConfig,
    command: TokenCommand,
) -> anyhow::Result<ExitCode> {
    let TokenCommand::Create {
        email,
        name,
        scopes,
        days,
    } = command;
    let store = open(database).await?;
    let services = Services::new(store.clone());
    let result = async {
        let principal = services.auth.principal_by_email(&email).await?;
        let request = steward_domain::tokens::NewTokenRequest {
            name,
            scopes: steward_domain::tokens::parse_scopes(&scopes)?,
            expires_in_days: days,
            agent_id: None,
            environment: None,
        };
        services.tokens.create(Some(&principal), &request).await
    }
    .await;
    store.close().await;
    let created = result?;
    println!("{}", created.token);
    eprintln!(
        "Token '{}' ({}) for {} expires {}. This is the only time it is shown.",
        created.info.name,
        created
            .info
            .scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        created.info.owner_email,
        created.info.expires_at.format("%Y-%m-%d")
    );
    Ok(ExitCode::SUCCESS)
}
