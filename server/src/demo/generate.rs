//! The generator: a deterministic random source and the people, identities,
//! credentials, entitlements and delegations it makes from it — no IO, so the same seed
//! and clock always give the same rows.

use chrono::{DateTime, Duration, Utc};
use steward_domain::identity::{
    Autonomy, CredentialKind, GrantType, OwnershipState, Privilege, Sensitivity,
};
use steward_domain::inventory::{IdentityKind, IdentityStatus, Source};
use uuid::Uuid;

use crate::store::inventory::NewIdentity;
use crate::store::ownership::people::NewPerson;
use crate::store::ownership::{NewCredentialRow, NewEntitlementRow};

/// SplitMix64: tiny, fast and fully deterministic across platforms.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Picks by integer weights.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, u64)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut roll = self.below(total);
        for (item, weight) in items {
            if roll < *weight {
                return *item;
            }
            roll -= weight;
        }
        items[items.len() - 1].0
    }

    pub fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A time-ordered id (UUID version 7) whose time is `sequence` milliseconds after a
    /// fixed start: identities made one after another get ids in the same order, as
    /// Steward's own ids are (`Uuid::now_v7`).
    pub fn ordered_uuid(&mut self, sequence: u64) -> Uuid {
        const START_MS: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        random[8..].copy_from_slice(&self.next_u64().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(START_MS + sequence, &random).into_uuid()
    }
}

const FIRST_NAMES: &[&str] = &[
    "Ada", "Bilal", "Chen", "Dana", "Emeka", "Farah", "Gustav", "Hana", "Ines", "Jonas", "Kemal",
    "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Samir", "Tove", "Uma",
    "Viktor", "Wen", "Ximena", "Yusuf", "Zoe",
];
const LAST_NAMES: &[&str] = &[
    "Okafor",
    "Lindqvist",
    "Nakamura",
    "Haddad",
    "Kowalski",
    "Moreau",
    "Schmidt",
    "Alvarez",
    "Novak",
    "Petrov",
    "Rossi",
    "Singh",
    "Tanaka",
    "Walsh",
    "Yilmaz",
    "Zhang",
    "Costa",
    "Dubois",
];
pub(super) const TEAMS: &[&str] = &[
    "payments",
    "identity",
    "platform",
    "data",
    "growth",
    "support",
    "security",
    "finance",
    "ml-platform",
    "sre",
];
const APPS: &[&str] = &[
    "billing",
    "ledger",
    "checkout",
    "search",
    "catalog",
    "notifications",
    "reporting",
    "auth",
    "inventory",
    "shipping",
    "pricing",
    "fraud",
    "analytics",
    "onboarding",
    "risk",
];
const COMPONENTS: &[&str] = &[
    "api",
    "worker",
    "scheduler",
    "etl",
    "gateway",
    "cron",
    "consumer",
];
const PIPELINES: &[&str] = &["build", "deploy", "release", "terraform-apply", "nightly"];
const VENDORS: &[&str] = &[
    "slack",
    "datadog",
    "pagerduty",
    "snyk",
    "jira",
    "salesforce",
    "sentry",
    "zendesk",
    "okta",
    "snowflake",
];
const PARTNERS: &[&str] = &[
    "acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne",
];
const AGENT_TASKS: &[(&str, &str)] = &[
    (
        "invoice-triage",
        "Triage incoming supplier invoices and route exceptions to accounts payable",
    ),
    (
        "support-reply",
        "Draft first replies to customer support tickets for human approval",
    ),
    (
        "code-review",
        "Review pull requests for security issues and suggest fixes",
    ),
    (
        "incident-summary",
        "Summarise production incidents from alerts, logs and chat",
    ),
    (
        "lead-scoring",
        "Score inbound sales leads from CRM activity",
    ),
    (
        "contract-review",
        "Flag non-standard clauses in vendor contracts",
    ),
    (
        "access-request",
        "Answer employees' access requests against the policy catalogue",
    ),
    (
        "cost-optimiser",
        "Find idle cloud resources and open tickets to remove them",
    ),
];
const ENVIRONMENTS: &[(&str, u64)] = &[("prod", 45), ("staging", 25), ("dev", 25), ("sandbox", 5)];

/// People who own and sponsor the demo identities.
pub fn generate_people(rng: &mut Rng, count: usize, now: DateTime<Utc>) -> Vec<NewPerson> {
    (0..count)
        .map(|index| {
            let first = rng.pick(FIRST_NAMES);
            let last = rng.pick(LAST_NAMES);
            NewPerson {
                id: rng.uuid(),
                display_name: format!("{first} {last}"),
                // The index keeps addresses unique however many people there are.
                email: format!(
                    "{}.{}{}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    index + 1
                ),
                team: Some((*rng.pick(TEAMS)).to_owned()),
                // A few owners have left: their identities need a new owner.
                active: !rng.chance(5),
                created_at: now - Duration::days(400 + rng.below(1500) as i64),
            }
        })
        .collect()
}

