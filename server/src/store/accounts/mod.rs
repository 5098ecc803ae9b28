//! Accounts in the store: the people who sign in (users, roles, single sign-on links,
//! lockouts), their API tokens and their second factor.

pub mod second_factor;
pub mod tokens;
pub mod users;
