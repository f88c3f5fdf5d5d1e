//! When recurring attention is due: local times in an organisation's time zone (right across
//! daylight-saving changes), the periods that make "once" countable, and the rules
//! organisations write for their own moments. Plain functions of dates; no database, no clock.
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The time zone of an organisation, Europe/Amsterdam when unknown.
pub fn zone(name: &str) -> Tz {
    Tz::from_str(name).unwrap_or(chrono_tz::Europe::Amsterdam)
}

/// The UTC instant of a local wall-clock time on a date. A time that a DST change skips moves to
/// the first valid minute after it; a time that occurs twice is taken the first time.
pub fn local_at(tz: Tz, date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let mut t = date.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN));
    for _ in 0..180 {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => return x.with_timezone(&Utc),
            LocalResult::None => t += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&t)
}

/// The local date of an instant in a time zone.
pub fn local_date(tz: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The Day of Carers (Dag van de Mantelzorg): 10 November.
pub fn day_of_carers(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 11, 10).unwrap_or(NaiveDate::MIN)
}

/// The same day of the year in another year (29 February becomes 28 February).
pub fn anniversary(date: NaiveDate, year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, date.month(), date.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, date.month(), 28))
        .unwrap_or(date)
}

/// ISO week key such as "2026-W48".
pub fn iso_week(date: NaiveDate) -> String {
    let w = date.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The Monday of a date's ISO week.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - Duration::days(date.weekday().num_days_from_monday() as i64)
}

/// A rule an organisation writes for its own attention moment.
#[derive(Debug, Clone)]
pub enum Rule {
    /// "yearly 11-10": every year on that day, at 09:00.
    Yearly { month: u32, day: u32 },
    /// "monthly 15": every month on that day (the last day in shorter months), at 09:00.
    Monthly { day: u32 },
    /// A five-field cron expression ("0 9 * * 1"), evaluated in the organisation's time zone.
    Cron(Box<croner::Cron>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("write a rule like \"yearly 11-10\", \"monthly 15\" or a cron expression like \"0 9 * * 1\"")]
    Unknown,
    #[error("that day does not exist in that month")]
    NoSuchDay,
    #[error("the cron expression is not valid: {0}")]
    Cron(String),
    #[error("a moment may come at most once a day")]
    TooFrequent,
}

/// The hour at which date-based reminders go out, local time.
pub const REMINDER_HOUR: u32 = 9;

impl Rule {
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("yearly ") {
            let (m, d) = rest.trim().split_once('-').ok_or(RuleError::Unknown)?;
            let (month, day): (u32, u32) =
                (m.trim().parse().map_err(|_| RuleError::Unknown)?, d.trim().parse().map_err(|_| RuleError::Unknown)?);
            // 2024 is a leap year: 29 February is allowed (and falls on the 28th otherwise).
            NaiveDate::from_ymd_opt(2024, month, day).ok_or(RuleError::NoSuchDay)?;
            return Ok(Rule::Yearly { month, day });
        }
        if let Some(rest) = lower.strip_prefix("monthly ") {
            let day: u32 = rest.trim().parse().map_err(|_| RuleError::Unknown)?;
            if !(1..=31).contains(&day) {
                return Err(RuleError::NoSuchDay);
            }
            return Ok(Rule::Monthly { day });
        }
        if text.split_whitespace().count() != 5 {
            return Err(RuleError::Unknown);
        }
        let cron = parse_cron(text).map_err(|e| RuleError::Cron(e.to_string()))?;
        // More than once a day would flood people: look at two consecutive occurrences.
        let probe = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().unwrap_or_default();
        let first = cron.find_next_occurrence(&probe, false).map_err(|e| RuleError::Cron(e.to_string()))?;
        let second = cron.find_next_occurrence(&first, false).map_err(|e| RuleError::Cron(e.to_string()))?;
        if second - first < Duration::hours(23) {
            return Err(RuleError::TooFrequent);
        }
        Ok(Rule::Cron(Box::new(cron)))
    }

    /// The latest occurrence at or before `now`, in the zone (for catching up once).
    pub fn latest_until(&self, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let today = local_date(tz, now);
        match self {
            Rule::Yearly { month, day } => {
                let leap = NaiveDate::from_ymd_opt(2024, *month, *day)?;
                (0..2)
                    .map(|back| local_at(tz, anniversary(leap, today.year() - back), REMINDER_HOUR, 0))
                    .find(|t| *t <= now)
            }
            Rule::Monthly { day } => (0..2)
                .map(|back| {
                    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
                    let month = first.checked_sub_months(chrono::Months::new(back)).unwrap_or(first);
                    let d = (1..=*day).rev().find_map(|d| month.with_day(d)).unwrap_or(month);
                    local_at(tz, d, REMINDER_HOUR, 0)
                })
                .find(|t| *t <= now),
            Rule::Cron(c) => {
                // Walk forward from a year back; occurrences are at most daily, so this is short.
                let mut t = (now - Duration::days(366)).with_timezone(&tz);
                let mut last = None;
                for _ in 0..400 {
                    match c.find_next_occurrence(&t, false) {
                        Ok(n) if n.with_timezone(&Utc) <= now => {
                            last = Some(n.with_timezone(&Utc));
                            t = n;
                        }
                        _ => break,
                    }
                }
                last
            }
        }
    }

    /// The next occurrences after `from`, at most `n` (for the calendar feed and the job view).
    pub fn next_after(&self, tz: Tz, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = vec![];
        let mut t = from;
        while out.len() < n {
            let next = match self {
                Rule::Cron(c) => {
                    c.find_next_occurrence(&t.with_timezone(&tz), false).ok().map(|x| x.with_timezone(&Utc))
                }
                _ => {
                    // Step a day at a time until the latest occurrence moves past `t`.
                    let mut probe = t;
                    let mut found = None;
                    for _ in 0..400 {
                        probe += Duration::days(1);
                        if let Some(l) = self.latest_until(tz, probe).filter(|l| *l > t) {
                            found = Some(l);
                            break;
                        }
                    }
                    found
                }
            };
            match next {
                Some(x) => {
                    out.push(x);
                    t = x;
                }
                None => break,
            }
        }
        out
    }
}

