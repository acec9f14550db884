//! Where a long view stood when the person left it for one of its rows, so
//! Back to it shows as many rows as before, at the same height: the groups
//! table loads again on Back (its answer is not kept), and the browser's own
//! scroll restoration runs before the rows are there.
//!
//! The place is kept in the view's own history entry (its `state`, which the
//! router leaves alone), so it belongs to that entry: Back and Forward to it
//! restore it as often as they come, and a new visit to the same address (a
//! new entry) starts at the top.

/// How far down a view was, and how many rows it listed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    /// Rows the view listed (the groups table's limit).
    pub limit: u32,
    /// The window's vertical scroll, in CSS pixels.
    pub scroll_y: f64,
}

/// The `state` keys a place is kept under.
pub const LIMIT_KEY: &str = "cspmGroupsLimit";
/// See [`LIMIT_KEY`].
pub const SCROLL_KEY: &str = "cspmGroupsScrollY";

impl Place {
    /// A place read back from a history entry, if it is one this page could
    /// have kept: a limit within `first..=max`, a finite height ≥ 0 (history
    /// state survives reloads and could come from another version).
    pub fn checked(limit: f64, scroll_y: f64, first: u32, max: u32) -> Option<Place> {
        let whole = limit.fract() == 0.0 && (f64::from(first)..=f64::from(max)).contains(&limit);
        (whole && scroll_y.is_finite() && scroll_y >= 0.0).then_some(Place {
            limit: limit as u32,
            scroll_y,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_place_this_page_could_keep_is_read_back() {
        assert_eq!(
            Place::checked(1000.0, 8400.5, 100, 1000),
            Some(Place {
                limit: 1000,
                scroll_y: 8400.5
            })
        );
        assert!(Place::checked(100.0, 0.0, 100, 1000).is_some());
        for (limit, y) in [
            (99.0, 0.0),
            (1001.0, 0.0),
            (250.5, 0.0),
            (f64::NAN, 0.0),
            (1000.0, -1.0),
            (1000.0, f64::INFINITY),
            (1000.0, f64::NAN),
        ] {
            assert_eq!(Place::checked(limit, y, 100, 1000), None, "{limit} {y}");
        }
    }
}
