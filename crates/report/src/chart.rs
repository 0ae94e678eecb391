//! x–y line charts, grouped bar charts and labelled matrices (confusion matrices, transfer
//! tables) as SVG and PNG, drawn with the same scene, raster and 8x8 font as the heat maps.
//!
//! Lines are kept apart from the scene: SVG draws them as `<polyline>`s (small files), the PNG
//! back end rasterises them into 2-pixel squares.

use crate::colour::{self, Rgb};
use crate::scene::{text_width, Anchor, Scene, Shape, GLYPH};
use crate::ReportError;
use std::fmt::Write;

/// Series colours: Okabe–Ito's colour-blind-safe palette, darkest first.
const PALETTE: [Rgb; 7] = [
    Rgb(0, 114, 178),
    Rgb(213, 94, 0),
    Rgb(0, 158, 115),
    Rgb(204, 121, 167),
    Rgb(86, 180, 233),
    Rgb(230, 159, 0),
    Rgb(0, 0, 0),
];

fn palette(i: usize) -> Rgb {
    PALETTE[i % PALETTE.len()]
}

/// One line of a [`LineChart`].
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// (x, y) points in drawing order; non-finite points break the line.
    pub points: Vec<(f64, f64)>,
    /// Draw dashed (e.g. a second training regime of the same model).
    pub dashed: bool,
    /// Palette index; series sharing it share a colour.
    pub colour: usize,
}

/// A single reference point drawn as a hollow diamond with its label (e.g. a paper's number).
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// Text beside the point.
    pub label: String,
    /// Position in data units.
    pub x: f64,
    /// Position in data units.
    pub y: f64,
}

/// An x–y line chart.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LineChart {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Lines.
    pub series: Vec<Series>,
    /// Reference points.
    pub marks: Vec<Mark>,
    /// Fixed y range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    /// Spread x on a log₂ scale, ticks at the data's x values (window sizes 64…2048).
    pub x_log2: bool,
    /// Show y ticks as percentages of 1.
    pub y_percent: bool,
}

/// A grouped bar chart: one group per category, one bar per series.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct BarChart {
    /// Title above the plot.
    pub title: String,
    /// y-axis label.
    pub y_label: String,
    /// Group names along x.
    pub categories: Vec<String>,
    /// (legend name, one value per category; `None` leaves a gap).
    pub series: Vec<(String, Vec<Option<f64>>)>,
    /// Fixed y range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    /// Show y ticks as percentages of 1.
    pub y_percent: bool,
}

/// A matrix of values in [0, 1] drawn as coloured cells with text: a confusion matrix (rows
/// true, columns predicted) or a train × test table.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MatrixChart {
    /// Title above the matrix.
    pub title: String,
    /// Label under the columns.
    pub x_label: String,
    /// Label beside the rows.
    pub y_label: String,
    /// Row names.
    pub rows: Vec<String>,
    /// Column names.
    pub cols: Vec<String>,
    /// Cell shades in [0, 1] (`None` = empty cell), `values[row][col]`.
    pub values: Vec<Vec<Option<f64>>>,
    /// Cell texts, same shape (missing entries are blank).
    pub text: Vec<Vec<String>>,
}

const W: i32 = 760;
const H: i32 = 440;
const PX: i32 = 78;
const PY: i32 = 44;
const PW: i32 = 470;
const PH: i32 = 320;
const LEGEND_X: i32 = PX + PW + 20;

struct Line {
    points: Vec<(i32, i32)>,
    colour: Rgb,
    dashed: bool,
}

struct Drawing {
    scene: Scene,
    lines: Vec<Line>,
}

impl Drawing {
    fn svg(&self) -> String {
        let mut s = crate::svg::render_svg(&self.scene);
        let mut extra = String::new();
        for l in &self.lines {
            let pts: Vec<String> = l.points.iter().map(|(x, y)| format!("{x},{y}")).collect();
            let dash = if l.dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let _ = writeln!(
                extra,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
                pts.join(" "),
                l.colour.hex()
            );
        }
        // Lines go before the closing tag, so they paint over the grid and under nothing.
        if let Some(pos) = s.rfind("</svg>") {
            s.insert_str(pos, &extra);
        }
        s
    }

