//! The minijinja environment: templates from `templates/`, plus `t(key)` for translated text and
//! a few filters for dates. `.html` templates are escaped automatically.
use std::path::Path;
use std::sync::Arc;

use minijinja::{Environment, State, Value};

use super::i18n::Translations;

pub fn environment(dir: &Path, translations: Arc<Translations>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_loader(minijinja::path_loader(dir));
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    env.add_function("t", move |state: &State, key: &str| -> String {
        let lang = state.lookup("lang").map(|v| v.to_string()).unwrap_or_default();
        translations.get(&lang, key).to_string()
    });
    env.add_filter("date", |v: Value| -> String { v.to_string().chars().take(10).collect() });
    env.add_filter("datetime", |v: Value| -> String {
        let s = v.to_string();
        let s: String = s.chars().take(16).collect();
        s.replace('T', " ")
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

/// Renders every page and mail template once with an empty context, so a broken template
/// stops the start instead of a user's request.
pub fn check_all(env: &Environment<'static>, dir: &Path) -> Result<(), String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, base, out);
                } else if p.extension().is_some_and(|x| x == "html" || x == "txt")
                    && let Ok(rel) = p.strip_prefix(base)
                {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
    }
    let mut names = vec![];
    walk(dir, dir, &mut names);
    for name in names {
        env.get_template(&name).map_err(|e| format!("template {name}: {e:#}"))?;
    }
    Ok(())
}
