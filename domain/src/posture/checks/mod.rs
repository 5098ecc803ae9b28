//! The checks of the catalog as plain functions: given what the register knows about
//! one identity (its [`Subject`]), which checks it fails and why. The store gathers the
//! subjects; the findings engine turns detections into findings with a lifecycle.

mod evaluate;
mod subject;
#[cfg(test)]
mod tests;

pub use evaluate::*;
pub use subject::*;
