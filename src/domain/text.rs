//! Text that one person types and others see. A one-line field (a name, a title) must not carry
//! control characters: CR/LF break e-mail headers, CSV rows and log lines. No text may carry the
//! invisible bidirectional controls that reorder what is shown, so `…gnp.pdf` cannot display as
//! `…fdp.png`.

/// The invisible characters that change the direction in which text is displayed.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A one-line text, trimmed: `None` when it is empty, longer than `max_chars`, or holds a control
/// or direction character.
pub fn single_line(s: &str, max_chars: usize) -> Option<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n == 0 || n > max_chars || t.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return None;
    }
    Some(t.to_string())
}

/// Text of several lines: line breaks and tabs stay, other control and direction characters go.
pub fn multi_line(s: &str) -> String {
    s.chars().filter(|c| matches!(c, '\n' | '\r' | '\t') || !(c.is_control() || is_bidi_control(*c))).collect()
}

/// A file name as stored and offered for download: no folders, no quotes or separators that
/// break a `Content-Disposition` header, no control or direction characters.
pub fn file_name(name: &str, fallback: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c) && !matches!(c, '"' | '\\' | '/' | ';'))
        .take(150)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() { fallback.into() } else { cleaned.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_texts_refuse_line_breaks_and_direction_overrides() {
        assert_eq!(single_line("  Şahin Yıldız ", 200).as_deref(), Some("Şahin Yıldız"));
        assert_eq!(single_line("Acme\r\nBcc: x@example.org", 200), None);
        assert_eq!(single_line("evil\u{202E}gnp.pdf", 200), None);
        assert_eq!(single_line("tab\there", 200), None);
        assert_eq!(single_line("   ", 200), None);
        assert_eq!(single_line(&"x".repeat(201), 200), None);
    }

    #[test]
    fn file_names_lose_folders_quotes_and_direction_overrides() {
        assert_eq!(file_name("../../etc/pa\"ss;wd.pdf", "evidence"), "passwd.pdf");
        assert_eq!(file_name("report\u{202E}gnp.pdf", "evidence"), "reportgnp.pdf");
        assert_eq!(file_name("", "evidence"), "evidence");
        assert_eq!(file_name("a\r\nb.pdf", "evidence"), "ab.pdf");
    }

    #[test]
    fn several_lines_keep_their_breaks_but_not_hidden_controls() {
        assert_eq!(multi_line("one\r\ntwo\u{202E}\u{0007}"), "one\r\ntwo");
    }
}
