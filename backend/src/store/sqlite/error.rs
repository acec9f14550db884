//! How SQLite failures become [`StoreError`]s: busy or locked is worth retrying,
//! anything else is a backend failure; a row that does not decode is corrupt. Its
//! own module because the row conversions and the document codec both report it.

use super::StoreError;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::SqliteFailure(ref f, _)
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            other => StoreError::Backend(Box::new(other)),
        }
    }
}

/// A stored row or document that cannot be read back as written.
pub(super) fn corrupt(id: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        id: id.to_string(),
        reason: reason.into(),
    }
}