/// One demo identity; `index` makes names and external ids unique.
pub fn generate_identity(
    rng: &mut Rng,
    index: u64,
    owners: &[Uuid],
    now: DateTime<Utc>,
) -> NewIdentity {
    use IdentityKind::*;
    let ai = rng.chance(30);
    let kind = if ai {
        rng.weighted(&[
            (Agent, 50),
            (Orchestrator, 15),
            (LlmApp, 20),
            (AssistantSession, 15),
        ])
    } else {
        rng.weighted(&[
            (ServiceAccount, 35),
            (Workload, 30),
            (CiRunner, 15),
            (Integration, 12),
            (ApiClient, 8),
        ])
    };
    let team = *rng.pick(TEAMS);
    let app = *rng.pick(APPS);
    let environment = rng.weighted(ENVIRONMENTS).to_owned();
    let mut purpose = None;
    let (base, source) = match kind {
        ServiceAccount => (
            format!("{team}-{app}-sa"),
            *rng.pick(&[Source::Aws, Source::Gcp, Source::Azure]),
        ),
        Workload => (
            format!("{app}-{}", rng.pick(COMPONENTS)),
            Source::Kubernetes,
        ),
        CiRunner => (format!("gha-{app}-{}", rng.pick(PIPELINES)), Source::Github),
        Integration => (
            format!("{}-integration", rng.pick(VENDORS)),
            *rng.pick(&[Source::Github, Source::Manual]),
        ),
        ApiClient => (
            format!("{}-api-client", rng.pick(PARTNERS)),
            *rng.pick(&[Source::Manual, Source::Azure]),
        ),
        Agent | Orchestrator | LlmApp | AssistantSession => {
            let (task, why) = *rng.pick(AGENT_TASKS);
            purpose = Some(why.to_owned());
            let base = match kind {
                Agent => format!("{task}-agent"),
                Orchestrator => format!("{task}-orchestrator"),
                LlmApp => format!("{task}-copilot"),
                _ => format!("{task}-session"),
            };
            (
                base,
                *rng.pick(&[Source::Manual, Source::Azure, Source::Gcp, Source::Aws]),
            )
        }
    };
    let name = format!("{base}-{index}");
    let external_id = match source {
        Source::Aws => Some(format!(
            "arn:aws:iam::{:012}:{}/{name}",
            100_000_000_000 + rng.below(900_000_000_000),
            if kind == ServiceAccount {
                "user"
            } else {
                "role"
            }
        )),
        Source::Gcp => Some(format!(
            "{name}@{team}-{environment}.iam.gserviceaccount.com"
        )),
        Source::Azure => Some(rng.uuid().to_string()),
        Source::Kubernetes => Some(format!("system:serviceaccount:{team}-{environment}:{name}")),
        Source::Github => Some(format!("example-org/{app}:{name}")),
        Source::Manual | Source::Steward => None,
    };
    let created_at = now - Duration::days(30 + rng.below(1500) as i64);
    // Most identities have an expiry; some expired already, some machine ones have none.
    let expires_at = if !ai && rng.chance(10) {
        None
    } else if rng.chance(8) {
        Some(now - Duration::days(1 + rng.below(180) as i64))
    } else {
        Some(now + Duration::days(1 + rng.below(365) as i64))
    };
    let last_used_at = if rng.chance(10) {
        None
    } else {
        let span = (now - created_at).num_minutes().max(1) as u64;
        Some(created_at + Duration::minutes(rng.below(span) as i64))
    };
    let status = rng.weighted(&[
        (IdentityStatus::Active, 88),
        (IdentityStatus::Suspended, 7),
        (IdentityStatus::Retired, 5),
    ]);
    let owner_id = if owners.is_empty() || rng.chance(8) {
        None
    } else {
        Some(*rng.pick(owners))
    };
    let sponsor_id = if owners.len() < 2 || rng.chance(30) {
        None
    } else {
        Some(*rng.pick(owners)).filter(|s| Some(*s) != owner_id)
    };
    let spiffe_id = (source == Source::Kubernetes || (kind == Agent && rng.chance(40)))
        .then(|| format!("spiffe://{environment}.example.com/ns/{team}/sa/{name}"));
    let revocation_path = (!rng.chance(12)).then(|| {
        format!(
            "https://runbooks.example.com/revoke/{}#{team}",
            source.as_str()
        )
    });
    let (autonomy, sensitivity_ceiling) = if ai {
        (
            Some(rng.weighted(&[
                (Autonomy::None, 20),
                (Autonomy::Supervised, 55),
                (Autonomy::Autonomous, 25),
            ])),
            Some(rng.weighted(&[
                (Sensitivity::Public, 10),
                (Sensitivity::Internal, 50),
                (Sensitivity::Confidential, 30),
                (Sensitivity::Restricted, 10),
            ])),
        )
    } else {
        (None, None)
    };
    NewIdentity {
        id: rng.ordered_uuid(index),
        name,
        kind,
        source,
        external_id,
        environment,
        status,
        status_reason: None,
        owner_id,
        sponsor_id,
        team: Some(team.to_owned()),
        purpose,
        autonomy,
        sensitivity_ceiling,
        spiffe_id,
        revocation_path,
        ownership_state: owner_id.map(|_| OwnershipState::Accepted),
        expires_at,
        created_at,
        last_used_at,
        updated_at: None,
    }
}

