//! Geometry for the SVG charts, kept apart from the view so the arithmetic is tested.

/// The smallest 1-2-5 × 10ⁿ value at or above `max` (at least 1), so axes end on round
/// numbers.
pub fn nice_max(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            if step * m >= max {
                return step * m;
            }
        }
        step *= 10;
    }
}

/// Gridline values from 0 to `top` in four equal steps when they are whole numbers,
/// otherwise just the ends.
pub fn ticks(top: u64) -> Vec<u64> {
    if top.is_multiple_of(4) {
        (0..=4).map(|i| top / 4 * i).collect()
    } else if top.is_multiple_of(2) {
        vec![0, top / 2, top]
    } else {
        vec![0, top]
    }
}

/// Plot area of a chart in SVG user units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Frame {
    /// Vertical position of a value on an axis from 0 (bottom) to `top`.
    pub fn y_of(&self, value: u64, top: u64) -> f64 {
        let top = top.max(1) as f64;
        self.y + self.h - (value as f64 / top) * self.h
    }

    /// One bar per value across the width: `(x, y, width, height)` with a gap between
    /// bars, so 30 days read as separate days.
    pub fn bars(&self, values: &[u64], top: u64) -> Vec<(f64, f64, f64, f64)> {
        if values.is_empty() {
            return Vec::new();
        }
        let slot = self.w / values.len() as f64;
        let width = (slot * 0.7).max(1.0);
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let y = self.y_of(v, top);
                let x = self.x + slot * i as f64 + (slot - width) / 2.0;
                (x, y, width, self.y + self.h - y)
            })
            .collect()
    }
}

/// Length of a horizontal bar for `value` out of `max` across `full` units; a non-zero
/// value always gets a sliver so it is visibly not zero.
pub fn bar_length(value: u64, max: u64, full: f64) -> f64 {
    if value == 0 || max == 0 {
        0.0
    } else {
        (value as f64 / max as f64 * full).max(2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        let cases = [
            (0, 1),
            (1, 1),
            (3, 5),
            (7, 10),
            (11, 20),
            (40, 50),
            (51, 100),
            (1001, 2000),
        ];
        for (max, want) in cases {
            assert_eq!(nice_max(max), want, "max {max}");
        }
        assert_eq!(ticks(20), vec![0, 5, 10, 15, 20]);
        assert_eq!(ticks(10), vec![0, 5, 10]);
        assert_eq!(ticks(5), vec![0, 5]);
    }

    #[test]
    fn bars_fill_the_frame_from_the_bottom() {
        let f = Frame {
            x: 10.0,
            y: 0.0,
            w: 100.0,
            h: 50.0,
        };
        let bars = f.bars(&[0, 5, 10], 10);
        assert_eq!(bars.len(), 3);
        assert_eq!(bars[0].3, 0.0);
        assert_eq!(bars[2].1, 0.0);
        assert_eq!(bars[2].3, 50.0);
        assert!((bars[1].3 - 25.0).abs() < 1e-9);
        // Bars stay inside the frame and keep their order.
        assert!(bars[0].0 >= 10.0 && bars[2].0 + bars[2].2 <= 110.0);
        assert!(bars[0].0 < bars[1].0);
        assert!(f.bars(&[], 10).is_empty());
    }

    #[test]
    fn small_values_stay_visible() {
        assert_eq!(bar_length(0, 100, 200.0), 0.0);
        assert_eq!(bar_length(1, 10_000, 200.0), 2.0);
        assert_eq!(bar_length(50, 100, 200.0), 100.0);
        assert_eq!(bar_length(3, 0, 200.0), 0.0);
    }
}
