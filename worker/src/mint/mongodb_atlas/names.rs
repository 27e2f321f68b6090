//! Whose a temporary database user is, and which one a mint takes.
//!
//! A user's name is `cc-<first 12 hex of the connection uid>-r<revision>-<key>-<slot>`:
//! - `<key>` is 12 hex of SHA-256 over the scope and the consumer. The
//!   consumer is the caller's name (up to 64 of `[A-Za-z0-9_.@/-]`);
//!   hashed, every name has the same short length, holds nothing that
//!   needs escaping in the API's URL paths, and the project's user list,
//!   which the customer's own staff read, shows no component names. Two
//!   consumers of one connection share a key with odds of about 1 in 10^9
//!   even at the 1,000 consumers a connection may have.
//! - `<slot>` is `a`, `b`, …: each key has a few users that take turns
//!   ([`plan`]), so refreshing one key's credentials never changes the
//!   password of the user whose credentials are still out (blue/green).
//!
//! The name is a pure function of what the server asks for, so every
//! worker and every server replica arrives at the same few users: the
//! number of users is bounded by the keys, not by the mints.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The prefix of every user minted for `connection_id`:
/// `cc-<first 12 hex of the uid>-r`.
pub fn user_prefix(connection_id: &str) -> String {
    let hex: String = connection_id.chars().filter(char::is_ascii_hexdigit).take(12).collect();
    format!("cc-{}-r", hex.to_ascii_lowercase())
}

/// The names of the `slots` users of (connection, revision, scope, consumer).
pub fn slot_names(connection_id: &str, revision: u64, scope: &str, consumer: &str, slots: usize) -> Vec<String> {
    // A separator no scope holds, so ("ab", "c") and ("a", "bc") differ.
    let digest = Sha256::new().chain_update(scope).chain_update([0]).chain_update(consumer).finalize();
    let key: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let prefix = user_prefix(connection_id);
    (b'a'..).take(slots).map(|slot| format!("{prefix}{revision}-{key}-{}", char::from(slot))).collect()
}

/// The revision of a user minted for the connection of `prefix`, or `None`
/// for any other user (another connection's, or the customer's own). Also
/// recognises the names of earlier versions (`…-r<revision>-<random>`), so
/// a rotation or delete still removes users made before an upgrade.
pub fn minted_revision(prefix: &str, username: &str) -> Option<u64> {
    let (revision, rest) = username.strip_prefix(prefix)?.split_once('-')?;
    let well_formed = !revision.is_empty()
        && revision.bytes().all(|b| b.is_ascii_digit())
        && !rest.is_empty()
        && rest.split('-').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
    well_formed.then(|| revision.parse().ok()).flatten()
}

/// Where a key's user stands at Atlas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    /// No such user (never made, or Atlas deleted it at its date).
    Absent,
    /// The user exists but its credentials have expired: nobody holds a
    /// working password for it.
    Expired,
    /// Credentials handed out for it are valid until then.
    Live(DateTime<Utc>),
}

impl SlotState {
    /// A listed user's state: expired once its `deleteAfterDate` (which is
    /// the `expire_time` its credentials were handed out with) has passed.
    /// A user without one was not made by a mint: nobody holds credentials
    /// from us for it.
    pub fn of(delete_after: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        match delete_after {
            Some(at) if at > now => Self::Live(at),
            _ => Self::Expired,
        }
    }
}

/// What a mint does with its key's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Give the user at this index a new password and date (PATCH).
    Rotate(usize),
    /// Create the user at this index (POST).
    Create(usize),
}

/// Which of the key's users a mint takes:
/// 1. an expired one, rotated: no new user, and nobody loses anything;
/// 2. else one that does not exist, created;
/// 3. else every one is live (more holders than slots: several server
///    replicas refreshing the same consumer, a cache entry evicted early,
///    a long lifetime followed by a short one), and the one that expires
///    first is rotated: its holders lose it before its `expire_time`. The
///    caller logs it; `CLOUDCONN_ATLAS_USERS_PER_CONSUMER` is the remedy.
pub fn plan(slots: &[SlotState]) -> Plan {
    if let Some(i) = slots.iter().position(|s| *s == SlotState::Expired) {
        return Plan::Rotate(i);
    }
    if let Some(i) = slots.iter().position(|s| *s == SlotState::Absent) {
        return Plan::Create(i);
    }
    let earliest = slots
        .iter()
        .enumerate()
        .min_by_key(|(_, s)| match s {
            SlotState::Live(at) => *at,
            _ => DateTime::<Utc>::MIN_UTC,
        })
        .map_or(0, |(i, _)| i);
    Plan::Rotate(earliest)
}

