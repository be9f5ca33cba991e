//! The files a run reads and writes, and the check, made before any work, that no write lands on a file the run
//! reads or on another write: through the same name, another name, a symbolic link or a hard link.

use std::collections::HashMap;
use std::hash::Hash;
use std::path::{Path, PathBuf};

use super::error::CliError;
use super::resolve::Resolver;

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
#[derive(PartialEq, Eq, Hash)]
enum Identity {
    /// An existing file: its device and inode, shared by every hard link and followed through symbolic links.
    #[cfg(unix)]
    Inode(u64, u64),
    /// A file that does not exist yet (or any file where inodes are not available): where its path leads once
    /// its folders are made (see [`Resolver`]), case-folded where file systems usually ignore case.
    Path(PathBuf),
}

fn identity(resolver: &mut Resolver, path: &Path) -> Identity {
    let resolved = resolver.resolve(path);
    #[cfg(unix)]
    if let Ok(metadata) = std::fs::metadata(&resolved) {
        use std::os::unix::fs::MetadataExt;
        return Identity::Inode(metadata.dev(), metadata.ino());
    }
    if cfg!(any(windows, target_os = "macos")) {
        return Identity::Path(PathBuf::from(resolved.to_string_lossy().to_lowercase()));
    }
    Identity::Path(resolved)
}

/// A write that lands on a read or on an earlier write.
#[derive(Debug, PartialEq)]
enum Clash {
    /// Write `write` is read `read`.
    OnRead { write: usize, read: usize },
    /// Write `later` is write `earlier`.
    Twice { earlier: usize, later: usize },
}

/// The first write (in order) that is a read or an earlier write, by keys that say which files are one. One hash
/// look-up per file: comparing every pair took minutes for a batch of 100000 jobs.
fn first_clash<K: Hash + Eq>(reads: impl IntoIterator<Item = K>, writes: impl IntoIterator<Item = K>) -> Option<Clash> {
    let mut read_at: HashMap<K, usize> = HashMap::new();
    for (index, key) in reads.into_iter().enumerate() {
        read_at.entry(key).or_insert(index);
    }
    let mut written_at: HashMap<K, usize> = HashMap::new();
    for (index, key) in writes.into_iter().enumerate() {
        if let Some(&read) = read_at.get(&key) {
            return Some(Clash::OnRead { write: index, read });
        }
        if let Some(&earlier) = written_at.get(&key) {
            return Some(Clash::Twice { earlier, later: index });
        }
        written_at.insert(key, index);
    }
    None
}

/// Refuses writes that land on a read or on each other, naming both roles.
pub fn check_no_overwrite(reads: &[FileRole], writes: &[FileRole]) -> Result<(), CliError> {
    let mut resolver = Resolver::new();
    let read_ids: Vec<Identity> = reads.iter().map(|r| identity(&mut resolver, &r.path)).collect();
    let write_ids: Vec<Identity> = writes.iter().map(|w| identity(&mut resolver, &w.path)).collect();
    match first_clash(read_ids, write_ids) {
        None => Ok(()),
        Some(Clash::OnRead { write, read }) => {
            let (write, read) = (&writes[write], &reads[read]);
            Err(CliError::Usage(format!(
                "{} {} is {} ({}): inputs are never overwritten; choose another output",
                write.role,
                write.path.display(),
                read.role,
                read.path.display()
            )))
        }
        Some(Clash::Twice { earlier, later }) => {
            let (earlier, later) = (&writes[earlier], &writes[later]);
            Err(CliError::Usage(format!(
                "{} ({}) and {} ({}) are the same file: each output must be written once",
                earlier.role,
                earlier.path.display(),
                later.role,
                later.path.display()
            )))
        }
    }
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

    #[test]
    fn paths_through_folders_not_made_yet_are_compared_where_they_will_lead() {
        let dir = std::env::temp_dir().join(format!("nst-overwrite-fresh-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("in.png");
        std::fs::write(&input, b"x").unwrap();
        let read = [FileRole::new(&input, "the content")];
        let refused = |path: PathBuf| check_no_overwrite(&read, &[FileRole::new(path, "the output")]).is_err();
        assert!(refused(dir.join("fresh/../in.png")));
        assert!(refused(dir.join("fresh/deeper/../../in.png")));
        assert!(!refused(dir.join("fresh/in.png")));
        let twice = [
            FileRole::new(dir.join("fresh/a.png"), "job 1's output"),
            FileRole::new(dir.join("fresh/other/../a.png"), "job 2's output"),
        ];
        let err = check_no_overwrite(&[], &twice).unwrap_err().to_string();
        assert!(err.contains("job 1's output") && err.contains("job 2's output"), "{err}");
        assert!(!dir.join("fresh").exists(), "the check made a folder");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file name whose comparisons are counted.
    struct Counted(usize, &'static std::sync::atomic::AtomicUsize);

    impl Hash for Counted {
        fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
            self.0.hash(state);
        }
    }

    impl PartialEq for Counted {
        fn eq(&self, other: &Self) -> bool {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.0 == other.0
        }
    }

    impl Eq for Counted {}

    #[test]
    fn a_large_batch_is_checked_with_about_one_comparison_per_file() {
        static COMPARISONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let files = 20_000;
        let reads = (0..files).map(|i| Counted(i, &COMPARISONS));
        // Every write is new but the last, which is the first write again.
        let writes = (files..2 * files).chain([files]).map(|i| Counted(i, &COMPARISONS));
        assert_eq!(first_clash(reads, writes), Some(Clash::Twice { earlier: 0, later: files }));
        let comparisons = COMPARISONS.load(std::sync::atomic::Ordering::Relaxed);
        // Comparing every pair would take 3 * files^2 / 2, some 600 million.
        assert!(comparisons < 4 * files, "{comparisons} comparisons for {} files", 2 * files);
    }
}
