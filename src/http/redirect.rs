//! Where the browser may be sent after a login or a form: only a path on this site.
//!
//! `next` comes from a query string or a form, so it is attacker-controlled. Browsers repair what
//! they are given (they drop tabs and newlines, read `\` as `/`, and `//host` as another site), so
//! a target is accepted only when nothing in it could be repaired into another origin.
use url::Url;

/// The path to follow, or `/` when `next` is missing or not provably a path on `public_url`.
pub fn safe_next(next: Option<&str>, public_url: &str) -> String {
    next.and_then(|n| same_origin_path(n, public_url)).unwrap_or_else(|| "/".into())
}

fn same_origin_path(next: &str, public_url: &str) -> Option<String> {
    if !next.starts_with('/') || next.len() > 2048 {
        return None;
    }
    // Control characters (TAB, CR, LF ...), spaces and backslashes are repaired by browsers into
    // something else; an encoded slash or backslash can be decoded into `//` by a later hop.
    if next.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
        return None;
    }
    let lower = next.to_ascii_lowercase();
    if lower.contains("%2f")
        || lower.contains("%5c")
        || lower.contains("%09")
        || lower.contains("%0a")
        || lower.contains("%0d")
    {
        return None;
    }
    if next.starts_with("//") {
        return None;
    }
    let base = Url::parse(public_url).ok()?;
    let target = base.join(next).ok()?;
    if target.origin() != base.origin() {
        return None;
    }
    let mut path = target.path().to_string();
    if let Some(q) = target.query() {
        path.push('?');
        path.push_str(q);
    }
    // After normalisation the path must still be a single-slash path.
    if !path.starts_with('/') || path.starts_with("//") { None } else { Some(path) }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    const BASE: &str = "https://zorg.example.org";

    #[test]
    fn local_paths_are_followed() {
        for ok in ["/", "/items/5", "/organisations/3/checklists/bespreken?x=1", "/passport"] {
            assert_eq!(safe_next(Some(ok), BASE), ok, "{ok}");
        }
    }

    /// The redirect corpus: every way seen to leave the site must end at `/`.
    #[test]
    fn anything_that_could_reach_another_site_goes_home() {
        let corpus = [
            "//evil.example",
            "/\t/evil.example/",
            "/\n/evil.example",
            "/\r\nLocation: http://evil.example",
            "/%09/evil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5C/evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\\/evil.example",
            "https://evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "evil.example",
            " /evil",
            "/ /evil",
            "///evil.example",
            "/.//evil.example",
            "",
        ];
        for bad in corpus {
            let got = safe_next(Some(bad), BASE);
            assert!(got == "/" || (got.starts_with('/') && !got.starts_with("//")), "{bad:?} gave {got:?}");
            assert_eq!(got, "/", "{bad:?}");
        }
        assert_eq!(safe_next(None, BASE), "/");
    }

    #[test]
    fn dot_segments_are_resolved_on_this_site() {
        assert_eq!(safe_next(Some("/a/../items/5"), BASE), "/items/5");
    }
}
