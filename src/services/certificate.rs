//! The certificate as PDF (printpdf, in the font of `pdf`) and the QR code of its verification
//! link (also as SVG for the printable page).
use printpdf::{Color, Mm, Op, PaintMode, Pt, Rect, Rgb};
use qrcode::QrCode;

use super::pdf::{Document, Weight};
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
    let mut doc = Document::new(&t.title, w, h)?;
    let dark = Color::Rgb(Rgb::new(0.10, 0.30, 0.45, None));
    doc.draw(Op::SetOutlineColor { col: dark.clone() });
    doc.draw(Op::SetOutlineThickness { pt: Pt(2.0) });
    doc.draw(Op::DrawRectangle { rectangle: rect(10.0, 10.0, w - 20.0, h - 20.0, PaintMode::Stroke) });
    doc.draw(Op::SetFillColor { col: dark });
    // Centred by the font's own widths; a line wider than the frame allows (a long name) is set
    // smaller until it fits, rather than run over the border.
    let centred = |doc: &mut Document, text: &str, size: f32, y: f32, weight: Weight| {
        let max = w - 2.0 * MARGIN;
        let width = doc.fonts().width(text, size, weight);
        let size = if width > max { size * max / width } else { size };
        let width = width.min(max);
        doc.text(text, size, weight, (w - width) / 2.0, y);
    };
    centred(&mut doc, &t.heading, 14.0, 170.0, Weight::Regular);
    centred(&mut doc, &t.title, 30.0, 150.0, Weight::Bold);
    centred(&mut doc, &t.granted_to, 13.0, 132.0, Weight::Regular);
    centred(&mut doc, organisation, 26.0, 116.0, Weight::Bold);
    centred(&mut doc, &t.number, 13.0, 96.0, Weight::Regular);
    centred(&mut doc, &t.valid, 13.0, 88.0, Weight::Regular);
    if let Some(g) = &t.going_ahead {
        centred(&mut doc, g, 11.0, 78.0, Weight::Regular);
    }
    doc.text(&t.verify, 9.0, Weight::Regular, 20.0, 22.0);
    doc.text(&r.verify_url, 8.0, Weight::Regular, 20.0, 17.0);
    // The QR code of the verification link, module by module.
    if let Ok(code) = QrCode::new(r.verify_url.as_bytes()) {
        let n = code.width();
        let size = 36.0f32;
        let cell = size / n as f32;
        let (x0, y0) = (w - 20.0 - size, 16.0f32);
        doc.draw(Op::SetFillColor { col: Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None)) });
        for (i, c) in code.to_colors().iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (col, row) = ((i % n) as f32, (i / n) as f32);
                let x = x0 + col * cell;
                let y = y0 + size - (row + 1.0) * cell;
                doc.draw(Op::DrawRectangle { rectangle: rect(x, y, cell, cell, PaintMode::Fill) });
            }
        }
    }
    doc.save()
}

/// Left and right of the centred lines, in mm: the frame is at 10.
const MARGIN: f32 = 20.0;

/// A rectangle in mm from the page's bottom left.
fn rect(x: f32, y: f32, width: f32, height: f32, mode: PaintMode) -> Rect {
    Rect { mode: Some(mode), ..Rect::from_xywh(Mm(x).into(), Mm(y).into(), Mm(width).into(), Mm(height).into()) }
}
