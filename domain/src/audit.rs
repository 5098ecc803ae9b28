//! The tamper-evident audit trail: each event's hash covers its content and the hash of
//! the event before it, so changing, removing or reordering any event breaks the chain
//! from that point on.

use crate::string_enum::string_enum;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

string_enum! {
    /// What an audit event records: one closed list, so a new kind of change is named
    /// once here and every writer spells it the same way. Stored as its text (the
    /// trail keeps the text of actions from earlier versions as they were written).
    pub enum AuditAction: "audit action" {
        AuditCheckpoint = "audit.checkpoint",
        AuthLogin = "auth.login",
        AuthLoginFailed = "auth.login_failed",
        AuthLoginRefused = "auth.login_refused",
        AuthLogout = "auth.logout",
        AuthRecoveryCodeUsed = "auth.recovery_code_used",
        AuthSecondFactorEnrolled = "auth.second_factor_enrolled",
        AuthSecondFactorReset = "auth.second_factor_reset",
        AuthzLimits = "authz.limits",
        AuthzModeChange = "authz.mode_change",
        AuthzPolicyCreate = "authz.policy_create",
        AuthzPolicyDelete = "authz.policy_delete",
        AuthzPolicyUpdate = "authz.policy_update",
        AuthzSensitivityDelete = "authz.sensitivity_delete",
        AuthzSensitivityImport = "authz.sensitivity_import",
        AuthzSensitivitySet = "authz.sensitivity_set",
        CampaignClose = "campaign.close",
        CampaignCreate = "campaign.create",
        CampaignDecide = "campaign.decide",
        CampaignEscalate = "campaign.escalate",
        CampaignEvidence = "campaign.evidence",
        CampaignLaunch = "campaign.launch",
        CampaignReassign = "campaign.reassign",
        CampaignRemediate = "campaign.remediate",
        CampaignRemind = "campaign.remind",
        CampaignSchedule = "campaign.schedule",
        CredentialAdd = "credential.add",
        CredentialRevoke = "credential.revoke",
        DelegationAdd = "delegation.add",
        DelegationRemove = "delegation.remove",
        EntitlementAdd = "entitlement.add",
        EntitlementRemove = "entitlement.remove",
        FindingAcceptRisk = "finding.accept_risk",
        FindingReopen = "finding.reopen",
        FindingsUpdate = "findings.update",
        GrantActivate = "grant.activate",
        GrantApprove = "grant.approve",
        GrantCancel = "grant.cancel",
        GrantCredential = "grant.credential",
        GrantCredentialExchange = "grant.credential_exchange",
        GrantCredentialRevoke = "grant.credential_revoke",
        GrantDeny = "grant.deny",
        GrantExpire = "grant.expire",
        GrantExtend = "grant.extend",
        GrantRequest = "grant.request",
        GrantRevoke = "grant.revoke",
        GrantPolicyCreate = "grant_policy.create",
        GrantPolicyDelete = "grant_policy.delete",
        GrantPolicyUpdate = "grant_policy.update",
        IdentityAssignOwner = "identity.assign_owner",
        IdentityAssignSponsor = "identity.assign_sponsor",
        IdentityAssignmentAccept = "identity.assignment_accept",
        IdentityAssignmentDispute = "identity.assignment_dispute",
        IdentityCreate = "identity.create",
        IdentityExpiry = "identity.expiry",
        IdentityOrphaned = "identity.orphaned",
        IdentityReactivate = "identity.reactivate",
        IdentityRetire = "identity.retire",
        IdentitySuspend = "identity.suspend",
        IdentityUpdate = "identity.update",
        ImportApply = "import.apply",
        InventoryExport = "inventory.export",
        PersonDeactivate = "person.deactivate",
        PostureEvaluate = "posture.evaluate",
        TokenCreate = "token.create",
        TokenRevoke = "token.revoke",
        TrustCreate = "trust.create",
        TrustDelete = "trust.delete",
        TrustModeChange = "trust.mode_change",
        TrustUpdate = "trust.update",
        UserBreakGlass = "user.break_glass",
        UserCreate = "user.create",
        UserLinkSso = "user.link_sso",
        UserSetPassword = "user.set_password",
        UserSetRole = "user.set_role",
    }
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEvent {
    /// `user:<email>`, `token:<id> (user:<email>)`, `system`, or `anonymous`.
    pub actor: String,
    /// Dotted verb, e.g. `auth.login`, `auth.login_failed`, `token.create`.
    pub action: String,
    /// What was acted on, e.g. `user:<email>`, `token:<id>`.
    pub target: String,
    /// Before/after values and other facts; never secrets.
    pub details: serde_json::Value,
}

impl NewAuditEvent {
    pub fn new(
        actor: impl Into<String>,
        action: AuditAction,
        target: impl Into<String>,
        details: serde_json::Value,
    ) -> Self {
        NewAuditEvent {
            actor: actor.into(),
            action: action.as_str().to_owned(),
            target: target.into(),
            details,
        }
    }
}

/// A stored audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

/// SHA-256 (hex) over the canonical encoding of an event: a JSON array of its fields
/// in a fixed order, the time in RFC 3339 with microseconds, `details` with sorted keys.
pub fn event_hash(
    seq: i64,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    target: &str,
    details: &serde_json::Value,
    prev_hash: &str,
) -> String {
    let whole = serde_json::json!([
        seq,
        at.to_rfc3339_opts(SecondsFormat::Micros, true),
        actor,
        action,
        target,
        details,
        prev_hash
    ]);
    let mut canonical = String::new();
    write_canonical(&whole, &mut canonical);
    hex(&Sha256::digest(canonical.as_bytes()))
}

/// Compact JSON with every object's keys in sorted order, whatever order the value
/// holds them in (a dependency may turn on serde_json's `preserve_order`). The same
/// bytes serde_json writes for sorted maps, so hashes made before stay valid.
fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Hex encoding of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl AuditEvent {
    /// The hash this event should carry, given its content.
    pub fn expected_hash(&self) -> String {
        event_hash(
            self.seq,
            self.at,
            &self.actor,
            &self.action,
            &self.target,
            &self.details,
            &self.prev_hash,
        )
    }
}

/// Result of re-checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainReport {
    /// Number of events checked.
    pub checked: u64,
    /// The first event that does not fit, and why; `None` when the chain is intact.
    pub first_broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

/// Checks events in order, continuing from the previous batch's state.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_prev: String,
    expected_seq: i64,
    checked: u64,
    broken: Option<BrokenLink>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_prev: GENESIS_HASH.to_owned(),
            expected_seq: 1,
            checked: 0,
            broken: None,
        }
    }
}

