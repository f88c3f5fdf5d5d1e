//! Dates as people here write them: "23 november 2026" in Dutch, "23 November 2026" in English,
//! on pages, certificates and e-mails alike (ISO dates stay in the API and the files).
use chrono::{Datelike, NaiveDate, NaiveDateTime};

const MONTHS_NL: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month(lang: &str, m: u32) -> &'static str {
    let names = if lang == "en" { &MONTHS_EN } else { &MONTHS_NL };
    names[(m.clamp(1, 12) - 1) as usize]
}

/// "23 november 2026" / "23 November 2026".
pub fn long_date(lang: &str, d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), month(lang, d.month()), d.year())
}

/// "23 november 2026, 12:38" (a local time; the caller has moved it to the reader's zone).
pub fn long_datetime(lang: &str, t: NaiveDateTime) -> String {
    format!("{}, {}", long_date(lang, t.date()), t.format("%H:%M"))
}

/// "23-11-2026" / "23/11/2026": for axes and tight table cells.
pub fn short_date(lang: &str, d: NaiveDate) -> String {
    if lang == "en" { d.format("%d/%m/%Y").to_string() } else { d.format("%d-%m-%Y").to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_out_in_the_readers_language() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(long_date("nl", d), "23 november 2026");
        assert_eq!(long_date("en", d), "23 November 2026");
        assert_eq!(short_date("nl", d), "23-11-2026");
        assert_eq!(short_date("en", d), "23/11/2026");
        let t = d.and_hms_opt(9, 5, 0).unwrap();
        assert_eq!(long_datetime("nl", t), "23 november 2026, 09:05");
        assert_eq!(long_date("nl", NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()), "1 maart 2027");
    }
}
