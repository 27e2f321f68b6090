//! The server's top-level modules form a layered graph: this test reads
//! `server/src/**/*.rs`, collects every path that names another top-level
//! module (`crate::x`, `use crate::{x, y::z}`, `super::x` that reaches the
//! crate root), and fails naming the cycle when two modules import each
//! other, directly or round a loop. A directory `x/` or a file `x.rs` under
//! `server/src` is the module `x`; `lib.rs` and `main.rs` are not modules.
//! Comments and string literals are skipped; `#[cfg(test)]` code counts like
//! any other (a test must not reach up either).
//!
//! docs/architecture.md ("What may import what") says the same in words.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    path::{Path, PathBuf},
};

/// One top-level module's use of another: where it is, for the message.
#[derive(Debug, Clone)]
struct Site {
    file: String,
    line: usize,
}

type Graph = BTreeMap<String, BTreeMap<String, Vec<Site>>>;

/// Every place, for a message: `a.rs:3, b.rs:9`.
fn places(sites: &[Site]) -> String {
    sites.iter().map(|s| format!("{}:{}", s.file, s.line)).collect::<Vec<_>>().join(", ")
}

/// The layers, lowest first (docs/architecture.md, "What may import
/// what", says the same). A module may import modules of the layers below
/// its own, and of its own layer as long as no loop forms; never a layer
/// above. A new top-level module must be given a layer here.
const LAYERS: &[(&str, &[&str])] = &[
    ("the domain: rules without I/O", &["domain"]),
    ("errors", &["error"]),
    ("identity, quotas and the database", &["auth", "quota", "store"]),
    ("services over the store, and --dev's stand-ins", &["view", "ops", "outbox", "secrets", "dev"]),
    ("use cases", &["lifecycle", "credentials", "setup", "results", "watch"]),
    ("the API", &["api", "workbench", "oidc"]),
    ("configuration", &["config"]),
    ("the composition root", &["startup"]),
];

#[test]
fn top_level_modules_have_no_cycle() {
    let graph = graph();
    let cycles = cycles(&graph);
    assert!(cycles.is_empty(), "the server's top-level modules import each other in a loop:\n{}", cycles.join("\n"));
}

