//! The team: adding people (each with a personal token, shown once and stored as a hash) and
//! knowing who acts. Once a team exists in the store, every person-action is recorded with
//! the person a token proves; a typed name (`--by`) is refused. Without a team, a run records
//! the name it is given, as before.

use crate::model::person::{self, Person, Role, TOKEN_PREFIX};
use crate::runs::{RunError, Session};

/// A new personal token: the prefix and 32 bytes from the operating system's CSPRNG, in hex.
pub fn new_token() -> Result<String, RunError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        RunError::refused(format!(
            "the operating system's random source failed ({e}); no token was made"
        ))
    })?;
    let hex = crate::model::hex::encode(&bytes);
    Ok(format!("{TOKEN_PREFIX}{hex}"))
}

/// Who acts on a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A person of the team, proved by their token.
    Person(Person),
    /// No team in the store: a name as given (`--by`, git's user name, the OS user).
    Named(String),
}

impl Actor {
    /// What the journal records.
    pub fn recorded(&self) -> String {
        match self {
            Actor::Person(p) => p.identity(),
            Actor::Named(n) => n.clone(),
        }
    }
}

impl Session {
    /// Adds a person and returns them with their token (shown once: only its hash is
    /// stored). The first person may be added by whoever can write the store; after that,
    /// only a lead (`by`, authenticated) adds people.
    pub async fn add_person(
        &self,
        name: &str,
        email: &str,
        role: Role,
        by: &Actor,
    ) -> Result<(Person, String), RunError> {
        person::check_new(name, email).map_err(RunError::refused)?;
        let has_team = self.store.has_team().await?;
        if has_team {
            match by {
                Actor::Person(p) if p.role == Role::Lead => {}
                Actor::Person(p) => {
                    return Err(RunError::refused(format!(
                        "only a lead adds people; {} is a {}",
                        p.identity(),
                        p.role.as_str()
                    )));
                }
                Actor::Named(_) => {
                    return Err(RunError::refused(
                        "a team exists: only a lead adds people, with their token (SHIPCHECK_TOKEN or `shipcheck login`)",
                    ));
                }
            }
        }
        let token = new_token()?;
        let person = Person {
            name: name.trim().to_string(),
            email: email.trim().to_string(),
            role,
            added_at: self.clock.now(),
            added_by: by.recorded(),
        };
        self.store
            .add_person(&person, &person::token_hash(&token))
            .await?;
        Ok((person, token))
    }

    /// The person `token` belongs to. A token of the wrong shape, or one nobody holds, is
    /// refused with the same message (nothing says which part was wrong).
    pub async fn authenticate(&self, token: &str) -> Result<Person, RunError> {
        let unknown = || {
            RunError::refused(
                "the token is not a team member's (check SHIPCHECK_TOKEN or `shipcheck login`; a lead can add you with `shipcheck team add`)",
            )
        };
        if !person::looks_like_token(token) {
            return Err(unknown());
        }
        self.store
            .person_by_token_hash(&person::token_hash(token))
            .await?
            .ok_or_else(unknown)
    }

    /// Who acts: with a team, the person `token` proves (required; a typed name is refused);
    /// without one, the `fallback` name.
    pub async fn actor(
        &self,
        token: Option<&str>,
        typed_name: Option<&str>,
        fallback: impl FnOnce() -> String,
    ) -> Result<Actor, RunError> {
        if !self.store.has_team().await? {
            return Ok(Actor::Named(match typed_name {
                Some(n) if !n.trim().is_empty() => n.trim().to_string(),
                _ => fallback(),
            }));
        }
        if typed_name.is_some() {
            return Err(RunError::refused(
                "this store has a team, so shipcheck records the person your token proves: drop --by (set SHIPCHECK_TOKEN, or run `shipcheck login`, as the person acting)",
            ));
        }
        match token {
            Some(t) if !t.trim().is_empty() => Ok(Actor::Person(self.authenticate(t).await?)),
            _ => Err(RunError::refused(
                "this store has a team: act with your personal token (set SHIPCHECK_TOKEN, or run `shipcheck login` and paste it); a lead adds people with `shipcheck team add`",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_well_formed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(person::looks_like_token(&a), "{a}");
    }
}
