//! The numbers behind the managers' dashboard. A full evaluation tallies them while it
//! walks the register and stores them as the day's [`Snapshot`]; the dashboard reads
//! the latest snapshot and the daily ones before it (the trend), so it never has to
//! count a million identities while someone waits.

mod controls;
mod figures;
mod snapshot;
#[cfg(test)]
mod tests;
mod trend;

pub use controls::*;
pub use figures::*;
pub use snapshot::*;
pub use trend::*;
