//! The passport as a plain A4 PDF (built-in Helvetica, wrapped lines, as many pages as needed),
//! in the reader's language.
use printpdf::{BuiltinFont, IndirectFontRef, Mm, PdfDocument, PdfDocumentReference, PdfLayerReference};

use super::passport::PassportView;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

const TOP: f32 = 280.0;
const BOTTOM: f32 = 20.0;
const LEFT: f32 = 20.0;
const WRAP: usize = 90;

struct Writer {
    doc: PdfDocumentReference,
    layer: PdfLayerReference,
    regular: IndirectFontRef,
    bold: IndirectFontRef,
    y: f32,
}

impl Writer {
    fn line(&mut self, text: &str, size: f32, bold: bool) {
        if self.y < BOTTOM {
            let (page, layer) = self.doc.add_page(Mm(210.0), Mm(297.0), "text");
            self.layer = self.doc.get_page(page).get_layer(layer);
            self.y = TOP;
        }
        let font = if bold { &self.bold } else { &self.regular };
        self.layer.use_text(text, size, Mm(LEFT), Mm(self.y), font);
        self.y -= size * 0.5 + 1.5;
    }

    fn paragraph(&mut self, text: &str) {
        for raw in text.lines() {
            for l in wrap(raw, WRAP) {
                self.line(&l, 11.0, false);
            }
        }
        self.y -= 2.0;
    }

    fn heading(&mut self, text: &str) {
        self.y -= 3.0;
        self.line(text, 13.0, true);
    }
}

/// Greedy word wrap; an empty line stays one empty line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    out.push(cur);
    out
}

pub fn render(state: &AppState, v: &PassportView, lang: &str) -> AppResult<Vec<u8>> {
    let t = |key: &str| state.translations.get(lang, key).to_string();
    let title = t("passport.title");
    let (doc, page, layer) = PdfDocument::new(&title, Mm(210.0), Mm(297.0), "text");
    let regular = doc.add_builtin_font(BuiltinFont::Helvetica).map_err(AppError::internal)?;
    let bold = doc.add_builtin_font(BuiltinFont::HelveticaBold).map_err(AppError::internal)?;
    let layer = doc.get_page(page).get_layer(layer);
    let mut w = Writer { doc, layer, regular, bold, y: TOP };
    w.line(&title, 18.0, true);
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
        w.line(&t(&format!("passport.kind.{}", a.kind)), 11.0, true);
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
    w.doc.save_to_bytes().map_err(AppError::internal)
}

fn state_key(v: &PassportView) -> &'static str {
    match v.state {
        crate::domain::passport::State::Draft => "draft",
        crate::domain::passport::State::Confirmed => "confirmed",
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn long_lines_wrap_at_word_boundaries() {
        let lines = wrap("een twee drie vier vijf", 9);
        assert_eq!(lines, vec!["een twee", "drie vier", "vijf"]);
        assert_eq!(wrap("", 10), vec![String::new()]);
    }
}
