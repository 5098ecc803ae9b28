//! People: who can own and sponsor identities.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::store::{db_run, Store, StoreError};

/// A new person as written to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    pub id: Uuid,
    pub display_name: String,
    pub email: String,
    pub team: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

const INSERT_BATCH: usize = 1000;

impl Store {
    /// Inserts people in one transaction: all of them or none.
    pub async fn insert_people(&self, people: &[NewPerson]) -> Result<(), StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in people.chunks(INSERT_BATCH) {
                let mut sql = QueryBuilder::<Db>::new(
                    "INSERT INTO people (id, display_name, email, team, active, created_at) ",
                );
                sql.push_values(chunk, |mut row, person| {
                    row.push_bind(person.id)
                        .push_bind(person.display_name.clone())
                        .push_bind(person.email.clone())
                        .push_bind(person.team.clone())
                        .push_bind(person.active)
                        .push_bind(person.created_at);
                });
                sql.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn count_people(&self) -> Result<i64, StoreError> {
        let count: i64 = db_run!(self, reader, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM people")
                .fetch_one(pool)
                .await?
        });
        Ok(count)
    }
}
