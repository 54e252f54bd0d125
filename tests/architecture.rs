//! The layering of `src/` (see `ARCHITECTURE.md`): every top-level module is a layer, and a
//! layer may refer only to itself and to the layers listed for it in [`LAYERS`] — never to one
//! above it — so the rules (`s3`, `upload`) cannot come to depend on the wiring (`app`,
//! `config`, `http`, `cli`).
//!
//! Every `.rs` file under `src/<layer>/` is read as text, as tokens (names, `::`, other
//! characters; spaces do not count), and every path that starts at `crate`, `super` or `self`
//! is followed, into `{…}` groups too, wherever it stands (code, attribute strings such as
//! `serialize_with = "crate::…"`, comments and doc links alike): each module it names at the
//! crate root counts (inline `mod x {` blocks counted as rustfmt lays them out). The forms that
//! would reach a module without such a path are refused outright: an alias of the crate root,
//! `#[path]`, `include!`, `extern crate`, and the crate's own name. `src/lib.rs` and
//! `src/main.rs` are exempt. The table of `ARCHITECTURE.md` must list the same layers, with
//! the same imports.

use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first, each with the layers it may import.
#[rustfmt::skip]
const LAYERS: &[(&str, &[&str])] = &[
    ("s3",             &[]),
    ("clock",          &["s3"]),
    ("upload",         &["s3", "clock"]),
    ("app",            &["s3", "clock", "upload"]),
    ("config",         &["s3", "clock", "upload", "app"]),
    // The development store checks what S3 would: it must not see the upload domain.
    ("embedded_store", &["s3"]),
    ("http",           &["s3", "clock", "upload", "app", "config"]),
    ("cli",            &["s3", "clock", "upload", "app", "config", "embedded_store", "http"]),
];

/// A form that reaches another module without a path the test follows: refused in layer files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Refused {
    /// `use crate as x;`, `use super::super as x;` (to the root), `use crate::{self as x};`.
    RootAlias,
    /// `#[path = "…"]`, also in a `cfg_attr`.
    PathAttribute,
    /// `include!("…")`.
    Include,
    /// `extern crate self as x;`.
    ExternCrate,
    /// `presigned_post::…`, `::presigned_post::…`.
    OwnName,
}

impl Refused {
    /// Why it is refused, and what to write instead.
    fn why(self) -> &'static str {
        match self {
            Refused::RootAlias => {
                "aliases the crate root, so later paths hide the layer they reach: name the layer"
            }
            Refused::PathAttribute => {
                "`#[path]` loads a module from another file: keep each module at its own place"
            }
            Refused::Include => {
                "`include!` pastes another file's code here: import what it defines instead"
            }
            Refused::ExternCrate => {
                "`extern crate` can give this crate a name: reach its modules with `crate::`"
            }
            Refused::OwnName => {
                "names this crate as `presigned_post`: reach its modules with `crate::`"
            }
        }
    }
}

#[test]
fn each_layer_imports_only_the_layers_listed_for_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for path in rust_files(&src) {
        let relative = path.strip_prefix(&src).unwrap();
        let parts: Vec<_> = relative.iter().map(|p| p.to_str().unwrap()).collect();
        let shown = format!("src/{}", parts.join("/"));
        if shown == "src/lib.rs" || shown == "src/main.rs" {
            continue;
        }
        // How many modules below the crate root the file is (`mod.rs` is its folder's module).
        let depth = parts.len() - usize::from(parts.last() == Some(&"mod.rs"));
        let text = fs::read_to_string(&path).unwrap();
        let layer = parts[0].trim_end_matches(".rs");
        violations.extend(
            layer_violations(layer, depth, &text)
                .into_iter()
                .map(|(line, why)| format!("{shown}:{line}: {why}")),
        );
    }
    let found = violations.join("\n");
    assert!(
        found.is_empty(),
        "layering broken (see ARCHITECTURE.md):\n{found}\n"
    );
}

