//! `nst gimp install` and `nst krita install` against scratch home folders: where each puts the filter, what the
//! installed folder holds (and that its bundled `nst` package runs from there), what a reinstall keeps, and that
//! no profile the program has not made is ever created.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{ort_path, plugin_path, scratch, text};

/// `nst ARGS` with `home` as the user's home and no other profile variables.
fn nst_at_home(home: &Path, args: &[&str]) -> Output {
    plugin_path();
    let mut command = Command::new(env!("CARGO_BIN_EXE_nst"));
    command.args(args).env("ORT_DYLIB_PATH", ort_path());
    for variable in ["XDG_CONFIG_HOME", "XDG_DATA_HOME", "APPDATA", "LOCALAPPDATA"] {
        command.env_remove(variable);
    }
    command.env(if cfg!(windows) { "USERPROFILE" } else { "HOME" }, home).output().unwrap()
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// The installed `nst` package, run by a plain Python from the filter's folder with no ONNX Runtime configured:
/// it must find its own library, ONNX Runtime beside it and the presets.
#[cfg(unix)]
fn installed_package_lists_presets(package_parent: &Path) -> String {
    let script = "import sys; sys.path.insert(0, sys.argv[1]); import nst; \
                  print(nst._locate.plugin_library()); print(' '.join(p['name'] for p in nst.presets())); \
                  e = nst.Engine(threads=1); print('engine ok'); e.close()";
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(package_parent)
        .env_remove("ORT_DYLIB_PATH")
        .env_remove("NST_PLUGIN")
        .env_remove("NST_PRESETS_DIR")
        .env("PYTHONNOUSERSITE", "1")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(output.status.success(), "the installed package does not run: {}", text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn gimp_install_lays_out_a_self_contained_filter_and_a_reinstall_keeps_its_settings() {
    let dir = scratch("install-gimp");
    let plugins = dir.join("plug-ins");
    std::fs::create_dir(&plugins).unwrap();
    let installed = nst_at_home(&dir, &["gimp", "install", "--dest", plugins.to_str().unwrap()]);
    assert!(installed.status.success(), "{}", text(&installed));
    assert!(text(&installed).contains("neural-style"), "it does not say where it put the filter: {}", text(&installed));
    assert!(text(&installed).contains("not pretrained"), "it does not say which network runs: {}", text(&installed));
    let home = plugins.join("neural-style");
    assert_eq!(file_names(&plugins), ["neural-style"], "anything but the filter's folder was written");
    for file in ["neural-style.py", "nst.toml", "nst/__init__.py", "nst/py.typed", "nst/_native/presets/mosaic.toml"] {
        assert!(home.join(file).is_file(), "{file} is missing from {}", home.display());
    }
    let native = file_names(&home.join("nst/_native"));
    assert!(native.iter().any(|n| n == nst_host::library_file_name()), "no plugin library in {native:?}");
    assert!(native.iter().any(|n| n.contains("onnxruntime")), "no ONNX Runtime in {native:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.join("neural-style.py")).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "GIMP runs only an executable plug-in: mode {mode:o}");
    }
    // Windows is tested under Wine here, which has no Python.
    #[cfg(unix)]
    {
        let listed = installed_package_lists_presets(&home);
        assert!(
            listed.contains("neural-style") && listed.contains("mosaic") && listed.contains("engine ok"),
            "{listed}"
        );
    }

    // A reinstall replaces the files but keeps the user's nst.toml; nothing is left over from the swap.
    std::fs::write(home.join("nst.toml"), "threads = 1\n").unwrap();
    std::fs::write(home.join("stale.py"), "").unwrap();
    let again = nst_at_home(&dir, &["gimp", "install", "--dest", home.to_str().unwrap()]);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(std::fs::read_to_string(home.join("nst.toml")).unwrap(), "threads = 1\n");
    assert!(!home.join("stale.py").exists(), "the earlier install's files were kept");
    assert_eq!(file_names(&plugins), ["neural-style"], "a staging folder was left behind");

    let removed = nst_at_home(&dir, &["gimp", "uninstall", "--dest", plugins.to_str().unwrap()]);
    assert!(removed.status.success(), "{}", text(&removed));
    assert!(file_names(&plugins).is_empty(), "uninstall left {:?}", file_names(&plugins));
}

#[cfg(unix)]
#[test]
fn gimp_install_finds_native_and_flatpak_profiles_replaces_the_c_plugin_and_creates_no_profile() {
    let dir = scratch("install-gimp-home");
    // No profile yet: refused, naming both places, and nothing is created.
    let refused = nst_at_home(&dir, &["gimp", "install"]);
    assert!(!refused.status.success());
    let message = text(&refused);
    assert!(message.contains(".config/GIMP/3.0") && message.contains(".var/app/org.gimp.GIMP"), "{message}");
    assert!(message.contains("start GIMP 3 once"), "{message}");
    assert!(file_names(&dir).is_empty(), "a profile was created: {:?}", file_names(&dir));

    // Both kinds of GIMP 3 have run once. The native one holds the earlier C plug-in with its settings.
    let native = dir.join(".config/GIMP/3.0");
    let flatpak = dir.join(".var/app/org.gimp.GIMP/config/GIMP/3.0");
    std::fs::create_dir_all(native.join("plug-ins/nst")).unwrap();
    std::fs::create_dir_all(&flatpak).unwrap();
    std::fs::write(native.join("plug-ins/nst/nst"), "").unwrap();
    std::fs::write(native.join("plug-ins/nst").join(nst_host::library_file_name()), "").unwrap();
    std::fs::write(native.join("plug-ins/nst/nst.toml"), "model = \"vgg19\"\n").unwrap();
    let installed = nst_at_home(&dir, &["gimp", "install"]);
    assert!(installed.status.success(), "{}", text(&installed));
    for profile in [&native, &flatpak] {
        assert!(
            profile.join("plug-ins/neural-style/neural-style.py").is_file(),
            "not installed in {}",
            profile.display()
        );
    }
    assert!(!native.join("plug-ins/nst").exists(), "the C plug-in would register the same procedure");
    assert!(text(&installed).contains("removed the earlier"), "{}", text(&installed));
    let kept = std::fs::read_to_string(native.join("plug-ins/neural-style/nst.toml")).unwrap();
    assert_eq!(kept, "model = \"vgg19\"\n", "the earlier plug-in's settings were not carried over");
}

#[cfg(unix)]
#[test]
fn krita_install_puts_the_desktop_file_and_package_in_pykrita_and_switches_the_plugin_on() {
    let dir = scratch("install-krita-home");
    let refused = nst_at_home(&dir, &["krita", "install"]);
    assert!(!refused.status.success() && text(&refused).contains("start Krita once"), "{}", text(&refused));
    assert!(file_names(&dir).is_empty(), "a profile was created: {:?}", file_names(&dir));

    std::fs::create_dir_all(dir.join(".local/share/krita")).unwrap();
    std::fs::create_dir_all(dir.join(".config")).unwrap();
    std::fs::write(dir.join(".config/kritarc"), "[General]\nwindow=1\n").unwrap();
    let installed = nst_at_home(&dir, &["krita", "install"]);
    assert!(installed.status.success(), "{}", text(&installed));
    let pykrita = dir.join(".local/share/krita/pykrita");
    assert_eq!(file_names(&pykrita), ["nst.desktop", "nst_krita"]);
    assert!(pykrita.join("nst_krita/__init__.py").is_file() && pykrita.join("nst_krita/nst/_engine.py").is_file());
    let desktop = std::fs::read_to_string(pykrita.join("nst.desktop")).unwrap();
    assert!(desktop.contains("X-KDE-Library=nst_krita"), "{desktop}");
    let rc = std::fs::read_to_string(dir.join(".config/kritarc")).unwrap();
    assert_eq!(rc, "[General]\nwindow=1\n\n[python]\nenable_nst_krita=true\n");
    let listed = installed_package_lists_presets(&pykrita.join("nst_krita"));
    assert!(listed.contains("nst_krita") && listed.contains("mosaic"), "{listed}");

    let removed = nst_at_home(&dir, &["krita", "uninstall"]);
    assert!(removed.status.success(), "{}", text(&removed));
    assert!(file_names(&pykrita).is_empty(), "uninstall left {:?}", file_names(&pykrita));
}
