//! Aligned plain-text tables for the command line.

/// True for cells that read as numbers ("12", "-3.5", "97.27%", "1e-6", "NaN" is not): they
/// are right-aligned so that digits line up.
fn is_numeric(s: &str) -> bool {
    let t = s.trim();
    let t = t.strip_suffix('%').unwrap_or(t);
    !t.is_empty()
        && t.chars().any(|c| c.is_ascii_digit())
        && t.parse::<f64>().is_ok_and(|v| v.is_finite())
}

fn cell(r: &[String], c: usize) -> &str {
    r.get(c).map(String::as_str).unwrap_or("")
}

/// Renders `headers` and `rows` with columns separated by two spaces, a dashed rule under the
/// header, numeric columns (every non-empty cell a number) right-aligned, header included, and
/// the others left-aligned. Widths count characters, not bytes. Rows shorter than the header are padded with
/// empty cells; extra cells get an empty header. No line has trailing spaces.
pub fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let ncol = rows
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(headers.len()))
        .max()
        .unwrap_or(0);
    let header = |c: usize| headers.get(c).copied().unwrap_or("");
    let width: Vec<usize> = (0..ncol)
        .map(|c| {
            rows.iter()
                .map(|r| cell(r, c).chars().count())
                .chain(std::iter::once(header(c).chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let right: Vec<bool> = (0..ncol)
        .map(|c| {
            let mut cells = rows.iter().map(|r| cell(r, c)).filter(|s| !s.is_empty());
            let mut any = false;
            let all = cells.all(|s| {
                any = true;
                is_numeric(s)
            });
            any && all
        })
        .collect();

    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (c, s) in cells.enumerate() {
            if c > 0 {
                l.push_str("  ");
            }
            let pad = width[c].saturating_sub(s.chars().count());
            if right[c] {
                l.extend(std::iter::repeat_n(' ', pad));
                l.push_str(s);
            } else {
                l.push_str(s);
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut (0..ncol).map(header));
    let rule: Vec<String> = width.iter().map(|&w| "-".repeat(w)).collect();
    line(&mut rule.iter().map(String::as_str));
    for r in rows {
        line(&mut (0..ncol).map(|c| cell(r, c)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn aligns_text_left_and_numbers_right() {
        let t = text_table(
            &["features", "NB", "LR"],
            &[
                row(&["size-iat", "94.55%", "99.09%"]),
                row(&["burst", "6.5%", "100%"]),
                row(&["combined", "", "7"]),
            ],
        );
        let want = "\
features      NB      LR
--------  ------  ------
size-iat  94.55%  99.09%
burst       6.5%    100%
combined               7
";
        assert_eq!(t, want);
    }

    #[test]
    fn ragged_rows_and_unicode_widths() {
        let t = text_table(&["a"], &[row(&["µs", "x"]), row(&[])]);
        assert_eq!(t, "a\n--  -\nµs  x\n\n");
        assert_eq!(text_table(&[], &[]), "\n\n");
    }

    #[test]
    fn numeric_detection() {
        assert!(is_numeric("-3.5"));
        assert!(is_numeric("1e-6"));
        assert!(is_numeric("12%"));
        assert!(!is_numeric("NaN"));
        assert!(!is_numeric("inf"));
        assert!(!is_numeric("v1"));
        assert!(!is_numeric("%"));
    }
}
