//! The passport as a plain A4 PDF (in the font of `pdf`, lines wrapped to the page's width, as
//! many pages as needed), in the reader's language.
use super::passport::PassportView;
use super::pdf::{Weight, Writer};
use crate::error::AppResult;
use crate::state::AppState;

pub fn render(state: &AppState, v: &PassportView, lang: &str) -> AppResult<Vec<u8>> {
    let t = |key: &str| state.translations.get(lang, key).to_string();
    let title = t("passport.title");
    let mut w = Writer::a4(&title)?;
    w.lines(&title, 18.0, Weight::Bold);
    w.y -= 4.0;
    w.paragraph(&format!("{}: {}", t("passport.carer"), v.carer.name));
    if let Some(m) = &v.manager {
        w.paragraph(&format!("{}: {}", t("passport.manager"), m.name));
    }
    w.paragraph(&format!("{}: {}", t("passport.organisation"), v.organisation));
    w.paragraph(&format!(
        "{} {} · {}: {}",
        t("passport.version"),
        v.version,
        t("passport.state"),
        t(&format!("passport.state.{}", state_key(v)))
    ));
    w.heading(&t("passport.situation"));
    w.paragraph(if v.content.situation.is_empty() { "-" } else { &v.content.situation });
    w.heading(&t("passport.arrangements"));
    if v.content.arrangements.is_empty() {
        w.paragraph("-");
    }
    for a in &v.content.arrangements {
        w.lines(&t(&format!("passport.kind.{}", a.kind)), 11.0, Weight::Bold);
        w.paragraph(&a.details);
    }
    w.heading(&t("passport.support"));
    w.paragraph(if v.content.support.is_empty() { "-" } else { &v.content.support });
    w.heading(&t("passport.review_date"));
    w.paragraph(&crate::domain::dates::long_date(lang, v.review_date));
    w.heading(&t("passport.confirmations"));
    if v.confirmations.is_empty() {
        w.paragraph("-");
    }
    for c in &v.confirmations {
        let local = c.confirmed_at.with_timezone(&chrono_tz::Europe::Amsterdam).naive_local();
        let when = crate::domain::dates::long_datetime(lang, local);
        w.paragraph(&format!(
            "{}: {} ({when})",
            t(&format!("passport.side.{}", c.side)),
            c.name.clone().unwrap_or_default()
        ));
    }
    w.doc.save()
}

fn state_key(v: &PassportView) -> &'static str {
    match v.state {
        crate::domain::passport::State::Draft => "draft",
        crate::domain::passport::State::Confirmed => "confirmed",
    }
}
