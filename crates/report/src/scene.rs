//! A tiny drawing list shared by the SVG and PNG back ends, so both show the same picture.

use crate::colour::Rgb;

/// Glyph cell of the embedded font, in pixels at scale 1.
pub(crate) const GLYPH: i32 = 8;

/// Horizontal placement of a text relative to its x coordinate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Shape {
    /// Filled axis-aligned rectangle; lines are 1-pixel rectangles.
    Rect {
        x: i32,
        y: i32,
        w: i32,
        h: i32,
        colour: Rgb,
    },
    /// Text whose glyph box has its top at `y`; `x` is placed by `anchor`. Vertical text reads
    /// bottom to top, centred on (`x`, `y`) with its glyph tops facing left.
    Text {
        x: i32,
        y: i32,
        text: String,
        scale: i32,
        anchor: Anchor,
        vertical: bool,
        colour: Rgb,
    },
}

/// A picture: size, background and shapes in painting order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Scene {
    pub width: i32,
    pub height: i32,
    pub shapes: Vec<Shape>,
}

impl Scene {
    pub(crate) fn new(width: i32, height: i32) -> Self {
        Scene {
            width,
            height,
            shapes: Vec::new(),
        }
    }

    pub(crate) fn rect(&mut self, x: i32, y: i32, w: i32, h: i32, colour: Rgb) {
        self.shapes.push(Shape::Rect { x, y, w, h, colour });
    }

    pub(crate) fn text(&mut self, x: i32, y: i32, text: &str, scale: i32, anchor: Anchor) {
        self.shapes.push(Shape::Text {
            x,
            y,
            text: text.to_string(),
            scale,
            anchor,
            vertical: false,
            colour: Rgb::BLACK,
        });
    }

    pub(crate) fn vtext(&mut self, x: i32, y: i32, text: &str, scale: i32) {
        self.shapes.push(Shape::Text {
            x,
            y,
            text: text.to_string(),
            scale,
            anchor: Anchor::Middle,
            vertical: true,
            colour: Rgb::BLACK,
        });
    }
}

/// Width in pixels of `text` in the embedded font.
pub(crate) fn text_width(text: &str, scale: i32) -> i32 {
    (text.chars().count() as i32).saturating_mul(GLYPH * scale)
}
