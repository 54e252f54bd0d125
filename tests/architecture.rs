//! The layering of `src/` (see `ARCHITECTURE.md`): every top-level module is a layer, and a
//! layer may refer only to itself and to the layers listed for it in [`LAYERS`] — never to one
//! above it — so the rules (`s3`, `upload`) cannot come to depend on the wiring (`app`,
//! `config`, `http`, `cli`).
//!
//! Every `.rs` file under `src/<layer>/` is read as text, and every module of this crate it
//! names counts: `crate::m` and `crate::{m, …}` anywhere (code, attribute strings such as
//! `serialize_with = "crate::…"`, comments and doc links alike), and `super::` chains that climb
//! to the crate root (inline `mod x {` blocks counted as rustfmt lays them out). `src/lib.rs`
//! and `src/main.rs` are exempt.

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
        let layer = parts[0].trim_end_matches(".rs");
        let Some((_, allowed)) = LAYERS.iter().find(|(name, _)| *name == layer) else {
            violations.push(format!("{shown}: `{layer}` is not a layer of the table"));
            continue;
        };
        // How many modules below the crate root the file is (`mod.rs` is its folder's module).
        let depth = parts.len() - usize::from(parts.last() == Some(&"mod.rs"));
        for (line, target) in references(&fs::read_to_string(&path).unwrap(), depth) {
            if target != layer && !allowed.contains(&target.as_str()) {
                let allowed = if allowed.is_empty() {
                    "none".into()
                } else {
                    allowed.join(", ")
                };
                violations.push(format!(
                    "{shown}:{line}: layer `{layer}` imports `{target}` (allowed: {allowed})"
                ));
            }
        }
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

/// The top-level modules `text` names, with their lines, for a file `depth` modules below the
/// crate root: `crate::m`, `crate::{m, n::…}`, and `super::` chains that reach the root.
fn references(text: &str, depth: usize) -> Vec<(usize, String)> {
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    let path_starts =
        |at: &usize| !text[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
    // Inline `mod x {` blocks enclosing each line, as rustfmt lays them out: one ends at the
    // first `}` line indented as its `mod` line.
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
    let starts = |path: &'static str| {
        text.match_indices(path)
            .map(|(at, _)| at)
            .filter(path_starts)
    };
    let mut roots: Vec<usize> = starts("crate::").map(|at| at + "crate::".len()).collect();
    for at in starts("super::") {
        let climb = "super::".repeat(depth + inline[line_of(at) - 1]);
        if text[at..].starts_with(&climb) {
            roots.push(at + climb.len());
        }
    }
    let mut found = Vec::new();
    for root in roots {
        let rest = text[root..].trim_start();
        let names = match rest.strip_prefix('{') {
            None => vec![text.len() - rest.len()],
            Some(group) => group_items(text, text.len() - group.len()),
        };
        found.extend(
            names
                .into_iter()
                .map(|at| (line_of(at), identifier(&text[at..]).to_owned())),
        );
    }
    found.sort();
    found
}

/// Where each item of the `{…}` group opened just before `open` starts.
fn group_items(text: &str, open: usize) -> Vec<usize> {
    let (mut items, mut nesting, mut item_start) = (Vec::new(), 1, true);
    for (offset, c) in text[open..].char_indices() {
        match c {
            '{' => nesting += 1,
            '}' if nesting == 1 => break,
            '}' => nesting -= 1,
            ',' if nesting == 1 => item_start = true,
            _ if c.is_whitespace() || !item_start => {}
            _ => {
                items.push(open + offset);
                item_start = false;
            }
        }
    }
    items
}

/// The identifier `text` starts with (or its first character, for `*` and the like).
fn identifier(text: &str) -> &str {
    let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_'));
    text.get(..end.unwrap_or(text.len()).max(1)).unwrap_or("?")
}
