//! The team's people on both backends: added once, found by their token's hash only.

use crate::model::person::{Person, Role, token_hash};
use crate::store::StoreError;
use crate::store::tests::for_each_backend;

fn ana() -> Person {
    Person {
        name: "Ana Lima".into(),
        email: "ana@example.com".into(),
        role: Role::Lead,
        added_at: "2026-11-26T10:00:00Z".parse().unwrap(),
        added_by: "tester".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_found_by_the_hash_of_their_token_and_never_twice() {
    for_each_backend(|db| async move {
        let store = db.open().await;
        assert!(!store.has_team().await.unwrap());
        let token = "shipcheck_0123";
        store.add_person(&ana(), &token_hash(token)).await.unwrap();
        assert!(store.has_team().await.unwrap());
        let found = store
            .person_by_token_hash(&token_hash(token))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, ana());
        assert!(
            store
                .person_by_token_hash(&token_hash("shipcheck_0124"))
                .await
                .unwrap()
                .is_none()
        );
        // The same name or email again: refused, nothing written.
        let mut again = ana();
        again.name = "Ana L.".into();
        let err = store
            .add_person(&again, &token_hash("other"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        assert_eq!(store.people().await.unwrap().len(), 1);
    })
    .await;
}
