//! Who an event is about: patterns (prefix, mail address, mail domain), lists of named
//! patterns (watchlists, site maps), longest-prefix lookup and the grouping of `volume --group`.

use crate::AnalysisError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use tapir_flow::Cidr;

/// What one line of a watchlist or site map names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "type", content = "value")]
#[non_exhaustive]
pub enum Pattern {
    /// An address or prefix: `198.51.100.7`, `203.0.113.0/24`, `2001:db8::/32`.
    Prefix(Cidr),
    /// One mail address, lower-cased: `boss@example.org`.
    Mail(String),
    /// A mail domain and its subdomains: `@example.org` or `example.org`.
    Domain(String),
}

impl Pattern {
    /// The pattern that matches the pseudonyms (under `an`) of what `self` matches. Crypto-PAn
    /// keeps prefixes, so a prefix maps to the pseudonym of its network address with the same
    /// length; a domain maps to its hashed domain (its subdomains hash apart and no longer
    /// match).
    pub fn anonymized(self, an: &tapir_anon::Anonymizer) -> Pattern {
        match self {
            Pattern::Prefix(c) => Cidr::new(an.anonymize_ip(c.addr()), c.len())
                .map(Pattern::Prefix)
                .unwrap_or(Pattern::Prefix(c)),
            Pattern::Mail(m) => Pattern::Mail(an.anonymize_email(&m)),
            Pattern::Domain(d) => {
                let hashed = an.anonymize_email(&format!("x@{d}"));
                Pattern::Domain(mail_domain(&hashed).unwrap_or(&d).to_string())
            }
        }
    }

    /// Parses `10.0.0.0/8`, `10.0.0.1`, `alice@example.org`, `@example.org` or `example.org`.
    pub fn parse(s: &str) -> Result<Pattern, String> {
        let s = s.trim();
        if let Some(dom) = s.strip_prefix('@') {
            return domain(dom).map(Pattern::Domain);
        }
        if let Some((local, dom)) = s.rsplit_once('@') {
            if local.is_empty() {
                return Err(format!("{s:?}: empty local part"));
            }
            domain(dom)?;
            return Ok(Pattern::Mail(s.to_ascii_lowercase()));
        }
        match s.parse::<Cidr>() {
            Ok(c) => Ok(Pattern::Prefix(c)),
            // A dotted name that is not an address is a domain; anything else is a mistake
            // worth reporting (a typo in an address must not silently become a domain).
            Err(e) if s.chars().any(|c| c.is_ascii_alphabetic()) && !s.contains(['/', ':']) => {
                domain(s).map(Pattern::Domain).map_err(|_| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Whether an entity (its name, and its address when it is a host) falls under this pattern.
    pub fn matches(&self, name: &str, ip: Option<IpAddr>) -> bool {
        match self {
            Pattern::Prefix(c) => ip.is_some_and(|ip| c.contains(ip)),
            Pattern::Mail(m) => name.eq_ignore_ascii_case(m),
            Pattern::Domain(d) => mail_domain(name).is_some_and(|nd| in_domain(nd, d)),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Prefix(c) if c.len() == if c.addr().is_ipv4() { 32 } else { 128 } => {
                write!(f, "{}", c.addr())
            }
            Pattern::Prefix(c) => write!(f, "{}/{}", c.addr(), c.len()),
            Pattern::Mail(m) => f.write_str(m),
            Pattern::Domain(d) => write!(f, "@{d}"),
        }
    }
}

fn domain(d: &str) -> Result<String, String> {
    let ok = !d.is_empty()
        && d.split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if ok {
        Ok(d.to_ascii_lowercase())
    } else {
        Err(format!("{d:?} is not a domain name"))
    }
}

/// The domain of a mail address (after the last `@`), if it is one.
pub fn mail_domain(name: &str) -> Option<&str> {
    name.rsplit_once('@').map(|(_, d)| d)
}

fn in_domain(name_dom: &str, dom: &str) -> bool {
    name_dom.eq_ignore_ascii_case(dom)
        || (name_dom.len() > dom.len()
            && name_dom.as_bytes()[name_dom.len() - dom.len() - 1] == b'.'
            && name_dom[name_dom.len() - dom.len()..].eq_ignore_ascii_case(dom))
}

/// One line of a watchlist or site map: a pattern and an optional name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedPattern {
    pub pattern: Pattern,
    pub name: Option<String>,
    /// 1-based line in its file, so a hit can point back to the entry that caused it.
    pub line: usize,
}

/// Parses a list of `PATTERN [NAME…]` lines; `#` starts a comment, blank lines are skipped.
/// `source_name` (usually the file name) goes into error messages.
pub fn parse_named_list(text: &str, source_name: &str) -> Result<Vec<NamedPattern>, AnalysisError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (pat, name) = match line.split_once(char::is_whitespace) {
            Some((p, n)) => (p, Some(n.trim().to_string())),
            None => (line, None),
        };
        let pattern = Pattern::parse(pat).map_err(|why| AnalysisError::Parse {
            source_name: source_name.to_string(),
            line: i + 1,
            why,
        })?;
        out.push(NamedPattern {
            pattern,
            name: name.filter(|n| !n.is_empty()),
            line: i + 1,
        });
    }
    Ok(out)
}

/// Longest-prefix lookup: one hash map per prefix length in use, tried longest first, so a
/// lookup costs one probe per distinct length (a handful), not one per entry.
#[derive(Clone, Debug)]
pub struct PrefixMap<T> {
    v4: Vec<(u8, HashMap<u32, T>)>,
    v6: Vec<(u8, HashMap<u128, T>)>,
}

impl<T> Default for PrefixMap<T> {
    fn default() -> Self {
        PrefixMap {
            v4: Vec::new(),
            v6: Vec::new(),
        }
    }
}

fn mask4(a: u32, len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        a & (u32::MAX << (32 - u32::from(len.min(32))))
    }
}

