//! sqlite (to be filled in)
/// SQLite store.
pub struct SqliteStore;