/// When the project is at the cap and [`plan`] wants a new user: the key's
/// own user that expires first, rotated, if it has one (an existing
/// consumer keeps working, at the price of its older credentials); `None`
/// for a key without users, which the cap refuses.
pub fn at_cap(slots: &[SlotState]) -> Option<Plan> {
    slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            SlotState::Live(at) => Some((i, *at)),
            _ => None,
        })
        .min_by_key(|(_, at)| *at)
        .map(|(i, _)| Plan::Rotate(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: &str = "4e098c3f-fe71-466b-97f2-2e4926947752";

    #[test]
    fn names_are_the_same_for_a_key_and_differ_between_keys() {
        let names = slot_names(UID, 7, "database", "etl/prd", 2);
        assert_eq!(names, slot_names(UID, 7, "database", "etl/prd", 2), "deterministic");
        let [a, b] = [&names[0], &names[1]];
        assert!(a.starts_with("cc-4e098c3ffe71-r7-") && a.ends_with("-a") && b.ends_with("-b"), "{names:?}");
        assert_eq!(a.len(), "cc-4e098c3ffe71-r7-".len() + 12 + 2);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'), "{a}");
        for other in [
            slot_names(UID, 7, "database", "etl/prd2", 2),
            slot_names(UID, 8, "database", "etl/prd", 2),
            slot_names("0000000000000000", 7, "database", "etl/prd", 2),
            slot_names(UID, 7, "databas", "eetl/prd", 2),
        ] {
            assert_ne!(other[0], *a);
        }
        let prefix = user_prefix(UID);
        assert_eq!(minted_revision(&prefix, a), Some(7));
        assert_eq!(minted_revision(&prefix, b), Some(7));
    }

    #[test]
    fn revisions_are_read_from_this_and_earlier_names_only() {
        let prefix = user_prefix(UID);
        assert_eq!(minted_revision(&prefix, "cc-4e098c3ffe71-r12-abcd1234"), Some(12), "an earlier version's name");
        for other in [
            "cc-000000000000-r7-abcd1234", // another connection
            "app-user",                    // the customer's own
            "cc-4e098c3ffe71-r-abcd",      // no revision
            "cc-4e098c3ffe71-r7",          // nothing after it
            "cc-4e098c3ffe71-rx-abcd",
            "cc-4e098c3ffe71-r7-ab/cd",
            "cc-4e098c3ffe71-r7-abcd--a",
            "cc-4e098c3ffe71-r7-abcd-",
        ] {
            assert_eq!(minted_revision(&prefix, other), None, "{other}");
        }
    }

    #[test]
    fn a_mint_takes_an_expired_user_then_a_new_one_and_rotates_a_live_one_last() {
        let now = Utc::now();
        let (soon, later) =
            (SlotState::Live(now + chrono::Duration::minutes(5)), SlotState::Live(now + chrono::Duration::minutes(9)));
        assert_eq!(SlotState::of(Some(now), now), SlotState::Expired);
        assert_eq!(SlotState::of(None, now), SlotState::Expired);
        assert_eq!(plan(&[SlotState::Absent, SlotState::Absent]), Plan::Create(0));
        assert_eq!(plan(&[later, SlotState::Absent]), Plan::Create(1), "blue/green: the live one is left alone");
        assert_eq!(
            plan(&[SlotState::Absent, SlotState::Expired]),
            Plan::Rotate(1),
            "no new user when one can be reused"
        );
        assert_eq!(plan(&[later, soon]), Plan::Rotate(1), "all live: the one that expires first");
        assert_eq!(plan(&[soon]), Plan::Rotate(0));
        assert_eq!(at_cap(&[later, SlotState::Absent]), Some(Plan::Rotate(0)), "its own user, not a new one");
        assert_eq!(at_cap(&[SlotState::Absent, SlotState::Absent]), None, "a new consumer is refused");
    }
}
