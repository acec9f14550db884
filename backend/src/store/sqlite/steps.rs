//! Bounding a read by SQLite's own instruction count rather than by rows or
//! time: a query an index serves badly (a filter that matches late, a walk
//! that cannot stop early) is interrupted after a fixed amount of work, which
//! the caller then reports as an estimate or answers another way.

use rusqlite::{Connection, ErrorCode};

/// How often, in VM instructions, the progress handler runs: budgets are
/// counted in these periods.
pub(super) const STEP_PERIOD: i32 = 1_000;

/// Runs `read` with SQLite interrupting any statement of `c` after `periods`
/// [`STEP_PERIOD`]s in all, and removes the limit afterwards (the connection
/// goes back to the pool).
pub(super) fn within<T>(c: &Connection, periods: u64, read: impl FnOnce() -> T) -> T {
    let mut spent = 0u64;
    c.progress_handler(
        STEP_PERIOD,
        Some(move || {
            spent += 1;
            spent > periods
        }),
    );
    let out = read();
    c.progress_handler(STEP_PERIOD, None::<fn() -> bool>);
    out
}

/// True when `e` is the interruption [`within`] causes: the budget ran out.
pub(super) fn ran_out(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::OperationInterrupted)
}
