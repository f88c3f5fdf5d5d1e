//! The text of the PDFs (certificate, passport): DejaVu Sans and DejaVu Sans Bold, built into the
//! binary so that names such as "Şahin Yıldız" or "Nguyễn Thị Minh Khai" come out as typed. The
//! fonts are parsed once; text is measured by their own advance widths (to centre and to wrap),
//! and each PDF embeds only the glyphs it uses.
use std::collections::BTreeSet;
use std::sync::LazyLock;

use printpdf::{
    FontId, Mm, Op, ParsedFont, PdfDocument, PdfFont, PdfFontHandle, PdfPage, PdfParseErrorSeverity, PdfSaveOptions,
    Point, Pt, TextItem,
};

use crate::error::{AppError, AppResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    Regular = 0,
    Bold = 1,
}

struct Face {
    name: &'static str,
    /// The font file, from which each PDF's subset is cut.
    bytes: &'static [u8],
    /// Its character map and advance widths.
    metrics: ParsedFont,
}

/// Both faces, by `Weight`.
pub struct Fonts([Face; 2]);

static FONTS: LazyLock<Result<Fonts, String>> = LazyLock::new(|| {
    let face = |name: &'static str, bytes: &'static [u8]| {
        ParsedFont::from_bytes(bytes, 0, &mut Vec::new())
            .map(|metrics| Face { name, bytes, metrics })
            .ok_or_else(|| format!("the built-in font {name} does not parse"))
    };
    Ok(Fonts([
        face("DejaVuSans", include_bytes!("fonts/DejaVuSans.ttf"))?,
        face("DejaVuSans-Bold", include_bytes!("fonts/DejaVuSans-Bold.ttf"))?,
    ]))
});

/// The fonts, parsed on first use.
pub fn fonts() -> AppResult<&'static Fonts> {
    FONTS.as_ref().map_err(AppError::internal)
}

const MM_PER_PT: f32 = 25.4 / 72.0;

impl Fonts {
    fn face(&self, weight: Weight) -> &Face {
        &self.0[weight as usize]
    }

    /// The width in mm of `text` set at `size` points: the sum of its glyphs' advances, which is
    /// exactly how far the PDF moves (printpdf neither kerns nor shapes). A character the font
    /// lacks is drawn, and measured, as its "missing" glyph.
    pub fn width(&self, text: &str, size: f32, weight: Weight) -> f32 {
        let font = &self.face(weight).metrics;
        let units: u32 = text
            .chars()
            .map(|c| {
                let glyph = font.lookup_glyph_index(c as u32).unwrap_or(0);
                u32::from(font.get_glyph_width(glyph).unwrap_or(0))
            })
            .sum();
        units as f32 / f32::from(font.units_per_em.max(1)) * size * MM_PER_PT
    }

    /// Greedy word wrap to `max` mm; an empty line stays one empty line, and a word wider than a
    /// whole line is broken between letters rather than run off the page.
    pub fn wrap(&self, text: &str, size: f32, weight: Weight, max: f32) -> Vec<String> {
        let fits = |s: &str| self.width(s, size, weight) <= max;
        let mut out = vec![];
        let mut cur = String::new();
        for word in text.split_whitespace() {
            let joined = if cur.is_empty() { word.to_string() } else { format!("{cur} {word}") };
            if fits(&joined) {
                cur = joined;
                continue;
            }
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            for c in word.chars() {
                cur.push(c);
                if !fits(&cur) && cur.chars().count() > 1 {
                    cur.pop();
                    out.push(std::mem::replace(&mut cur, c.to_string()));
                }
            }
        }
        out.push(cur);
        out
    }
}

/// One PDF being drawn: the operations of its pages, and which characters are set in which
/// weight, so that `save` embeds just those glyphs.
pub struct Document {
    fonts: &'static Fonts,
    title: String,
    page_size: (f32, f32),
    /// The pages before the current one.
    done: Vec<Vec<Op>>,
    page: Vec<Op>,
    font_ids: [FontId; 2],
    used: [BTreeSet<char>; 2],
}

impl Document {
    /// A document of one empty page, `width` × `height` mm.
    pub fn new(title: &str, width: f32, height: f32) -> AppResult<Self> {
        Ok(Document {
            fonts: fonts()?,
            title: title.to_string(),
            page_size: (width, height),
            done: vec![],
            page: vec![],
            font_ids: [FontId::new(), FontId::new()],
            used: [BTreeSet::new(), BTreeSet::new()],
        })
    }

