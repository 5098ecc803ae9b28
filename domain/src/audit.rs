//! The tamper-evident audit trail: each event's hash covers its content and the hash of
//! the event before it, so changing, removing or reordering any event breaks the chain
//! from that point on.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
        action: impl Into<String>,
        target: impl Into<String>,
        details: serde_json::Value,
    ) -> Self {
        NewAuditEvent {
            actor: actor.into(),
            action: action.into(),
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
    let canonical = serde_json::json!([
        seq,
        at.to_rfc3339_opts(SecondsFormat::Micros, true),
        actor,
        action,
        target,
        details,
        prev_hash
    ]);
    // serde_json's map keeps keys sorted (no `preserve_order`), so this is canonical.
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    hex(&Sha256::digest(bytes))
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
        assert_eq!(report, ChainReport { checked: 5, first_broken: None });
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
