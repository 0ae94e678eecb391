//! Who writes to whom: the correspondence graph, as DOT or JSON.

use crate::meta::MailMeta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use tapir_capture::Timestamp;

/// Messages and bytes on one directed edge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub messages: u64,
    pub bytes: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

/// One address and its totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub id: String,
    pub sent: u64,
    pub received: u64,
}

/// The graph in a serialisable shape (also the JSON output).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphDoc {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// A directed multigraph sender → recipient, one edge per pair. Ordered maps keep the output
/// the same from run to run.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    edges: BTreeMap<(String, String), Edge>,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one edge per recipient of the message; a message without a sender adds none.
    pub fn add(&mut self, m: &MailMeta) {
        let Some(from) = m.sender() else { return };
        let t = m.time();
        for r in m.recipients() {
            let e = self
                .edges
                .entry((from.to_owned(), r.address.clone()))
                .or_insert_with(|| Edge {
                    from: from.to_owned(),
                    to: r.address.clone(),
                    ..Edge::default()
                });
            e.messages += 1;
            e.bytes += m.size;
            if let Some(t) = t {
                e.first = Some(e.first.map_or(t, |f| f.min(t)));
                e.last = Some(e.last.map_or(t, |l| l.max(t)));
            }
        }
    }

    /// Number of distinct sender → recipient pairs.
    pub fn pairs(&self) -> usize {
        self.edges.len()
    }

    pub fn edges(&self) -> impl Iterator<Item = &Edge> {
        self.edges.values()
    }

    pub fn doc(&self) -> GraphDoc {
        let mut nodes: BTreeMap<&str, Node> = BTreeMap::new();
        for e in self.edges.values() {
            let n = nodes.entry(&e.from).or_insert_with(|| Node {
                id: e.from.clone(),
                ..Node::default()
            });
            n.sent += e.messages;
            let n = nodes.entry(&e.to).or_insert_with(|| Node {
                id: e.to.clone(),
                ..Node::default()
            });
            n.received += e.messages;
        }
        GraphDoc {
            nodes: nodes.into_values().collect(),
            edges: self.edges.values().cloned().collect(),
        }
    }

    /// Graphviz DOT; edge width grows with the message count.
    pub fn to_dot(&self) -> String {
        let mut s = String::from("digraph mail {\n  node [shape=box, fontsize=10];\n");
        for e in self.edges.values() {
            let _ = writeln!(
                s,
                "  \"{}\" -> \"{}\" [label=\"{}\", penwidth={:.1}];",
                dot_escape(&e.from),
                dot_escape(&e.to),
                e.messages,
                1.0 + (e.messages as f64).ln()
            );
        }
        s.push_str("}\n");
        s
    }

    pub fn to_json(&self) -> Result<String, crate::MailError> {
        Ok(serde_json::to_string_pretty(&self.doc())?)
    }
}

fn dot_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            '\n' | '\r' => vec![' '],
            c => vec![c],
        })
        .collect()
}
