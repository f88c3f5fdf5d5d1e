//! The certificate as PDF (printpdf, built-in fonts) and the QR code of its verification link
//! (also as SVG for the printable page).
use printpdf::{BuiltinFont, Color, Mm, PdfDocument, Rect, Rgb};
use qrcode::QrCode;

use super::recognition::RecognitionView;
use crate::error::{AppError, AppResult};

/// Texts of the certificate in the reader's language.
pub struct Texts {
    pub heading: String,
    pub title: String,
    pub granted_to: String,
    pub number: String,
    pub valid: String,
    pub going_ahead: Option<String>,
    pub verify: String,
}

/// The built-in PDF fonts know only Latin-1; other letters are written without their accents.
fn latin(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'À' | 'Á' | 'Â' | 'Ä' => 'A',
            'È' | 'É' | 'Ê' | 'Ë' => 'E',
            'Ö' | 'Ó' | 'Ò' => 'O',
            'Ü' | 'Ú' => 'U',
            'ç' => 'c',
            'ñ' => 'n',
            '–' | '—' => '-',
            '‘' | '’' => '\'',
            '“' | '”' => '"',
            c if c.is_ascii() => c,
            _ => '?',
        })
        .collect()
}

pub fn qr_svg(url: &str) -> String {
    match QrCode::new(url.as_bytes()) {
        Ok(code) => code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(160, 160).quiet_zone(true).build(),
        Err(_) => String::new(),
    }
}

/// `render_pdf` on tokio's blocking pool: laying out a PDF is CPU work that would hold up the
/// async workers.
pub async fn render_pdf_off_runtime(organisation: String, r: RecognitionView, t: Texts) -> AppResult<Vec<u8>> {
    tokio::task::spawn_blocking(move || render_pdf(&organisation, &r, &t)).await.map_err(AppError::internal)?
}

pub fn render_pdf(organisation: &str, r: &RecognitionView, t: &Texts) -> AppResult<Vec<u8>> {
    let (w, h) = (297.0f32, 210.0f32);
    let (doc, page, layer) = PdfDocument::new(latin(&t.title), Mm(w), Mm(h), "certificate");
    let bold = doc.add_builtin_font(BuiltinFont::HelveticaBold).map_err(AppError::internal)?;
    let regular = doc.add_builtin_font(BuiltinFont::Helvetica).map_err(AppError::internal)?;
    let layer = doc.get_page(page).get_layer(layer);
    let dark = Color::Rgb(Rgb::new(0.10, 0.30, 0.45, None));
    layer.set_outline_color(dark.clone());
    layer.set_outline_thickness(2.0);
    layer.add_rect(
        Rect::new(Mm(10.0), Mm(10.0), Mm(w - 10.0), Mm(h - 10.0)).with_mode(printpdf::path::PaintMode::Stroke),
    );
    // Centre text by its approximate width (Helvetica averages about half an em per letter).
    let centred = |text: &str, size: f32, y: f32, font: &printpdf::IndirectFontRef| {
        let text = latin(text);
        let width_mm = text.chars().count() as f32 * size * 0.52 * 0.3528;
        layer.use_text(text, size, Mm(((w - width_mm) / 2.0).max(15.0)), Mm(y), font);
    };
    layer.set_fill_color(dark.clone());
    centred(&t.heading, 14.0, 170.0, &regular);
    centred(&t.title, 30.0, 150.0, &bold);
    centred(&t.granted_to, 13.0, 132.0, &regular);
    centred(organisation, 26.0, 116.0, &bold);
    centred(&t.number, 13.0, 96.0, &regular);
    centred(&t.valid, 13.0, 88.0, &regular);
    if let Some(g) = &t.going_ahead {
        centred(g, 11.0, 78.0, &regular);
    }
    layer.use_text(latin(&t.verify), 9.0, Mm(20.0), Mm(22.0), &regular);
    layer.use_text(latin(&r.verify_url), 8.0, Mm(20.0), Mm(17.0), &regular);
    // The QR code of the verification link, module by module.
    if let Ok(code) = QrCode::new(r.verify_url.as_bytes()) {
        let n = code.width();
        let size = 36.0f32;
        let cell = size / n as f32;
        let (x0, y0) = (w - 20.0 - size, 16.0f32);
        layer.set_fill_color(Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)));
        for (i, c) in code.to_colors().iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (col, row) = ((i % n) as f32, (i / n) as f32);
                let x = x0 + col * cell;
                let y = y0 + size - (row + 1.0) * cell;
                layer.add_rect(Rect::new(Mm(x), Mm(y), Mm(x + cell), Mm(y + cell)));
            }
        }
    }
    doc.save_to_bytes().map_err(AppError::internal)
}
