//! Running the Python helpers (the `onnx` package that scripts/setup installs into .cache/python).

use std::path::Path;
use std::process::Command;

use super::root;

/// Runs `python3 SCRIPT ARGS...` from tests/python with the set-up packages on the path; panics with its output
/// when it fails, since the tests that call it cannot check anything without it.
pub fn run_python(script: &str, args: &[&Path]) -> String {
    let output = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
        .arg(root().join("tests/python").join(script))
        .args(args)
        .env("PYTHONPATH", root().join(".cache/python"))
        .current_dir(std::env::temp_dir())
        .output()
        .expect("python3 must be installed");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{script} failed (did scripts/setup run?):\n{text}");
    text
}

/// A fresh empty directory under the system temp dir, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("nst-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
