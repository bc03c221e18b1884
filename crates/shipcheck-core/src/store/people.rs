//! The team's people: added with a token hash, found by a token's hash. A store with at least
//! one person "has a team": from then on every person-action needs a token.

use crate::model::person::{Person, Role};
use crate::store::StoreError;
use crate::store::backend::{Store, is_unique_violation, on_pool, parse_ts, ts_text};

type Row = (String, String, String, String, String);

fn person_of(row: Row) -> Result<Person, StoreError> {
    let (name, email, role, added_at, added_by) = row;
    let corrupt = |problem: String| StoreError::Corrupt {
        run_id: format!("(person {name})"),
        seq: None,
        problem,
    };
    let role = Role::parse(&role).ok_or_else(|| corrupt(format!("unknown role {role:?}")))?;
    let added_at = parse_ts(&added_at).map_err(corrupt)?;
    Ok(Person {
        name,
        email,
        role,
        added_at,
        added_by,
    })
}

impl Store {
    /// Adds `person` with the hash of their token. A name or email already in the store is
    /// refused (nothing written).
    pub async fn add_person(&self, person: &Person, token_hash: &str) -> Result<(), StoreError> {
        let result = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO people (name, email, role, token_hash, added_at, added_by) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&person.name)
            .bind(&person.email)
            .bind(person.role.as_str())
            .bind(token_hash)
            .bind(ts_text(person.added_at))
            .bind(&person.added_by)
            .execute(pool)
            .await
            .map(|_| ())
        });
        match result {
            Ok(()) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Invalid(format!(
                "the team already has a person named {:?} or with the email {:?}",
                person.name, person.email
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Every person, by name.
    pub async fn people(&self) -> Result<Vec<Person>, StoreError> {
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT name, email, role, added_at, added_by FROM people ORDER BY name",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(person_of).collect()
    }

    /// Whether a team is set up (anyone in `people`).
    pub async fn has_team(&self) -> Result<bool, StoreError> {
        let n: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM people").fetch_one(pool).await?
        });
        Ok(n > 0)
    }

    /// The person whose token hashes to `token_hash`, if any.
    pub async fn person_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<Person>, StoreError> {
        let row: Option<Row> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT name, email, role, added_at, added_by FROM people WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        row.map(person_of).transpose()
    }
}
