//! Escaping text for the formats tapir writes: XML (SVG, GraphML, HTML) and CSV.

use std::borrow::Cow;

/// `s` with the five XML special characters escaped; control characters, which XML 1.0 does
/// not allow, become spaces. Safe in HTML text and attribute values as well.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line feed or a carriage
/// return, with quotes doubled; as it is otherwise.
pub fn csv_field(s: &str) -> Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_and_csv() {
        assert_eq!(
            xml_escape("a<b & 'c' \"d\">\u{7}"),
            "a&lt;b &amp; &apos;c&apos; &quot;d&quot;&gt; "
        );
        assert_eq!(csv_field("plain"), "plain");
        assert!(matches!(csv_field("plain"), Cow::Borrowed(_)));
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("cr\ronly"), "\"cr\ronly\"");
    }
}
