//! Checklists as data: one TOML file per checklist in `checklists/`, loaded and validated at
//! start. A malformed file stops the start with the file, line and problem.
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The four pillars, in their order. Their keys are proper names and never change.
pub const PILLARS: [&str; 4] = ["bespreken", "beschrijven", "bekwamen", "borgen"];
pub const GOING_AHEAD: &str = "going-ahead";
/// The employee pulse's questions live beside the checklists (`domain::pulse`), not among them.
pub const PULSE_FILE: &str = "pulse.toml";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub nl: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: &str) -> &str {
        if lang == "en" { &self.en } else { &self.nl }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recurrence {
    Yearly,
    AppraisalCycle,
    TwoYearly,
}

impl Recurrence {
    pub fn as_str(self) -> &'static str {
        match self {
            Recurrence::Yearly => "yearly",
            Recurrence::AppraisalCycle => "appraisal-cycle",
            Recurrence::TwoYearly => "two-yearly",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Pillar,
    GoingAhead,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    pub key: String,
    #[serde(default)]
    pub recurrence: Option<Recurrence>,
    pub text: Text,
    pub guidance: Text,
    pub evidence: Text,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    pub key: String,
    pub kind: Kind,
    pub position: u32,
    pub version: String,
    pub title: Text,
    pub summary: Text,
    pub intro: Text,
    pub items: Vec<ChecklistItem>,
}

impl Checklist {
    pub fn item(&self, key: &str) -> Option<&ChecklistItem> {
        self.items.iter().find(|i| i.key == key)
    }
}

/// All checklists, in their order (the four pillars, then Going-Ahead).
#[derive(Debug, Clone, Default)]
pub struct Checklists {
    lists: Vec<Checklist>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}:{line}: {problem}")]
pub struct ChecklistError {
    pub file: String,
    pub line: usize,
    pub problem: String,
}

impl Checklists {
    pub fn all(&self) -> &[Checklist] {
        &self.lists
    }

    pub fn get(&self, key: &str) -> Option<&Checklist> {
        self.lists.iter().find(|c| c.key == key)
    }

    pub fn pillars(&self) -> impl Iterator<Item = &Checklist> {
        self.lists.iter().filter(|c| c.kind == Kind::Pillar)
    }

    /// Versions by checklist key, e.g. for recording what a recognition was granted on.
    pub fn versions(&self) -> BTreeMap<String, String> {
        self.lists.iter().map(|c| (c.key.clone(), c.version.clone())).collect()
    }

    /// The checklists among `files` (each `*.toml` at the top of the folder).
    pub fn from_files(files: &crate::resources::Files) -> Result<Checklists, ChecklistError> {
        let sources: Vec<(String, String)> = files
            .iter()
            .filter(|(name, _)| name.ends_with(".toml") && !name.contains('/') && *name != PULSE_FILE)
            .map(|(name, text)| (files.describe(name), text.to_string()))
            .collect();
        if sources.is_empty() {
            return Err(ChecklistError {
                file: files.describe(""),
                line: 0,
                problem: "no checklist files (*.toml) in this folder".into(),
            });
        }
        Checklists::from_sources(&sources)
    }

    /// Parses and validates checklist files given as (file name, content).
    pub fn from_sources(sources: &[(String, String)]) -> Result<Checklists, ChecklistError> {
        let mut lists = Vec::new();
        for (file, text) in sources {
            let list: Checklist = toml::from_str(text).map_err(|e| ChecklistError {
                file: file.clone(),
                line: e.span().map(|s| line_at(text, s.start)).unwrap_or(0),
                problem: e.message().to_string(),
            })?;
            validate(file, text, &list)?;
            lists.push(list);
        }
        let fail = |problem: String| ChecklistError { file: "checklists".into(), line: 0, problem };
        let mut keys = HashSet::new();
        for l in &lists {
            if !keys.insert(l.key.clone()) {
                return Err(fail(format!("checklist key \"{}\" is used by two files", l.key)));
            }
        }
        for p in PILLARS {
            if !keys.contains(p) {
                return Err(fail(format!("the pillar checklist \"{p}\" is missing")));
            }
        }
        lists.sort_by_key(|l| l.position);
        Ok(Checklists { lists })
    }
}

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `key = "value"` appears for the `nth` time (1-based), for pointing at a problem
/// that the parser cannot see.
fn line_of_key(text: &str, value: &str, nth: usize) -> usize {
    let needle = format!("\"{value}\"");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("key") && l.contains(&needle))
        .nth(nth.saturating_sub(1))
        .map(|(i, _)| i + 1)
        .unwrap_or(1)
}

fn valid_key(key: &str) -> bool {
    (3..=48).contains(&key.len())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !key.starts_with('-')
}

fn validate(file: &str, text: &str, list: &Checklist) -> Result<(), ChecklistError> {
    let err = |line: usize, problem: String| ChecklistError { file: file.to_string(), line, problem };
    let stem = Path::new(file).file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    if list.key != stem {
        return Err(err(
            line_of_key(text, &list.key, 1),
            format!("key \"{}\" must equal the file name \"{stem}\"", list.key),
        ));
    }
    let expected_kind = if PILLARS.contains(&list.key.as_str()) { Kind::Pillar } else { Kind::GoingAhead };
    if list.kind != expected_kind {
        return Err(err(
            1,
            format!(
                "kind must be \"{}\" for \"{}\"",
                if expected_kind == Kind::Pillar { "pillar" } else { "going-ahead" },
                list.key
            ),
        ));
    }
    if list.version.trim().is_empty() {
        return Err(err(1, "version is empty".into()));
    }
    if list.items.is_empty() {
        return Err(err(1, "the checklist has no items".into()));
    }
    for t in [&list.title, &list.summary, &list.intro] {
        if t.nl.trim().is_empty() || t.en.trim().is_empty() {
            return Err(err(1, "title, summary and intro need both Dutch (nl) and English (en) text".into()));
        }
    }
    let mut seen = HashSet::new();
    for item in &list.items {
        let line = line_of_key(text, &item.key, 1);
        if !valid_key(&item.key) {
            return Err(err(line, format!("item key \"{}\" must be 3-48 characters of a-z, 0-9 and -", item.key)));
        }
        if !seen.insert(item.key.as_str()) {
            return Err(err(line_of_key(text, &item.key, 2), format!("item key \"{}\" is used twice", item.key)));
        }
        for (name, t) in [("text", &item.text), ("guidance", &item.guidance), ("evidence", &item.evidence)] {
            if t.nl.trim().is_empty() || t.en.trim().is_empty() {
                return Err(err(line, format!("item \"{}\" needs {name} in both nl and en", item.key)));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pillar(key: &str, items: &str) -> (String, String) {
        let text = format!(
            "key = \"{key}\"\nkind = \"pillar\"\nposition = 1\nversion = \"1\"\n\
             title = {{ nl = \"T\", en = \"T\" }}\nsummary = {{ nl = \"S\", en = \"S\" }}\n\
             intro = {{ nl = \"I\", en = \"I\" }}\n{items}"
        );
        (format!("checklists/{key}.toml"), text)
    }

    fn item(key: &str) -> String {
        format!(
            "\n[[items]]\nkey = \"{key}\"\ntext = {{ nl = \"a\", en = \"a\" }}\n\
             guidance = {{ nl = \"g\", en = \"g\" }}\nevidence = {{ nl = \"e\", en = \"e\" }}\n"
        )
    }

    fn four(first_items: &str) -> Vec<(String, String)> {
        let mut v = vec![pillar("bespreken", first_items)];
        for p in &PILLARS[1..] {
            v.push(pillar(p, &item("one")));
        }
        v
    }

    #[test]
    fn the_shipped_checklists_load() {
        let files = crate::resources::Files::checklists(None).expect("built in");
        let lists = Checklists::from_files(&files).expect("shipped checklists are valid");
        assert_eq!(lists.pillars().map(|p| p.key.as_str()).collect::<Vec<_>>(), PILLARS);
        assert_eq!(lists.get(GOING_AHEAD).map(|c| c.items.len()), Some(13));
    }

    #[test]
    fn a_syntax_error_names_file_and_line() {
        let mut v = four(&item("one"));
        v[0].1.push_str("\n[[items]]\nkey = oops\n");
        let e = Checklists::from_sources(&v).unwrap_err();
        assert_eq!(e.file, "checklists/bespreken.toml");
        assert_eq!(e.line, v[0].1.lines().count());
    }

    #[test]
    fn a_duplicate_item_key_names_the_second_line() {
        let v = four(&format!("{}{}", item("same"), item("same")));
        let e = Checklists::from_sources(&v).unwrap_err();
        assert!(e.problem.contains("used twice"), "{e}");
        assert_eq!(e.line, line_of_key(&v[0].1, "same", 2));
        assert!(e.line > line_of_key(&v[0].1, "same", 1));
    }

    #[test]
    fn missing_english_text_is_refused() {
        let bad = item("one").replace("text = { nl = \"a\", en = \"a\" }", "text = { nl = \"a\", en = \" \" }");
        let e = Checklists::from_sources(&four(&bad)).unwrap_err();
        assert!(e.problem.contains("needs text"), "{e}");
    }

    #[test]
    fn unknown_fields_and_a_missing_pillar_are_refused() {
        let mut v = four(&item("one"));
        v[1].1.push_str("colour = \"red\"\n");
        assert!(Checklists::from_sources(&v).unwrap_err().problem.contains("unknown field"));
        let v = four(&item("one"));
        assert!(Checklists::from_sources(&v[..3]).unwrap_err().problem.contains("borgen"));
    }
}