/// Credentials (metadata only) and entitlements of a demo identity, in proportion:
/// machine identities hold one or two secrets, AI identities mostly federate.
pub fn generate_access(
    rng: &mut Rng,
    identity: &NewIdentity,
    now: DateTime<Utc>,
) -> (Vec<NewCredentialRow>, Vec<NewEntitlementRow>) {
    let ai = identity.kind.actor_class() == steward_domain::inventory::ActorClass::Ai;
    let count = if ai { rng.below(2) } else { 1 + rng.below(2) };
    let credentials = (0..count)
        .map(|n| {
            let kind = match identity.source {
                Source::Aws => CredentialKind::AccessKey,
                Source::Azure | Source::Gcp if rng.chance(50) => CredentialKind::Certificate,
                Source::Azure | Source::Gcp => CredentialKind::ClientSecret,
                Source::Kubernetes => CredentialKind::Federated,
                Source::Github => CredentialKind::ApiToken,
                _ => *rng.pick(&[
                    CredentialKind::ApiToken,
                    CredentialKind::SshKey,
                    CredentialKind::ClientSecret,
                ]),
            };
            let created_at = identity.created_at + Duration::days(rng.below(30) as i64);
            let age = (now - created_at).num_days().max(1) as u64;
            NewCredentialRow {
                id: rng.uuid(),
                identity_id: identity.id,
                kind,
                key_id: format!("{}-{:016x}-{n}", kind.as_str(), rng.next_u64()),
                created_at,
                last_rotated_at: (rng.chance(60))
                    .then(|| now - Duration::days(rng.below(age) as i64)),
                expires_at: (rng.chance(50))
                    .then(|| now + Duration::days(rng.below(400) as i64 - 30)),
                last_used_at: identity.last_used_at,
                rotation_days: (rng.chance(70)).then(|| *rng.pick(&[30u32, 90, 180, 365])),
                revoked_at: (identity.status == IdentityStatus::Retired).then_some(now),
            }
        })
        .collect();
    let entitlements = (0..1 + rng.below(4))
        .map(|_| {
            let privilege = rng.weighted(&[
                (Privilege::Read, 60),
                (Privilege::Write, 30),
                (Privilege::Admin, 10),
            ]);
            let action = match privilege {
                Privilege::Read => "read",
                Privilege::Write => "write",
                Privilege::Admin => "admin",
            };
            NewEntitlementRow {
                id: rng.uuid(),
                identity_id: identity.id,
                resource: format!("{}-db", rng.pick(APPS)),
                action: action.to_owned(),
                privilege,
                grant_type: if rng.chance(10) {
                    GrantType::JustInTime
                } else {
                    GrantType::Standing
                },
                created_at: identity.created_at,
            }
        })
        .collect();
    (credentials, entitlements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use steward_domain::inventory::ActorClass;

    fn sample(n: u64) -> Vec<NewIdentity> {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut rng = Rng::new(42);
        let people = generate_people(&mut rng, 50, now);
        let owners: Vec<Uuid> = people.iter().map(|p| p.id).collect();
        (1..=n)
            .map(|i| generate_identity(&mut rng, i, &owners, now))
            .collect()
    }

    #[test]
    fn same_seed_same_data() {
        assert_eq!(sample(200), sample(200));
    }

    #[test]
    fn data_is_varied_like_a_real_register() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let ids = sample(2000);
        let ai = ids
            .iter()
            .filter(|i| i.kind.actor_class() == ActorClass::Ai)
            .count();
        let orphans = ids.iter().filter(|i| i.owner_id.is_none()).count();
        let expired = ids
            .iter()
            .filter(|i| i.expires_at.is_some_and(|at| at <= now))
            .count();
        assert!((400..800).contains(&ai), "ai share {ai}");
        assert!((60..260).contains(&orphans), "orphans {orphans}");
        assert!((60..260).contains(&expired), "expired {expired}");
        for kind in IdentityKind::ALL {
            assert!(ids.iter().any(|i| i.kind == *kind), "no {kind}");
        }
        let mut names: Vec<_> = ids.iter().map(|i| &i.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ids.len(), "names are unique");
        assert!(ids
            .iter()
            .filter(|i| i.kind.actor_class() == ActorClass::Ai)
            .all(|i| i.purpose.is_some() && i.expires_at.is_some()));
    }

    #[test]
    fn people_have_unique_emails() {
        let mut rng = Rng::new(1);
        let people = generate_people(&mut rng, 1000, Utc::now());
        let mut emails: Vec<_> = people.iter().map(|p| &p.email).collect();
        emails.sort();
        emails.dedup();
        assert_eq!(emails.len(), 1000);
    }
}
