//! Who talks to whom: a directed graph of entities (initiator → responder, sender →
//! recipient) written as DOT, GraphML or JSON.

use crate::event::{Event, EventKind};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use tapir_capture::Timestamp;
use tapir_report::xml_escape as xml;

/// How a [`Graph`] is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// GraphML (Gephi, yEd, NetworkX, igraph).
    Graphml,
    /// `{"nodes": [...], "edges": [...]}`.
    Json,
}

impl GraphFormat {
    /// Every format, in the order `tapir --help` lists them.
    pub const ALL: [GraphFormat; 3] = [GraphFormat::Dot, GraphFormat::Graphml, GraphFormat::Json];
    /// The names of [`GraphFormat::ALL`] as a sentence, for messages.
    pub const NAMES: &'static str = "dot, graphml or json";

    /// The name on the command line (`--graph FORMAT FILE`).
    pub const fn name(self) -> &'static str {
        match self {
            GraphFormat::Dot => "dot",
            GraphFormat::Graphml => "graphml",
            GraphFormat::Json => "json",
        }
    }
}

impl std::str::FromStr for GraphFormat {
    type Err = String;

    /// Accepts the names of [`GraphFormat::name`].
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown graph format {s:?}: use {}", Self::NAMES))
    }
}

/// A node: an address or a mail address.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Node {
    pub id: String,
    pub kind: EventKind,
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// Set by the caller, e.g. for watched or sensitive entities, so renderers can mark them.
    pub marked: bool,
}

/// An edge: every event from `src` to `dst`, summed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Edge {
    pub src: String,
    pub dst: String,
    pub events: u64,
    pub packets: u64,
    pub bytes: u64,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// The correspondence graph. Nodes and edges come out sorted by name, so output is stable.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    nodes: BTreeMap<String, Node>,
    edges: HashMap<(String, String), Edge>,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, e: &Event) {
        let node = |g: &mut Self, id: &String| -> () {
            g.nodes.entry(id.clone()).or_insert_with(|| Node {
                id: id.clone(),
                kind: e.kind,
                bytes_out: 0,
                bytes_in: 0,
                marked: false,
            });
        };
        node(self, &e.src);
        node(self, &e.dst);
        if let Some(n) = self.nodes.get_mut(&e.src) {
            n.bytes_out = n.bytes_out.saturating_add(e.size);
            n.bytes_in = n.bytes_in.saturating_add(e.rev_size);
        }
        if let Some(n) = self.nodes.get_mut(&e.dst) {
            n.bytes_in = n.bytes_in.saturating_add(e.size);
            n.bytes_out = n.bytes_out.saturating_add(e.rev_size);
        }
        let edge = self
            .edges
            .entry((e.src.clone(), e.dst.clone()))
            .or_insert_with(|| Edge {
                src: e.src.clone(),
                dst: e.dst.clone(),
                events: 0,
                packets: 0,
                bytes: 0,
                first: e.time,
                last: e.end,
            });
        edge.events += 1;
        edge.packets = edge.packets.saturating_add(e.packets);
        edge.bytes = edge.bytes.saturating_add(e.bytes());
        edge.first = edge.first.min(e.time);
        edge.last = edge.last.max(e.end);
    }

    /// Marks the nodes for which `f` says yes.
    pub fn mark(&mut self, mut f: impl FnMut(&Node) -> bool) {
        for n in self.nodes.values_mut() {
            n.marked = f(n);
        }
    }

    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values()
    }

    /// Edges sorted by (source, destination).
    pub fn edges(&self) -> Vec<&Edge> {
        let mut v: Vec<&Edge> = self.edges.values().collect();
        v.sort_by(|a, b| (&a.src, &a.dst).cmp(&(&b.src, &b.dst)));
        v
    }

    /// The graph written in `format`.
    pub fn render(&self, format: GraphFormat) -> String {
        match format {
            GraphFormat::Dot => self.to_dot(),
            GraphFormat::Graphml => self.to_graphml(),
            GraphFormat::Json => self.to_json(),
        }
    }

    /// Graphviz DOT; pen width grows with the log of the bytes so that one bulk transfer does
    /// not hide every other edge.
    pub fn to_dot(&self) -> String {
        let mut o = String::from(
            "digraph tapir {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
        );
        for n in self.nodes() {
            let style = if n.marked {
                ", color=red, penwidth=2"
            } else {
                ""
            };
            let _ = writeln!(o, "  {}[label={}{style}];", dot_id(&n.id), dot_id(&n.id));
        }
        for e in self.edges() {
            let w = 1.0 + (e.bytes as f64).max(1.0).log10() / 2.0;
            let _ = writeln!(
                o,
                "  {} -> {} [label=\"{} × {} B\", penwidth={w:.2}];",
                dot_id(&e.src),
                dot_id(&e.dst),
                e.events,
                e.bytes
            );
        }
        o.push_str("}\n");
        o
    }

    /// GraphML (readable by Gephi, yEd, NetworkX, igraph).
    pub fn to_graphml(&self) -> String {
        let mut o = String::from(concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n",
            "  <key id=\"kind\" for=\"node\" attr.name=\"kind\" attr.type=\"string\"/>\n",
            "  <key id=\"bytes_out\" for=\"node\" attr.name=\"bytes_out\" attr.type=\"long\"/>\n",
            "  <key id=\"bytes_in\" for=\"node\" attr.name=\"bytes_in\" attr.type=\"long\"/>\n",
            "  <key id=\"marked\" for=\"node\" attr.name=\"marked\" attr.type=\"boolean\"/>\n",
            "  <key id=\"events\" for=\"edge\" attr.name=\"events\" attr.type=\"long\"/>\n",
            "  <key id=\"packets\" for=\"edge\" attr.name=\"packets\" attr.type=\"long\"/>\n",
            "  <key id=\"bytes\" for=\"edge\" attr.name=\"bytes\" attr.type=\"long\"/>\n",
            "  <key id=\"first\" for=\"edge\" attr.name=\"first_ns\" attr.type=\"long\"/>\n",
            "  <key id=\"last\" for=\"edge\" attr.name=\"last_ns\" attr.type=\"long\"/>\n",
            "  <graph id=\"tapir\" edgedefault=\"directed\">\n"
        ));
        for n in self.nodes() {
            let _ = writeln!(
                o,
                "    <node id=\"{}\"><data key=\"kind\">{}</data><data key=\"bytes_out\">{}</data><data key=\"bytes_in\">{}</data><data key=\"marked\">{}</data></node>",
                xml(&n.id),
                n.kind.name(),
                n.bytes_out,
                n.bytes_in,
                n.marked
            );
        }
        for (i, e) in self.edges().iter().enumerate() {
            let _ = writeln!(
                o,
                "    <edge id=\"e{i}\" source=\"{}\" target=\"{}\"><data key=\"events\">{}</data><data key=\"packets\">{}</data><data key=\"bytes\">{}</data><data key=\"first\">{}</data><data key=\"last\">{}</data></edge>",
                xml(&e.src),
                xml(&e.dst),
                e.events,
                e.packets,
                e.bytes,
                e.first.0,
                e.last.0
            );
        }
        o.push_str("  </graph>\n</graphml>\n");
        o
    }

    /// `{"nodes": [...], "edges": [...]}`.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct G<'a> {
            nodes: Vec<&'a Node>,
            edges: Vec<&'a Edge>,
        }
        let g = G {
            nodes: self.nodes().collect(),
            edges: self.edges(),
        };
        // Plain structs of strings and integers always serialise.
        serde_json::to_string_pretty(&g).unwrap_or_default() + "\n"
    }
}

