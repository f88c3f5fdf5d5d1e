//! The files the service reads at start (page and e-mail templates, translations, checklists),
//! built into the binary so that it runs from any directory. A folder named in the
//! configuration (`TEMPLATES_DIR`, `CHECKLISTS_DIR`) replaces the built-in files and is checked
//! the same way; a folder that cannot be read stops the start, it never falls back silently.
use std::collections::BTreeMap;
use std::path::Path;

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/"]
// The stylesheet is served from its own `include_str!`.
#[exclude = "static/*"]
struct BuiltInTemplates;

#[derive(RustEmbed)]
#[folder = "checklists/"]
struct BuiltInChecklists;

/// Text files by their path inside one folder (`/`-separated), and where they came from.
#[derive(Debug, Clone, Default)]
pub struct Files {
    files: BTreeMap<String, String>,
    origin: String,
}

impl Files {
    /// The templates (with `i18n/`): from `dir` when given, else built in.
    pub fn templates(dir: Option<&str>) -> Result<Files, String> {
        match dir {
            Some(d) => Files::read_dir(Path::new(d)),
            None => Files::built_in::<BuiltInTemplates>("templates (built in)"),
        }
    }

    /// The checklist files: from `dir` when given, else built in.
    pub fn checklists(dir: Option<&str>) -> Result<Files, String> {
        match dir {
            Some(d) => Files::read_dir(Path::new(d)),
            None => Files::built_in::<BuiltInChecklists>("checklists (built in)"),
        }
    }

    fn built_in<E: RustEmbed>(origin: &str) -> Result<Files, String> {
        let mut files = BTreeMap::new();
        for name in E::iter() {
            let Some(file) = E::get(&name) else { continue };
            let text = String::from_utf8(file.data.into_owned()).map_err(|_| format!("{origin}/{name}: not UTF-8"))?;
            files.insert(name.into_owned(), text);
        }
        Ok(Files { files, origin: origin.into() })
    }

    fn read_dir(dir: &Path) -> Result<Files, String> {
        fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) -> Result<(), String> {
            let entries =
                std::fs::read_dir(dir).map_err(|e| format!("cannot read the folder {}: {e}", dir.display()))?;
            for entry in entries {
                let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
                let relative = format!("{prefix}{name}");
                if path.is_dir() {
                    walk(&path, &format!("{relative}/"), out)?;
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    out.insert(relative, text);
                }
            }
            Ok(())
        }
        let mut files = BTreeMap::new();
        walk(dir, "", &mut files)?;
        Ok(Files { files, origin: dir.display().to_string() })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(String::as_str)
    }

    /// Every file as (path, text), in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().map(|(n, t)| (n.as_str(), t.as_str()))
    }

    /// A file's name for messages: the folder it came from and its path.
    pub fn describe(&self, name: &str) -> String {
        format!("{}/{name}", self.origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_files_are_those_of_the_repository() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let built_in = Files::templates(None).unwrap();
        let on_disk = Files::read_dir(&root.join("templates")).unwrap();
        let without_static: Vec<_> = on_disk.iter().filter(|(n, _)| !n.starts_with("static/")).collect();
        assert_eq!(built_in.iter().collect::<Vec<_>>(), without_static);
        assert!(built_in.get("email/invitation.txt").is_some());
        let lists = Files::checklists(None).unwrap();
        assert_eq!(
            lists.iter().collect::<Vec<_>>(),
            Files::read_dir(&root.join("checklists")).unwrap().iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_folder_that_cannot_be_read_is_an_error_not_a_fallback() {
        let err = Files::checklists(Some("/nonexistent/carer-friendly")).unwrap_err();
        assert!(err.contains("/nonexistent/carer-friendly"), "{err}");
    }
}
