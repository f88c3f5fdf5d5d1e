//! The minijinja environment: templates from `templates/`, plus `t(key)` for translated text and
//! a few filters for dates. `.html` templates are escaped automatically.
use std::sync::Arc;

use minijinja::{Environment, State, Value};

use super::i18n::Translations;
use crate::domain::dates;
use crate::resources::Files;

pub fn environment(files: Arc<Files>, translations: Arc<Translations>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_loader(move |name| Ok(files.get(name).map(str::to_string)));
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    let plural_translations = translations.clone();
    let person_translations = translations.clone();
    env.add_function("t", move |state: &State, key: &str| -> String {
        let lang = state.lookup("lang").map(|v| v.to_string()).unwrap_or_default();
        translations.get(&lang, key).to_string()
    });
    // A text about a number, in the right form: `key.one` for exactly 1, else `key.other`,
    // with `{n}` replaced ("1 dag", "3 dagen"; no "dag(en)").
    env.add_function("tn", move |state: &State, key: &str, n: Value| -> String {
        let lang = state.lookup("lang").map(|v| v.to_string()).unwrap_or_default();
        let shown = n.to_string();
        let count = i64::try_from(n.clone()).ok().or_else(|| shown.trim().parse::<i64>().ok());
        let form = if count == Some(1) { "one" } else { "other" };
        plural_translations.get(&lang, &format!("{key}.{form}")).replace("{n}", &shown)
    });
    // Dates in the reader's language (`lang` of the page or mail; Dutch when there is none).
    env.add_filter("date", |state: &State, v: Value| -> String {
        let lang = lang_of(state);
        match local(&v) {
            Some(t) => dates::long_date(&lang, t.date_naive()),
            None => plain_date(&v).map(|d| dates::long_date(&lang, d)).unwrap_or_else(|| v.to_string()),
        }
    });
    env.add_filter("shortdate", |state: &State, v: Value| -> String {
        let lang = lang_of(state);
        match local(&v) {
            Some(t) => dates::short_date(&lang, t.date_naive()),
            None => plain_date(&v).map(|d| dates::short_date(&lang, d)).unwrap_or_else(|| v.to_string()),
        }
    });
    env.add_filter("datetime", |state: &State, v: Value| -> String {
        match local(&v) {
            Some(t) => dates::long_datetime(&lang_of(state), t.naive_local()),
            None => v.to_string(),
        }
    });
    // A person's name; an erased person's name is empty, and history calls them "former member".
    env.add_filter("person", move |state: &State, v: Value| -> String {
        if v.is_undefined() || v.is_none() {
            return String::new();
        }
        let name = v.to_string();
        if name.trim().is_empty() {
            person_translations.get(&lang_of(state), "member.former").to_string()
        } else {
            name
        }
    });
    env.add_filter("filesize", |v: i64| -> String {
        if v >= 1024 * 1024 {
            format!("{:.1} MB", v as f64 / (1024.0 * 1024.0))
        } else {
            format!("{} kB", (v + 1023) / 1024)
        }
    });
    env
}

fn lang_of(state: &State) -> String {
    state.lookup("lang").map(|v| v.to_string()).filter(|l| l == "en").unwrap_or_else(|| "nl".into())
}

/// A plain date ("2026-07-01") as the API and the database hold it.
fn plain_date(v: &Value) -> Option<chrono::NaiveDate> {
    let s = v.to_string();
    chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// An instant as people here read it: in Europe/Amsterdam, the service's home time zone.
fn local(v: &Value) -> Option<chrono::DateTime<chrono_tz::Tz>> {
    let t = chrono::DateTime::parse_from_rfc3339(&v.to_string()).ok()?;
    Some(t.with_timezone(&chrono_tz::Europe::Amsterdam))
}

/// Renders every page and mail template once with an empty context, so a broken template
/// stops the start instead of a user's request.
pub fn check_all(env: &Environment<'static>, files: &Files) -> Result<(), String> {
    for (name, _) in files.iter().filter(|(n, _)| n.ends_with(".html") || n.ends_with(".txt")) {
        env.get_template(name).map_err(|e| format!("template {}: {e:#}", files.describe(name)))?;
    }
    Ok(())
}

#[cfg(test)]
mod local_time_tests {
    use super::*;

    #[test]
    fn instants_are_shown_in_amsterdam_time_and_plain_dates_stay_as_they_are() {
        let env = environment(Arc::new(Files::default()), Arc::new(Translations::default()));
        let render = |s: &str| env.render_str(s, minijinja::context! {}).unwrap();
        assert_eq!(render("{{ '2026-11-23T11:38:00Z'|datetime }}"), "23 november 2026, 12:38");
        assert_eq!(render("{{ '2026-07-01T22:30:00+00:00'|date }}"), "2 juli 2026");
        assert_eq!(render("{{ '2026-07-01'|date }}"), "1 juli 2026");
        assert_eq!(render("{{ '2026-07-01'|shortdate }}"), "01-07-2026");
        let en = env.render_str("{{ '2026-07-01'|date }}", minijinja::context! { lang => "en" }).unwrap();
        assert_eq!(en, "1 July 2026");
    }
}

#[cfg(test)]
mod plural_tests {
    use super::*;

    #[test]
    fn counted_texts_take_the_singular_for_one_and_the_plural_otherwise() {
        let files = Arc::new(Files::templates(None).unwrap());
        let translations = Translations::from_files(&files).unwrap();
        let env = environment(files, Arc::new(translations));
        let render = |lang: &str, n: i64| {
            env.render_str("{{ tn('portfolio.waiting_days', n) }}", minijinja::context! { lang => lang, n => n })
                .unwrap()
        };
        assert_eq!(render("nl", 1), "1 dag");
        assert_eq!(render("nl", 3), "3 dagen");
        assert_eq!(render("nl", 0), "0 dagen");
        assert_eq!(render("en", 1), "1 day");
        let text = env.render_str("{{ tn('jobs.outcome', '1') }}", minijinja::context! { lang => "nl" }).unwrap();
        assert_eq!(text, "1 herinnering", "a number given as text counts too");
    }
}