#[test]
fn top_level_modules_import_only_their_layer_and_below() {
    let graph = graph();
    let mut layer_of = BTreeMap::new();
    for (index, (_, modules)) in LAYERS.iter().enumerate() {
        for module in *modules {
            layer_of.insert(*module, index);
        }
    }
    let mut problems = Vec::new();
    for module in graph.keys() {
        if !layer_of.contains_key(module.as_str()) {
            problems.push(format!("`{module}` is in no layer: add it to LAYERS in {}", file!()));
        }
    }
    for (from, edges) in &graph {
        for (to, sites) in edges {
            let (Some(&up), Some(&down)) = (layer_of.get(from.as_str()), layer_of.get(to.as_str())) else { continue };
            if down > up {
                problems.push(format!(
                    "`{from}` ({}) imports `{to}` ({}), a layer above it, at {}",
                    LAYERS[up].0,
                    LAYERS[down].0,
                    places(sites)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn nothing_imports_startup() {
    let graph = graph();
    let importers: Vec<String> = graph
        .iter()
        .filter_map(|(from, edges)| edges.get("startup").map(|sites| format!("`{from}` at {}", places(sites))))
        .collect();
    assert!(importers.is_empty(), "startup is the composition root; only main may use it:\n{}", importers.join("\n"));
}

/// The check itself must see what it claims to see.
#[test]
fn the_scanner_finds_paths_and_skips_comments_and_strings() {
    let source = r####"
        use crate::{alpha, beta::{x, y}, self};
        use super::gamma; // crate::zeta in a comment
        /* crate::eta, /* nested */ crate::theta */
        const S: &str = "crate::iota";
        const R: &str = r#"crate::kappa "# ;
        fn f<'a>(c: char) -> &'a str { let _ = ('x', '\'', '\n'); crate::delta::run(); "" }
        mod tests { use super::*; use super::super::epsilon; }
    "####;
    let mut found: Vec<String> = references(source, &["top".to_owned()]).into_iter().map(|(name, _)| name).collect();
    found.sort();
    assert_eq!(found, ["alpha", "beta", "delta", "epsilon", "gamma"]);
    let mut nested: Vec<String> =
        references(source, &["top".to_owned(), "child".to_owned()]).into_iter().map(|(name, _)| name).collect();
    nested.sort();
    assert_eq!(nested, ["alpha", "beta", "delta"], "super:: from top::child stays inside top");

    let mut graph = Graph::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        graph.entry(from.into()).or_default().insert(to.into(), vec![Site { file: "f.rs".into(), line: 1 }]);
        graph.entry(to.into()).or_default();
    }
    let found = cycles(&graph);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("a → b → c → a"), "{}", found[0]);
}

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every top-level module and the modules it names, with the first place it
/// names each.
fn graph() -> Graph {
    let root = source_dir();
    let mut tops = BTreeSet::new();
    for entry in std::fs::read_dir(&root).expect("reading server/src") {
        let path = entry.expect("reading server/src").path();
        let name = path.file_stem().and_then(|s| s.to_str()).expect("a UTF-8 file name").to_owned();
        if path.is_dir() || (path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main") {
            tops.insert(name);
        }
    }
    assert!(tops.len() > 5, "found too few modules in {}: {tops:?}", root.display());

    let mut graph = Graph::new();
    for top in &tops {
        graph.entry(top.clone()).or_default();
    }
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    for file in files {
        let relative = file.strip_prefix(&root).expect("under server/src");
        let module = module_path(relative);
        let Some(top) = module.first() else { continue };
        let source = std::fs::read_to_string(&file).expect("reading a source file");
        for (name, line) in references(&source, &module) {
            if &name != top && tops.contains(&name) {
                let site = Site { file: format!("server/src/{}", relative.display()), line };
                graph.get_mut(top).expect("every top is a node").entry(name).or_default().push(site);
            }
        }
    }
    graph
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("reading a source directory").map(|e| e.expect("an entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `api/service.rs` → `[api, service]`, `api/mod.rs` → `[api]`, `view.rs` →
/// `[view]`, `lib.rs`/`main.rs` → `[]` (the crate root).
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.strip_suffix(".rs").unwrap_or(&last);
    if stem != "mod" && !(parts.is_empty() && (stem == "lib" || stem == "main")) {
        parts.push(stem.to_owned());
    }
    parts
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    Punct(&'static str),
}

/// Identifiers and the punctuation that paths are made of, with their line;
/// comments, strings and character literals dropped.
fn tokens(source: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if let Some((quote, hashes)) = raw_string(&chars, i) {
            // r"…", r#"…"#, br##"…"##: ends at a quote followed by as many hashes.
            let mut j = quote + 1;
            while j < chars.len() && !(chars[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#')) {
                if chars[j] == '\n' {
                    line += 1;
                }
                j += 1;
            }
            i = j + 1 + hashes;
        } else if c == '"' || (c == 'b' && at(i + 1) == '"') {
            let mut j = if c == '"' { i + 1 } else { i + 2 };
            while j < chars.len() && chars[j] != '"' {
                if chars[j] == '\\' {
                    j += 1;
                }
                if at(j) == '\n' {
                    line += 1;
                }
                j += 1;
            }
            i = j + 1;
        } else if c == '\'' {
            // 'x', '\n', '\u{..}' are characters; 'a (no closing quote) is a lifetime.
            if at(i + 1) == '\\' {
                // Past the escaped character: '\'' ends at the second quote.
                let mut j = i + 3;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            out.push((Token::Ident(chars[start..i].iter().collect()), line));
        } else if c == ':' && at(i + 1) == ':' {
            out.push((Token::Punct("::"), line));
            i += 2;
        } else {
            let punct = match c {
                '{' => Some("{"),
                '}' => Some("}"),
                ',' => Some(","),
                ';' => Some(";"),
                _ => None,
            };
            if let Some(p) = punct {
                out.push((Token::Punct(p), line));
            } else {
                out.push((Token::Punct("other"), line));
            }
            i += 1;
        }
    }
    out
}

/// If a raw string starts at `i`: where its opening quote is, and how many
/// hashes it has.
fn raw_string(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let start = match (at(i), at(i + 1)) {
        ('r', _) => i + 1,
        ('b', 'r') => i + 2,
        _ => return None,
    };
    let hashes = (start..).take_while(|&j| at(j) == '#').count();
    (at(start + hashes) == '"').then_some((start + hashes, hashes))
}

/// The names of crate-root items (top-level modules) that `source`, the file
/// of module `module`, refers to, with the line of each reference.
fn references(source: &str, module: &[String]) -> Vec<(String, usize)> {
    let tokens = tokens(source);
    let ident = |i: usize| match tokens.get(i) {
        Some((Token::Ident(name), _)) => Some(name.as_str()),
        _ => None,
    };
    let punct = |i: usize| match tokens.get(i) {
        Some((Token::Punct(p), _)) => Some(*p),
        _ => None,
    };
    let mut found = Vec::new();
    // Inline modules (`mod tests { … }`): their names and the brace depth they close at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        match (&tokens[i].0, punct(i + 1)) {
            (Token::Punct("{"), _) => depth += 1,
            (Token::Punct("}"), _) => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            (Token::Ident(word), _) if word == "mod" && punct(i + 2) == Some("{") => {
                if let Some(name) = ident(i + 1) {
                    inline.push((name.to_owned(), depth));
                }
            }
            // A path starts at `crate::` or `super::` not preceded by `::`.
            (Token::Ident(word), Some("::"))
                if (word == "crate" || word == "super") && (i == 0 || punct(i - 1) != Some("::")) =>
            {
                let line = tokens[i].1;
                let mut j = i;
                let mut reaches_root = word == "crate";
                if word == "super" {
                    let mut ups = 0;
                    while ident(j) == Some("super") && punct(j + 1) == Some("::") {
                        ups += 1;
                        j += 2;
                    }
                    let here = module.len() + inline.len();
                    reaches_root = ups >= here;
                    j -= 2;
                }
                let after = j + 2;
                if reaches_root {
                    if let Some(name) = ident(after) {
                        found.push((name.to_owned(), line));
                    } else if punct(after) == Some("{") {
                        // A group: the first name of each element at the group's own depth.
                        let mut k = after + 1;
                        let mut level = 0;
                        let mut first = true;
                        while k < tokens.len() {
                            match punct(k) {
                                Some("{") => level += 1,
                                Some("}") if level == 0 => break,
                                Some("}") => level -= 1,
                                Some(",") if level == 0 => first = true,
                                _ => {
                                    if first
                                        && level == 0
                                        && let Some(name) = ident(k).filter(|n| *n != "self")
                                    {
                                        found.push((name.to_owned(), tokens[k].1));
                                    }
                                    first = false;
                                }
                            }
                            k += 1;
                        }
                    }
                }
                i = after;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Each strongly connected group of more than one module, as one cycle through
/// it (with the line that makes each step) and the group's other members.
fn cycles(graph: &Graph) -> Vec<String> {
    let mut messages = Vec::new();
    for group in strongly_connected(graph) {
        if group.len() < 2 {
            continue;
        }
        let start = group.iter().next().expect("a non-empty group").clone();
        // The shortest way from `start` back to itself, inside the group.
        let mut previous: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = VecDeque::from([start.clone()]);
        let mut closing = None;
        'search: while let Some(node) = queue.pop_front() {
            for next in graph[&node].keys().filter(|n| group.contains(*n)) {
                if *next == start {
                    closing = Some(node.clone());
                    break 'search;
                }
                if !previous.contains_key(next) {
                    previous.insert(next.clone(), node.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        let mut path = vec![start.clone()];
        let mut node = closing.expect("a strongly connected group has a cycle");
        while node != start {
            path.push(node.clone());
            node = previous[&node].clone();
        }
        path[1..].reverse();
        path.push(start.clone());
        let mut message = path.join(" → ");
        for step in path.windows(2) {
            message.push_str(&format!("\n    {} → {}: {}", step[0], step[1], places(&graph[&step[0]][&step[1]])));
        }
        let others: Vec<&String> = group.iter().filter(|m| !path.contains(m)).collect();
        if !others.is_empty() {
            message.push_str(&format!(
                "\n    the loop also takes in: {}\n    its imports among themselves:",
                others.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ));
            for from in &group {
                let to: Vec<&str> = graph[from].keys().filter(|n| group.contains(*n)).map(|n| n.as_str()).collect();
                message.push_str(&format!("\n      {from} → {}", to.join(", ")));
            }
        }
        messages.push(message);
    }
    messages
}

/// Tarjan's algorithm.
fn strongly_connected(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        groups: Vec<BTreeSet<String>>,
    }
    fn visit<'g>(state: &mut State<'g>, node: &'g str) {
        let n = state.index.len();
        state.index.insert(node, n);
        state.low.insert(node, n);
        state.stack.push(node);
        state.on_stack.insert(node);
        for next in state.graph[node].keys() {
            let next = next.as_str();
            if !state.index.contains_key(next) {
                visit(state, next);
                let low = state.low[next].min(state.low[node]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(next) {
                let low = state.index[next].min(state.low[node]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut group = BTreeSet::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                group.insert(member.to_owned());
                if member == node {
                    break;
                }
            }
            state.groups.push(group);
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.groups
}
