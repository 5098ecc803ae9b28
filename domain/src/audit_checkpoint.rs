//! Anchoring the audit trail outside the database. The hash chain shows any change to
//! an event, but not the newest events being cut off: whoever can delete the chain's
//! end leaves a shorter chain that still verifies. A checkpoint is the chain head
//! (sequence number and hash) signed with Steward's Ed25519 key and kept elsewhere (a
//! file on other storage, a webhook); verifying against it shows truncation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a checkpoint states (the signed claims).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointClaims {
    /// Always [`CHECKPOINT_ISSUER`].
    pub iss: String,
    /// The newest event's sequence number and hash when it was taken.
    pub seq: i64,
    pub hash: String,
    /// When it was taken (seconds since the epoch, as JWTs count).
    pub iat: i64,
}

/// The `iss` of a checkpoint.
pub const CHECKPOINT_ISSUER: &str = "steward-audit-checkpoint";

/// A checkpoint as written to a file or a webhook: the claims in the clear (for
/// people) and the signed token (for `steward audit verify --checkpoint`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub taken_at: DateTime<Utc>,
    /// The signing key's id (its public key is in Steward's JWKS).
    pub kid: String,
    /// The claims, signed (EdDSA compact JWS).
    pub signature: String,
}

/// Compares a verified checkpoint with the trail as it is now: the event at the
/// checkpoint's sequence number (if it is still there) and the newest sequence number.
/// `Err` names what happened.
pub fn compare(
    claims: &CheckpointClaims,
    event_hash_at_seq: Option<&str>,
    newest_seq: i64,
) -> Result<(), String> {
    match event_hash_at_seq {
        None if newest_seq < claims.seq => Err(format!(
            "the trail was truncated: the checkpoint names event {} but the newest event is {newest_seq} ({} events are missing)",
            claims.seq,
            claims.seq - newest_seq
        )),
        None => Err(format!(
            "event {} named by the checkpoint is missing from the trail",
            claims.seq
        )),
        Some(hash) if hash != claims.hash => Err(format!(
            "event {} does not have the hash the checkpoint recorded: the trail was rewritten",
            claims.seq
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_shows_truncation_and_rewriting() {
        let claims = CheckpointClaims {
            iss: CHECKPOINT_ISSUER.into(),
            seq: 120,
            hash: "abc".into(),
            iat: 0,
        };
        assert_eq!(compare(&claims, Some("abc"), 130), Ok(()));
        assert!(compare(&claims, None, 117)
            .unwrap_err()
            .contains("truncated"));
        assert!(compare(&claims, None, 117)
            .unwrap_err()
            .contains("3 events are missing"));
        assert!(compare(&claims, Some("xyz"), 130)
            .unwrap_err()
            .contains("rewritten"));
        assert!(compare(&claims, None, 130).unwrap_err().contains("missing"));
    }
}
