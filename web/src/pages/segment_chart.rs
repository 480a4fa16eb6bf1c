//! A segment's size over time as an inline SVG line: the points placed in Rust, drawn by
//! `templates/segments/show.html` with a caption and the same numbers as a table, so the
//! page needs no script and reads without the picture.

use kartoteka_core::segments::history::SizePoint;

/// One point of the size chart, with where it is drawn.
#[derive(Debug, Clone)]
pub struct ChartPoint {
    pub day: String,
    pub size: u64,
    pub joined: u64,
    pub left: u64,
    pub x: String,
    pub y: String,
}

/// The size over time as an SVG line, with a caption and the numbers for a table.
#[derive(Debug, Clone)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    /// The x of the plot's left edge and the y of its top and bottom.
    pub left: u32,
    pub top: u32,
    pub bottom: u32,
    /// `x,y x,y ...` of the line, and of the shaded area under it.
    pub line: String,
    pub area: String,
    pub max: u64,
    pub first_day: String,
    pub last_day: String,
    pub caption: String,
    pub points: Vec<ChartPoint>,
}

impl Chart {
    const WIDTH: u32 = 640;
    const HEIGHT: u32 = 180;
    const LEFT: u32 = 48;
    const RIGHT: u32 = 12;
    const TOP: u32 = 12;
    const BOTTOM: u32 = 28;

    /// The chart of `points` (oldest first).
    #[allow(clippy::cast_precision_loss)]
    pub fn new(points: &[SizePoint]) -> Self {
        let max = points.iter().map(|p| p.size).max().unwrap_or(0).max(1);
        let plot_w = f64::from(Self::WIDTH - Self::LEFT - Self::RIGHT);
        let plot_h = f64::from(Self::HEIGHT - Self::TOP - Self::BOTTOM);
        let bottom = f64::from(Self::HEIGHT - Self::BOTTOM);
        let steps = points.len().saturating_sub(1).max(1) as f64;
        let drawn: Vec<ChartPoint> = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let x = f64::from(Self::LEFT) + plot_w * i as f64 / steps;
                let y = bottom - plot_h * p.size as f64 / max as f64;
                ChartPoint {
                    day: p.day.format("%Y-%m-%d").to_string(),
                    size: p.size,
                    joined: p.joined,
                    left: p.left,
                    x: format!("{x:.1}"),
                    y: format!("{y:.1}"),
                }
            })
            .collect();
        let line = drawn
            .iter()
            .map(|p| format!("{},{}", p.x, p.y))
            .collect::<Vec<_>>()
            .join(" ");
        let area = match (drawn.first(), drawn.last()) {
            (Some(first), Some(last)) => format!("{},{bottom:.1} {line} {},{bottom:.1}", first.x, last.x),
            _ => String::new(),
        };
        let joined: u64 = points.iter().map(|p| p.joined).sum();
        let left: u64 = points.iter().map(|p| p.left).sum();
        let first_day = drawn.first().map(|p| p.day.clone()).unwrap_or_default();
        let last_day = drawn.last().map(|p| p.day.clone()).unwrap_or_default();
        let caption = match (points.first(), points.last()) {
            (Some(first), Some(last)) => format!(
                "Size over the last {} days: {} on {first_day}, {} on {last_day}; {joined} joined and {left} left in that time.",
                points.len(),
                first.size,
                last.size
            ),
            _ => String::new(),
        };
        Chart {
            width: Self::WIDTH,
            height: Self::HEIGHT,
            left: Self::LEFT,
            top: Self::TOP,
            bottom: Self::HEIGHT - Self::BOTTOM,
            line,
            area,
            max,
            first_day,
            last_day,
            caption,
            points: drawn,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]

    use chrono::NaiveDate;

    use super::*;

    fn point(day: u32, size: u64, joined: u64, left: u64) -> SizePoint {
        SizePoint {
            day: NaiveDate::from_ymd_opt(2026, 11, day).unwrap_or_default(),
            size,
            joined,
            left,
        }
    }

    #[test]
    fn the_line_spans_the_plot_from_zero_to_the_largest_size() {
        let chart = Chart::new(&[point(1, 0, 0, 0), point(2, 4, 5, 1), point(3, 2, 0, 2)]);
        assert_eq!(chart.max, 4);
        assert_eq!(chart.line, "48.0,152.0 338.0,12.0 628.0,82.0");
        assert_eq!(chart.area, "48.0,152.0 48.0,152.0 338.0,12.0 628.0,82.0 628.0,152.0");
        assert_eq!(chart.first_day, "2026-11-01");
        assert_eq!(chart.last_day, "2026-11-03");
        assert_eq!(
            chart.caption,
            "Size over the last 3 days: 0 on 2026-11-01, 2 on 2026-11-03; 5 joined and 3 left in that time."
        );
    }

    #[test]
    fn an_empty_segment_is_a_flat_line_at_zero() {
        let chart = Chart::new(&[point(1, 0, 0, 0)]);
        assert_eq!(chart.max, 1, "a scale of at least one");
        assert_eq!(chart.line, "48.0,152.0");
        assert_eq!(chart.points[0].size, 0);
    }
}
