//! Where a path leads once the folders it names are made: its longest existing part with symbolic links
//! resolved, then the rest applied by name (`..` steps back out of a folder that does not exist yet, as it will
//! once `create_dir_all` has made that folder a real one).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// Resolves many paths, each folder once: a batch's outputs mostly share a few folders.
pub struct Resolver {
    /// Paths are taken relative to this folder (the current one, its links resolved).
    base: PathBuf,
    /// Folder (as written, made absolute) -> where it leads.
    folders: HashMap<PathBuf, PathBuf>,
}

impl Resolver {
    pub fn new() -> Self {
        let current = std::env::current_dir().unwrap_or_default();
        let base = std::fs::canonicalize(&current).unwrap_or(current);
        Resolver { base, folders: HashMap::new() }
    }

    /// The absolute path `path` leads to; a symbolic link that cannot be followed (a loop, a missing target)
    /// is kept by name, as writing through it fails anyway.
    pub fn resolve(&mut self, path: &Path) -> PathBuf {
        let absolute = self.base.join(path);
        let components: Vec<Component> = absolute.components().collect();
        let Some((last, folders)) = components.split_last() else { return absolute };
        let mut written = PathBuf::new();
        let mut resolved = PathBuf::new();
        for component in folders {
            written.push(component);
            resolved = match self.folders.get(&written) {
                Some(known) => known.clone(),
                None => {
                    let next = step(resolved, component);
                    self.folders.insert(written.clone(), next.clone());
                    next
                }
            };
        }
        step(resolved, last)
    }
}

/// `resolved` (a path with no symbolic links in it, or one that does not exist) followed by `component`.
fn step(mut resolved: PathBuf, component: &Component) -> PathBuf {
    match component {
        Component::Prefix(prefix) => PathBuf::from(prefix.as_os_str()),
        // Canonical from the root on, so that a path through a link and one without it look alike (on Windows
        // the root's canonical form is the `\\?\C:\` one that canonicalised links have too).
        Component::RootDir => canonical_or_named(resolved.join(component)),
        Component::CurDir => resolved,
        // The parent of a path without links, existing or about to be made, is the one its name says.
        Component::ParentDir => {
            resolved.pop();
            resolved
        }
        Component::Normal(name) => {
            let next = resolved.join(name);
            match std::fs::symlink_metadata(&next) {
                Ok(metadata) if metadata.file_type().is_symlink() => canonical_or_named(next),
                _ => next,
            }
        }
    }
}

fn canonical_or_named(path: PathBuf) -> PathBuf {
    std::fs::canonicalize(&path).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_folders_are_applied_by_name_after_the_existing_part() {
        let dir = std::env::temp_dir().join(format!("nst-resolve-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("real")).unwrap();
        let dir = std::fs::canonicalize(&dir).unwrap();
        let mut resolver = Resolver::new();
        assert_eq!(resolver.resolve(&dir.join("fresh/../in.png")), dir.join("in.png"));
        assert_eq!(resolver.resolve(&dir.join("fresh/./new/../../real/x.png")), dir.join("real/x.png"));
        assert_eq!(resolver.resolve(&dir.join("fresh/deeper/a.png")), dir.join("fresh/deeper/a.png"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.join("real"), dir.join("link")).unwrap();
            std::os::unix::fs::symlink(dir.join("loop"), dir.join("loop")).unwrap();
            assert_eq!(resolver.resolve(&dir.join("fresh/../link/new/a.png")), dir.join("real/new/a.png"));
            assert_eq!(resolver.resolve(&dir.join("loop/a.png")), dir.join("loop/a.png"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
