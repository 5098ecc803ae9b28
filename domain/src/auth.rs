//! Who is acting: roles, principals and the authorization rules. The service layer asks
//! [`authorize`] before every operation; the UI only uses it to hide what a role
//! cannot do.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::string_enum::string_enum;

string_enum! {
    /// What a signed-in person may do in Steward.
    pub enum Role: "role" {
        /// Security team: runs the programme.
        Admin = "admin",
        /// Business or technical owner: acts on what they own.
        Owner = "owner",
        /// Manager: read-only posture and inventory.
        Viewer = "viewer",
        /// Auditor: read-only, plus the audit trail and exports.
        Auditor = "auditor",
    }
}

string_enum! {
    /// What an API token may be used for. A token never exceeds its creator's role.
    pub enum Scope: "scope" {
        InventoryRead = "inventory:read",
        AuditRead = "audit:read",
        TokensWrite = "tokens:write",
        /// Create, edit, assign and change the lifecycle of identities.
        InventoryWrite = "inventory:write",
        /// Deactivate people (e.g. from an HR leaver feed).
        PeopleWrite = "people:write",
        /// Accept risks of findings and start a full posture evaluation.
        PostureWrite = "posture:write",
        /// Create, launch and close review campaigns.
        CampaignsWrite = "campaigns:write",
        /// Decide the review items assigned to the token's creator.
        ReviewsWrite = "reviews:write",
        /// Request, approve, deny, extend and revoke just-in-time grants.
        GrantsWrite = "grants:write",
        /// Create, change and delete grant eligibility policies.
        GrantsAdmin = "grants:admin",
        /// Ask for runtime authorization decisions (a token made for an agent).
        AuthzDecide = "authz:decide",
    }
}

/// Every operation the service layer authorizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ReadInventory,
    ManageUsers,
    /// Create an API token (admins: any; owners: their own).
    CreateToken,
    ListTokens,
    RevokeToken,
    ReadAudit,
    /// Create and edit identities, their credentials, entitlements and delegations;
    /// reactivate and retire them.
    ManageIdentities,
    /// Assign owners and sponsors, one identity or in bulk.
    AssignOwnership,
    /// Suspend an identity (the kill switch). Owners: only what they own.
    SuspendIdentity,
    /// Accept or dispute an ownership assignment made to oneself.
    AnswerAssignment,
    /// Deactivate a person who has left; their identities go to the orphan queue.
    DeactivatePerson,
    /// Read findings, the Controls page, the dashboard and the posture report.
    ReadPosture,
    /// Accept the risk of a finding (or end an acceptance) and run a full evaluation.
    ManagePosture,
    /// See review campaigns and their progress.
    ReadCampaigns,
    /// Create, launch and close review campaigns.
    ManageCampaigns,
    /// Decide review items (the service checks the item is the caller's to decide).
    ReviewAccess,
    /// Download a campaign's evidence pack.
    ExportEvidence,
    /// See grants and eligibility policies.
    ReadGrants,
    /// Request, approve, deny, cancel, extend or revoke grants (the service checks the
    /// caller's part in each).
    RequestGrant,
    /// Create, change and delete grant eligibility policies.
    ManageGrantPolicies,
    /// Ask whether an agent may act now (with a token made for the agent).
    DecideAuthz,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::ReadInventory,
        Action::ManageUsers,
        Action::CreateToken,
        Action::ListTokens,
        Action::RevokeToken,
        Action::ReadAudit,
        Action::ManageIdentities,
        Action::AssignOwnership,
        Action::SuspendIdentity,
        Action::AnswerAssignment,
        Action::DeactivatePerson,
        Action::ReadPosture,
        Action::ManagePosture,
        Action::ReadCampaigns,
        Action::ManageCampaigns,
        Action::ReviewAccess,
        Action::ExportEvidence,
        Action::ReadGrants,
        Action::RequestGrant,
        Action::ManageGrantPolicies,
        Action::DecideAuthz,
    ];

    /// The roles allowed to perform this action at all.
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::ReadInventory => &[Admin, Owner, Viewer, Auditor],
            Action::ManageUsers => &[Admin],
            Action::CreateToken | Action::ListTokens | Action::RevokeToken => &[Admin, Owner],
            Action::ReadAudit => &[Admin, Auditor],
            Action::ManageIdentities | Action::AssignOwnership | Action::DeactivatePerson => {
                &[Admin]
            }
            Action::SuspendIdentity => &[Admin, Owner],
            // Anyone named in an assignment answers it (the service checks it is theirs).
            Action::AnswerAssignment => &[Admin, Owner, Viewer, Auditor],
            Action::ReadPosture => &[Admin, Owner, Viewer, Auditor],
            Action::ManagePosture => &[Admin],
            Action::ReadCampaigns => &[Admin, Owner, Viewer, Auditor],
            Action::ManageCampaigns => &[Admin],
            // Whoever an item names reviews it (the service checks it is theirs).
            Action::ReviewAccess => &[Admin, Owner, Viewer, Auditor],
            Action::ExportEvidence => &[Admin, Auditor],
            Action::ReadGrants | Action::RequestGrant => &[Admin, Owner, Viewer, Auditor],
            Action::ManageGrantPolicies => &[Admin],
            Action::DecideAuthz => &[Admin, Owner],
        }
    }

    /// The token scope this action needs when the caller is an API token.
    pub fn scope(self) -> Option<Scope> {
        match self {
            Action::ReadInventory => Some(Scope::InventoryRead),
            Action::ManageUsers => None,
            Action::CreateToken | Action::ListTokens | Action::RevokeToken => {
                Some(Scope::TokensWrite)
            }
            Action::ReadAudit => Some(Scope::AuditRead),
            Action::ManageIdentities
            | Action::AssignOwnership
            | Action::SuspendIdentity
            | Action::AnswerAssignment => Some(Scope::InventoryWrite),
            Action::DeactivatePerson => Some(Scope::PeopleWrite),
            Action::ReadPosture => Some(Scope::InventoryRead),
            Action::ManagePosture => Some(Scope::PostureWrite),
            Action::ReadCampaigns => Some(Scope::InventoryRead),
            Action::ManageCampaigns => Some(Scope::CampaignsWrite),
            Action::ReviewAccess => Some(Scope::ReviewsWrite),
            Action::ExportEvidence => Some(Scope::AuditRead),
            Action::ReadGrants => Some(Scope::InventoryRead),
            Action::RequestGrant => Some(Scope::GrantsWrite),
            Action::ManageGrantPolicies => Some(Scope::GrantsAdmin),
            Action::DecideAuthz => Some(Scope::AuthzDecide),
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Action::ReadInventory => "read the inventory",
            Action::ManageUsers => "manage users",
            Action::CreateToken => "create API tokens",
            Action::ListTokens => "list API tokens",
            Action::RevokeToken => "revoke API tokens",
            Action::ReadAudit => "read the audit trail",
            Action::ManageIdentities => "create, edit or retire identities",
            Action::AssignOwnership => "assign owners or sponsors",
            Action::SuspendIdentity => "suspend identities",
            Action::AnswerAssignment => "answer ownership assignments",
            Action::DeactivatePerson => "deactivate people",
            Action::ReadPosture => "read the compliance posture",
            Action::ManagePosture => "accept risks or run a posture evaluation",
            Action::ReadCampaigns => "see review campaigns",
            Action::ManageCampaigns => "create, launch or close review campaigns",
            Action::ReviewAccess => "decide access reviews",
            Action::ExportEvidence => "download campaign evidence",
            Action::ReadGrants => "see just-in-time grants",
            Action::RequestGrant => "request or decide just-in-time grants",
            Action::ManageGrantPolicies => "manage grant eligibility policies",
            Action::DecideAuthz => "ask for runtime authorization decisions",
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// A browser session of a user.
    Session,
    /// An API token with these scopes.
    Token { token_id: Uuid, scopes: Vec<Scope> },
    /// A reviewer's decision in a review campaign being carried out. The campaign
    /// service builds this only after checking the item is the reviewer's to decide;
    /// it may change identities (remove what the reviewer revoked) and nothing else.
    Review { campaign_id: Uuid },
}

/// The authenticated caller of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: Uuid,
    pub person_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub credential: Credential,
}

