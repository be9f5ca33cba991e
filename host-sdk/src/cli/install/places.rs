//! Where GIMP 3 and Krita look for a user's plug-ins on each platform, computed from the environment alone so
//! that every platform's answer can be checked on any machine.

use std::path::PathBuf;

/// The operating systems whose folder conventions differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Linux,
    Windows,
    MacOs,
}

impl Platform {
    /// The platform this program was built for (other Unix systems follow Linux's conventions).
    pub fn current() -> Platform {
        if cfg!(windows) {
            Platform::Windows
        } else if cfg!(target_os = "macos") {
            Platform::MacOs
        } else {
            Platform::Linux
        }
    }
}

/// The environment variables the conventions depend on.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    pub home: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub xdg_data_home: Option<PathBuf>,
    pub appdata: Option<PathBuf>,
    pub local_appdata: Option<PathBuf>,
}

impl Environment {
    /// This process's environment (empty values count as unset, as the XDG specification says).
    pub fn current() -> Environment {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        Environment {
            home: var(if cfg!(windows) { "USERPROFILE" } else { "HOME" }),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            xdg_data_home: var("XDG_DATA_HOME"),
            appdata: var("APPDATA"),
            local_appdata: var("LOCALAPPDATA"),
        }
    }

    fn home_join(&self, relative: &str) -> Option<PathBuf> {
        self.home.as_ref().map(|home| home.join(relative))
    }

    fn config_home(&self) -> Option<PathBuf> {
        self.xdg_config_home.clone().or_else(|| self.home_join(".config"))
    }

    fn data_home(&self) -> Option<PathBuf> {
        self.xdg_data_home.clone().or_else(|| self.home_join(".local/share"))
    }
}

/// One installation of a host program: what to call it in messages, the profile folder the program makes at
/// its first start, and the plug-ins folder inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostProfile {
    pub label: String,
    pub profile: PathBuf,
    pub plugins: PathBuf,
}

/// A profile with the program's settings file beside it, where there is one to edit.
pub type ProfileAndSettings = (HostProfile, Option<PathBuf>);

fn profile(label: &str, profile: PathBuf, plugins_folder: &str) -> HostProfile {
    HostProfile { label: label.to_string(), plugins: profile.join(plugins_folder), profile }
}

/// The folders holding GIMP's per-version profiles (`GIMP/3.0`, ...), with a label for each kind of install.
pub fn gimp_roots(platform: Platform, env: &Environment) -> Vec<(String, PathBuf)> {
    let mut roots = Vec::new();
    match platform {
        Platform::Linux => {
            roots.extend(env.config_home().map(|c| ("GIMP".to_string(), c.join("GIMP"))));
            roots.extend(env.home_join(".var/app/org.gimp.GIMP/config/GIMP").map(|p| ("GIMP (Flatpak)".into(), p)));
        }
        Platform::Windows => roots.extend(env.appdata.as_ref().map(|a| ("GIMP".to_string(), a.join("GIMP")))),
        Platform::MacOs => {
            roots.extend(env.home_join("Library/Application Support/GIMP").map(|p| ("GIMP".to_string(), p)))
        }
    }
    roots
}

/// GIMP 3's profiles under `roots`: `3.0`, and any later `3.N` that exists. `3.0` is always listed (it is where
/// GIMP 3.0 looks), the others only when present.
pub fn gimp3_profiles(roots: &[(String, PathBuf)]) -> Vec<HostProfile> {
    let mut profiles = Vec::new();
    for (label, root) in roots {
        let mut versions = vec!["3.0".to_string()];
        for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let minor = name.strip_prefix("3.").filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()));
            if minor.is_some() && name != "3.0" && entry.path().is_dir() {
                versions.push(name);
            }
        }
        versions.sort();
        for version in versions {
            profiles.push(profile(&format!("{label} {version}"), root.join(&version), "plug-ins"));
        }
    }
    profiles
}

