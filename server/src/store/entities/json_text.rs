//! Reading and writing the JSON-text columns: each column's type is given by
//! the accessor on its entity's `Model` and by the function that writes it;
//! both go through here, so the text format is decided in one place.

use serde::{Serialize, de::DeserializeOwned};

/// Parses a column written by this crate; the type's default if it does not
/// parse (a row is never refused for a detail column).
pub(super) fn read<T: DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}

/// The column text of `value`; `empty` (the text of an empty value) if it
/// cannot be encoded, which these plain types never fail to be.
pub(super) fn write<T: Serialize + ?Sized>(value: &T, empty: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| empty.into())
}
