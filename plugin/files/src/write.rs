//! Writing files so that no reader sees half of one and no link is followed: the bytes go to a new file with an
//! unpredictable name in the target's own folder (so the rename stays on one file system), created exclusively
//! (`create_new`: a link or file already there makes it fail instead of being written through), then renamed
//! over the target. On Windows the rename replaces an existing file as well.

use std::collections::hash_map::RandomState;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A name no other process can guess: 64 bits from the standard library's randomly seeded hasher.
fn unpredictable_suffix() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher
        .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

/// A fresh name beside `target`, hidden and marked partial: `.NAME.XXXXXXXXXXXXXXXX.partial`.
pub fn temporary_sibling(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let folder = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    folder.join(format!(".{name}.{}.partial", unpredictable_suffix()))
}

/// Creates `path` as a new file; fails if anything, a symbolic link included, is there already.
pub fn create_new_file(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Creates a new folder beside `target` with an unpredictable name (`.NAME.XXXXXXXXXXXXXXXX.partial`), to fill
/// and then rename into place; fails if anything is there already.
pub fn create_sibling_folder(target: &Path) -> io::Result<PathBuf> {
    let folder = temporary_sibling(target);
    std::fs::create_dir(&folder)?;
    Ok(folder)
}

/// Writes `bytes` to `target` atomically: readers see the old file or the new one, never a mix, and a link at
/// the temporary name cannot redirect the write. On failure the temporary file is removed and `target` is as
/// it was.
pub fn write_atomically(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let temporary = temporary_sibling(target);
    let written = create_new_file(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let result = written.and_then(|()| std::fs::rename(&temporary, target));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nst-files-write-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_write_replaces_the_target_and_leaves_no_temporary_file() {
        let dir = scratch("replace");
        let target = dir.join("out.txt");
        std::fs::write(&target, b"old").unwrap();
        write_atomically(&target, b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.txt")]);
    }

    #[test]
    fn temporary_names_differ_every_time() {
        let target = Path::new("folder/out.png");
        let (a, b) = (temporary_sibling(target), temporary_sibling(target));
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(Path::new("folder")));
        assert!(a.file_name().unwrap().to_string_lossy().starts_with(".out.png."));
    }

    #[cfg(unix)]
    #[test]
    fn a_link_at_the_new_name_is_refused_not_followed() {
        let dir = scratch("link");
        let victim = dir.join("victim.txt");
        std::fs::write(&victim, b"keep").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert_eq!(create_new_file(&link).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    }

    #[test]
    fn a_failed_write_leaves_the_target_as_it_was() {
        let dir = scratch("failed");
        // A folder cannot be replaced by a file: the rename fails, and nothing else changes.
        let target = dir.join("taken");
        std::fs::create_dir(&target).unwrap();
        assert!(write_atomically(&target, b"bytes").is_err());
        assert!(target.is_dir());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "a temporary file was left behind");
    }
}
