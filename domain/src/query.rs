//! The rules every list URL follows (`?key=value&…`), shared by the pages and the API
//! so both refuse the same bad input with the same words.

use crate::error::DomainError;

/// Decodes a URL query string into `(key, value)` pairs, values trimmed. Empty pairs
/// (`&&`, a trailing `&=`) and blank values are dropped; unknown and repeated keys are
/// refused, so a typo never silently widens a listing.
pub fn parse_params(query: &str, accepted: &[&str]) -> Result<Vec<(String, String)>, DomainError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| DomainError::invalid("query string", "not valid URL encoding"))?;
    let mut seen: Vec<String> = Vec::new();
    let mut params = Vec::new();
    for (key, value) in pairs {
        if key.is_empty() && value.is_empty() {
            continue;
        }
        if !accepted.contains(&key.as_str()) {
            return Err(DomainError::invalid(
                "query parameter",
                format!(
                    "unknown parameter '{key}'; accepted: {}",
                    accepted.join(", ")
                ),
            ));
        }
        if seen.contains(&key) {
            return Err(DomainError::invalid(
                key,
                "given more than once; give it at most once",
            ));
        }
        seen.push(key.clone());
        let value = value.trim();
        if !value.is_empty() {
            params.push((key, value.to_owned()));
        }
    }
    Ok(params)
}

/// A page size from 1 to `max`.
pub fn parse_limit(value: &str, max: u32) -> Result<u32, DomainError> {
    parse_bounded("limit", value, max, "a whole number")
}

/// `true`/`1`/`yes` or `false`/`0`/`no`.
pub fn parse_flag(field: &str, value: &str) -> Result<bool, DomainError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(DomainError::invalid(
            field,
            format!("'{value}' is not true or false"),
        )),
    }
}

/// A number of days from 1 to `max`.
pub fn parse_days(field: &str, value: &str, max: u32) -> Result<u32, DomainError> {
    parse_bounded(field, value, max, "a number of days")
}

/// A whole number from 1 to `max`; the error says it is not `described` in that range.
fn parse_bounded(field: &str, value: &str, max: u32, described: &str) -> Result<u32, DomainError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            DomainError::invalid(
                field,
                format!("'{value}' is not {described} from 1 to {max}"),
            )
        })
}
