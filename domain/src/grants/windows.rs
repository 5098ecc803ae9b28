//! Time windows of a policy (`mon-fri 08:00-18:00`): parsing, display and whether a
//! moment falls inside one. Separate because it is a small text format with its own rules.

use chrono::{DateTime, Datelike, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// The longest a grant may be asked for under any policy: 7 days.
pub const MAX_GRANT_MINUTES: u32 = 7 * 24 * 60;

/// A time of the week, in UTC, during which requests are allowed: days and hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeWindow {
    /// Monday = 1 … Sunday = 7.
    pub days: Vec<u8>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "08:00"))]
    pub from: NaiveTime,
    /// Exclusive; before `from` means the window runs past midnight.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "18:00"))]
    pub to: NaiveTime,
}

fn weekday_number(name: &str) -> Option<u8> {
    Some(match name {
        "mon" => 1,
        "tue" => 2,
        "wed" => 3,
        "thu" => 4,
        "fri" => 5,
        "sat" => 6,
        "sun" => 7,
        _ => return None,
    })
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl TimeWindow {
    /// Parses `mon-fri 08:00-18:00`, `sat,sun 10:00-12:00` or `daily 22:00-06:00`.
    pub fn parse(text: &str) -> Result<TimeWindow, DomainError> {
        let wrong = |why: &str| {
            DomainError::invalid(
                "windows",
                format!("'{}' {why}; write e.g. 'mon-fri 08:00-18:00'", text.trim()),
            )
        };
        let (days, hours) = text
            .trim()
            .split_once(' ')
            .ok_or_else(|| wrong("needs days and hours"))?;
        let mut numbers = Vec::new();
        for part in days.trim().to_lowercase().split(',') {
            if part == "daily" {
                numbers.extend(1..=7);
                continue;
            }
            match part.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (
                        weekday_number(a).ok_or_else(|| wrong("has an unknown day"))?,
                        weekday_number(b).ok_or_else(|| wrong("has an unknown day"))?,
                    );
                    if a > b {
                        return Err(wrong("has a day range running backwards"));
                    }
                    numbers.extend(a..=b);
                }
                None => {
                    numbers.push(weekday_number(part).ok_or_else(|| wrong("has an unknown day"))?)
                }
            }
        }
        numbers.sort_unstable();
        numbers.dedup();
        let (from, to) = hours
            .trim()
            .split_once('-')
            .ok_or_else(|| wrong("needs hours as HH:MM-HH:MM"))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .map_err(|_| wrong("has a time that is not HH:MM"))
        };
        let (from, to) = (time(from)?, time(to)?);
        if from == to {
            return Err(wrong("is empty (it starts when it ends)"));
        }
        Ok(TimeWindow {
            days: numbers,
            from,
            to,
        })
    }

    /// Whether `at` falls in the window. A window past midnight belongs to the day it
    /// starts on.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let day = at.weekday().number_from_monday() as u8;
        let time = at.time();
        if self.from < self.to {
            self.days.contains(&day) && time >= self.from && time < self.to
        } else {
            let previous = if day == 1 { 7 } else { day - 1 };
            (self.days.contains(&day) && time >= self.from)
                || (self.days.contains(&previous) && time < self.to)
        }
    }
}

impl std::fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = if self.days.len() == 7 {
            "daily".to_owned()
        } else {
            self.days
                .iter()
                .map(|d| WEEKDAYS[usize::from(d - 1)])
                .collect::<Vec<_>>()
                .join(",")
        };
        write!(
            f,
            "{days} {}-{}",
            self.from.format("%H:%M"),
            self.to.format("%H:%M")
        )
    }
}
