//! Embeds the Python plug-ins and the `nst` Python package into the command, so that `nst gimp install` and
//! `nst krita install` work the same from a checkout, the Windows zip and the wheel: the command carries what it
//! installs, and no folder layout beside it has to be found.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The embedded trees: the constant's name and the folder, relative to this crate.
const TREES: &[(&str, &str)] =
    &[("GIMP3_PLUGIN", "gimp3"), ("KRITA_PLUGIN", "krita"), ("PYTHON_PACKAGE", "python/nst")];

fn main() {
    let crate_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut source = String::new();
    for (constant, folder) in TREES {
        let root = crate_dir.join(folder);
        println!("cargo:rerun-if-changed={}", root.display());
        let mut files = Vec::new();
        collect(&root, &root, &mut files);
        files.sort();
        assert!(!files.is_empty(), "{} holds no file to embed", root.display());
        writeln!(source, "/// Every file under `host-sdk/{folder}/`: its path there (with `/`) and its bytes.")
            .unwrap();
        writeln!(source, "pub const {constant}: &[(&str, &[u8])] = &[").unwrap();
        for relative in &files {
            let absolute = root.join(relative);
            writeln!(source, "    ({relative:?}, include_bytes!({:?})),", absolute.display().to_string()).unwrap();
        }
        source.push_str("];\n");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded_plugins.rs");
    std::fs::write(out, source).expect("the build script can write into OUT_DIR");
}

/// The files under `dir` (relative to `root`, `/`-separated), leaving out Python's caches.
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("a readable folder entry");
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "__pycache__" || name.ends_with(".pyc") || name.starts_with('.') {
            continue;
        }
        let kind = entry.file_type().expect("a folder entry's type");
        if kind.is_dir() {
            collect(root, &path, files);
        } else if kind.is_file() {
            let relative = path.strip_prefix(root).expect("under the root");
            let parts: Vec<String> =
                relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            files.push(parts.join("/"));
        }
    }
}