/// Krita's resource folders (whose `pykrita` holds the Python plug-ins), and the `kritarc` beside each.
pub fn krita_profiles(platform: Platform, env: &Environment) -> Vec<ProfileAndSettings> {
    let mut profiles = Vec::new();
    match platform {
        Platform::Linux => {
            if let Some(data) = env.data_home() {
                profiles.push((
                    profile("Krita", data.join("krita"), "pykrita"),
                    env.config_home().map(|c| c.join("kritarc")),
                ));
            }
            if let Some(app) = env.home_join(".var/app/org.kde.krita") {
                profiles.push((
                    profile("Krita (Flatpak)", app.join("data/krita"), "pykrita"),
                    Some(app.join("config/kritarc")),
                ));
            }
        }
        Platform::Windows => {
            if let Some(appdata) = &env.appdata {
                let rc = env.local_appdata.as_ref().map(|l| l.join("kritarc"));
                profiles.push((profile("Krita", appdata.join("krita"), "pykrita"), rc));
            }
        }
        Platform::MacOs => {
            if let Some(home) = &env.home {
                profiles.push((
                    profile("Krita", home.join("Library/Application Support/krita"), "pykrita"),
                    Some(home.join("Library/Preferences/kritarc")),
                ));
            }
        }
    }
    profiles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix_env() -> Environment {
        Environment { home: Some("/home/ada".into()), ..Environment::default() }
    }

    #[test]
    fn gimp3_lives_in_each_platforms_own_folder() {
        let linux = gimp3_profiles(&gimp_roots(Platform::Linux, &unix_env()));
        let plugins: Vec<_> = linux.iter().map(|p| p.plugins.clone()).collect();
        assert_eq!(
            plugins,
            vec![
                PathBuf::from("/home/ada/.config/GIMP/3.0/plug-ins"),
                PathBuf::from("/home/ada/.var/app/org.gimp.GIMP/config/GIMP/3.0/plug-ins"),
            ]
        );
        let xdg = Environment { xdg_config_home: Some("/cfg".into()), ..unix_env() };
        assert_eq!(
            gimp3_profiles(&gimp_roots(Platform::Linux, &xdg))[0].plugins,
            PathBuf::from("/cfg/GIMP/3.0/plug-ins")
        );
        let windows = Environment { appdata: Some(r"C:\Users\ada\AppData\Roaming".into()), ..Environment::default() };
        assert_eq!(
            gimp3_profiles(&gimp_roots(Platform::Windows, &windows))[0].plugins,
            PathBuf::from(r"C:\Users\ada\AppData\Roaming").join("GIMP").join("3.0").join("plug-ins")
        );
        assert_eq!(
            gimp3_profiles(&gimp_roots(Platform::MacOs, &unix_env()))[0].plugins,
            PathBuf::from("/home/ada/Library/Application Support/GIMP/3.0/plug-ins")
        );
    }

    #[test]
    fn later_gimp3_profiles_are_found_and_other_versions_are_not() {
        let root = std::env::temp_dir().join(format!("nst-places-{}", std::process::id()));
        for version in ["2.10", "3.2", "3.x", "4.0"] {
            std::fs::create_dir_all(root.join(version)).unwrap();
        }
        let found: Vec<_> = gimp3_profiles(&[("GIMP".into(), root.clone())]).into_iter().map(|p| p.label).collect();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(found, vec!["GIMP 3.0".to_string(), "GIMP 3.2".to_string()]);
    }

    #[test]
    fn krita_lives_in_each_platforms_own_folder_with_its_kritarc() {
        let linux = krita_profiles(Platform::Linux, &unix_env());
        assert_eq!(linux[0].0.plugins, PathBuf::from("/home/ada/.local/share/krita/pykrita"));
        assert_eq!(linux[0].1, Some(PathBuf::from("/home/ada/.config/kritarc")));
        assert_eq!(linux[1].0.plugins, PathBuf::from("/home/ada/.var/app/org.kde.krita/data/krita/pykrita"));
        assert_eq!(linux[1].1, Some(PathBuf::from("/home/ada/.var/app/org.kde.krita/config/kritarc")));
        let windows = Environment {
            appdata: Some(r"C:\Users\ada\AppData\Roaming".into()),
            local_appdata: Some(r"C:\Users\ada\AppData\Local".into()),
            ..Environment::default()
        };
        let windows = krita_profiles(Platform::Windows, &windows);
        assert_eq!(windows[0].0.plugins, PathBuf::from(r"C:\Users\ada\AppData\Roaming").join("krita").join("pykrita"));
        assert_eq!(windows[0].1, Some(PathBuf::from(r"C:\Users\ada\AppData\Local").join("kritarc")));
        let mac = krita_profiles(Platform::MacOs, &unix_env());
        assert_eq!(mac[0].0.plugins, PathBuf::from("/home/ada/Library/Application Support/krita/pykrita"));
        assert_eq!(mac[0].1, Some(PathBuf::from("/home/ada/Library/Preferences/kritarc")));
    }
}
