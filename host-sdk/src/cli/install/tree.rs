//! A plug-in folder built beside its final place and swapped in at the end, so that a host never loads half a
//! plug-in and a failed install leaves the previous one as it was. Every file is created new (`create_new`)
//! inside a folder made fresh under an unpredictable name, so no link planted there is followed.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use nst_files::{create_new_file, create_sibling_folder, temporary_sibling};

/// The folder being filled. Dropped without [`Staging::replace`], it is removed.
pub struct Staging {
    folder: PathBuf,
    done: bool,
}

/// `relative` (with `/`) under `base`.
fn join(base: &Path, relative: &str) -> PathBuf {
    relative.split('/').filter(|part| !part.is_empty()).fold(base.to_path_buf(), |path, part| path.join(part))
}

#[cfg(unix)]
fn set_executable(file: &File, executable: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(if executable { 0o755 } else { 0o644 }))
}

#[cfg(not(unix))]
fn set_executable(_file: &File, _executable: bool) -> io::Result<()> {
    Ok(())
}

impl Staging {
    /// A new, empty folder beside `target`.
    pub fn beside(target: &Path) -> io::Result<Staging> {
        Ok(Staging { folder: create_sibling_folder(target)?, done: false })
    }

    fn new_file(&self, relative: &str) -> io::Result<File> {
        let path = join(&self.folder, relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        create_new_file(&path)
    }

    /// Writes `bytes` as `relative`.
    pub fn write(&self, relative: &str, bytes: &[u8], executable: bool) -> io::Result<()> {
        let mut file = self.new_file(relative)?;
        io::Write::write_all(&mut file, bytes)?;
        set_executable(&file, executable)
    }

    /// Copies the file `source` to `relative` (a shared library keeps its executable bit).
    pub fn copy_file(&self, source: &Path, relative: &str) -> io::Result<()> {
        let mut from = File::open(source)?;
        let mut file = self.new_file(relative)?;
        io::copy(&mut from, &mut file)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let executable = from.metadata()?.permissions().mode() & 0o111 != 0;
            set_executable(&file, executable)?;
        }
        Ok(())
    }

    /// Copies the folder `source` with everything in it to `relative`; links are copied as what they point to.
    pub fn copy_folder(&self, source: &Path, relative: &str) -> io::Result<()> {
        std::fs::create_dir_all(join(&self.folder, relative))?;
        for entry in std::fs::read_dir(source)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let inner = format!("{relative}/{name}");
            let path = entry.path();
            if path.is_dir() {
                self.copy_folder(&path, &inner)?;
            } else if path.is_file() {
                self.copy_file(&path, &inner)?;
            }
        }
        Ok(())
    }

    /// Puts the folder at `target`: an existing one is moved aside first (a folder cannot be renamed over another
    /// on every platform), then removed.
    pub fn replace(mut self, target: &Path) -> io::Result<()> {
        let previous = temporary_sibling(target);
        let had_previous = match std::fs::rename(target, &previous) {
            Ok(()) => true,
            Err(err) if err.kind() == io::ErrorKind::NotFound => false,
            Err(err) => return Err(err),
        };
        if let Err(err) = std::fs::rename(&self.folder, target) {
            if had_previous {
                let _ = std::fs::rename(&previous, target);
            }
            return Err(err);
        }
        self.done = true;
        if had_previous {
            remove_any(&previous)?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.folder);
        }
    }
}

/// Removes `path`, a folder with everything in it or a file; a link is removed itself, never what it points to.
pub fn remove_any(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_folder_replaces_the_old_one_and_a_dropped_one_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("nst-install-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("plugin")).unwrap();
        std::fs::write(dir.join("plugin/old.txt"), "old").unwrap();
        let staging = Staging::beside(&dir.join("plugin")).unwrap();
        staging.write("a/b.txt", b"new", false).unwrap();
        staging.replace(&dir.join("plugin")).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("plugin/a/b.txt")).unwrap(), "new");
        assert!(!dir.join("plugin/old.txt").exists());
        drop(Staging::beside(&dir.join("plugin")).unwrap());
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("plugin")], "staging folders were left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
