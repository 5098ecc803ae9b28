//! Adapters: how Steward talks to what is outside its rules — the database's change
//! feed (which replicas and caches follow), the signing and sealing keys on disk, and
//! an OpenID Connect provider. Services use them; they hold no governance rule.

pub mod feed;
pub mod keys;
pub mod oidc;
