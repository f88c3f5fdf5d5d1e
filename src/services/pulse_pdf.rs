//! A closed pulse round's frozen result as an A4 PDF and as a short note, in one language: the
//! evidence an advisor reads. Only figures the round may show appear; nothing else is in the file.
use super::pdf::{Weight, Writer};
use super::pulse::Frozen;
use crate::db::entities::{organisation, pulse_round};
use crate::domain::passport::{Count, suppress};
use crate::domain::pulse::Cell;
use crate::error::AppResult;
use crate::state::AppState;

fn cell_text(state: &AppState, lang: &str, cell: Cell) -> String {
    match cell {
        Cell::Exact { count, percent } => format!("{count} ({percent}%)"),
        Cell::FewerThan { .. } => state.translations.get(lang, "pulse.fewer_than_5").to_string(),
        Cell::Hidden => state.translations.get(lang, "pulse.hidden").to_string(),
    }
}

/// Dates, version and response in a few lines (the evidence's note).
pub fn summary(state: &AppState, f: &Frozen, lang: &str) -> String {
    let t = |key: &str| state.translations.get(lang, key).to_string();
    let date = |d| crate::domain::dates::long_date(lang, d);
    let mut lines = vec![
        t("pulse.evidence_produced"),
        format!("{}: {} – {}", t("pulse.period"), date(f.opened_on), date(f.closed_on)),
        format!("{}: {}", t("pulse.question_version"), f.question_version),
        format!("{}: {}", t("pulse.respondents"), f.figures.respondents),
    ];
    // Counts under five are not told here either (they would be, beside the total).
    let count = |n: u64| match suppress(n) {
        Count::Exact(n) => n.to_string(),
        Count::FewerThan(_) => t("pulse.fewer_than_5"),
    };
    if f.invited > 0 {
        let rate = f.response_rate().map(|p| format!(" ({p}%)")).unwrap_or_default();
        lines.push(format!("{}: {} / {}{rate}", t("pulse.response_rate"), count(f.answered_invited), f.invited));
    }
    if f.answered_link > 0 {
        lines.push(format!("{}: {}", t("pulse.answered_by_link"), count(f.answered_link)));
    }
    lines.join("\n")
}

pub fn render(
    state: &AppState,
    o: &organisation::Model,
    r: &pulse_round::Model,
    f: &Frozen,
    lang: &str,
) -> AppResult<Vec<u8>> {
    let t = |key: &str| state.translations.get(lang, key).to_string();
    let questionnaire = super::pulse::questionnaire_of(state, r);
    let title = questionnaire.title.get(lang).to_string();
    let mut w = Writer::a4(&title)?;
    w.lines(&title, 18.0, Weight::Bold);
    w.y -= 4.0;
    w.paragraph(&o.name);
    w.paragraph(&summary(state, f, lang));
    w.paragraph(&format!("{}: {}", t("pulse.round"), r.id));
    let Some(overall) = &f.figures.overall else {
        w.paragraph(&t("pulse.too_few"));
        return w.save();
    };
    let mut groups = vec![(t("pulse.everyone"), overall)];
    for g in &f.figures.departments {
        let name = match &g.department {
            Some(d) => d.clone(),
            None => t("pulse.other_departments"),
        };
        groups.push((format!("{name} ({})", g.respondents), g));
    }
    for (name, g) in groups {
        w.heading(&name);
        for qf in &g.questions {
            let Some(q) = questionnaire.questions.iter().find(|q| q.key == qf.question) else { continue };
            w.lines(q.text.get(lang), 11.0, Weight::Bold);
            for c in &qf.choices {
                let label = match q.choices.iter().find(|x| x.key == c.choice) {
                    Some(x) => x.text.get(lang).to_string(),
                    None => t("pulse.no_answer"),
                };
                w.lines(&format!("  {label}: {}", cell_text(state, lang, c.cell)), 10.0, Weight::Regular);
            }
            if let Some(m) = qf.mean {
                w.lines(&format!("  {}: {m:.1}", t("pulse.mean")), 10.0, Weight::Regular);
            }
            w.y -= 2.0;
        }
    }
    w.heading(&t("pulse.rules_title"));
    w.paragraph(&t("pulse.rules"));
    w.save()
}
