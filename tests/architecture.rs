//! The layering of docs/architecture.md, checked on the source: no cycle between the top-level modules of a
//! crate, and the engine never reaches up into the C ABI that wraps it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod support;

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

/// For each top-level module of the crate at `src`, the other top-level modules its code names with
/// `crate::` (comments and test modules left out).
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in sources(src) {
        let relative = file.strip_prefix(src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let uses = graph.entry(module.clone()).or_default();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let name: String = line[at + 7..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                if !name.is_empty() && name != module {
                    uses.insert(name);
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
    let root = support::root();
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
    let graph = module_graph(&support::root().join("plugin/src"));
    for (module, uses) in &graph {
        assert!(module == "ffi" || !uses.contains("ffi"), "{module} imports the C ABI (crate::ffi)");
    }
}
