//! Dutch and English texts for pages and e-mails: `templates/i18n/{nl,en}.toml`, flat
//! `key = "text"` maps, plus one file per part of the service (`nl-passport.toml`, ...). Dutch is the default; a missing English text falls back to the key, so
//! a gap shows up in review instead of breaking a page.
use std::collections::HashMap;

pub const LANGUAGES: [&str; 2] = ["nl", "en"];

#[derive(Debug, Default)]
pub struct Translations {
    by_lang: HashMap<String, HashMap<String, String>>,
}

impl Translations {
    /// The translations in `i18n/` of the template files.
    pub fn from_files(files: &crate::resources::Files) -> Result<Translations, String> {
        let mut by_lang = HashMap::new();
        let sources: Vec<(&str, &str)> = files
            .iter()
            .filter_map(|(name, text)| Some((name.strip_prefix("i18n/")?.strip_suffix(".toml")?, text)))
            .filter(|(stem, _)| !stem.contains('/'))
            .collect();
        for lang in LANGUAGES {
            let mut map: HashMap<String, String> = HashMap::new();
            for (stem, text) in &sources {
                if *stem != lang && !stem.starts_with(&format!("{lang}-")) {
                    continue;
                }
                let file = files.describe(&format!("i18n/{stem}.toml"));
                let part: HashMap<String, String> =
                    toml::from_str(text).map_err(|e| format!("{file}: {}", e.message()))?;
                map.extend(part);
            }
            if map.is_empty() {
                return Err(format!("{}: no texts for \"{lang}\"", files.describe("i18n")));
            }
            by_lang.insert(lang.to_string(), map);
        }
        let t = Translations { by_lang };
        for (a, b) in [("nl", "en"), ("en", "nl")] {
            let missing: Vec<_> = t.by_lang[a].keys().filter(|k| !t.by_lang[b].contains_key(*k)).collect();
            if let Some(k) = missing.first() {
                return Err(format!("templates/i18n: {b} lacks \"{k}\" (and {} more)", missing.len() - 1));
            }
        }
        Ok(t)
    }

    pub fn get<'a>(&'a self, lang: &str, key: &'a str) -> &'a str {
        let lang = if lang == "en" { "en" } else { "nl" };
        self.by_lang.get(lang).and_then(|m| m.get(key)).map(String::as_str).unwrap_or(key)
    }
}

/// A supported language from a user preference, cookie or header, else Dutch.
pub fn normalise(lang: Option<&str>) -> &'static str {
    match lang.map(|l| l.trim().to_ascii_lowercase()) {
        Some(l) if l.starts_with("en") => "en",
        _ => "nl",
    }
}
