//! Lays out a [`Hist2D`] as a heat map like the paper's Figures 1–2: equal-width bins, tick
//! labels at bin edges, a colour bar in `ln(1 + count)` and a title.

use crate::colour::{self, Rgb};
use crate::scene::{text_width, Anchor, Scene, GLYPH};
use tapir_features::{EdgeUnit, Hist2D};

const WIDTH: i32 = 800;
const HEIGHT: i32 = 580;
const PLOT_X: i32 = 104;
const PLOT_Y: i32 = 52;
const PLOT_W: i32 = 544;
const PLOT_H: i32 = 448;
const BAR_X: i32 = PLOT_X + PLOT_W + 28;
const BAR_W: i32 = 18;
const TICK: i32 = 5;

/// Formats an edge for a tick label, short enough to sit under a bin or two.
pub(crate) fn tick_label(v: f64, unit: EdgeUnit) -> String {
    match unit {
        EdgeUnit::Bytes => {
            let a = v.abs();
            let sign = if v < 0.0 { "-" } else { "" };
            if a >= 10_000.0 && a % 1_048_576.0 == 0.0 {
                format!("{sign}{}Mi", a / 1_048_576.0)
            } else if a >= 10_000.0 && a % 1024.0 == 0.0 {
                format!("{sign}{}Ki", a / 1024.0)
            } else if a >= 10_000.0 {
                format!("{sign}{:.0}k", a / 1000.0)
            } else {
                format!("{v:.0}")
            }
        }
        EdgeUnit::Seconds => {
            if v == 0.0 {
                return "0".into();
            }
            let (x, suffix) = match v.abs() {
                a if a < 1e-6 => (v * 1e9, "ns"),
                a if a < 1e-3 => (v * 1e6, "us"),
                a if a < 1.0 => (v * 1e3, "ms"),
                _ => (v, "s"),
            };
            // Two significant digits: "1.8us", "18us", "180us".
            let s = if x.abs() < 10.0 && (x - x.round()).abs() > 0.05 {
                format!("{x:.1}")
            } else {
                format!("{x:.0}")
            };
            format!("{s}{suffix}")
        }
    }
}

/// The smallest label step (1, 2, 4, 8, ...) whose spacing `step * cell` holds `need` pixels.
fn step_for(cell: f64, need: f64) -> usize {
    let mut step = 1usize;
    while (step as f64) * cell < need && step < 1 << 20 {
        step *= 2;
    }
    step
}

pub(crate) fn layout(h: &Hist2D, title: &str, x_label: &str, y_label: &str) -> Scene {
    let mut sc = Scene::new(WIDTH, HEIGHT);
    let (nx, ny) = (h.nx(), h.ny());

    sc.text(WIDTH / 2, 14, title, 2, Anchor::Middle);

    // Bins are equal-width whatever the axis scale; cell boundaries are computed from the
    // running index so rounding never leaves gaps.
    let xs = |i: usize| PLOT_X + ((i as i64 * i64::from(PLOT_W)) / nx.max(1) as i64) as i32;
    let ys =
        |j: usize| PLOT_Y + PLOT_H - ((j as i64 * i64::from(PLOT_H)) / ny.max(1) as i64) as i32;

    let max = h.max_count();
    let lmax = (1.0 + f64::from(max)).ln();
    sc.rect(PLOT_X, PLOT_Y, PLOT_W, PLOT_H, Rgb::EMPTY);
    for i in 0..nx {
        for j in 0..ny {
            let c = h.count(i, j);
            if c == 0 {
                continue;
            }
            let t = (1.0 + f64::from(c)).ln() / lmax;
            let (x0, x1, y0, y1) = (xs(i), xs(i + 1), ys(j + 1), ys(j));
            sc.rect(x0, y0, x1 - x0, y1 - y0, colour::scale(t));
        }
    }
    // Frame.
    sc.rect(PLOT_X - 1, PLOT_Y - 1, PLOT_W + 2, 1, Rgb::BLACK);
    sc.rect(PLOT_X - 1, PLOT_Y + PLOT_H, PLOT_W + 2, 1, Rgb::BLACK);
    sc.rect(PLOT_X - 1, PLOT_Y - 1, 1, PLOT_H + 2, Rgb::BLACK);
    sc.rect(PLOT_X + PLOT_W, PLOT_Y - 1, 1, PLOT_H + 2, Rgb::BLACK);

    // X ticks: every `step`-th edge, spaced so the widest label fits with a glyph to spare.
    if nx > 0 {
        let labels: Vec<String> = h.x_edges.iter().map(|&e| tick_label(e, h.x_unit)).collect();
        let widest = labels.iter().map(|l| text_width(l, 1)).max().unwrap_or(0);
        let step = step_for(f64::from(PLOT_W) / nx as f64, f64::from(widest + GLYPH));
        for (i, l) in labels.iter().enumerate().step_by(step) {
            let x = xs(i).min(PLOT_X + PLOT_W);
            sc.rect(x, PLOT_Y + PLOT_H, 1, TICK, Rgb::BLACK);
            sc.text(x, PLOT_Y + PLOT_H + TICK + 4, l, 1, Anchor::Middle);
        }
    }
    sc.text(
        PLOT_X + PLOT_W / 2,
        PLOT_Y + PLOT_H + TICK + 4 + GLYPH + 14,
        x_label,
        1,
        Anchor::Middle,
    );

    // Y ticks, right-aligned against the axis.
    if ny > 0 {
        // Three glyph heights apart keeps the column readable (every other edge by default).
        let step = step_for(f64::from(PLOT_H) / ny as f64, f64::from(3 * GLYPH));
        for (j, &e) in h.y_edges.iter().enumerate().step_by(step) {
            let y = ys(j).max(PLOT_Y);
            sc.rect(PLOT_X - 1 - TICK, y, TICK, 1, Rgb::BLACK);
            sc.text(
                PLOT_X - TICK - 4,
                y - GLYPH / 2,
                &tick_label(e, h.y_unit),
                1,
                Anchor::End,
            );
        }
    }
    sc.vtext(20, PLOT_Y + PLOT_H / 2, y_label, 1);

    colour_bar(&mut sc, max, lmax);
    sc
}