#[test]
fn the_table_lists_every_module_of_the_crate_and_only_those() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let mut declared: Vec<&str> = lib.lines().filter_map(declared_module).collect();
    let mut layers: Vec<&str> = LAYERS.iter().map(|(name, _)| *name).collect();
    declared.sort_unstable();
    layers.sort_unstable();
    assert_eq!(
        declared, layers,
        "the modules of src/lib.rs and the layers of the table differ"
    );
    for (index, (layer, allowed)) in LAYERS.iter().enumerate() {
        let dir = root.join("src").join(layer);
        assert!(
            dir.join("mod.rs").is_file() || dir.with_extension("rs").is_file(),
            "no src/{layer}"
        );
        for below in *allowed {
            let before = LAYERS[..index].iter().any(|(name, _)| name == below);
            assert!(
                before,
                "`{layer}` may import `{below}`, which is not a layer before it"
            );
        }
    }
}

#[test]
fn architecture_md_lists_the_same_layers_and_imports_as_this_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let documented = documented_layers(&doc);
    let tested: Vec<(String, Vec<String>)> = LAYERS
        .iter()
        .map(|(layer, allowed)| {
            let allowed = allowed.iter().map(|a| a.to_string()).collect();
            (layer.to_string(), allowed)
        })
        .collect();
    assert_eq!(
        documented, tested,
        "ARCHITECTURE.md's table (layer, May import) differs from LAYERS in tests/architecture.rs"
    );
}

/// Each way around the paths that the layering test follows is caught, in a file of `upload/`
/// two modules below the crate root (such as `src/upload/access.rs`).
#[test]
fn the_known_ways_around_the_paths_are_caught() {
    let http = "layer `upload` imports `http` (allowed: s3, clock)";
    let cases = [
        ("use super::{super::http::X};", http),
        ("use super::{keys, super::{s3, http::X}};", http),
        ("use self::super::super::http::X;", http),
        ("use crate :: http :: X;", http),
        ("use crate\n    ::http::X;", http),
        ("use super :: super :: http;", http),
        ("/// [`X`](crate::{http::X})", http),
        ("use crate::{self as root};", Refused::RootAlias.why()),
        ("use crate as root;", Refused::RootAlias.why()),
        ("use super::super as root;", Refused::RootAlias.why()),
        (
            "use super::super::{self as root};",
            Refused::RootAlias.why(),
        ),
        ("#[path = \"x.rs\"]\nmod x;", Refused::PathAttribute.why()),
        ("#![path = \"x.rs\"]", Refused::PathAttribute.why()),
        (
            "#[cfg_attr(all(), path = \"x.rs\")]",
            Refused::PathAttribute.why(),
        ),
        ("include!(\"../../http/mod.rs\");", Refused::Include.why()),
        ("extern crate self as root;", Refused::ExternCrate.why()),
        ("use ::presigned_post::http::X;", Refused::OwnName.why()),
        ("use presigned_post::http::X;", Refused::OwnName.why()),
    ];
    for (text, expected) in cases {
        let found: Vec<String> = layer_violations("upload", 2, text)
            .into_iter()
            .map(|(_, why)| why)
            .collect();
        assert_eq!(found, [expected], "{text}");
    }
    // What stays allowed: its own layer and those below, by any path; `#[template(path = …)]`
    // and a variable named `path`.
    for text in [
        "use super::{super::s3::X, super::clock::Y};",
        "use self::super::Z; use crate::upload::access::Caller; pub(crate) fn f() {}",
        "use super::{self as parent, keys}; use super::super::{s3, clock::Clock as _};",
        "#[template(path = \"index.html\")] let path = [path, other];",
        "use std::io::{self as io}; let x = y as u64;",
    ] {
        let found = layer_violations("upload", 2, text);
        assert!(found.is_empty(), "{text}: {found:?}");
    }
}

