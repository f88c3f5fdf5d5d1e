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
    /// Labels along the x axis: (x, text).
    pub ticks: Vec<(u32, String)>,
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
    let ticks = (0..=4)
        .map(|k| {
            let d = start + chrono::Duration::days((span * k as f64 / 4.0).round() as i64);
            ((w * k as f64 / 4.0) as u32, d.format("%d-%m-%Y").to_string())
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
    fn no_history_gives_an_empty_line() {
        assert!(progress_line(vec![], 10, d(1, 1), 300, 100).points.is_empty());
    }
}
