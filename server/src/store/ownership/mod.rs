//! Ownership in the store: assignments of owners and sponsors, the assignee's answer,
//! the orphan queue and deactivating people who left. The reads (assignments, the
//! orphan queue, people) are still in [`super::register`].

pub mod writes;
