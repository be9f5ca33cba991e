//! The files a run reads and writes, and the check, made before any work, that no write lands on a file the run
//! reads or on another write: through the same name, another name, a symbolic link or a hard link.

use std::path::{Path, PathBuf};

use super::common::CliError;

/// A file a run touches, with what it is to the run ("the content", "job 3's output").
pub struct FileRole {
    pub path: PathBuf,
    pub role: String,
}

impl FileRole {
    pub fn new(path: impl Into<PathBuf>, role: impl Into<String>) -> Self {
        FileRole { path: path.into(), role: role.into() }
    }
}

/// What makes two names the same file.
#[derive(PartialEq, Eq)]
enum Identity {
    /// An existing file: its device and inode, shared by every hard link and followed through symbolic links.
    #[cfg(unix)]
    Inode(u64, u64),
    /// A file that does not exist yet (or any file where inodes are not available): its absolute path, with the
    /// folder's symbolic links resolved.
    Path(PathBuf),
}

fn identity(path: &Path) -> Option<Identity> {
    #[cfg(unix)]
    if let Ok(metadata) = std::fs::metadata(path) {
        use std::os::unix::fs::MetadataExt;
        return Some(Identity::Inode(metadata.dev(), metadata.ino()));
    }
    if let Ok(canonical) = std::fs::canonicalize(path) {
        return Some(Identity::Path(canonical));
    }
    let name = path.file_name()?;
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let folder = std::fs::canonicalize(folder).ok()?;
    Some(Identity::Path(folder.join(name)))
}

/// Refuses writes that land on a read or on each other, naming both roles.
pub fn check_no_overwrite(reads: &[FileRole], writes: &[FileRole]) -> Result<(), CliError> {
    let reads: Vec<(&FileRole, Identity)> = reads.iter().filter_map(|r| Some((r, identity(&r.path)?))).collect();
    let writes: Vec<(&FileRole, Identity)> = writes.iter().filter_map(|w| Some((w, identity(&w.path)?))).collect();
    for (index, (write, id)) in writes.iter().enumerate() {
        if let Some((read, _)) = reads.iter().find(|(_, read_id)| read_id == id) {
            return Err(CliError::Usage(format!(
                "{} {} is {} ({}): inputs are never overwritten; choose another output",
                write.role,
                write.path.display(),
                read.role,
                read.path.display()
            )));
        }
        if let Some((other, _)) = writes[..index].iter().find(|(_, other_id)| other_id == id) {
            return Err(CliError::Usage(format!(
                "{} ({}) and {} ({}) are the same file: each output must be written once",
                other.role,
                other.path.display(),
                write.role,
                write.path.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_file_is_found_through_links_and_other_names() {
        let dir = std::env::temp_dir().join(format!("nst-overwrite-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let input = dir.join("in.png");
        std::fs::write(&input, b"x").unwrap();
        let read = [FileRole::new(&input, "the content")];
        let refused = |path: PathBuf| check_no_overwrite(&read, &[FileRole::new(path, "the output")]).is_err();
        assert!(refused(input.clone()));
        assert!(refused(dir.join("sub/../in.png")));
        #[cfg(unix)]
        {
            std::fs::hard_link(&input, dir.join("hard.png")).unwrap();
            std::os::unix::fs::symlink(&input, dir.join("soft.png")).unwrap();
            assert!(refused(dir.join("hard.png")));
            assert!(refused(dir.join("soft.png")));
        }
        assert!(!refused(dir.join("new.png")));
        let twice = [
            FileRole::new(dir.join("new.png"), "job 1's output"),
            FileRole::new(dir.join("sub/../new.png"), "job 2's output"),
        ];
        let err = check_no_overwrite(&[], &twice).unwrap_err().to_string();
        assert!(err.contains("job 1's output") && err.contains("job 2's output"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
