//! `nst gimp install` and `nst krita install`: put the Python filter, the `nst` Python package and the native
//! files (plugin library, ONNX Runtime, presets) where GIMP 3 or Krita looks for a user's plug-ins, on Linux
//! (native and Flatpak), Windows and macOS. The command carries the Python files itself (`embedded`), so a
//! checkout, the Windows zip and the wheel install the same thing. A host profile the program has not made yet
//! is never created: the user starts the program once, or names a folder with `--dest`.

mod embedded;
mod hosts;
mod kritarc;
mod native;
pub mod places;
mod tree;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::arguments::EngineArgs;
use super::error::CliError;
use hosts::Host;
use tree::{Staging, remove_any};

/// `nst gimp ...` and `nst krita ...`.
#[derive(Args)]
pub struct HostArgs {
    #[command(subcommand)]
    command: HostCommand,
}

#[derive(Subcommand)]
enum HostCommand {
    /// Install the filter (again, replacing an earlier install; its nst.toml is kept).
    Install(InstallArgs),
    /// Remove the filter.
    Uninstall(UninstallArgs),
}

#[derive(Args)]
struct InstallArgs {
    /// The plug-ins folder to install into (GIMP's `plug-ins`, Krita's `pykrita`), instead of every profile of
    /// the program found for this user.
    #[arg(long, value_name = "DIR")]
    dest: Option<PathBuf>,
    /// Also fetch the pretrained VGG19 once (`nst model fetch`, about 550 MB to download) and make the filter
    /// use it (`model = "vgg19"` in the filter's nst.toml).
    #[arg(long)]
    pretrained: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct UninstallArgs {
    /// The plug-ins folder to remove it from, instead of every profile of the program found for this user.
    #[arg(long, value_name = "DIR")]
    dest: Option<PathBuf>,
}

/// Runs `nst gimp ...`.
pub fn run_gimp(args: HostArgs) -> Result<(), CliError> {
    run(&hosts::GIMP3, args)
}

/// Runs `nst krita ...`.
pub fn run_krita(args: HostArgs) -> Result<(), CliError> {
    run(&hosts::KRITA, args)
}

fn run(host: &Host, args: HostArgs) -> Result<(), CliError> {
    match args.command {
        HostCommand::Install(install_args) => install(host, install_args),
        HostCommand::Uninstall(uninstall_args) => uninstall(host, uninstall_args),
    }
}

/// A plug-ins folder to work on, with the program's settings file when known.
struct Destination {
    label: String,
    plugins: PathBuf,
    settings: Option<PathBuf>,
}

/// `--dest` (the plug-ins folder, or the filter's own folder inside it), else every existing profile.
fn destinations(host: &Host, dest: Option<&Path>, creating: bool) -> Result<Vec<Destination>, CliError> {
    if let Some(dest) = dest {
        let plugins = match dest.file_name() {
            Some(name) if name == host.home => dest.parent().unwrap_or(Path::new(".")).to_path_buf(),
            _ => dest.to_path_buf(),
        };
        let parent_exists = plugins.parent().is_some_and(|p| p.as_os_str().is_empty() || p.is_dir());
        let usable = plugins.is_dir() || (creating && parent_exists);
        if !usable {
            return Err(CliError::Usage(format!(
                "--dest {}: no such folder (it names a plug-ins folder, or a new one inside an existing folder)",
                dest.display()
            )));
        }
        return Ok(vec![Destination { label: host.name.to_string(), plugins, settings: None }]);
    }
    let profiles = (host.profiles)(places::Platform::current(), &places::Environment::current());
    let found: Vec<Destination> = profiles
        .iter()
        .filter(|(profile, _)| profile.profile.is_dir())
        .map(|(profile, settings)| Destination {
            label: profile.label.clone(),
            plugins: profile.plugins.clone(),
            settings: settings.clone(),
        })
        .collect();
    if found.is_empty() {
        let looked: Vec<String> = profiles.iter().map(|(p, _)| p.profile.display().to_string()).collect();
        let action = if creating {
            format!("start {} once and quit it, then run this again", host.name)
        } else {
            "nothing to remove".to_string()
        };
        return Err(CliError::Usage(format!(
            "{} has no profile for this user yet (looked at {}): {action}, or name a plug-ins folder with --dest",
            host.name,
            looked.join(", ")
        )));
    }
    Ok(found)
}

fn io_error(what: &str, path: &Path, err: std::io::Error) -> CliError {
    CliError::Usage(format!("cannot {what} {}: {err}", path.display()))
}

fn install(host: &Host, args: InstallArgs) -> Result<(), CliError> {
    let targets = destinations(host, args.dest.as_deref(), true)?;
    let files = native::find(&args.engine)?;
    if args.pretrained {
        super::model::fetch_pretrained()?;
    }
    for target in &targets {
        std::fs::create_dir_all(&target.plugins).map_err(|e| io_error("create", &target.plugins, e))?;
        let home = install_into(host, &target.plugins, &files, args.pretrained)?;
        outln!("installed the {} filter for {} into {}", host.filter, target.label, home.display());
        if let Some(settings) = &target.settings {
            if let Some(enable) = host.enable {
                match kritarc::enable(settings, enable) {
                    Ok(true) => outln!("  enabled it in {}", settings.display()),
                    Ok(false) => outln!("  {}", host.enable_hint),
                    Err(err) => outln!("  could not enable it in {} ({err}): {}", settings.display(), host.enable_hint),
                }
            }
        } else if host.enable.is_some() {
            outln!("  {}", host.enable_hint);
        }
    }
    outln!("Restart {}, then use {}.", host.name, host.menu);
    if !args.pretrained {
        outln!(
            "It runs the built-in VGG19, seeded random weights (not pretrained): the pictures show the method, not \
             the quality of a pretrained network. `nst {} install --pretrained` fetches the pretrained one.",
            host.command
        );
    }
    Ok(())
}

/// Builds the filter's folder beside its place and swaps it in; files outside it (Krita's `.desktop`) follow.
fn install_into(
    host: &Host,
    plugins: &Path,
    files: &native::NativeFiles,
    pretrained: bool,
) -> Result<PathBuf, CliError> {
    let home = plugins.join(host.home);
    let settings = kept_settings(host, plugins);
    let staging = Staging::beside(&home).map_err(|e| io_error("create a folder beside", &home, e))?;
    let fail = |what: &str, err: std::io::Error| io_error(what, &home, err);
    let mut outside = Vec::new();
    for (path, bytes) in host.files {
        let installed = format!("{}{path}", host.prefix);
        match installed.strip_prefix(&format!("{}/", host.home)) {
            Some(inside) => {
                let executable = host.executable == Some(inside);
                staging.write(inside, bytes, executable).map_err(|e| fail("write into", e))?;
            }
            None => outside.push((installed, *bytes)),
        }
    }
    for (path, bytes) in embedded::PYTHON_PACKAGE {
        staging.write(&format!("nst/{path}"), bytes, false).map_err(|e| fail("write into", e))?;
    }
    let native = "nst/_native";
    let name = |path: &Path| path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for library in std::iter::once(&files.plugin).chain(&files.runtime) {
        staging.copy_file(library, &format!("{native}/{}", name(library))).map_err(|e| fail("copy into", e))?;
    }
    for variant in &files.runtime_variants {
        staging.copy_folder(variant, &format!("{native}/{}", name(variant))).map_err(|e| fail("copy into", e))?;
    }
    staging.copy_folder(&files.presets, &format!("{native}/presets")).map_err(|e| fail("copy into", e))?;
    let settings = with_model(settings, pretrained);
    staging.write("nst.toml", settings.as_bytes(), false).map_err(|e| fail("write into", e))?;
    staging.replace(&home).map_err(|e| fail("put in place", e))?;
    for (path, bytes) in outside {
        let target = plugins.join(&path);
        nst_files::write_atomically(&target, bytes).map_err(|e| io_error("write", &target, e))?;
    }
    for old in host.replaces {
        let old = plugins.join(old);
        // Only a folder holding this project's library is taken for an earlier install of it.
        if old.join(nst_host::library_file_name()).is_file() {
            remove_any(&old).map_err(|e| io_error("remove the earlier plug-in", &old, e))?;
            outln!("removed the earlier {} plug-in at {}", host.name, old.display());
        }
    }
    Ok(home)
}

/// The installed filter's nst.toml (or an earlier plug-in's), kept across reinstalls; else the commented template.
fn kept_settings(host: &Host, plugins: &Path) -> String {
    let candidates = std::iter::once(plugins.join(host.home).join("nst.toml"))
        .chain(host.replaces.iter().map(|old| plugins.join(old).join("nst.toml")));
    for candidate in candidates {
        if let Ok(text) = nst_files::read_text(&candidate, nst_files::FileKind::Configuration) {
            return text;
        }
    }
    SETTINGS_TEMPLATE.to_string()
}

/// The engine configuration a fresh install starts with.
const SETTINGS_TEMPLATE: &str = "\
# Engine configuration of the Neural Style filter; uncomment to change (see the nst README).
# provider = \"auto\"                 # auto, cpu, cuda, directml
# threads = 0                       # 0: every core
# model = \"vgg19\"                   # the pretrained VGG19 (`nst model fetch`), or a .onnx/.safetensors
#                                   # file beside this one; default: each preset's model (the built-in one)
";

/// `settings` with one active `model = \"vgg19\"` line when the pretrained network was asked for.
fn with_model(settings: String, pretrained: bool) -> String {
    if !pretrained {
        return settings;
    }
    let mut kept: String = settings
        .lines()
        .filter(|line| !line.trim_start().starts_with("model") || !line.contains('='))
        .map(|line| format!("{line}\n"))
        .collect();
    kept.push_str("model = \"vgg19\"                    # set by --pretrained\n");
    kept
}

fn uninstall(host: &Host, args: UninstallArgs) -> Result<(), CliError> {
    for target in destinations(host, args.dest.as_deref(), false)? {
        let mut removed = Vec::new();
        let home = target.plugins.join(host.home);
        let outside = host
            .files
            .iter()
            .map(|(path, _)| format!("{}{path}", host.prefix))
            .filter(|path| !path.starts_with(&format!("{}/", host.home)))
            .map(|path| target.plugins.join(path));
        for path in std::iter::once(home).chain(outside) {
            if std::fs::symlink_metadata(&path).is_ok() {
                remove_any(&path).map_err(|e| io_error("remove", &path, e))?;
                removed.push(path.display().to_string());
            }
        }
        match removed.is_empty() {
            true => {
                outln!("{}: the {} filter is not installed in {}", target.label, host.filter, target.plugins.display())
            }
            false => outln!("{}: removed {}", target.label, removed.join(", ")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretrained_leaves_one_active_model_line_and_keeps_the_rest() {
        let settings = "threads = 2\nmodel = \"mine.onnx\"\n# model = \"vgg19\"\n".to_string();
        let updated = with_model(settings.clone(), true);
        assert_eq!(updated.lines().filter(|l| l.starts_with("model")).count(), 1);
        assert!(updated.contains("threads = 2") && updated.contains("model = \"vgg19\""));
        assert!(!updated.contains("mine.onnx"));
        assert_eq!(with_model(settings.clone(), false), settings);
    }
}
