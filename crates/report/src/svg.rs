//! Writes a [`Scene`] as a standalone SVG document.

use crate::scene::{text_width, Anchor, Scene, Shape, GLYPH};
use crate::text::xml_escape as escape;
use std::fmt::Write;

pub(crate) fn render_svg(scene: &Scene) -> String {
    let mut o = String::new();
    // `write!` into a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#,
        w = scene.width,
        h = scene.height
    );
    let _ = writeln!(
        o,
        r#"<rect x="0" y="0" width="{}" height="{}" fill="{}"/>"#,
        scene.width,
        scene.height,
        crate::colour::Rgb::WHITE.hex()
    );
    for s in &scene.shapes {
        match s {
            Shape::Rect { x, y, w, h, colour } => {
                let _ = writeln!(
                    o,
                    r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{}"/>"#,
                    colour.hex()
                );
            }
            Shape::Text {
                x,
                y,
                text,
                scale,
                anchor,
                vertical,
                colour,
            } => {
                // A monospace font sized so that a glyph is about as wide as the bitmap one's
                // 8 px cell (monospace advance is ~0.6 em); baseline near the cell's bottom.
                let size = f64::from(GLYPH * scale) / 0.6;
                let base = GLYPH * scale - scale;
                let anchor_attr = match anchor {
                    Anchor::Start => "start",
                    Anchor::Middle => "middle",
                    Anchor::End => "end",
                };
                let transform = if *vertical {
                    format!(r#" transform="rotate(-90 {x} {y})""#)
                } else {
                    String::new()
                };
                let (tx, ty) = if *vertical {
                    (*x, *y + base - GLYPH * scale / 2)
                } else {
                    (*x, *y + base)
                };
                let _ = writeln!(
                    o,
                    r#"<text x="{tx}" y="{ty}" font-family="monospace" font-size="{size:.1}" text-anchor="{anchor_attr}" textLength="{}" lengthAdjust="spacingAndGlyphs" fill="{}"{transform}>{}</text>"#,
                    text_width(text, *scale),
                    colour.hex(),
                    escape(text)
                );
            }
        }
    }
    o.push_str("</svg>\n");
    o
}
