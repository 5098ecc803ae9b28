//! Accounts: signing in (passwords, single sign-on, lockouts), API tokens and the
//! second factor. Not ports: the web layer and the CLI call these services directly.

pub mod auth;
pub mod second_factor;
pub mod tokens;
