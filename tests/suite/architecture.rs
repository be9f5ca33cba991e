//! The layering of docs/architecture.md, checked on the source: no cycle between the modules (files) of a
//! crate, and the engine never reaches up into the C ABI that wraps it.

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

/// For each module (file) of the crate at `src`, the other modules its code names with `crate::` (comments
/// and test modules left out). A path names the longest module it starts with; a module's own ancestors
/// (which declare it) are left out; a module depends on the children it declares.
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
        let code = text.split("#[cfg(test)]").next().unwrap();
        let uses = graph.entry(module.clone()).or_default();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let path: String = line[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == ':')
                    .collect();
                let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
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
    for krate in ["onnx/src", "plugin/src", "plugin/sys/src", "plugin/files/src", "host-sdk/src"] {
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
