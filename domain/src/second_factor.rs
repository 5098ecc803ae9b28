//! The second factor of local sign-in: time-based one-time passwords (RFC 6238) with
//! recovery codes. The rules live here; the HMAC and the sealing of the shared secret
//! are the server's.
//!
//! * Roles named by the policy (by default admins and auditors) must have one: their
//!   first password sign-in leads to enrolment before any session starts.
//! * A code is accepted once: the newest step accepted is kept, and a code of that step
//!   or an older one is refused (RFC 6238 §5.2).
//! * Recovery codes are random, shown once, each usable once.

use crate::auth::Role;
use crate::error::DomainError;

/// Recovery codes made at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Minutes a sign-in may wait between the password and the second factor.
pub const PENDING_MINUTES: i64 = 5;
/// The alphabet of recovery codes: no 0/o, 1/l/i to misread.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// What someone typed as their second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Six digits from the authenticator app.
    Code(String),
    /// A recovery code, normalised (lowercase, no separators).
    Recovery(String),
}

impl Answer {
    /// Reads what was typed: spaces and dashes are ignored, case too.
    pub fn parse(input: &str) -> Result<Answer, DomainError> {
        let cleaned: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .collect();
        if cleaned.len() == 6 && cleaned.chars().all(|c| c.is_ascii_digit()) {
            return Ok(Answer::Code(cleaned));
        }
        if cleaned.len() == 10 && cleaned.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
            return Ok(Answer::Recovery(cleaned));
        }
        Err(DomainError::invalid(
            "code",
            "enter the 6 digits your authenticator app shows, or a recovery code",
        ))
    }
}

/// A recovery code from 10 random bytes: as shown (`xxxxx-xxxxx`), and as stored and
/// compared (what [`Answer::parse`] reads it as).
pub fn recovery_code(random: &[u8; 10]) -> (String, String) {
    let normalised: String = random
        .iter()
        .map(|b| RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()] as char)
        .collect();
    (
        format!("{}-{}", &normalised[..5], &normalised[5..]),
        normalised,
    )
}

/// Whether a code of `step` may be accepted after `last_accepted`.
pub fn fresh_step(last_accepted: Option<i64>, step: i64) -> bool {
    last_accepted.is_none_or(|last| step > last)
}

/// The roles that must use a second factor, from configuration text such as
/// `admin,auditor` (`none` or empty: none).
pub fn parse_roles(text: &str) -> Result<Vec<Role>, DomainError> {
    let mut roles = Vec::new();
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(roles);
    }
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let role: Role = part.parse()?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_typed_is_a_code_or_a_recovery_code() {
        assert_eq!(
            Answer::parse(" 123 456 ").unwrap(),
            Answer::Code("123456".into())
        );
        assert_eq!(
            Answer::parse("ABCDE-fghjk").unwrap(),
            Answer::Recovery("abcdefghjk".into())
        );
        for bad in ["", "12345", "1234567", "abcde-fghj0", "12345a"] {
            assert!(Answer::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn recovery_codes_read_back_as_recovery_answers() {
        let (code, normalised) = recovery_code(&[0, 1, 2, 3, 4, 250, 251, 252, 253, 255]);
        assert_eq!(code.len(), 11);
        assert_eq!(code.as_bytes()[5], b'-');
        assert_eq!(Answer::parse(&code).unwrap(), Answer::Recovery(normalised));
    }

    #[test]
    fn a_code_is_accepted_once_and_never_an_older_one() {
        assert!(fresh_step(None, 5));
        assert!(fresh_step(Some(4), 5));
        assert!(!fresh_step(Some(5), 5));
        assert!(!fresh_step(Some(6), 5));
    }

    #[test]
    fn roles_come_from_a_comma_separated_list() {
        assert_eq!(
            parse_roles("admin, auditor,admin").unwrap(),
            vec![Role::Admin, Role::Auditor]
        );
        assert!(parse_roles("").unwrap().is_empty());
        assert!(parse_roles("none").unwrap().is_empty());
        assert!(parse_roles("root").is_err());
    }
}
