//! The layering of docs/architecture.md, checked on the source: no cycle between the modules (files) of a
//! crate, through `crate::`, `super::` or `self::` paths, and the engine never reaches up into the C ABI that
//! wraps it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The module path of a source file: `fit/tiling.rs` is `fit::tiling`, `targets/mod.rs` is `targets`.
fn module_of(relative: &Path) -> String {
    let parts: Vec<String> =
        relative.with_extension("").components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let parts = match parts.last().map(String::as_str) {
        Some("mod") => &parts[..parts.len() - 1],
        _ => &parts[..],
    };
    parts.join("::")
}

/// The paths written after a `crate::`, `super::` or `self::` at the start of `rest`: `a::b`, or each item of
/// a group, `{a::b, c}` (a nested group names its first level).
fn paths_after(rest: &str) -> Vec<String> {
    let in_path = |c: &char| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == ':';
    let head: String = rest.chars().take_while(in_path).collect();
    let Some(group) = rest[head.len()..].strip_prefix('{') else { return vec![head] };
    let group = &group[..group.find('}').unwrap_or(group.len())];
    group
        .split(',')
        .map(|item| format!("{head}{}", item.trim().chars().take_while(in_path).collect::<String>()))
        .collect()
}

/// The module a path relative to `module` starts from: `crate::` the root, `self::` the module itself, and
/// each `super::` one level up (a file's module is the one its path names, `mod.rs` included).
fn base_of(module: &str, prefix: &str, rest: &str) -> (String, usize) {
    let mut base: Vec<&str> = if module.is_empty() { Vec::new() } else { module.split("::").collect() };
    match prefix {
        "crate::" => return (String::new(), 0),
        "self::" => return (module.to_string(), 0),
        _ => {}
    }
    base.pop();
    let mut skipped = 0;
    while rest[skipped..].starts_with("super::") {
        base.pop();
        skipped += "super::".len();
    }
    (base.join("::"), skipped)
}

/// For each module (file) of the crate at `src`, the other modules its code names with `crate::`, `super::`
/// or `self::` (comments and test modules left out). A path names the longest module it starts with; a
/// module's own ancestors (which declare it) are left out; a module depends on the children it declares.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files: Vec<(String, PathBuf)> = sources(src)
        .into_iter()
        .map(|file| (module_of(file.strip_prefix(src).unwrap()), file))
        .filter(|(module, _)| module != "lib" && module != "main")
        .collect();
    let known: BTreeSet<String> = files.iter().map(|(module, _)| module.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // A module that declares children depends on them (it re-exports and calls them).
    for module in &known {
        if let Some((parent, _)) = module.rsplit_once("::") {
            graph.entry(parent.to_string()).or_default().insert(module.clone());
        }
    }
    for (module, file) in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let code: Vec<&str> =
            text.split("#[cfg(test)]").next().unwrap().lines().filter(|l| !l.trim_start().starts_with("//")).collect();
        let code = code.join("\n");
        let uses = graph.entry(module.clone()).or_default();
        for prefix in ["crate::", "super::", "self::"] {
            for (at, _) in code.match_indices(prefix) {
                // `a_crate::`, `Self::` and `pub(super)` are no such paths.
                let before = code[..at].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let rest = &code[at + prefix.len()..];
                let (base, skipped) = base_of(module, prefix, rest);
                for path in paths_after(&rest[skipped..]) {
                    let full = if base.is_empty() { path } else { format!("{base}::{path}") };
                    let segments: Vec<&str> = full.split("::").filter(|s| !s.is_empty()).collect();
                    let named = (1..=segments.len())
                        .rev()
                        .map(|n| segments[..n].join("::"))
                        .find(|candidate| known.contains(candidate));
                    if let Some(named) = named {
                        let ancestor = module.starts_with(&format!("{named}::"));
                        if named != *module && !ancestor {
                            uses.insert(named);
                        }
                    }
                }
            }
        }
    }
    graph
}

/// A path from `from` back to itself, if the graph has one.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        for next in graph.get(path.last().unwrap()).into_iter().flatten() {
            if next == from {
                return Some([path.clone(), vec![next.clone()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push([path.clone(), vec![next.clone()]].concat());
            }
        }
    }
    None
}

#[test]
fn no_crate_has_a_cycle_between_its_modules() {
    let root = crate::support::root();
    for krate in ["onnx/src", "plugin/src", "plugin/sys/src", "plugin/files/src", "plugin/boundary/src", "host-sdk/src"]
    {
        let graph = module_graph(&root.join(krate));
        assert!(!graph.is_empty(), "{krate}: no modules found");
        for module in graph.keys() {
            if let Some(cycle) = cycle_through(&graph, module) {
                panic!("{krate}: module cycle {}", cycle.join(" -> "));
            }
        }
    }
}

#[test]
fn the_engine_never_imports_the_c_abi() {
    let graph = module_graph(&crate::support::root().join("plugin/src"));
    for (module, uses) in &graph {
        let in_ffi = module == "ffi" || module.starts_with("ffi::");
        let imports_ffi = uses.iter().any(|u| u == "ffi" || u.starts_with("ffi::"));
        assert!(in_ffi || !imports_ffi, "{module} imports the C ABI (crate::ffi)");
    }
}

#[test]
fn super_self_and_grouped_paths_are_followed() {
    assert_eq!(base_of("cli::common", "super::", "overwrite::FileRole"), ("cli".to_string(), 0));
    assert_eq!(base_of("cli::model::fetch", "super::", "super::error::CliError"), ("cli".to_string(), 7));
    assert_eq!(base_of("cli", "super::", "x"), (String::new(), 0));
    assert_eq!(base_of("ffi::run", "self::", "x"), ("ffi::run".to_string(), 0));
    assert_eq!(paths_after("{error::CliError, overwrite::{FileRole, x}};"), ["error::", "overwrite::", "x"]);
    let dir = std::env::temp_dir().join(format!("nst-architecture-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("cli")).unwrap();
    std::fs::write(dir.join("cli/mod.rs"), "mod common;\nmod overwrite;\n").unwrap();
    std::fs::write(dir.join("cli/common.rs"), "use super::{\n    overwrite::FileRole,\n};\n").unwrap();
    std::fs::write(dir.join("cli/overwrite.rs"), "pub(super) fn f() { self::g(); super::common::h(); }\n").unwrap();
    let graph = module_graph(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(graph["cli::common"].contains("cli::overwrite"), "{graph:?}");
    assert!(graph["cli::overwrite"].contains("cli::common"), "{graph:?}");
    assert!(cycle_through(&graph, "cli::common").is_some());
}