    fn png(&self) -> Result<Vec<u8>, ReportError> {
        let mut sc = self.scene.clone();
        for l in &self.lines {
            for seg in l.points.windows(2) {
                raster_segment(&mut sc, seg[0], seg[1], l.colour, l.dashed);
            }
        }
        crate::raster::render_png(&sc)
    }
}

/// A 2-pixel-wide segment as squares along its longer axis; dashes are 6 on, 4 off.
fn raster_segment(sc: &mut Scene, a: (i32, i32), b: (i32, i32), c: Rgb, dashed: bool) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let n = dx.abs().max(dy.abs()).max(1);
    for i in 0..=n {
        if dashed && i % 10 >= 6 {
            continue;
        }
        let x = a.0 + (dx * i) / n;
        let y = a.1 + (dy * i) / n;
        sc.rect(x - 1, y - 1, 2, 2, c);
    }
}

/// Round tick steps (1, 2, 5 × 10^k) giving about five ticks over `lo..hi`.
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    let mut v = Vec::new();
    let mut t = first;
    while t <= hi + step * 1e-9 && v.len() < 50 {
        v.push(t);
        t += step;
    }
    v
}

fn fmt_tick(v: f64, percent: bool) -> String {
    if percent {
        format!("{:.0}%", v * 100.0)
    } else if v.abs() >= 1000.0 || v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The y range of values, padded a little and clamped to [0, 1] for percentages.
fn fit_range(
    values: impl Iterator<Item = f64>,
    fixed: Option<(f64, f64)>,
    percent: bool,
) -> (f64, f64) {
    if let Some(r) = fixed.filter(|(a, b)| a.is_finite() && b.is_finite() && b > a) {
        return r;
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(if percent { 0.02 } else { 1e-9 });
    let (mut lo, mut hi) = (lo - pad, hi + pad);
    if percent {
        lo = lo.max(0.0);
        hi = hi.min(1.0);
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    (lo, hi)
}

fn frame(sc: &mut Scene) {
    sc.rect(PX - 1, PY - 1, PW + 2, 1, Rgb::BLACK);
    sc.rect(PX - 1, PY + PH, PW + 2, 1, Rgb::BLACK);
    sc.rect(PX - 1, PY - 1, 1, PH + 2, Rgb::BLACK);
    sc.rect(PX + PW, PY - 1, 1, PH + 2, Rgb::BLACK);
}

/// Horizontal grid lines and y tick labels; returns the data→pixel map for y.
fn y_axis(sc: &mut Scene, lo: f64, hi: f64, percent: bool, label: &str) -> impl Fn(f64) -> i32 {
    let ymap = move |v: f64| PY + PH - (((v - lo) / (hi - lo)) * f64::from(PH)).round() as i32;
    for t in nice_ticks(lo, hi) {
        let y = ymap(t);
        sc.rect(PX, y, PW, 1, Rgb(225, 225, 225));
        sc.rect(PX - 5, y, 5, 1, Rgb::BLACK);
        sc.text(PX - 8, y - GLYPH / 2, &fmt_tick(t, percent), 1, Anchor::End);
    }
    sc.vtext(16, PY + PH / 2, label, 1);
    ymap
}

fn legend(sc: &mut Scene, lines: &mut Vec<Line>, entries: &[(String, Rgb, bool, bool)]) {
    // (name, colour, dashed, as bar swatch)
    for (i, (name, c, dashed, bar)) in entries.iter().enumerate() {
        let y = PY + 6 + i as i32 * 18;
        if *bar {
            sc.rect(LEGEND_X, y, 14, 10, *c);
        } else {
            lines.push(Line {
                points: vec![(LEGEND_X, y + 5), (LEGEND_X + 22, y + 5)],
                colour: *c,
                dashed: *dashed,
            });
        }
        // Long names are cut so the legend stays inside the picture.
        let room = ((W - LEGEND_X - 30) / GLYPH) as usize;
        let shown: String = name.chars().take(room).collect();
        sc.text(LEGEND_X + 28, y + 1, &shown, 1, Anchor::Start);
    }
}

impl LineChart {
    fn draw(&self) -> Drawing {
        let mut sc = Scene::new(W, H);
        let mut lines = Vec::new();
        sc.text(W / 2, 12, &self.title, 2, Anchor::Middle);
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(self.marks.iter().map(|m| m.y));
        let (lo, hi) = fit_range(ys, self.y_range, self.y_percent);
        let ymap = y_axis(&mut sc, lo, hi, self.y_percent, &self.y_label);
        // x: linear or log2 over the finite x values of series and marks.
        let tx = |x: f64| {
            if self.x_log2 {
                x.max(f64::MIN_POSITIVE).log2()
            } else {
                x
            }
        };
        let xs: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .chain(self.marks.iter().map(|m| m.x))
            .filter(|x| x.is_finite() && (!self.x_log2 || *x > 0.0))
            .collect();
        let (xlo, xhi) = match (
            xs.iter().copied().map(tx).reduce(f64::min),
            xs.iter().copied().map(tx).reduce(f64::max),
        ) {
            (Some(a), Some(b)) if b > a => (a, b),
            (Some(a), _) => (a - 1.0, a + 1.0),
            _ => (0.0, 1.0),
        };
        let xmap = |x: f64| PX + (((tx(x) - xlo) / (xhi - xlo)) * f64::from(PW)).round() as i32;
        let ticks: Vec<f64> = if self.x_log2 {
            let mut t = xs.clone();
            t.sort_by(f64::total_cmp);
            t.dedup();
            t
        } else {
            nice_ticks(xlo, xhi)
        };
        for t in ticks {
            let x = xmap(t);
            sc.rect(x, PY + PH, 1, 5, Rgb::BLACK);
            sc.text(x, PY + PH + 9, &fmt_tick(t, false), 1, Anchor::Middle);
        }
        sc.text(PX + PW / 2, PY + PH + 28, &self.x_label, 1, Anchor::Middle);
        frame(&mut sc);
        let mut entries = Vec::new();
        for s in &self.series {
            let c = palette(s.colour);
            let mut run: Vec<(i32, i32)> = Vec::new();
            for &(x, y) in &s.points {
                let ok = x.is_finite() && y.is_finite() && (!self.x_log2 || x > 0.0);
                if ok {
                    let p = (xmap(x), ymap(y.clamp(lo, hi)));
                    sc.rect(p.0 - 2, p.1 - 2, 5, 5, c);
                    run.push(p);
                } else if run.len() > 1 {
                    lines.push(Line {
                        points: std::mem::take(&mut run),
                        colour: c,
                        dashed: s.dashed,
                    });
                } else {
                    run.clear();
                }
            }
            if run.len() > 1 {
                lines.push(Line {
                    points: run,
                    colour: c,
                    dashed: s.dashed,
                });
            }
            entries.push((s.name.clone(), c, s.dashed, false));
        }
        for m in &self.marks {
            if !(m.x.is_finite() && m.y.is_finite()) {
                continue;
            }
            let (x, y) = (xmap(m.x), ymap(m.y.clamp(lo, hi)));
            // A hollow diamond, drawn as four short diagonal runs.
            for (a, b) in [
                ((x - 6, y), (x, y - 6)),
                ((x, y - 6), (x + 6, y)),
                ((x + 6, y), (x, y + 6)),
                ((x, y + 6), (x - 6, y)),
            ] {
                lines.push(Line {
                    points: vec![a, b],
                    colour: Rgb::BLACK,
                    dashed: false,
                });
            }
            sc.text(x + 9, y - GLYPH - 2, &m.label, 1, Anchor::Start);
        }
        legend(&mut sc, &mut lines, &entries);
        Drawing { scene: sc, lines }
    }

    /// The chart as a standalone SVG document.
    pub fn svg(&self) -> String {
        self.draw().svg()
    }

    /// The chart as a 760 x 440 RGB PNG.
    pub fn png(&self) -> Result<Vec<u8>, ReportError> {
        self.draw().png()
    }
}

impl BarChart {
    fn draw(&self) -> Drawing {
        let mut sc = Scene::new(W, H);
        let mut lines = Vec::new();
        sc.text(W / 2, 12, &self.title, 2, Anchor::Middle);
        let vals = self
            .series
            .iter()
            .flat_map(|s| s.1.iter().flatten().copied());
        let (lo, hi) = fit_range(vals, self.y_range, self.y_percent);
        let ymap = y_axis(&mut sc, lo, hi, self.y_percent, &self.y_label);
        let n = self.categories.len().max(1) as i32;
        let k = self.series.len().max(1) as i32;
        let group = PW / n;
        let bar = ((group - 12) / k).max(1);
        for (ci, cat) in self.categories.iter().enumerate() {
            let gx = PX + ci as i32 * group + 6;
            for (si, (_, values)) in self.series.iter().enumerate() {
                let Some(v) = values.get(ci).copied().flatten().filter(|v| v.is_finite()) else {
                    continue;
                };
                let top = ymap(v.clamp(lo, hi));
                sc.rect(
                    gx + si as i32 * bar,
                    top,
                    bar - 1,
                    PY + PH - top,
                    palette(si),
                );
            }
            let room = (group / GLYPH).max(1) as usize;
            let shown: String = cat.chars().take(room).collect();
            sc.text(
                gx + (group - 12) / 2,
                PY + PH + 9,
                &shown,
                1,
                Anchor::Middle,
            );
        }
        frame(&mut sc);
        let entries: Vec<(String, Rgb, bool, bool)> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.0.clone(), palette(i), false, true))
            .collect();
        legend(&mut sc, &mut lines, &entries);
        Drawing { scene: sc, lines }
    }

    /// The chart as a standalone SVG document.
    pub fn svg(&self) -> String {
        self.draw().svg()
    }

    /// The chart as a 760 x 440 RGB PNG.
    pub fn png(&self) -> Result<Vec<u8>, ReportError> {
        self.draw().png()
    }
}

impl MatrixChart {
    fn draw(&self) -> Drawing {
        let nr = self.rows.len().max(1) as i32;
        let nc = self.cols.len().max(1) as i32;
        let name_w = self
            .rows
            .iter()
            .map(|r| text_width(r, 1))
            .max()
            .unwrap_or(0)
            .clamp(24, 160);
        // Wide enough for a ten-letter name or "100.00%" at the font's 8 px.
        let cell = 84;
        let x0 = 40 + name_w;
        let y0 = 70;
        let width = (x0 + nc * cell + 30)
            .max(text_width(&self.title, 2) + 48)
            .max(320);
        let height = y0 + nr * cell + 50;
        let mut sc = Scene::new(width, height);
        sc.text(width / 2, 12, &self.title, 2, Anchor::Middle);
        sc.text(x0 + nc * cell / 2, 38, &self.x_label, 1, Anchor::Middle);
        sc.vtext(12, y0 + nr * cell / 2, &self.y_label, 1);
        for (j, c) in self.cols.iter().enumerate() {
            let shown: String = c.chars().take((cell / GLYPH) as usize).collect();
            sc.text(
                x0 + j as i32 * cell + cell / 2,
                54,
                &shown,
                1,
                Anchor::Middle,
            );
        }
        for (i, r) in self.rows.iter().enumerate() {
            let y = y0 + i as i32 * cell;
            sc.text(x0 - 6, y + cell / 2 - GLYPH / 2, r, 1, Anchor::End);
            for j in 0..self.cols.len() {
                let x = x0 + j as i32 * cell;
                let v = self.values.get(i).and_then(|r| r.get(j)).copied().flatten();
                let fill = match v {
                    Some(v) if v.is_finite() => colour::scale(v),
                    _ => Rgb::EMPTY,
                };
                sc.rect(x, y, cell - 1, cell - 1, fill);
                let text = self
                    .text
                    .get(i)
                    .and_then(|r| r.get(j))
                    .cloned()
                    .unwrap_or_default();
                // Dark cells take white text; the scale's upper half is light.
                let ink = if v.is_some_and(|v| v < 0.55) {
                    Rgb::WHITE
                } else {
                    Rgb::BLACK
                };
                sc.shapes.push(Shape::Text {
                    x: x + cell / 2,
                    y: y + cell / 2 - GLYPH / 2,
                    text,
                    scale: 1,
                    anchor: Anchor::Middle,
                    vertical: false,
                    colour: ink,
                });
            }
        }
        Drawing {
            scene: sc,
            lines: Vec::new(),
        }
    }

    /// The matrix as a standalone SVG document.
    pub fn svg(&self) -> String {
        self.draw().svg()
    }

    /// The matrix as an RGB PNG sized to its rows and columns.
    pub fn png(&self) -> Result<Vec<u8>, ReportError> {
        self.draw().png()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> LineChart {
        LineChart {
            title: "accuracy against background".into(),
            x_label: "packets/s".into(),
            y_label: "accuracy".into(),
            series: vec![
                Series {
                    name: "rf".into(),
                    points: vec![(0.0, 0.97), (100.0, 0.93), (300.0, 0.88)],
                    dashed: false,
                    colour: 0,
                },
                Series {
                    name: "rf, mixed <train>".into(),
                    points: vec![(0.0, 0.97), (100.0, f64::NAN), (300.0, 0.9)],
                    dashed: true,
                    colour: 0,
                },
            ],
            marks: vec![Mark {
                label: "paper 87.5%".into(),
                x: 300.0,
                y: 0.875,
            }],
            y_range: None,
            x_log2: false,
            y_percent: true,
        }
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(
            nice_ticks(0.0, 1.0),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(nice_ticks(0.0, 600.0), vec![0.0, 200.0, 400.0, 600.0]);
        assert_eq!(nice_ticks(0.0, 300.0), vec![0.0, 100.0, 200.0, 300.0]);
        assert_eq!(nice_ticks(1.0, 1.0), vec![1.0]);
        assert_eq!(fmt_tick(0.875, true), "88%");
    }

    #[test]
    fn line_chart_svg_has_lines_legend_and_mark() {
        let svg = chart().svg();
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        // The NaN point breaks the dashed series into nothing drawable, so: one solid line,
        // two legend swatches, four diamond edges.
        assert_eq!(svg.matches("<polyline").count(), 1 + 2 + 4);
        assert_eq!(svg.matches("stroke-dasharray").count(), 1);
        assert!(svg.contains("paper 87.5%"));
        assert!(svg.contains("rf, mixed &lt;train&gt;"));
        assert!(svg.contains(">88%<") || svg.contains(">90%<"));
    }

    #[test]
    fn pngs_decode_with_the_right_size() {
        for png in [
            chart().png().unwrap(),
            BarChart {
                title: "t".into(),
                y_label: "accuracy".into(),
                categories: vec!["size-iat".into(), "burst".into()],
                series: vec![
                    ("ours".into(), vec![Some(0.9), None]),
                    ("paper".into(), vec![Some(0.95), Some(0.8)]),
                ],
                y_range: Some((0.0, 1.0)),
                y_percent: true,
            }
            .png()
            .unwrap(),
        ] {
            assert_eq!(&png[1..4], b"PNG");
            // IHDR width and height, big-endian, right after the 8-byte signature and header.
            let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
            let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
            assert_eq!((w, h), (W as u32, H as u32));
        }
    }

    #[test]
    fn matrix_cells_and_text() {
        let m = MatrixChart {
            title: "confusion".into(),
            x_label: "predicted".into(),
            y_label: "true".into(),
            rows: vec!["web".into(), "voip".into()],
            cols: vec!["web".into(), "voip".into()],
            values: vec![vec![Some(0.9), Some(0.1)], vec![None, Some(1.0)]],
            text: vec![
                vec!["9".into(), "1".into()],
                vec![String::new(), "12".into()],
            ],
        };
        let svg = m.svg();
        assert!(svg.contains(">12</text>"));
        // Low values are dark and get white text.
        assert!(svg.contains(r##"fill="#ffffff">1</text>"##));
        assert_eq!(
            svg.matches(&format!(r#"fill="{}""#, Rgb::EMPTY.hex()))
                .count(),
            1
        );
        let png = m.png().unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }

    #[test]
    fn empty_inputs_do_not_panic() {
        let c = LineChart::default();
        assert!(c.svg().contains("</svg>"));
        assert!(c.png().is_ok());
        assert!(BarChart::default().png().is_ok());
        assert!(MatrixChart::default().png().is_ok());
        let odd = LineChart {
            series: vec![Series {
                name: "x".into(),
                points: vec![(-1.0, f64::INFINITY), (0.0, 0.0)],
                dashed: false,
                colour: 99,
            }],
            x_log2: true,
            ..LineChart::default()
        };
        assert!(odd.png().is_ok());
    }
}
