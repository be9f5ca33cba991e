//! Krita for the Krita plug-in's tests: a fresh profile with the plug-in installed in its pykrita folder by
//! `nst krita install`, enabled in kritarc, and Krita's programs run in that profile.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{build_dir, ort_path, repo};

/// A Krita profile under `home`: its folders, as Krita finds them through the XDG variables.
pub struct Profile {
    pub home: PathBuf,
}

impl Profile {
    pub fn new(home: &Path) -> Profile {
        for dir in [".config", ".local/share/krita/pykrita", ".cache"] {
            std::fs::create_dir_all(home.join(dir)).unwrap();
        }
        Profile { home: home.to_path_buf() }
    }

    /// The folder Krita loads Python plug-ins from.
    pub fn pykrita(&self) -> PathBuf {
        self.home.join(".local/share/krita/pykrita")
    }

    /// Enables Python plug-ins (by their module names), as the Python Plugin Manager does.
    pub fn enable(&self, modules: &[&str]) {
        let lines: String = modules.iter().map(|m| format!("enable_{m}=true\n")).collect();
        std::fs::write(self.home.join(".config/kritarc"), format!("[python]\n{lines}")).unwrap();
    }

    /// `program` with this profile as its home, without ORT_DYLIB_PATH: the plug-in must find ONNX Runtime
    /// beside its library, as an installed one does.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env_remove("ORT_DYLIB_PATH")
            .env_remove("NST_PLUGIN")
            .env_remove("PYTHONPATH");
        command
    }

    /// kritarunner (no window) running `function` of the Python module `module` (a file in
    /// host-sdk/tests/python) with `args`, stopped after `limit_s` seconds.
    pub fn kritarunner(&self, module: &str, function: &str, args: &[&str], limit_s: u32) -> Output {
        let limit = limit_s.to_string();
        let mut command = self.command("timeout");
        command
            .args([limit.as_str(), "kritarunner", "-s", module, "-f", function])
            .args(args)
            .env("QT_QPA_PLATFORM", "offscreen")
            .env("PYTHONPATH", repo().join("host-sdk/tests/python"));
        command.output().expect("kritarunner must be installed (apt-get install krita python3-pyqt5)")
    }
}

/// The plug-in installed into `pykrita` by `nst krita install`, from the built command, library and ONNX
/// Runtime: `nst.desktop`, `nst_krita/` (with the `nst` package in `nst_krita/nst/` and the native files in
/// `nst_krita/nst/_native/`) and a commented-out `nst_krita/nst.toml`.
pub fn install(pykrita: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_nst"))
        .args(["krita", "install", "--dest"])
        .arg(pykrita)
        .arg("--plugin")
        .arg(build_dir().join("libnst.so"))
        .arg("--ort")
        .arg(ort_path())
        .env_remove("ORT_DYLIB_PATH")
        .env_remove("NST_PLUGIN")
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "nst krita install failed:\n{log}");
    for file in ["nst.desktop", "nst_krita/__init__.py", "nst_krita/nst/_engine.py", "nst_krita/nst/_native/libnst.so"]
    {
        assert!(pykrita.join(file).is_file(), "nst krita install left out {file}:\n{log}");
    }
    assert!(pykrita.join("nst_krita/nst/_native/presets/mosaic.toml").is_file(), "no presets installed:\n{log}");
}