impl ChainVerifier {
    /// Feeds the next event; returns false once the chain is broken (stop feeding).
    pub fn check(&mut self, event: &AuditEvent) -> bool {
        if self.broken.is_some() {
            return false;
        }
        let reason = if event.seq != self.expected_seq {
            Some(format!(
                "expected event {} here but found event {} (an event is missing or reordered)",
                self.expected_seq, event.seq
            ))
        } else if event.prev_hash != self.expected_prev {
            Some("its previous-hash does not match the event before it".to_owned())
        } else if event.hash != event.expected_hash() {
            Some("its content does not match its hash (the event was altered)".to_owned())
        } else {
            None
        };
        if let Some(reason) = reason {
            self.broken = Some(BrokenLink {
                seq: event.seq,
                reason,
            });
            return false;
        }
        self.checked += 1;
        self.expected_seq += 1;
        self.expected_prev = event.hash.clone();
        true
    }

    pub fn finish(self) -> ChainReport {
        ChainReport {
            checked: self.checked,
            first_broken: self.broken,
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_audit_action_is_a_dotted_lowercase_name_spelled_once() {
        let mut seen = std::collections::BTreeSet::new();
        for action in AuditAction::ALL {
            let text = action.as_str();
            let (noun, verb) = text.split_once('.').expect("noun.verb");
            for part in [noun, verb] {
                assert!(
                    !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{text}"
                );
            }
            assert!(seen.insert(text), "{text} twice");
            assert_eq!(text.parse::<AuditAction>(), Ok(*action));
        }
        assert!("test.change".parse::<AuditAction>().is_err());
    }

    use super::*;
    use chrono::TimeZone;

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, seq as u32).unwrap();
                let details = serde_json::json!({"b": 1, "a": [seq]});
                let hash = event_hash(seq, at, "user:a", "test.act", "thing:1", &details, &prev);
                let event = AuditEvent {
                    seq,
                    at,
                    actor: "user:a".into(),
                    action: "test.act".into(),
                    target: "thing:1".into(),
                    details,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                event
            })
            .collect()
    }

    fn verify(events: &[AuditEvent]) -> ChainReport {
        let mut verifier = ChainVerifier::default();
        for event in events {
            if !verifier.check(event) {
                break;
            }
        }
        verifier.finish()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let report = verify(&chain(5));
        assert_eq!(
            report,
            ChainReport {
                checked: 5,
                first_broken: None
            }
        );
    }

    #[test]
    fn altering_an_event_names_exactly_that_event() {
        let mut events = chain(5);
        events[2].target = "thing:2".into();
        let report = verify(&events);
        assert_eq!(report.checked, 2);
        let broken = report.first_broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("altered"));
    }

    #[test]
    fn removing_or_rehashing_an_event_is_detected() {
        let mut events = chain(5);
        events.remove(1);
        assert_eq!(verify(&events).first_broken.unwrap().seq, 3);

        // Re-hashing an altered event breaks the link to the next one.
        let mut events = chain(5);
        events[1].action = "forged".into();
        events[1].hash = events[1].expected_hash();
        let broken = verify(&events).first_broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("previous-hash"));
    }

    #[test]
    fn canonical_bytes_sort_keys_at_every_level() {
        // The bytes serde_json wrote for sorted maps, so events stored before still verify.
        let details: serde_json::Value =
            serde_json::from_str(r#"{"b":{"z":[1,"x\"y"],"a":null},"a":true}"#).unwrap();
        let mut canonical = String::new();
        write_canonical(&details, &mut canonical);
        assert_eq!(canonical, r#"{"a":true,"b":{"a":null,"z":[1,"x\"y"]}}"#);
    }

    #[test]
    fn key_order_in_details_does_not_change_the_hash() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let a: serde_json::Value = serde_json::from_str(r#"{"x":1,"y":2}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"y":2,"x":1}"#).unwrap();
        assert_eq!(
            event_hash(1, at, "a", "b", "c", &a, GENESIS_HASH),
            event_hash(1, at, "a", "b", "c", &b, GENESIS_HASH)
        );
    }
}

/// Filters of the audit trail listing, as URLs carry them: `actor`, `action`, `target`
/// (exact matches), `since`, `until` (RFC 3339 or `YYYY-MM-DD`), `before` (a sequence
/// number: keyset pagination, newest first) and `limit`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub before: Option<i64>,
    pub limit: u32,
}

