//! Deterministic demo data: realistic machine and AI identities with owners, some
//! orphans, some expired. The same seed and clock give the same data, so screenshots,
//! tests and benchmarks are repeatable. Generation streams in batches, so a million
//! identities never sit in memory at once.

//!
//! `generate` makes the rows (pure, deterministic); `seed` writes them in batches;
//! `accounts` adds one sign-in account per role and the tour's agent and policy.

mod accounts;
mod generate;

pub use accounts::*;
pub use generate::*;

use chrono::{DateTime, Utc};
use steward_domain::delegation::DelegationKind;
use steward_domain::inventory::IdentityKind;
use steward_domain::DomainError;
use uuid::Uuid;

use crate::store::inventory::NewIdentity;
use crate::store::{Store, StoreError};
use generate::TEAMS;

/// How many owners a demo register of `identities` gets.
pub fn people_for(identities: u64) -> usize {
    (identities / 40).clamp(10, 25_000) as usize
}

/// Rows generated and written per transaction.
const BATCH: u64 = 10_000;

/// Fills an empty register with `identities` demo identities and their owners.
/// `progress` is told how many identities are written so far.
pub async fn seed(
    store: &Store,
    identities: u64,
    seed: u64,
    now: DateTime<Utc>,
    mut progress: impl FnMut(u64),
) -> Result<(), DemoError> {
    let existing = store.count_identities().await?;
    if existing > 0 {
        return Err(DemoError::NotEmpty(existing));
    }
    let mut rng = Rng::new(seed);
    store.ensure_teams(TEAMS, now).await?;
    let people = generate_people(&mut rng, people_for(identities), now);
    store.insert_people(&people).await?;
    let owners: Vec<Uuid> = people.iter().map(|p| p.id).collect();
    let mut written = 0;
    while written < identities {
        let batch: Vec<NewIdentity> = (written..identities.min(written + BATCH))
            .map(|index| generate_identity(&mut rng, index + 1, &owners, now))
            .collect();
        let mut credentials = Vec::new();
        let mut entitlements = Vec::new();
        let mut delegations = Vec::new();
        // Delegations point from later identities to earlier ones, so they never cycle:
        // agents act through a recent machine identity, orchestrators hand work to a
        // recent agent.
        let mut last_machine: Option<Uuid> = None;
        let mut last_agent: Option<Uuid> = None;
        for identity in &batch {
            let (c, e) = generate_access(&mut rng, identity, now);
            credentials.extend(c);
            entitlements.extend(e);
            match identity.kind {
                IdentityKind::Agent | IdentityKind::LlmApp => {
                    if let Some(to) = last_machine.filter(|_| rng.chance(60)) {
                        delegations.push((
                            identity.id,
                            to,
                            DelegationKind::ActsAs,
                            identity.created_at,
                        ));
                    }
                    if identity.kind == IdentityKind::Agent {
                        last_agent = Some(identity.id);
                    }
                }
                IdentityKind::Orchestrator => {
                    if let Some(to) = last_agent.filter(|_| rng.chance(80)) {
                        delegations.push((
                            identity.id,
                            to,
                            DelegationKind::SubAgent,
                            identity.created_at,
                        ));
                    }
                }
                IdentityKind::ServiceAccount | IdentityKind::Workload => {
                    last_machine = Some(identity.id)
                }
                _ => {}
            }
        }
        store.insert_identities(&batch).await?;
        store
            .insert_access(&credentials, &entitlements, &delegations)
            .await?;
        written += batch.len() as u64;
        progress(written);
    }
    store.analyze().await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the register already holds {0} identities; demo data is only generated into an empty database (point DATABASE_URL at a new one)")]
    NotEmpty(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot create the demo accounts: {0}")]
    Users(DomainError),
    #[error("no randomness for a demo password: {0}")]
    Random(String),
    #[error("cannot add the tour's agent and grant policy: {0}")]
    Tour(DomainError),
}
