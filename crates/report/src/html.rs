//! A self-contained HTML report: one file, inline CSS and inline SVG figures, no scripts and no
//! network requests, readable on a laptop screen. Content is built from a few block kinds so
//! callers never write markup; every text is escaped.

use crate::text::xml_escape as escape;
use std::fmt::Write;

/// A table cell: its text and how to show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// The text shown.
    pub text: String,
    /// Shown muted and in italics: a reference value (e.g. the paper's), not ours.
    pub reference: bool,
    /// Shown in bold: the best value of its row or column.
    pub strong: bool,
}

impl Cell {
    /// A plain cell.
    pub fn new(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            reference: false,
            strong: false,
        }
    }

    /// A reference cell (the paper's number).
    pub fn reference(text: impl Into<String>) -> Self {
        Cell {
            reference: true,
            ..Cell::new(text)
        }
    }

    /// A bold cell.
    pub fn strong(text: impl Into<String>) -> Self {
        Cell {
            strong: true,
            ..Cell::new(text)
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::new(s)
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::new(s)
    }
}

/// A table with a caption; the first column is a row header.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Table {
    /// Caption above the table.
    pub caption: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<Cell>>,
}

/// An inline SVG figure with a caption and, optionally, a link to a PNG copy beside the report.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Figure {
    /// Anchor id (letters, digits, `-`, `_`; other characters become `-`).
    pub id: String,
    /// A standalone SVG document (as produced by this crate).
    pub svg: String,
    /// Caption under the figure.
    pub caption: String,
    /// Relative path of the PNG copy, if one was written.
    pub png: Option<String>,
}

/// One piece of a section.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Block {
    /// A paragraph of plain text.
    Text(String),
    /// A highlighted remark (a skipped experiment, a caveat).
    Note(String),
    /// A bulleted list of plain texts.
    List(Vec<String>),
    /// A table.
    Table(Table),
    /// Figures laid out side by side where the screen allows.
    Figures(Vec<Figure>),
}

/// A titled section, listed in the page's contents.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Section {
    /// Anchor id.
    pub id: String,
    /// Heading.
    pub title: String,
    /// Content.
    pub blocks: Vec<Block>,
}