    /// The fonts, to measure text with.
    pub fn fonts(&self) -> &'static Fonts {
        self.fonts
    }

    pub fn new_page(&mut self) {
        self.done.push(std::mem::take(&mut self.page));
    }

    /// Adds a drawing operation (colour, line, shape) to the current page.
    pub fn draw(&mut self, op: Op) {
        self.page.push(op);
    }

    /// Writes `text` as it is, at `size` points, its baseline starting at (`x`, `y`) mm from the
    /// page's bottom left.
    pub fn text(&mut self, text: &str, size: f32, weight: Weight, x: f32, y: f32) {
        if text.is_empty() {
            return;
        }
        self.used[weight as usize].extend(text.chars());
        for op in [
            Op::StartTextSection,
            Op::SetFont { font: PdfFontHandle::External(self.font_ids[weight as usize].clone()), size: Pt(size) },
            Op::SetTextCursor { pos: Point::new(Mm(x), Mm(y)) },
            Op::ShowText { items: vec![TextItem::Text(text.to_string())] },
            Op::EndTextSection,
        ] {
            self.draw(op);
        }
    }

    pub fn save(mut self) -> AppResult<Vec<u8>> {
        self.new_page();
        let mut doc = PdfDocument::new(&self.title);
        for (face, (id, used)) in self.fonts.0.iter().zip(self.font_ids.into_iter().zip(&self.used)) {
            if !used.is_empty() {
                doc.resources.fonts.map.insert(id, PdfFont::new(subset(face, used)?));
            }
        }
        let (w, h) = self.page_size;
        doc.with_pages(self.done.into_iter().map(|ops| PdfPage::new(Mm(w), Mm(h), ops)).collect());
        let mut warnings = vec![];
        let bytes = doc.save(&PdfSaveOptions::default(), &mut warnings);
        // printpdf reports what it could not write (such as a font without glyphs) here, not as
        // an error: a PDF with holes is not one to hand out.
        match warnings.iter().find(|w| w.severity == PdfParseErrorSeverity::Error) {
            Some(w) => Err(AppError::internal(format!("writing a PDF: {}", w.msg))),
            None => Ok(bytes),
        }
    }
}

/// `face` cut down to the glyphs of `chars`. printpdf subsets only with its `text_layout`
/// feature (a whole layout engine), so this uses its font library directly: the certificate
/// then carries a few kB of font instead of the whole 0.7 MB file.
fn subset(face: &Face, chars: &BTreeSet<char>) -> AppResult<ParsedFont> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile};

    let used: BTreeSet<u16> = chars.iter().filter_map(|c| face.metrics.lookup_glyph_index(*c as u32)).collect();
    // Glyph 0 (.notdef) first: the subset numbers glyphs by their place in this list, and
    // readers draw glyph 0 as "missing".
    let glyphs: Vec<u16> = std::iter::once(0).chain(used.into_iter().filter(|g| *g != 0)).collect();
    let file = ReadScope::new(face.bytes).read::<FontData<'_>>().map_err(AppError::internal)?;
    let provider = file.table_provider(0).map_err(AppError::internal)?;
    // A Unicode cmap in the subset, so printpdf finds each character's new glyph.
    let bytes = allsorts::subset::subset(&provider, &glyphs, &SubsetProfile::Pdf, CmapTarget::Unicode)
        .map_err(AppError::internal)?;
    let mut font = ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
        .ok_or_else(|| AppError::internal(format!("the subset of {} does not parse", face.name)))?;
    font.font_name = Some(format!("{}+{}", subset_tag(&glyphs), face.name));
    Ok(font)
}