/// The colour bar: from a count of 1 (bottom) to the window's maximum (top), tick labels at
/// 1, 10, 100, ... and the maximum, and a swatch for empty bins below.
fn colour_bar(sc: &mut Scene, max: u32, lmax: f64) {
    sc.text(
        BAR_X + BAR_W / 2,
        PLOT_Y - 22,
        "count (log)",
        1,
        Anchor::Middle,
    );
    if max == 0 {
        sc.rect(BAR_X, PLOT_Y, BAR_W, PLOT_H, Rgb::EMPTY);
    } else {
        let l1 = 2f64.ln();
        // Position of count c along the bar, in [0, 1] from bottom.
        let pos = |c: f64| {
            if lmax > l1 {
                ((1.0 + c).ln() - l1) / (lmax - l1)
            } else {
                1.0
            }
        };
        for row in 0..PLOT_H {
            // Invert `pos` for the middle of this pixel row.
            let f = (f64::from(PLOT_H - row) - 0.5) / f64::from(PLOT_H);
            let l = l1 + f * (lmax - l1);
            sc.rect(BAR_X, PLOT_Y + row, BAR_W, 1, colour::scale(l / lmax));
        }
        let mut ticks: Vec<u32> = std::iter::successors(Some(1u32), |c| c.checked_mul(10))
            .take_while(|&c| c <= max)
            .collect();
        // Show the maximum unless it would collide with the last decade's label.
        let y_of =
            |c: u32| PLOT_Y + PLOT_H - (pos(f64::from(c)) * f64::from(PLOT_H)).round() as i32;
        if ticks
            .last()
            .is_none_or(|&t| t != max && (y_of(t) - y_of(max)).abs() > GLYPH + 4)
        {
            ticks.push(max);
        }
        for c in ticks {
            let y = y_of(c).clamp(PLOT_Y, PLOT_Y + PLOT_H - 1);
            sc.rect(BAR_X + BAR_W, y, TICK, 1, Rgb::BLACK);
            sc.text(
                BAR_X + BAR_W + TICK + 3,
                y - GLYPH / 2,
                &c.to_string(),
                1,
                Anchor::Start,
            );
        }
    }
    sc.rect(BAR_X - 1, PLOT_Y - 1, BAR_W + 2, 1, Rgb::BLACK);
    sc.rect(BAR_X - 1, PLOT_Y + PLOT_H, BAR_W + 2, 1, Rgb::BLACK);
    sc.rect(BAR_X - 1, PLOT_Y - 1, 1, PLOT_H + 2, Rgb::BLACK);
    sc.rect(BAR_X + BAR_W, PLOT_Y - 1, 1, PLOT_H + 2, Rgb::BLACK);
    // Swatch for empty bins.
    let sy = PLOT_Y + PLOT_H + 14;
    sc.rect(BAR_X - 1, sy - 1, BAR_W + 2, BAR_W + 2, Rgb::GREY);
    sc.rect(BAR_X, sy, BAR_W, BAR_W, Rgb::EMPTY);
    sc.text(
        BAR_X + BAR_W + TICK + 3,
        sy + (BAR_W - GLYPH) / 2,
        "0",
        1,
        Anchor::Start,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels() {
        assert_eq!(tick_label(-1536.0, EdgeUnit::Bytes), "-1536");
        assert_eq!(tick_label(2_097_152.0, EdgeUnit::Bytes), "2Mi");
        assert_eq!(tick_label(-16384.0, EdgeUnit::Bytes), "-16Ki");
        assert_eq!(tick_label(8192.0, EdgeUnit::Bytes), "8192");
        assert_eq!(tick_label(12_345.0, EdgeUnit::Bytes), "12k");
        assert_eq!(tick_label(1e-6, EdgeUnit::Seconds), "1us");
        assert_eq!(tick_label(1.778e-6, EdgeUnit::Seconds), "1.8us");
        assert_eq!(tick_label(1e-3, EdgeUnit::Seconds), "1ms");
        assert_eq!(tick_label(0.1, EdgeUnit::Seconds), "100ms");
        assert_eq!(tick_label(100.0, EdgeUnit::Seconds), "100s");
        assert_eq!(tick_label(0.0, EdgeUnit::Seconds), "0");
        assert_eq!(tick_label(5e-8, EdgeUnit::Seconds), "50ns");
    }

    #[test]
    fn label_steps() {
        assert_eq!(step_for(17.0, 48.0), 4);
        assert_eq!(step_for(14.0, 14.0), 1);
        assert_eq!(step_for(0.0, 10.0), 1 << 20);
    }
}