impl AuditQuery {
    pub const DEFAULT_LIMIT: u32 = 100;
    pub const MAX_LIMIT: u32 = 1000;
    pub const PARAMS: &'static [&'static str] = &[
        "actor", "action", "target", "since", "until", "before", "limit",
    ];

    pub fn new() -> Self {
        AuditQuery {
            limit: Self::DEFAULT_LIMIT,
            ..Default::default()
        }
    }

    pub fn from_query_string(query: &str) -> Result<Self, crate::DomainError> {
        use crate::DomainError;
        let mut q = Self::new();
        for (key, value) in crate::query::parse_params(query, Self::PARAMS)? {
            match key.as_str() {
                "actor" => q.actor = Some(value),
                "action" => q.action = Some(value),
                "target" => q.target = Some(value),
                "since" => q.since = Some(parse_time("since", &value)?),
                "until" => q.until = Some(parse_time("until", &value)?),
                "before" => {
                    q.before = Some(value.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(
                        || {
                            DomainError::invalid(
                                "before",
                                format!("'{value}' is not an event number"),
                            )
                        },
                    )?)
                }
                "limit" => q.limit = crate::query::parse_limit(&value, Self::MAX_LIMIT)?,
                _ => {}
            }
        }
        Ok(q)
    }

    /// URL query string (without `?`), omitting defaults.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (key, value) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
        ] {
            if let Some(v) = value {
                pairs.push((key, v.clone()));
            }
        }
        if let Some(t) = self.since {
            pairs.push(("since", t.to_rfc3339_opts(SecondsFormat::Secs, true)));
        }
        if let Some(t) = self.until {
            pairs.push(("until", t.to_rfc3339_opts(SecondsFormat::Secs, true)));
        }
        if self.limit != Self::DEFAULT_LIMIT {
            pairs.push(("limit", self.limit.to_string()));
        }
        if let Some(b) = self.before {
            pairs.push(("before", b.to_string()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

fn parse_time(field: &str, value: &str) -> Result<DateTime<Utc>, crate::DomainError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            crate::DomainError::invalid(
                field,
                format!("'{value}' is not a date (YYYY-MM-DD) or an RFC 3339 time"),
            )
        })
}

/// One page of the audit trail, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// The audit page's CSV: header plus one line per event, fields quoted where needed.
pub fn audit_csv_header() -> &'static str {
    "seq,at,actor,action,target,details,prev_hash,hash\n"
}

pub fn audit_csv_line(event: &AuditEvent) -> String {
    let fields = [
        event.seq.to_string(),
        event.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        event.actor.clone(),
        event.action.clone(),
        event.target.clone(),
        event.details.to_string(),
        event.prev_hash.clone(),
        event.hash.clone(),
    ];
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

pub use crate::csv::csv_field;

#[cfg(test)]
mod query_tests {
    use super::*;

    #[test]
    fn audit_query_parses_and_round_trips() {
        let q = AuditQuery::from_query_string(
            "actor=user%3Aa%40x.io&since=2026-01-02&limit=10&before=99",
        )
        .unwrap();
        assert_eq!(q.actor.as_deref(), Some("user:a@x.io"));
        assert_eq!(q.since.unwrap().to_rfc3339(), "2026-01-02T00:00:00+00:00");
        assert_eq!(
            AuditQuery::from_query_string(&q.to_query_string()).unwrap(),
            q
        );
        assert_eq!(
            AuditQuery::from_query_string("since=yesterday")
                .unwrap_err()
                .to_string(),
            "invalid since: 'yesterday' is not a date (YYYY-MM-DD) or an RFC 3339 time"
        );
        assert!(AuditQuery::from_query_string("who=me").is_err());
        assert!(AuditQuery::from_query_string("before=-1").is_err());
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
