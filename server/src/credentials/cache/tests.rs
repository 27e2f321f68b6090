//! The cache alone, with minting closures for providers.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::Duration as ChronoDuration;
use cloudconn_infra::amqp::issue::{Minted, WireSecret};

use super::*;

fn issued(lifetime_secs: i64, age_secs: i64) -> Issued {
    let issue_time = Utc::now() - ChronoDuration::seconds(age_secs);
    Issued {
        credentials: Minted::AccessToken {
            access_token: WireSecret::new("t"),
            token_type: "Bearer".into(),
            scopes: vec![],
            audience: String::new(),
        },
        issue_time,
        expire_time: issue_time + ChronoDuration::seconds(lifetime_secs),
    }
}

fn key(consumer: &str, revision: i64) -> Key {
    in_workspace("w", Uuid::nil(), consumer, revision)
}

fn in_workspace(workspace: &str, connection: Uuid, consumer: &str, revision: i64) -> Key {
    Key {
        workspace: workspace.into(),
        connection,
        revision,
        scope: "storage".into(),
        consumer: consumer.into(),
        subject: "s".into(),
    }
}

#[tokio::test]
async fn concurrent_misses_mint_once_and_hits_mint_nothing() {
    let cache = Arc::new(Cache::new(100, 100));
    let mints = Arc::new(AtomicU32::new(0));
    let calls = (0..50).map(|_| {
        let (cache, mints) = (cache.clone(), mints.clone());
        tokio::spawn(async move {
            cache
                .get_or_mint(&key("a", 1), || {
                    let mints = mints.clone();
                    async move {
                        mints.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(issued(900, 0))
                    }
                })
                .await
                .map(|(_, minted)| minted)
                .unwrap()
        })
    });
    let mut minted = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        minted.push(call.await.unwrap());
    }
    assert_eq!(mints.load(Ordering::SeqCst), 1);
    assert_eq!(minted.iter().filter(|m| **m).count(), 1);
}

#[tokio::test]
async fn stale_entries_and_other_revisions_are_minted_anew() {
    let cache = Cache::new(100, 100);
    // Two thirds of its life gone: stale.
    cache.get_or_mint(&key("a", 1), || async { Ok(issued(900, 601)) }).await.ok();
    let (_, minted) = cache.get_or_mint(&key("a", 1), || async { Ok(issued(900, 0)) }).await.unwrap();
    assert!(minted, "a stale entry is replaced");
    let (_, minted) = cache.get_or_mint(&key("a", 1), || async { Ok(issued(900, 0)) }).await.unwrap();
    assert!(!minted);
    cache.retain_connection(Uuid::nil(), 2, &["storage".into()]);
    assert!(cache.is_empty(), "a rotation drops the old revision's entries");
    cache.get_or_mint(&key("a", 2), || async { Ok(issued(900, 0)) }).await.unwrap();
    cache.retain_connection(Uuid::nil(), 2, &["database".into()]);
    assert!(cache.is_empty(), "a removed scope drops its entries");
}

#[tokio::test]
async fn failures_are_not_cached_and_the_size_is_bounded() {
    let cache = Cache::new(10, 10);
    let failed = cache.get_or_mint(&key("a", 1), || async { Err(MintError::NoWorker("x".into())) }).await;
    assert!(failed.is_err());
    assert!(cache.is_empty());
    for i in 0..25 {
        cache.get_or_mint(&key(&format!("c{i}"), 1), || async { Ok(issued(900, 0)) }).await.unwrap();
    }
    assert!(cache.len() <= 10, "{}", cache.len());
}

#[tokio::test]
async fn a_workspace_filling_its_share_evicts_only_its_own_least_recently_used() {
    let cache = Cache::new(10, 4);
    let (victim, attacker) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let mint = || async { Ok(issued(900, 0)) };
    cache.get_or_mint(&in_workspace("victim", victim, "app", 1), mint).await.unwrap();
    for i in 0..3 {
        cache.get_or_mint(&in_workspace("attacker", attacker, &format!("c{i}"), 1), mint).await.unwrap();
    }
    // c0 used again: c1 is now the attacker's least recently used.
    cache.get_or_mint(&in_workspace("attacker", attacker, "c0", 1), mint).await.unwrap();
    for i in 3..6 {
        cache.get_or_mint(&in_workspace("attacker", attacker, &format!("c{i}"), 1), mint).await.unwrap();
    }
    let hit = |w: &'static str, c: Uuid, consumer: &'static str| {
        let cache = &cache;
        async move { cache.get_or_mint(&in_workspace(w, c, consumer, 1), mint).await.unwrap().1 }
    };
    assert!(!hit("victim", victim, "app").await, "another tenant's entry survives");
    assert!(!hit("attacker", attacker, "c0").await, "the recently used entry survives");
    assert!(hit("attacker", attacker, "c1").await, "the least recently used went");
    assert_eq!(cache.len(), 5);
}

#[tokio::test]
async fn a_full_cache_evicts_from_the_workspace_holding_the_most() {
    let cache = Cache::new(4, 3);
    let mint = || async { Ok(issued(900, 0)) };
    for (w, base, n) in [("a", 10, 3), ("b", 20, 1)] {
        for i in 0..n {
            cache.get_or_mint(&in_workspace(w, Uuid::from_u128(base + i), "x", 1), mint).await.unwrap();
        }
    }
    cache.get_or_mint(&in_workspace("c", Uuid::from_u128(99), "x", 1), mint).await.unwrap();
    let b = cache.get_or_mint(&in_workspace("b", Uuid::from_u128(20), "x", 1), mint).await.unwrap();
    assert!(!b.1, "the small workspace kept its entry");
    assert_eq!(cache.len(), 4);
}

#[tokio::test]
async fn another_subject_naming_the_same_consumer_is_another_entry() {
    let cache = Cache::new(10, 10);
    let mint = || async { Ok(issued(900, 0)) };
    cache.get_or_mint(&key("app", 1), mint).await.unwrap();
    let other = Key { subject: "intruder".into(), ..key("app", 1) };
    assert!(cache.get_or_mint(&other, mint).await.unwrap().1, "minted for its own subject");
}