impl Principal {
    /// How this caller appears in the audit trail.
    pub fn audit_actor(&self) -> String {
        match &self.credential {
            Credential::Session => format!("user:{}", self.email),
            Credential::Token { token_id, .. } => format!("token:{token_id} (user:{})", self.email),
            // The scheduler (no user) carrying out a decision after a restart.
            Credential::Review { campaign_id } if self.user_id.is_nil() => {
                format!("{} (review campaign:{campaign_id})", self.email)
            }
            Credential::Review { campaign_id } => {
                format!("user:{} (review campaign:{campaign_id})", self.email)
            }
        }
    }

    pub fn can(&self, action: Action) -> bool {
        authorize(Some(self), action).is_ok()
    }
}

/// Whether `principal` may perform `action`. Anonymous callers may do nothing.
pub fn authorize(principal: Option<&Principal>, action: Action) -> Result<(), DomainError> {
    let principal = principal.ok_or(DomainError::Unauthenticated)?;
    if let Credential::Review { .. } = principal.credential {
        return if action == Action::ManageIdentities {
            Ok(())
        } else {
            Err(DomainError::Forbidden {
                reason: format!("a review decision cannot {}", action.describe()),
            })
        };
    }
    if !action.roles().contains(&principal.role) {
        return Err(DomainError::Forbidden {
            reason: format!("the {} role cannot {}", principal.role, action.describe()),
        });
    }
    if let Credential::Token { scopes, .. } = &principal.credential {
        match action.scope() {
            Some(needed) if scopes.contains(&needed) => {}
            Some(needed) => {
                return Err(DomainError::Forbidden {
                    reason: format!("this API token lacks the scope {needed}"),
                })
            }
            None => {
                return Err(DomainError::Forbidden {
                    reason: format!("API tokens cannot {}", action.describe()),
                })
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, credential: Credential) -> Principal {
        Principal {
            user_id: Uuid::from_u128(1),
            person_id: Uuid::from_u128(2),
            email: "a@example.com".into(),
            display_name: "A".into(),
            role,
            credential,
        }
    }

    #[test]
    fn role_matrix() {
        let expected: &[(Action, [bool; 4])] = &[
            // admin, owner, viewer, auditor
            (Action::ReadInventory, [true, true, true, true]),
            (Action::ManageUsers, [true, false, false, false]),
            (Action::CreateToken, [true, true, false, false]),
            (Action::ListTokens, [true, true, false, false]),
            (Action::RevokeToken, [true, true, false, false]),
            (Action::ReadAudit, [true, false, false, true]),
            (Action::ManageIdentities, [true, false, false, false]),
            (Action::AssignOwnership, [true, false, false, false]),
            (Action::SuspendIdentity, [true, true, false, false]),
            (Action::AnswerAssignment, [true, true, true, true]),
            (Action::DeactivatePerson, [true, false, false, false]),
            (Action::ReadPosture, [true, true, true, true]),
            (Action::ManagePosture, [true, false, false, false]),
            (Action::ReadCampaigns, [true, true, true, true]),
            (Action::ManageCampaigns, [true, false, false, false]),
            (Action::ReviewAccess, [true, true, true, true]),
            (Action::ExportEvidence, [true, false, false, true]),
            (Action::ReadGrants, [true, true, true, true]),
            (Action::RequestGrant, [true, true, true, true]),
            (Action::ManageGrantPolicies, [true, false, false, false]),
            (Action::DecideAuthz, [true, true, false, false]),
        ];
        assert_eq!(
            expected.len(),
            Action::ALL.len(),
            "every action is in the matrix"
        );
        for (action, allowed) in expected {
            for (role, allowed) in Role::ALL.iter().zip(allowed) {
                let p = principal(*role, Credential::Session);
                assert_eq!(p.can(*action), *allowed, "{role} {action:?}");
            }
            assert_eq!(authorize(None, *action), Err(DomainError::Unauthenticated));
        }
    }

    #[test]
    fn tokens_are_limited_by_scope_and_role() {
        let token = |role, scopes: Vec<Scope>| {
            principal(
                role,
                Credential::Token {
                    token_id: Uuid::from_u128(9),
                    scopes,
                },
            )
        };
        let reader = token(Role::Admin, vec![Scope::InventoryRead]);
        assert!(reader.can(Action::ReadInventory));
        assert_eq!(
            authorize(Some(&reader), Action::ReadAudit)
                .unwrap_err()
                .to_string(),
            "not allowed: this API token lacks the scope audit:read"
        );
        // A scope does not lift the creator's role.
        let viewer = token(Role::Viewer, vec![Scope::AuditRead]);
        assert!(!viewer.can(Action::ReadAudit));
        // Managing users needs a person, not a token.
        assert!(!token(Role::Admin, Scope::ALL.to_vec()).can(Action::ManageUsers));
        // A review decision carries out changes to identities, and nothing else.
        let review = principal(
            Role::Owner,
            Credential::Review {
                campaign_id: Uuid::from_u128(5),
            },
        );
        assert!(review.can(Action::ManageIdentities));
        assert!(!review.can(Action::ManageCampaigns));
        assert!(!review.can(Action::ReadAudit));
        assert_eq!(
            review.audit_actor(),
            format!(
                "user:a@example.com (review campaign:{})",
                Uuid::from_u128(5)
            )
        );
        assert_eq!(
            reader.audit_actor(),
            format!("token:{} (user:a@example.com)", Uuid::from_u128(9))
        );
    }
}

/// The caller of the current HTTP request, as resolved by the server from its session
/// cookie or bearer token (`None`: anonymous). Carried in the request's extensions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurrentPrincipal(pub Option<Principal>);

/// What the UI shows about the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub display_name: String,
    pub email: String,
    pub role: Role,
}

impl From<&Principal> for UserInfo {
    fn from(p: &Principal) -> Self {
        UserInfo {
            display_name: p.display_name.clone(),
            email: p.email.clone(),
            role: p.role,
        }
    }
}

/// Why a password is not acceptable, or `None` when it is.
pub fn password_problem(password: &str) -> Option<String> {
    let length = password.chars().count();
    if length < 12 {
        Some(format!(
            "a password needs at least 12 characters (this one has {length})"
        ))
    } else if length > 1024 {
        Some("a password can have at most 1024 characters".to_owned())
    } else {
        None
    }
}

/// Checks an email address well enough to catch typos; returns it in lower case.
pub fn normalize_email(email: &str) -> Result<String, DomainError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(DomainError::invalid(
            "email",
            format!("'{email}' is not an email address"),
        ))
    }
}

#[cfg(test)]
mod input_tests {
    use super::*;

    #[test]
    fn emails_and_passwords() {
        assert_eq!(
            normalize_email(" Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@x.com",
            "a b@x.com",
            "ada@localhost",
            "ada@.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
        assert_eq!(
            password_problem("short"),
            Some("a password needs at least 12 characters (this one has 5)".into())
        );
        assert_eq!(password_problem("correct horse battery"), None);
    }
}
