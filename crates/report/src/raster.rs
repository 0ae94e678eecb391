//! Rasterises a [`Scene`] into RGB pixels with the embedded 8x8 font and encodes it as PNG.

use crate::colour::Rgb;
use crate::scene::{text_width, Anchor, Scene, Shape, GLYPH};
use crate::ReportError;
use font8x8::{UnicodeFonts, BASIC_FONTS, LATIN_FONTS};

struct Canvas {
    w: i32,
    h: i32,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: i32, h: i32) -> Self {
        let (w, h) = (w.max(1), h.max(1));
        Canvas {
            w,
            h,
            px: vec![255; (w as usize) * (h as usize) * 3],
        }
    }

    /// Sets one pixel; silently clips outside the image.
    fn set(&mut self, x: i32, y: i32, c: Rgb) {
        if x < 0 || y < 0 || x >= self.w || y >= self.h {
            return;
        }
        let i = ((y as usize) * (self.w as usize) + x as usize) * 3;
        if let Some(p) = self.px.get_mut(i..i + 3) {
            p.copy_from_slice(&[c.0, c.1, c.2]);
        }
    }

    fn rect(&mut self, x: i32, y: i32, w: i32, h: i32, c: Rgb) {
        let (x0, y0) = (x.max(0), y.max(0));
        let (x1, y1) = (
            x.saturating_add(w).min(self.w),
            y.saturating_add(h).min(self.h),
        );
        for yy in y0..y1 {
            for xx in x0..x1 {
                self.set(xx, yy, c);
            }
        }
    }

    /// Draws `text`; `(x, y)` is the top-left of the first glyph (for vertical text, the
    /// bottom-left, the text running upwards).
    fn text(&mut self, x: i32, y: i32, text: &str, scale: i32, vertical: bool, c: Rgb) {
        let scale = scale.max(1);
        for (i, ch) in text.chars().enumerate() {
            let glyph = BASIC_FONTS
                .get(ch)
                .or_else(|| LATIN_FONTS.get(ch))
                .or_else(|| BASIC_FONTS.get('?'))
                .unwrap_or([0; 8]);
            let advance = (i as i32).saturating_mul(GLYPH * scale);
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    // font8x8 stores the leftmost pixel in the least significant bit.
                    if bits & (1 << col) == 0 {
                        continue;
                    }
                    let (gx, gy) = (col * scale, row as i32 * scale);
                    for dy in 0..scale {
                        for dx in 0..scale {
                            if vertical {
                                // Rotate 90° anticlockwise: glyph x runs up, glyph y runs right.
                                self.set(x + gy + dy, y - advance - gx - dx, c);
                            } else {
                                self.set(x + advance + gx + dx, y + gy + dy, c);
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(crate) fn render_png(scene: &Scene) -> Result<Vec<u8>, ReportError> {
    let mut cv = Canvas::new(scene.width, scene.height);
    for s in &scene.shapes {
        match s {
            Shape::Rect { x, y, w, h, colour } => cv.rect(*x, *y, *w, *h, *colour),
            Shape::Text {
                x,
                y,
                text,
                scale,
                anchor,
                vertical,
                colour,
            } => {
                let w = text_width(text, *scale);
                if *vertical {
                    // Centred on (x, y): the glyph column is 8*scale wide, the run w tall.
                    cv.text(
                        *x - GLYPH * scale / 2,
                        *y + w / 2,
                        text,
                        *scale,
                        true,
                        *colour,
                    );
                } else {
                    let x0 = match anchor {
                        Anchor::Start => *x,
                        Anchor::Middle => *x - w / 2,
                        Anchor::End => *x - w,
                    };
                    cv.text(x0, *y, text, *scale, false, *colour);
                }
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, cv.w as u32, cv.h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(&cv.px)?;
        writer.finish()?;
    }
    Ok(out)
}
