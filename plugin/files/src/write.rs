//! Writing files so that no reader sees half of one and no link is followed: the bytes go to a new file with an
//! unpredictable name in the target's own folder (so the rename stays on one file system), created exclusively
//! (`create_new`: a link or file already there makes it fail instead of being written through), then renamed
//! over the target. On Windows the rename replaces an existing file as well.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufWriter, Write};
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

/// Opens the lock file `path` for [`File::lock`], creating it if needed; a link planted at its name is refused
/// rather than followed, so the lock never creates a file elsewhere.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    options.open(path)
}

/// Opens a download's partial file, whose name stays the same from run to run so that a later run can resume
/// it: to append to it (`resume`), or as a new file. A link at its name is refused rather than followed (a new
/// file replaces the link itself), and anything but a regular file there (a FIFO, a device) is refused
/// without blocking.
pub fn open_partial_file(path: &Path, resume: bool) -> io::Result<File> {
    if !resume {
        match std::fs::remove_file(path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
            _ => return create_new_file(path),
        }
    }
    let mut options = OpenOptions::new();
    options.append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW | libc::O_NONBLOCK);
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    Ok(file)
}

/// Creates a new folder beside `target` with an unpredictable name (`.NAME.XXXXXXXXXXXXXXXX.partial`), to fill
/// and then rename into place; fails if anything is there already.
pub fn create_sibling_folder(target: &Path) -> io::Result<PathBuf> {
    let folder = temporary_sibling(target);
    std::fs::create_dir(&folder)?;
    Ok(folder)
}

/// Writes a new file with an unpredictable name beside `target` through `fill`, synced, and returns its
/// name, for the caller to rename into place. On failure nothing is left behind.
pub fn write_temporary_with(
    target: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<PathBuf> {
    let temporary = temporary_sibling(target);
    let written = create_new_file(&temporary).and_then(|file| {
        let mut writer = BufWriter::new(file);
        fill(&mut writer)?;
        let file = writer.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()
    });
    match written {
        Ok(()) => Ok(temporary),
        Err(err) => {
            let _ = std::fs::remove_file(&temporary);
            Err(err)
        }
    }
}

/// Writes `target` atomically through `fill`: readers see the old file or the new one, never a mix, and a link
/// at the temporary name cannot redirect the write. On failure the temporary file is removed and `target` is
/// as it was.
pub fn write_atomically_with(
    target: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let temporary = write_temporary_with(target, fill)?;
    std::fs::rename(&temporary, target).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// Writes `bytes` to `target` atomically (see [`write_atomically_with`]).
pub fn write_atomically(target: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomically_with(target, |writer| writer.write_all(bytes))
}

/// Removes what a killed writer left beside `target`: regular files named as [`temporary_sibling`] names them.
/// Links and folders with such names are left alone (removing a link is harmless, but nothing here made one).
pub fn remove_leftover_temporaries(target: &Path) {
    remove_leftover_temporaries_of(&[target]);
}

/// [`remove_leftover_temporaries`] for many targets, reading each of their folders once: a batch of n outputs
/// in one folder would otherwise read that folder n times, n squared entries in all.
pub fn remove_leftover_temporaries_of(targets: &[&Path]) {
    let mut by_folder: HashMap<&Path, HashSet<String>> = HashMap::new();
    for target in targets {
        let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        let folder = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        by_folder.entry(folder).or_default().insert(name);
    }
    for (folder, names) in by_folder {
        let Ok(entries) = std::fs::read_dir(folder) else { continue };
        for entry in entries.flatten() {
            let entry_name = entry.file_name().to_string_lossy().into_owned();
            let is_ours = temporary_target_name(&entry_name).is_some_and(|target| names.contains(target));
            if is_ours && entry.file_type().is_ok_and(|kind| kind.is_file()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The target's name in a temporary's name, `.NAME.` and 16 hex digits and `.partial`; `None` for any other.
fn temporary_target_name(entry_name: &str) -> Option<&str> {
    let rest = entry_name.strip_prefix('.')?.strip_suffix(".partial")?;
    let (name, suffix) = rest.rsplit_once('.')?;
    let random = suffix.len() == 16 && suffix.bytes().all(|b| b.is_ascii_hexdigit());
    (random && !name.is_empty()).then_some(name)
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
    fn leftovers_of_a_killed_writer_are_removed_and_nothing_else() {
        let dir = scratch("leftovers");
        let target = dir.join("out.png");
        let leftover = write_temporary_with(&target, |w| w.write_all(b"half")).unwrap();
        let unrelated = ["out.png", ".out.png.partial", ".out.png.0123.partial", ".other.png.0123456789abcdef.partial"];
        for name in unrelated {
            std::fs::write(dir.join(name), b"keep").unwrap();
        }
        remove_leftover_temporaries(&target);
        assert!(!leftover.exists());
        for name in unrelated {
            assert!(dir.join(name).exists(), "{name} was removed");
        }
    }

    #[test]
    fn leftovers_of_many_targets_are_removed_with_one_listing_per_folder_and_others_kept() {
        let dir = scratch("leftovers-many");
        let (first, second, absent) = (dir.join("a.png"), dir.join("a.jpg.png"), dir.join("sub/b.png"));
        let leftovers = [&first, &second].map(|t| write_temporary_with(t, |w| w.write_all(b"half")).unwrap());
        // Another shard's output in the same folder: its write may be in progress.
        let other = write_temporary_with(&dir.join("c.png"), |w| w.write_all(b"busy")).unwrap();
        remove_leftover_temporaries_of(&[&first, &second, &absent]);
        for leftover in leftovers {
            assert!(!leftover.exists(), "{} was kept", leftover.display());
        }
        assert!(other.exists());
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