/// What is wrong in `text`, a file `depth` modules below the crate root in `layer`, by line.
fn layer_violations(layer: &str, depth: usize, text: &str) -> Vec<(usize, String)> {
    let Some((_, allowed)) = LAYERS.iter().find(|(name, _)| *name == layer) else {
        return vec![(1, format!("`{layer}` is not a layer of the table"))];
    };
    let paths = Paths::read(text, depth);
    let mut violations: Vec<(usize, String)> = paths
        .refused
        .iter()
        .map(|(line, form)| (*line, form.why().to_owned()))
        .collect();
    for (line, target) in paths.roots {
        if target != layer && !allowed.contains(&target.as_str()) {
            let allowed = if allowed.is_empty() {
                "none".into()
            } else {
                allowed.join(", ")
            };
            violations.push((
                line,
                format!("layer `{layer}` imports `{target}` (allowed: {allowed})"),
            ));
        }
    }
    violations.sort();
    violations
}

/// The rows of the layer table of `ARCHITECTURE.md`: each layer (`` `s3/` ``) with the layers
/// its "May import" cell names (`nothing`, or `` `s3`, `clock` ``), in the table's order.
fn documented_layers(doc: &str) -> Vec<(String, Vec<String>)> {
    let rows: Vec<Vec<&str>> = doc
        .lines()
        .skip_while(|line| !line.starts_with("| Layer |"))
        .take_while(|line| line.starts_with('|'))
        .map(|line| line.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    let header = rows
        .first()
        .expect("ARCHITECTURE.md has a `| Layer |` table");
    let imports = header
        .iter()
        .position(|cell| *cell == "May import")
        .expect("the table has a `May import` column");
    rows[1..]
        .iter()
        .filter(|row| !row[0].starts_with("---"))
        .map(|row| {
            let layer = row[0].trim_matches('`').trim_end_matches('/').to_owned();
            let allowed = row[imports]
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            (layer, allowed)
        })
        .collect()
}

/// Every `.rs` file under `dir`, in a stable order.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The module a line declares (`mod x;`, `pub mod x {`, `pub(crate) mod x;`), if any.
fn declared_module(line: &str) -> Option<&str> {
    let words: Vec<&str> = line
        .split_whitespace()
        .take_while(|w| !w.starts_with("//"))
        .collect();
    let at = words.iter().position(|w| *w == "mod")?;
    let visibility = words[..at]
        .iter()
        .all(|w| w.starts_with("pub") || w.starts_with("#["));
    visibility.then(|| words.get(at + 1).map(|name| identifier(name)))?
}

/// A token of the text: a name (or number), `::`, or any other single character.
struct Token<'a> {
    line: usize,
    text: &'a str,
}

/// The tokens of `text`, spaces and line breaks left out.
fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut found = Vec::new();
    let (mut at, mut line) = (0, 1);
    while let Some(c) = text[at..].chars().next() {
        let rest = &text[at..];
        let len = if c.is_whitespace() {
            line += usize::from(c == '\n');
            at += c.len_utf8();
            continue;
        } else if c.is_alphanumeric() || c == '_' {
            identifier(rest).len()
        } else if rest.starts_with("::") {
            2
        } else {
            c.len_utf8()
        };
        found.push(Token {
            line,
            text: &rest[..len],
        });
        at += len;
    }
    found
}

/// What the paths of a file reach: the crate's top-level modules they name, and the refused
/// forms, each with its line.
struct Paths {
    roots: Vec<(usize, String)>,
    refused: Vec<(usize, Refused)>,
}

impl Paths {
    /// Reads `text`, a file `depth` modules below the crate root.
    fn read(text: &str, depth: usize) -> Paths {
        let tokens = tokens(text);
        let inline = inline_depths(text);
        let mut paths = Paths {
            roots: Vec::new(),
            refused: Vec::new(),
        };
        let mut i = 0;
        while i < tokens.len() {
            let token = &tokens[i];
            let after_path = i > 0 && tokens[i - 1].text == "::";
            if matches!(token.text, "crate" | "super" | "self") && !after_path {
                let here = depth + inline[token.line - 1];
                let end = paths.path(&tokens, i, here);
                i = end.max(i + 1);
                continue;
            }
            if let Some(form) = refused_at(&tokens, i) {
                paths.refused.push((token.line, form));
            }
            i += 1;
        }
        paths
    }

