//! Where a long view stood when the person left it for one of its rows, so
//! Back to it shows as many rows as before, at the same height: the groups
//! table loads again on Back (its answer is not kept), and the browser's own
//! scroll restoration runs before the rows are there.
//!
//! A place is taken once: Back restores it, a later visit to the same address
//! starts at the top as any new visit does.

use std::collections::HashMap;

/// Places kept at most: a person goes back a few steps, not hundreds.
const KEPT: usize = 16;

/// How far down a view was, and how many rows it listed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    /// Rows the view listed (the groups table's limit).
    pub limit: u32,
    /// The window's vertical scroll, in CSS pixels.
    pub scroll_y: f64,
}

/// Places by the view's address (path and query).
#[derive(Debug, Default)]
pub struct Places {
    by_url: HashMap<String, (u64, Place)>,
    /// Orders the places by when they were kept, to drop the oldest.
    clock: u64,
}

impl Places {
    /// Keeps the place of the view at `url`, dropping the oldest past [`KEPT`].
    pub fn keep(&mut self, url: &str, place: Place) {
        self.clock += 1;
        self.by_url.insert(url.to_string(), (self.clock, place));
        if self.by_url.len() > KEPT {
            if let Some(oldest) = self
                .by_url
                .iter()
                .min_by_key(|(_, (t, _))| *t)
                .map(|(k, _)| k.clone())
            {
                self.by_url.remove(&oldest);
            }
        }
    }

    /// The place kept for `url`, forgotten as it is taken.
    pub fn take(&mut self, url: &str) -> Option<Place> {
        self.by_url.remove(url).map(|(_, p)| p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOWN: Place = Place {
        limit: 1_000,
        scroll_y: 8_400.0,
    };

    #[test]
    fn a_place_is_taken_once_for_its_own_address() {
        let mut p = Places::default();
        p.keep("/ui/findings?group=resource", DOWN);
        assert_eq!(p.take("/ui/findings?group=account"), None);
        assert_eq!(p.take("/ui/findings?group=resource"), Some(DOWN));
        assert_eq!(p.take("/ui/findings?group=resource"), None);
    }

    #[test]
    fn the_newest_place_of_an_address_wins_and_the_oldest_go() {
        let mut p = Places::default();
        for i in 0..=KEPT {
            p.keep(&format!("/v{i}"), DOWN);
        }
        let later = Place {
            limit: 100,
            scroll_y: 10.0,
        };
        p.keep("/v5", later);
        assert_eq!(p.take("/v0"), None, "the oldest was dropped");
        assert_eq!(p.take("/v5"), Some(later));
        assert_eq!(p.take(&format!("/v{KEPT}")), Some(DOWN));
    }
}