/// A whole report page.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Page {
    /// `<title>` and top heading.
    pub title: String,
    /// Blocks before the contents.
    pub intro: Vec<Block>,
    /// Sections in order.
    pub sections: Vec<Section>,
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1180px;\
padding:1rem 1.5rem 3rem;color:#1d1d1f;line-height:1.45}\
h1{font-size:1.6rem;margin-bottom:.3rem}h2{font-size:1.3rem;margin-top:2.2rem;\
border-bottom:1px solid #ddd;padding-bottom:.2rem}\
nav ol{columns:2;font-size:.92rem}\
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.9rem}\
caption{text-align:left;font-weight:600;padding-bottom:.3rem}\
th,td{border:1px solid #d0d0d0;padding:.25rem .55rem;text-align:right;white-space:nowrap}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}\
td.ref{color:#6b6b6b;font-style:italic}td.strong{font-weight:700}\
.note{background:#fff6dc;border-left:4px solid #e0b400;padding:.4rem .8rem;margin:.6rem 0}\
.figs{display:flex;flex-wrap:wrap;gap:1rem}\
figure{margin:.4rem 0;flex:1 1 460px;max-width:100%}\
figure svg{max-width:100%;height:auto;display:block;border:1px solid #eee}\
figcaption{font-size:.86rem;color:#444;margin-top:.25rem}\
.scroll{overflow-x:auto}";

fn anchor(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        "section".into()
    } else {
        s
    }
}

/// Removes an XML declaration or doctype before the `<svg` tag, so the document embeds inline.
fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or("", |i| &svg[i..])
}

fn block(o: &mut String, b: &Block) {
    // `write!` into a String cannot fail.
    match b {
        Block::Text(t) => {
            let _ = writeln!(o, "<p>{}</p>", escape(t));
        }
        Block::Note(t) => {
            let _ = writeln!(o, r#"<p class="note">{}</p>"#, escape(t));
        }
        Block::List(items) => {
            o.push_str("<ul>\n");
            for i in items {
                let _ = writeln!(o, "<li>{}</li>", escape(i));
            }
            o.push_str("</ul>\n");
        }
        Block::Table(t) => {
            o.push_str("<div class=\"scroll\"><table>\n");
            if !t.caption.is_empty() {
                let _ = writeln!(o, "<caption>{}</caption>", escape(&t.caption));
            }
            o.push_str("<thead><tr>");
            for h in &t.headers {
                let _ = write!(o, "<th>{}</th>", escape(h));
            }
            o.push_str("</tr></thead>\n<tbody>\n");
            for r in &t.rows {
                o.push_str("<tr>");
                for c in r {
                    let class = match (c.reference, c.strong) {
                        (true, _) => r#" class="ref""#,
                        (false, true) => r#" class="strong""#,
                        _ => "",
                    };
                    let _ = write!(o, "<td{class}>{}</td>", escape(&c.text));
                }
                o.push_str("</tr>\n");
            }
            o.push_str("</tbody></table></div>\n");
        }
        Block::Figures(figs) => {
            o.push_str("<div class=\"figs\">\n");
            for f in figs {
                let _ = writeln!(o, r#"<figure class="fig" id="{}">"#, anchor(&f.id));
                o.push_str(inline_svg(&f.svg));
                let png = f
                    .png
                    .as_ref()
                    .map(|p| format!(r#" (<a href="{}">PNG</a>)"#, escape(p)))
                    .unwrap_or_default();
                let _ = writeln!(
                    o,
                    "<figcaption>{}{png}</figcaption>\n</figure>",
                    escape(&f.caption)
                );
            }
            o.push_str("</div>\n");
        }
    }
}

/// The page as one HTML5 document.
pub fn render(page: &Page) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        escape(&page.title)
    );
    let _ = writeln!(o, "<h1>{}</h1>", escape(&page.title));
    for b in &page.intro {
        block(&mut o, b);
    }
    if !page.sections.is_empty() {
        o.push_str("<nav><ol>\n");
        for s in &page.sections {
            let _ = writeln!(
                o,
                r##"<li><a href="#{}">{}</a></li>"##,
                anchor(&s.id),
                escape(&s.title)
            );
        }
        o.push_str("</ol></nav>\n");
    }
    for s in &page.sections {
        let _ = writeln!(
            o,
            r#"<section id="{}">
<h2>{}</h2>"#,
            anchor(&s.id),
            escape(&s.title)
        );
        for b in &s.blocks {
            block(&mut o, b);
        }
        o.push_str("</section>\n");
    }
    o.push_str("</body>\n</html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_is_escaped_self_contained_and_navigable() {
        let page = Page {
            title: "tapir <experiment>".into(),
            intro: vec![Block::Text("a & b".into())],
            sections: vec![Section {
                id: "tables ipsec".into(),
                title: "IPsec".into(),
                blocks: vec![
                    Block::Table(Table {
                        caption: "Table II".into(),
                        headers: vec!["features".into(), "rf".into()],
                        rows: vec![vec![
                            "combined".into(),
                            Cell::strong("96.77%"),
                            Cell::reference("paper 96.77%"),
                        ]],
                    }),
                    Block::Figures(vec![Figure {
                        id: "fig1".into(),
                        svg: "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"
                            .into(),
                        caption: "x".into(),
                        png: Some("figures/fig1.png".into()),
                    }]),
                    Block::Note("skipped".into()),
                ],
            }],
        };
        let h = render(&page);
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.contains("<title>tapir &lt;experiment&gt;</title>"));
        assert!(h.contains("<p>a &amp; b</p>"));
        assert!(h.contains(r##"<a href="#tables-ipsec">IPsec</a>"##));
        assert!(h.contains(r#"<section id="tables-ipsec">"#));
        assert!(h.contains(r#"<td class="strong">96.77%</td>"#));
        assert!(h.contains(r#"<td class="ref">paper 96.77%</td>"#));
        assert!(!h.contains("<?xml"));
        assert!(h.contains("<figure class=\"fig\" id=\"fig1\">\n<svg"));
        assert!(h.contains(r#"<a href="figures/fig1.png">PNG</a>"#));
        // Nothing the browser would fetch.
        assert!(!h.contains("src=") && !h.contains("<link") && !h.contains("<script"));
    }
}