/// A five-field cron expression as croner 3 read it: croner 4 rejects the step shorthand
/// `5/5` (for `5-59/5`) unless asked, and rules saved before the upgrade must keep working.
pub fn parse_cron(text: &str) -> Result<croner::Cron, croner::errors::CronError> {
    croner::parser::CronParser::builder().sloppy_ranges(true).build().parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn nine_in_the_morning_stays_nine_across_the_autumn_and_spring_changes() {
        let ams = chrono_tz::Europe::Amsterdam;
        // Summer time (UTC+2) before 25 October 2026, winter time (UTC+1) after.
        assert_eq!(local_at(ams, d(2026, 10, 13), 9, 0), Utc.with_ymd_and_hms(2026, 10, 13, 7, 0, 0).unwrap());
        assert_eq!(local_at(ams, d(2026, 11, 3), 9, 0), Utc.with_ymd_and_hms(2026, 11, 3, 8, 0, 0).unwrap());
        assert_eq!(local_at(ams, d(2027, 3, 29), 9, 0), Utc.with_ymd_and_hms(2027, 3, 29, 7, 0, 0).unwrap());
    }

    #[test]
    fn a_time_skipped_by_the_spring_change_moves_to_the_first_minute_after_it() {
        let ams = chrono_tz::Europe::Amsterdam;
        // 28 March 2027: clocks jump from 02:00 to 03:00.
        assert_eq!(local_at(ams, d(2027, 3, 28), 2, 30), Utc.with_ymd_and_hms(2027, 3, 28, 1, 0, 0).unwrap());
    }

    #[test]
    fn rules_are_parsed_or_refused_with_a_reason() {
        assert!(matches!(Rule::parse("yearly 11-10"), Ok(Rule::Yearly { month: 11, day: 10 })));
        assert!(matches!(Rule::parse("Monthly 31"), Ok(Rule::Monthly { day: 31 })));
        assert!(matches!(Rule::parse("0 9 * * 1"), Ok(Rule::Cron(_))));
        assert_eq!(Rule::parse("yearly 02-30").unwrap_err(), RuleError::NoSuchDay);
        assert_eq!(Rule::parse("every now and then").unwrap_err(), RuleError::Unknown);
        assert_eq!(Rule::parse("*/5 * * * *").unwrap_err(), RuleError::TooFrequent);
        assert!(matches!(Rule::parse("0 25 * * *"), Err(RuleError::Cron(_))));
        // Step shorthand that croner 3 accepted, in rules saved before croner 4.
        assert!(matches!(Rule::parse("0 9 1/14 * *"), Ok(Rule::Cron(_))));
    }

    #[test]
    fn the_latest_occurrence_is_found_in_the_local_zone() {
        let ams = chrono_tz::Europe::Amsterdam;
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        let yearly = Rule::parse("yearly 11-10").unwrap();
        assert_eq!(yearly.latest_until(ams, now), Some(Utc.with_ymd_and_hms(2026, 11, 10, 8, 0, 0).unwrap()));
        let monthly = Rule::parse("monthly 31").unwrap();
        assert_eq!(monthly.latest_until(ams, now), Some(Utc.with_ymd_and_hms(2026, 10, 31, 8, 0, 0).unwrap()));
        let cron = Rule::parse("0 9 * * 1").unwrap();
        assert_eq!(cron.latest_until(ams, now), Some(Utc.with_ymd_and_hms(2026, 11, 16, 8, 0, 0).unwrap()));
        assert_eq!(cron.next_after(ams, now, 2)[0], Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap());
        assert_eq!(yearly.next_after(ams, now, 1)[0], Utc.with_ymd_and_hms(2027, 11, 10, 8, 0, 0).unwrap());
    }

    #[test]
    fn weeks_are_iso_weeks() {
        assert_eq!(iso_week(d(2026, 11, 23)), "2026-W48");
        assert_eq!(week_start(d(2026, 11, 26)), d(2026, 11, 23));
    }
}