fn mask6(a: u128, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        a & (u128::MAX << (128 - u32::from(len.min(128))))
    }
}

impl<T> PrefixMap<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `prefix → value`; the first value given for a prefix stays.
    pub fn insert(&mut self, prefix: Cidr, value: T) {
        match prefix.addr() {
            IpAddr::V4(a) => {
                let i = slot(&mut self.v4, prefix.len());
                self.v4[i]
                    .1
                    .entry(mask4(u32::from(a), prefix.len()))
                    .or_insert(value);
            }
            IpAddr::V6(a) => {
                let i = slot(&mut self.v6, prefix.len());
                self.v6[i]
                    .1
                    .entry(mask6(u128::from(a), prefix.len()))
                    .or_insert(value);
            }
        }
    }

    /// The value of the longest prefix holding `ip`.
    pub fn get(&self, ip: IpAddr) -> Option<&T> {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4.iter().find_map(|(l, m)| m.get(&mask4(a, *l)))
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6.iter().find_map(|(l, m)| m.get(&mask6(a, *l)))
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// Index of the map for prefix length `len`, created in longest-first order if missing.
fn slot<K, T>(v: &mut Vec<(u8, HashMap<K, T>)>, len: u8) -> usize {
    match v.iter().position(|(l, _)| *l <= len) {
        Some(i) if v[i].0 == len => i,
        Some(i) => {
            v.insert(i, (len, HashMap::new()));
            i
        }
        None => {
            v.push((len, HashMap::new()));
            v.len() - 1
        }
    }
}

/// A compiled list of named patterns: prefix lookups by [`PrefixMap`], mail addresses and
/// domains by hash. Values are indexes into [`PatternSet::entries`].
#[derive(Clone, Debug, Default)]
pub struct PatternSet {
    entries: Vec<NamedPattern>,
    prefixes: PrefixMap<usize>,
    mail: HashMap<String, usize>,
    domains: HashMap<String, usize>,
}

impl PatternSet {
    pub fn new(entries: Vec<NamedPattern>) -> Self {
        let mut s = PatternSet::default();
        for (i, e) in entries.iter().enumerate() {
            match &e.pattern {
                Pattern::Prefix(c) => s.prefixes.insert(*c, i),
                Pattern::Mail(m) => {
                    s.mail.entry(m.clone()).or_insert(i);
                }
                Pattern::Domain(d) => {
                    s.domains.entry(d.clone()).or_insert(i);
                }
            }
        }
        s.entries = entries;
        s
    }

    /// Parses a watchlist or site-map text (see [`parse_named_list`]).
    pub fn parse(text: &str, source_name: &str) -> Result<Self, AnalysisError> {
        Ok(Self::new(parse_named_list(text, source_name)?))
    }

    pub fn entries(&self) -> &[NamedPattern] {
        &self.entries
    }

    /// The set whose patterns match the pseudonyms under `an` ([`Pattern::anonymized`]).
    pub fn anonymized(self, an: &tapir_anon::Anonymizer) -> PatternSet {
        PatternSet::new(
            self.entries
                .into_iter()
                .map(|mut e| {
                    e.pattern = e.pattern.anonymized(an);
                    e
                })
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most specific entry naming this entity: longest prefix for an address; the exact
    /// address, then the closest enclosing domain, for a mail address.
    pub fn lookup(&self, name: &str, ip: Option<IpAddr>) -> Option<&NamedPattern> {
        if let Some(ip) = ip {
            return self.prefixes.get(ip).map(|&i| &self.entries[i]);
        }
        if self.mail.is_empty() && self.domains.is_empty() {
            return None;
        }
        let lower = name.to_ascii_lowercase();
        if let Some(&i) = self.mail.get(&lower) {
            return Some(&self.entries[i]);
        }
        let mut dom = mail_domain(&lower)?;
        loop {
            if let Some(&i) = self.domains.get(dom) {
                return Some(&self.entries[i]);
            }
            dom = dom.split_once('.')?.1;
        }
    }
}

/// How `volume` groups events into entities.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Grouping {
    /// Each address or mail address on its own.
    Host,
    /// Addresses by prefix: IPv4 `/v4`, IPv6 `/v6`. Mail addresses are skipped.
    Prefix { v4: u8, v6: u8 },
    /// Mail addresses by domain. Flows are skipped.
    Domain,
    /// By the name of the most specific entry of a site map that holds the entity; entities in
    /// no site are skipped.
    Site(PatternSet),
}

impl Grouping {
    /// Parses `host`, `domain`, `prefix/24` (IPv6 /64), `prefix/24/48` (IPv6 /48) or `site`
    /// (which needs `sites`).
    pub fn parse(s: &str, sites: Option<PatternSet>) -> Result<Grouping, AnalysisError> {
        let bad = |why: String| AnalysisError::invalid("grouping", why);
        match s {
            "host" => Ok(Grouping::Host),
            "domain" => Ok(Grouping::Domain),
            "site" => sites
                .map(Grouping::Site)
                .ok_or_else(|| bad("site needs a site map (--sites FILE)".into())),
            _ => {
                let rest = s
                    .strip_prefix("prefix/")
                    .ok_or_else(|| bad(format!("{s:?}: use host, prefix/NN, domain or site")))?;
                let (a, b) = match rest.split_once('/') {
                    Some((a, b)) => (a, Some(b)),
                    None => (rest, None),
                };
                let v4: u8 = a
                    .parse()
                    .ok()
                    .filter(|v| *v <= 32)
                    .ok_or_else(|| bad(format!("{s:?}: IPv4 prefix length must be 0–32")))?;
                // /64 is the size of one IPv6 subnet (RFC 4291 §2.5.1), the analogue of one site.
                let v6: u8 =
                    match b {
                        None => 64,
                        Some(b) => b.parse().ok().filter(|v| *v <= 128).ok_or_else(|| {
                            bad(format!("{s:?}: IPv6 prefix length must be 0–128"))
                        })?,
                    };
                Ok(Grouping::Prefix { v4, v6 })
            }
        }
    }

    /// The entity an endpoint belongs to, or `None` when this grouping does not apply to it.
    pub fn entity(&self, name: &str, ip: Option<IpAddr>) -> Option<String> {
        match self {
            Grouping::Host => Some(name.to_string()),
            Grouping::Prefix { v4, v6 } => ip.map(|ip| match ip {
                IpAddr::V4(a) => format!(
                    "{}/{v4}",
                    std::net::Ipv4Addr::from(mask4(u32::from(a), *v4))
                ),
                IpAddr::V6(a) => format!(
                    "{}/{v6}",
                    std::net::Ipv6Addr::from(mask6(u128::from(a), *v6))
                ),
            }),
            Grouping::Domain => match ip {
                Some(_) => None,
                None => mail_domain(name).map(str::to_string),
            },
            Grouping::Site(set) => set
                .lookup(name, ip)
                .map(|e| e.name.clone().unwrap_or_else(|| e.pattern.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymized_patterns_match_the_pseudonyms_of_what_they_matched() {
        let an = tapir_anon::Anonymizer::from_passphrase("k").unwrap();
        let set = PatternSet::parse(
            "10.77.0.0/16 lab\nboss@example.org boss\n@example.net co\n",
            "list",
        )
        .unwrap()
        .anonymized(&an);
        let ip: IpAddr = "10.77.11.1".parse().unwrap();
        let pip = an.anonymize_ip(ip);
        assert_ne!(pip, ip);
        assert_eq!(
            set.lookup(&pip.to_string(), Some(pip))
                .unwrap()
                .name
                .as_deref(),
            Some("lab")
        );
        assert!(set.lookup("10.77.11.1", Some(ip)).is_none());
        let boss = an.anonymize_email("boss@example.org");
        assert_eq!(
            set.lookup(&boss, None).unwrap().name.as_deref(),
            Some("boss")
        );
        let other = an.anonymize_email("x@example.net");
        assert_eq!(
            set.lookup(&other, None).unwrap().name.as_deref(),
            Some("co")
        );
        let mut e = crate::Event::mail(
            tapir_capture::Timestamp(1),
            "boss@example.org",
            "x@example.net",
            5,
        );
        e.label = Some("<id@example.org>".into());
        e.anonymize(&an);
        assert_eq!(
            (e.src.as_str(), e.dst.as_str()),
            (boss.as_str(), other.as_str())
        );
        assert!(!e.label.unwrap().contains("example"));
    }

    #[test]
    fn patterns_parse_and_match() {
        let p = Pattern::parse("10.1.0.0/16").unwrap();
        assert!(p.matches("10.1.2.3", Some("10.1.2.3".parse().unwrap())));
        assert!(!p.matches("10.2.0.1", Some("10.2.0.1".parse().unwrap())));
        let d = Pattern::parse("@Example.org").unwrap();
        assert_eq!(d, Pattern::Domain("example.org".into()));
        assert!(d.matches("bob@mail.example.org", None));
        assert!(!d.matches("bob@badexample.org", None));
        assert!(Pattern::parse("alice@example.org")
            .unwrap()
            .matches("ALICE@example.org", None));
        assert!(
            Pattern::parse("10.0.0.300").is_err(),
            "a bad address is not a domain"
        );
        assert!(Pattern::parse("not a pattern").is_err());
    }

    #[test]
    fn named_list_reports_the_bad_line() {
        let text =
            "# C&C servers\n198.51.100.7 botnet-a   # seen 2026\n\n203.0.113.0/24\n10.0.0.0/99 x\n";
        let err = parse_named_list(text, "list.txt").unwrap_err().to_string();
        assert!(err.contains("list.txt line 5"), "{err}");
        let ok = parse_named_list(&text[..text.len() - 14], "list.txt").unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].name.as_deref(), Some("botnet-a"));
        assert_eq!(ok[1].line, 4);
    }

    #[test]
    fn longest_prefix_wins() {
        let set = PatternSet::parse(
            "10.0.0.0/8 big\n10.1.0.0/16 small\n@example.org org\nceo@example.org ceo\n",
            "t",
        )
        .unwrap();
        let look = |s: &str| set.lookup(s, s.parse().ok()).and_then(|e| e.name.clone());
        assert_eq!(look("10.1.2.3").as_deref(), Some("small"));
        assert_eq!(look("10.9.2.3").as_deref(), Some("big"));
        assert_eq!(look("11.0.0.1"), None);
        assert_eq!(look("ceo@example.org").as_deref(), Some("ceo"));
        assert_eq!(look("x@lists.example.org").as_deref(), Some("org"));
        assert_eq!(look("x@example.com"), None);
    }

    #[test]
    fn grouping() {
        let g = Grouping::parse("prefix/24", None).unwrap();
        assert_eq!(
            g.entity("10.1.2.3", "10.1.2.3".parse().ok()).as_deref(),
            Some("10.1.2.0/24")
        );
        assert_eq!(
            g.entity("2001:db8::1", "2001:db8::1".parse().ok())
                .as_deref(),
            Some("2001:db8::/64")
        );
        assert_eq!(g.entity("a@b.org", None), None);
        assert_eq!(
            Grouping::Domain.entity("a@b.org", None).as_deref(),
            Some("b.org")
        );
        assert!(Grouping::parse("prefix/33", None).is_err());
        assert!(Grouping::parse("site", None).is_err());
    }
}
