//! The day's snapshot: the numbers a full evaluation tallies while it walks the
//! register (by class, age buckets, top lists) and the tally that builds it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::identity::RotationState;
use crate::inventory::ActorClass;
use crate::posture::catalog::Catalog;
use crate::posture::checks::Subject;
use crate::posture::findings::Reconciled;

/// Credential age buckets, in days since the secret was last set: `[from, to)`.
pub const AGE_BUCKETS: &[(u32, Option<u32>)] = &[
    (0, Some(30)),
    (30, Some(90)),
    (90, Some(180)),
    (180, Some(365)),
    (365, None),
];

/// The label of an age bucket, e.g. `90–180 days`.
pub fn age_bucket_label(bucket: (u32, Option<u32>)) -> String {
    match bucket {
        (from, Some(to)) => format!("{from}–{to} days"),
        (from, None) => format!("over {from} days"),
    }
}

/// At most this many teams and owners are kept per snapshot (the ones with the most
/// open findings).
pub const TOP: usize = 15;

/// A number per actor class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ByClass {
    pub machine: u64,
    pub ai: u64,
}

impl ByClass {
    pub fn get(&self, class: ActorClass) -> u64 {
        match class {
            ActorClass::Machine => self.machine,
            ActorClass::Ai => self.ai,
        }
    }

    fn add(&mut self, class: ActorClass) {
        match class {
            ActorClass::Machine => self.machine += 1,
            ActorClass::Ai => self.ai += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.machine + self.ai
    }
}

/// The posture on one day, as a full evaluation saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Snapshot {
    pub taken_at: DateTime<Utc>,
    pub catalog_version: String,
    /// Identities evaluated (all but retired ones).
    pub identities: ByClass,
    /// Of those: an active owner, an expiry and a revocation path.
    pub governed: ByClass,
    /// Not used for the `unused` check's number of days.
    pub stale: ByClass,
    pub open_by_check: BTreeMap<String, u64>,
    pub accepted_by_check: BTreeMap<String, u64>,
    /// Open findings per team (`""`: no team), the [`TOP`] largest.
    pub open_by_team: Vec<(String, u64)>,
    /// Open findings per owner's email (`""`: no owner), the [`TOP`] largest.
    pub open_by_owner: Vec<(String, u64)>,
    /// Active credentials per [`AGE_BUCKETS`] entry.
    pub credential_age: Vec<u64>,
}

impl Snapshot {
    pub fn open(&self) -> u64 {
        self.open_by_check.values().sum()
    }

    pub fn accepted(&self) -> u64 {
        self.accepted_by_check.values().sum()
    }

    /// Governed identities of a class as a percentage (100 when there are none).
    pub fn governed_percent(&self, class: Option<ActorClass>) -> f64 {
        let (governed, all) = match class {
            Some(class) => (self.governed.get(class), self.identities.get(class)),
            None => (self.governed.total(), self.identities.total()),
        };
        if all == 0 {
            100.0
        } else {
            governed as f64 * 100.0 / all as f64
        }
    }

    /// Open findings of the checks that evidence `control`.
    pub fn open_for_control(&self, catalog: &Catalog, control: &str) -> u64 {
        catalog
            .checks_for(control)
            .map(|check| self.open_by_check.get(&check.id).copied().unwrap_or(0))
            .sum()
    }

    pub fn accepted_for_control(&self, catalog: &Catalog, control: &str) -> u64 {
        catalog
            .checks_for(control)
            .map(|check| self.accepted_by_check.get(&check.id).copied().unwrap_or(0))
            .sum()
    }
}

/// Sums up identities one by one during a full evaluation.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    identities: ByClass,
    governed: ByClass,
    stale: ByClass,
    open_by_check: BTreeMap<String, u64>,
    accepted_by_check: BTreeMap<String, u64>,
    open_by_team: BTreeMap<String, u64>,
    open_by_owner: BTreeMap<String, u64>,
    credential_age: [u64; AGE_BUCKETS.len()],
}

impl Tally {
    /// Counts one identity with its findings after reconciling. Retired identities
    /// are not counted.
    pub fn add(
        &mut self,
        subject: &Subject,
        team: Option<&str>,
        owner_email: Option<&str>,
        findings: &Reconciled,
        now: DateTime<Utc>,
    ) {
        if subject.status == crate::inventory::IdentityStatus::Retired {
            return;
        }
        let class = subject.kind.actor_class();
        self.identities.add(class);
        let revocable = subject
            .revocation_path
            .as_deref()
            .is_some_and(|p| !p.trim().is_empty());
        if subject.owner_active == Some(true) && subject.expires_at.is_some() && revocable {
            self.governed.add(class);
        }
        if findings
            .open
            .iter()
            .chain(&findings.accepted)
            .any(|c| c == "unused")
        {
            self.stale.add(class);
        }
        for check in &findings.open {
            *self.open_by_check.entry(check.clone()).or_default() += 1;
        }
        for check in &findings.accepted {
            *self.accepted_by_check.entry(check.clone()).or_default() += 1;
        }
        let open = findings.open.len() as u64;
        if open > 0 {
            *self
                .open_by_team
                .entry(team.unwrap_or_default().to_owned())
                .or_default() += open;
            *self
                .open_by_owner
                .entry(owner_email.unwrap_or_default().to_owned())
                .or_default() += open;
        }
        for credential in &subject.credentials {
            if matches!(
                credential.rotation_state(now),
                RotationState::Revoked | RotationState::Expired
            ) {
                continue;
            }
            let age = u32::try_from(credential.age_days(now).max(0)).unwrap_or(u32::MAX);
            if let Some(bucket) = AGE_BUCKETS
                .iter()
                .position(|(from, to)| age >= *from && to.is_none_or(|to| age < to))
            {
                self.credential_age[bucket] += 1;
            }
        }
    }

    pub fn finish(self, catalog: &Catalog, taken_at: DateTime<Utc>) -> Snapshot {
        fn top(map: BTreeMap<String, u64>) -> Vec<(String, u64)> {
            let mut all: Vec<(String, u64)> = map.into_iter().collect();
            all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            all.truncate(TOP);
            all
        }
        Snapshot {
            taken_at,
            catalog_version: catalog.version.clone(),
            identities: self.identities,
            governed: self.governed,
            stale: self.stale,
            open_by_check: self.open_by_check,
            accepted_by_check: self.accepted_by_check,
            open_by_team: top(self.open_by_team),
            open_by_owner: top(self.open_by_owner),
            credential_age: self.credential_age.to_vec(),
        }
    }
}
