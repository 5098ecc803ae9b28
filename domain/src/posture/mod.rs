//! Compliance posture: the control catalog (OWASP NHI Top 10, OWASP Agentic Top 10,
//! NIST CSF 2.0, NIST AI RMF 1.0, NIST SP 800-53) and the checks the findings engine
//! runs, each mapped to the controls it evidences.

pub mod catalog;
pub mod checks;
pub mod dashboard;
pub mod findings;