/// The six capitals that mark a subset's name (ISO 32000-1, 9.6.4), taken from its glyphs so
/// that different subsets have different names: tools that merge PDFs tell fonts apart by name.
fn subset_tag(glyphs: &[u16]) -> String {
    // FNV-1a: stable between builds and runs, unlike std's hasher.
    let hash = glyphs
        .iter()
        .flat_map(|g| g.to_be_bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (0..6).map(|i| char::from(b'A' + ((hash >> (i * 8)) % 26) as u8)).collect()
}

const PAGE: (f32, f32) = (210.0, 297.0);
const TOP: f32 = 280.0;
const BOTTOM: f32 = 20.0;
const LEFT: f32 = 20.0;
/// The width of a line: the page less a margin of `LEFT` on either side.
const WIDTH: f32 = PAGE.0 - 2.0 * LEFT;

/// Text flowing down A4 pages: wrapped to the width, a new page whenever one is full.
pub struct Writer {
    pub doc: Document,
    pub y: f32,
}

impl Writer {
    pub fn a4(title: &str) -> AppResult<Writer> {
        Ok(Writer { doc: Document::new(title, PAGE.0, PAGE.1)?, y: TOP })
    }

    pub fn save(self) -> AppResult<Vec<u8>> {
        self.doc.save()
    }

    /// `text` wrapped to the page's width, a new page whenever the current one is full.
    pub fn lines(&mut self, text: &str, size: f32, weight: Weight) {
        for line in self.doc.fonts().wrap(text, size, weight, WIDTH) {
            if self.y < BOTTOM {
                self.doc.new_page();
                self.y = TOP;
            }
            self.doc.text(&line, size, weight, LEFT, self.y);
            self.y -= size * 0.5 + 1.5;
        }
    }

    pub fn paragraph(&mut self, text: &str) {
        for raw in text.lines() {
            self.lines(raw, 11.0, Weight::Regular);
        }
        self.y -= 2.0;
    }

    pub fn heading(&mut self, text: &str) {
        self.y -= 3.0;
        self.lines(text, 13.0, Weight::Bold);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 3] = ["Şahin Yıldız", "Łucja Wiśniewska", "Nguyễn Thị Minh Khai"];

    #[test]
    fn every_letter_of_names_from_turkey_poland_and_vietnam_has_a_glyph() {
        let fonts = fonts().unwrap();
        for weight in [Weight::Regular, Weight::Bold] {
            for c in NAMES.concat().chars().filter(|c| !c.is_whitespace()) {
                let glyph = fonts.face(weight).metrics.lookup_glyph_index(c as u32);
                assert!(glyph.is_some_and(|g| g != 0), "{c:?} in {weight:?}");
            }
        }
    }

    #[test]
    fn widths_come_from_the_glyphs_not_from_the_number_of_letters() {
        let fonts = fonts().unwrap();
        let narrow = fonts.width("iiiiii", 12.0, Weight::Regular);
        let wide = fonts.width("MMMMMM", 12.0, Weight::Regular);
        assert!(wide > 2.5 * narrow, "{narrow} mm against {wide} mm");
        assert!(fonts.width("Şahin", 12.0, Weight::Bold) > fonts.width("Şahin", 12.0, Weight::Regular));
        let at_24 = fonts.width("Łucja", 24.0, Weight::Regular);
        assert!((at_24 - 2.0 * fonts.width("Łucja", 12.0, Weight::Regular)).abs() < 1e-3, "scales with the size");
    }

    #[test]
    fn long_lines_wrap_at_word_boundaries_by_measured_width() {
        let fonts = fonts().unwrap();
        let width = |s: &str| fonts.width(s, 11.0, Weight::Regular);
        let max = width("een twee").max(width("drie vier"));
        let lines = fonts.wrap("een twee drie vier vijf", 11.0, Weight::Regular, max);
        assert_eq!(lines, vec!["een twee", "drie vier", "vijf"]);
        assert_eq!(fonts.wrap("", 11.0, Weight::Regular, max), vec![String::new()]);
        // As many narrow letters fit on a line as wide ones take lines.
        let lines = fonts.wrap("iiii MMMM iiii", 11.0, Weight::Regular, width("iiii iiii iiii"));
        assert_eq!(lines, vec!["iiii", "MMMM", "iiii"]);
    }

    #[test]
    fn a_word_wider_than_the_line_is_broken_between_letters() {
        let fonts = fonts().unwrap();
        let max = fonts.width("Wiśniewska", 11.0, Weight::Regular) / 2.0;
        let lines = fonts.wrap("Łucja Wiśniewska", 11.0, Weight::Regular, max);
        assert!(lines.len() >= 3, "{lines:?}");
        assert_eq!(lines.concat(), "ŁucjaWiśniewska");
        assert!(lines.iter().all(|l| fonts.width(l, 11.0, Weight::Regular) <= max), "{lines:?}");
    }

    #[test]
    fn a_pdf_embeds_only_the_glyphs_it_uses() {
        let mut doc = Document::new("Test", 210.0, 297.0).unwrap();
        for (i, name) in NAMES.iter().enumerate() {
            doc.text(name, 12.0, Weight::Regular, 20.0, 250.0 - 10.0 * i as f32);
        }
        let bytes = doc.save().unwrap();
        assert!(bytes.starts_with(b"%PDF"));
        assert!(bytes.len() < 40_000, "the whole font is 740 kB; this PDF is {} bytes", bytes.len());
    }

    #[test]
    fn subset_tags_are_six_capitals_and_differ_between_subsets() {
        let a = subset_tag(&[0, 36, 37]);
        assert!(a.len() == 6 && a.chars().all(|c| c.is_ascii_uppercase()), "{a}");
        assert_ne!(a, subset_tag(&[0, 36, 38]));
    }
}