/// A DOT double-quoted ID.
fn dot_id(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                o.push('\\');
                o.push(c);
            }
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip_and_are_all_in_the_message() {
        for f in GraphFormat::ALL {
            assert_eq!(f.name().parse::<GraphFormat>(), Ok(f));
            assert!(GraphFormat::NAMES.contains(f.name()), "{}", f.name());
        }
        assert!("png".parse::<GraphFormat>().is_err());
    }

    #[test]
    fn edges_sum_and_render() {
        let mut g = Graph::new();
        g.add(&Event::mail(Timestamp(5), "a@x.org", "b@y.org", 100));
        g.add(&Event::mail(Timestamp(9), "a@x.org", "b@y.org", 50));
        g.add(&Event::mail(Timestamp(7), "b@y.org", "\"q\"@y.org", 10));
        let e = g.edges();
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].events, e[0].bytes, e[0].first, e[0].last),
            (2, 150, Timestamp(5), Timestamp(9))
        );
        g.mark(|n| n.id == "a@x.org");
        let dot = g.to_dot();
        assert!(
            dot.contains("\"a@x.org\"[label=\"a@x.org\", color=red"),
            "{dot}"
        );
        assert!(dot.contains("\"\\\"q\\\"@y.org\""), "quotes escaped: {dot}");
        let gml = g.to_graphml();
        assert!(gml.contains("source=\"b@y.org\" target=\"&quot;q&quot;@y.org\""));
        let j: serde_json::Value = serde_json::from_str(&g.to_json()).unwrap();
        assert_eq!(j["nodes"].as_array().unwrap().len(), 3);
        assert_eq!(j["edges"][0]["bytes"], 150);
    }
}
