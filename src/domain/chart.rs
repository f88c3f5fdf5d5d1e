//! A progress-over-time line for a server-rendered SVG chart: items done per day, from the
//! history of transitions.
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    /// SVG polyline points, "x,y x,y ...".
    pub points: String,
    pub total: usize,
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
    /// Days marked along the x axis: (x, day); distinct, none after `until`.
    pub ticks: Vec<(u32, NaiveDate)>,
    pub current: i64,
}

/// `changes` are (day, +1 or -1) moves into or out of done; `total` the number of items.
pub fn progress_line(
    mut changes: Vec<(NaiveDate, i64)>,
    total: usize,
    until: NaiveDate,
    width: u32,
    height: u32,
) -> Chart {
    changes.sort_by_key(|c| c.0);
    let first = changes.first().map(|c| c.0);
    let Some(start) = first else {
        return Chart {
            width,
            height,
            points: String::new(),
            total,
            first: None,
            last: None,
            ticks: vec![],
            current: 0,
        };
    };
    let span = (until - start).num_days().max(1) as f64;
    let max = total.max(1) as f64;
    let (w, h) = (width as f64, height as f64);
    let mut points = vec![format!("0,{h:.1}")];
    let mut level = 0i64;
    let mut i = 0;
    let mut day = start;
    while day <= until {
        let before = level;
        while i < changes.len() && changes[i].0 == day {
            level += changes[i].1;
            i += 1;
        }
        if level != before {
            let x = (day - start).num_days() as f64 / span * w;
            points.push(format!("{x:.1},{:.1}", h - before as f64 / max * h));
            points.push(format!("{x:.1},{:.1}", h - level as f64 / max * h));
        }
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    points.push(format!("{w:.1},{:.1}", h - level as f64 / max * h));
    // At most five marks, each on its own day: a short history gets fewer, never a repeated or
    // future day.
    let days = (until - start).num_days().max(0);
    let marks = days.min(4);
    let ticks = (0..=marks)
        .map(|k| {
            let offset = if marks == 0 { 0 } else { (days as f64 * k as f64 / marks as f64).round() as i64 };
            ((offset as f64 / span * w) as u32, start + chrono::Duration::days(offset))
        })
        .collect();
    Chart { width, height, points: points.join(" "), total, first, last: Some(until), ticks, current: level }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn the_line_climbs_with_each_accepted_item_and_drops_when_one_lapses() {
        let c = progress_line(vec![(d(1, 1), 1), (d(1, 11), 1), (d(1, 21), -1)], 2, d(1, 31), 300, 100);
        assert_eq!(c.current, 1);
        assert_eq!(c.points.split(' ').next(), Some("0,100.0"));
        assert!(c.points.contains("0.0,50.0"), "{}", c.points);
        assert!(c.points.contains("100.0,0.0"), "{}", c.points);
        assert!(c.points.ends_with("300.0,50.0"), "{}", c.points);
    }

    #[test]
    fn the_axis_marks_distinct_days_and_none_in_the_future() {
        for (first, until) in [(d(1, 1), d(1, 1)), (d(1, 1), d(1, 2)), (d(1, 1), d(1, 3)), (d(1, 1), d(3, 1))] {
            let c = progress_line(vec![(first, 1)], 3, until, 300, 100);
            let days: Vec<NaiveDate> = c.ticks.iter().map(|t| t.1).collect();
            let mut distinct = days.clone();
            distinct.dedup();
            assert_eq!(days, distinct, "{days:?}");
            assert!(days.iter().all(|day| *day <= until), "{days:?}");
            assert_eq!(days.first(), Some(&first));
            assert_eq!(days.last(), Some(&until));
        }
        assert_eq!(progress_line(vec![(d(1, 1), 1)], 3, d(3, 1), 300, 100).ticks.len(), 5);
    }

    #[test]
    fn no_history_gives_an_empty_line() {
        assert!(progress_line(vec![], 10, d(1, 1), 300, 100).points.is_empty());
    }
}
