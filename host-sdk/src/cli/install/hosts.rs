//! The two programs the filter installs into, and how each one lays out and finds a Python plug-in.

use super::embedded;
use super::places::{Environment, Platform, ProfileAndSettings, gimp_roots, gimp3_profiles, krita_profiles};

/// A program's plug-in conventions.
pub struct Host {
    /// The program, in messages.
    pub name: &'static str,
    /// The `nst` subcommand that installs into it.
    pub command: &'static str,
    /// The filter, in messages.
    pub filter: &'static str,
    /// The filter's own folder in the plug-ins folder: it holds the `nst` package, `nst/_native/` and nst.toml.
    pub home: &'static str,
    /// Prefixed to each embedded plug-in file's path to give its place in the plug-ins folder.
    pub prefix: &'static str,
    /// The plug-in's files.
    pub files: &'static [(&'static str, &'static [u8])],
    /// The file (inside `home`) that the program runs, made executable.
    pub executable: Option<&'static str>,
    /// The user's profiles, each with its settings file (where a plug-in is switched on).
    pub profiles: fn(Platform, &Environment) -> Vec<ProfileAndSettings>,
    /// The settings key that switches the plug-in on, for programs that load only plug-ins switched on.
    pub enable: Option<&'static str>,
    /// How the user switches it on by hand.
    pub enable_hint: &'static str,
    /// Where the filter is in the program's menus.
    pub menu: &'static str,
    /// Folders of earlier plug-ins that this one replaces, removed on install when they hold the nst library.
    pub replaces: &'static [&'static str],
}

fn gimp_profiles(platform: Platform, env: &Environment) -> Vec<ProfileAndSettings> {
    gimp3_profiles(&gimp_roots(platform, env)).into_iter().map(|profile| (profile, None)).collect()
}

/// GIMP 3: `plug-ins/neural-style/neural-style.py`, as GIMP runs only a file named after its folder.
pub const GIMP3: Host = Host {
    name: "GIMP 3",
    command: "gimp",
    filter: "Neural Style",
    home: "neural-style",
    prefix: "neural-style/",
    files: embedded::GIMP3_PLUGIN,
    executable: Some("neural-style.py"),
    profiles: gimp_profiles,
    enable: None,
    enable_hint: "",
    menu: "Filters > Artistic > Neural Style",
    // The C plug-in that GIMP 3 ran before; both would register the same procedure.
    replaces: &["nst"],
};

/// Krita: `pykrita/nst.desktop` and the `pykrita/nst_krita/` package.
pub const KRITA: Host = Host {
    name: "Krita",
    command: "krita",
    filter: "Neural Style",
    home: "nst_krita",
    prefix: "",
    files: embedded::KRITA_PLUGIN,
    executable: None,
    profiles: krita_profiles,
    enable: Some("enable_nst_krita"),
    enable_hint: "switch it on in Settings > Configure Krita > Python Plugin Manager (Neural Style)",
    menu: "Filter > Neural Style (or Tools > Scripts > Neural Style)",
    replaces: &[],
};