    /// Follows the path (or use tree) that starts at `tokens[i]`, from a module `depth` below
    /// the crate root; returns where it ends.
    fn path(&mut self, tokens: &[Token], mut i: usize, mut depth: usize) -> usize {
        loop {
            let Some(token) = tokens.get(i) else {
                return i;
            };
            match token.text {
                "crate" => depth = 0,
                "super" => depth = depth.saturating_sub(1),
                "self" => {}
                "{" => return self.group(tokens, i + 1, depth),
                "*" => {
                    if depth == 0 {
                        self.roots.push((token.line, "*".into()));
                    }
                    return i + 1;
                }
                name if name.starts_with(|c: char| c.is_alphabetic() || c == '_') => {
                    if depth == 0 {
                        self.roots.push((token.line, name.to_owned()));
                    }
                    depth += 1;
                }
                _ => return i,
            }
            i += 1;
            match tokens.get(i).map(|t| t.text) {
                Some("::") => i += 1,
                Some("as") => {
                    if depth == 0 {
                        self.refused.push((token.line, Refused::RootAlias));
                    }
                    return i + 2;
                }
                _ => return i,
            }
        }
    }

    /// Follows each path of the `{…}` group whose items start at `tokens[i]`, from a module
    /// `depth` below the crate root; returns where the group ends (at its `}`, or at a `;`
    /// where a group left open in prose stops).
    fn group(&mut self, tokens: &[Token], mut i: usize, depth: usize) -> usize {
        loop {
            match tokens.get(i).map(|t| t.text) {
                None | Some(";") => return i,
                Some("}") => return i + 1,
                Some(",") => i += 1,
                Some(_) => i = self.path(tokens, i, depth).max(i + 1),
            }
        }
    }
}

/// The refused form that starts at `tokens[i]`, if one does: `#[path`, `#![path`, `path =` in
/// a `cfg_attr(…)`, `include!`, `extern crate`, `presigned_post`.
fn refused_at(tokens: &[Token], i: usize) -> Option<Refused> {
    let text = |k: usize| tokens.get(k).map_or("", |t| t.text);
    let starts = |form: &[&str]| form.iter().enumerate().all(|(k, t)| text(i + k) == *t);
    let path_attribute = starts(&["#", "[", "path"]) || starts(&["#", "!", "[", "path"]);
    let cfg_attr_path = text(i) == "cfg_attr" && {
        let (mut nesting, mut k) = (0, i + 1);
        let mut found = false;
        while k < tokens.len() {
            match text(k) {
                "(" => nesting += 1,
                ")" if nesting == 1 => break,
                ")" => nesting -= 1,
                "path" if nesting == 1 && text(k + 1) == "=" => found = true,
                _ => {}
            }
            k += 1;
        }
        found
    };
    match text(i) {
        _ if path_attribute || cfg_attr_path => Some(Refused::PathAttribute),
        "include" if text(i + 1) == "!" => Some(Refused::Include),
        "extern" if text(i + 1) == "crate" => Some(Refused::ExternCrate),
        "presigned_post" => Some(Refused::OwnName),
        _ => None,
    }
}

/// For each line of `text`, how many inline `mod x {` blocks enclose it, as rustfmt lays them
/// out: one ends at the first `}` line indented as its `mod` line.
fn inline_depths(text: &str) -> Vec<usize> {
    let (mut open, mut inline) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if line.trim_start().starts_with('}') && open.last() == Some(&indent) {
            open.pop();
        }
        inline.push(open.len());
        if line.trim_end().ends_with('{') && declared_module(line).is_some() {
            open.push(indent);
        }
    }
    // A last line ending in a line break has no entry of its own.
    inline.push(open.len());
    inline
}

/// The identifier `text` starts with (or its first character, for `*` and the like).
fn identifier(text: &str) -> &str {
    let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_'));
    text.get(..end.unwrap_or(text.len()).max(1)).unwrap_or("?")
}
