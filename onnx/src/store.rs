//! Installed models: the folder they live in, the names they go by, and the manifest beside each.
//!
//! A model named `vgg19` is the file `vgg19.safetensors` (its 16 convolutions under torchvision's names, see
//! [`crate::import`]) with `vgg19.toml` beside it: where it came from, the SHA-256 of what was downloaded or
//! imported and of what was stored, its licence and the date. The folder is `NST_MODELS` when set, else the
//! platform's data folder (`$XDG_DATA_HOME/nst/models`, `~/.local/share/nst/models`; `~/Library/Application
//! Support/nst/models` on macOS; `%LOCALAPPDATA%\nst\models` on Windows).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::OnnxError;
use crate::import::{load_vgg19, vgg19_to_safetensors_bytes};
use crate::vgg::Vgg19;

/// The variable that overrides the models folder.
pub const MODELS_ENV: &str = "NST_MODELS";

/// The name that always means the built-in random-weight network, never an installed model.
pub const BUILTIN: &str = "builtin";

/// The extensions that make a model reference a file even without a folder in it.
pub const MODEL_FILE_EXTENSIONS: [&str; 3] = [".onnx", ".safetensors", ".pth"];

/// Whether `reference` names an installed model rather than a file: 1..=64 letters, digits, `.`, `_` or `-`,
/// not starting with `.`, and not ending in one of [`MODEL_FILE_EXTENSIONS`] (a path needs a separator or one
/// of those extensions).
pub fn is_model_name(reference: &str) -> bool {
    (1..=64).contains(&reference.len())
        && !reference.starts_with('.')
        && reference.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !MODEL_FILE_EXTENSIONS.iter().any(|extension| reference.ends_with(extension))
}

/// Device names Windows reserves in every folder, with any extension (`CON.safetensors` is the console).
const WINDOWS_RESERVED: [&str; 4] = ["CON", "PRN", "AUX", "NUL"];

/// Why `name` cannot be given to an installed model, if it cannot: it must be a model name (see
/// [`is_model_name`]), not [`BUILTIN`], not end in `.` (Windows drops it from file names), and not be a device
/// name Windows reserves (`CON`, `NUL`, `COM1`, `aux.`, in any case), so a models folder works on every platform.
pub fn check_model_name(name: &str) -> Result<(), String> {
    let rule =
        format!("use 1 to 64 letters, digits, '.', '_' or '-', not starting or ending with '.' (not '{BUILTIN}')");
    if !is_model_name(name) || name == BUILTIN || name.ends_with('.') {
        return Err(format!("'{name}' cannot name a model: {rule}"));
    }
    let stem = name.split('.').next().unwrap_or(name).to_ascii_uppercase();
    let numbered = |prefix: &str| {
        stem.strip_prefix(prefix).is_some_and(|digit| digit.len() == 1 && digit.bytes().all(|b| b.is_ascii_digit()))
    };
    if WINDOWS_RESERVED.contains(&stem.as_str()) || numbered("COM") || numbered("LPT") {
        return Err(format!("'{name}' cannot name a model: Windows reserves {stem} as a device name; {rule}"));
    }
    Ok(())
}

/// The default models folder of this platform, or `NST_MODELS`.
pub fn default_models_dir() -> Result<PathBuf, OnnxError> {
    if let Some(dir) = std::env::var_os(MODELS_ENV).filter(|dir| !dir.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    platform_data_dir().map(|data| data.join("nst").join("models")).ok_or_else(|| OnnxError::Store {
        path: PathBuf::new(),
        reason: format!("no data folder is known for this user (no home folder); set {MODELS_ENV}"),
    })
}

#[cfg(windows)]
fn platform_data_dir() -> Option<PathBuf> {
    std::env::var_os("LOCALAPPDATA").map(PathBuf::from).filter(|dir| dir.is_absolute())
}

#[cfg(target_os = "macos")]
fn platform_data_dir() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from).filter(|dir| dir.is_absolute())?;
    Some(home.join("Library").join("Application Support"))
}

#[cfg(not(any(windows, target_os = "macos")))]
fn platform_data_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).filter(|dir| dir.is_absolute());
    xdg.or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).filter(|dir| dir.is_absolute())?;
        Some(home.join(".local").join("share"))
    })
}

/// What an installed model's manifest records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The name the model goes by (`--model NAME`).
    pub name: String,
    /// What runs report as the model.
    pub description: String,
    /// The URL it was downloaded from, or the file it was imported from.
    pub source: String,
    /// SHA-256 of the downloaded or imported file, lower-case hex.
    pub source_sha256: String,
    /// SHA-256 of the stored model file, lower-case hex.
    pub stored_sha256: String,
    /// The weights' licence.
    pub licence: String,
    /// UTC date of installation, `YYYY-MM-DD`.
    pub date: String,
}

/// Where a model being installed came from.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// A URL or a file path.
    pub source: String,
    /// SHA-256 of the source file, lower-case hex.
    pub source_sha256: String,
    /// The weights' licence.
    pub licence: String,
}

/// An installed model as [`ModelStore::list`] finds it.
#[derive(Debug, Clone)]
pub struct Installed {
    /// Its manifest, or what is known when the manifest cannot be read.
    pub manifest: Manifest,
    /// The model file.
    pub file: PathBuf,
    /// Why the file does not match its manifest, if it does not: runs refuse it, `nst model fetch` repairs it.
    pub problem: Option<String>,
}

impl Manifest {
    /// What is known of a model file without a readable manifest of its own.
    fn unknown(name: &str) -> Manifest {
        Manifest {
            name: name.to_string(),
            description: "(no readable manifest)".into(),
            source: String::new(),
            source_sha256: String::new(),
            stored_sha256: String::new(),
            licence: String::new(),
            date: String::new(),
        }
    }
}

/// The longest description a manifest keeps, in characters: a source file's metadata may hold any amount, and
/// the manifest must stay well inside what [`nst_files::FileKind::Manifest`] may hold.
const MAX_DESCRIPTION: usize = 1000;
/// The longest source and licence a manifest keeps, in characters.
const MAX_SOURCE: usize = 4000;

/// `text` cut to `limit` characters, with an ellipsis when cut.
fn bounded(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

#[derive(Clone, Copy)]
enum Lock {
    Shared,
    Exclusive,
}

/// Files moved into place with the old ones kept aside, so that the whole set can be put back.
#[derive(Default)]
struct Swap {
    /// (target, where its old file was kept, if it had one), in the order they were replaced.
    replaced: Vec<(PathBuf, Option<PathBuf>)>,
}

impl Swap {
    /// Moves `new` to `target`, keeping `target`'s old file aside.
    fn replace(&mut self, new: &Path, target: &Path) -> Result<(), (PathBuf, std::io::Error)> {
        let kept = match std::fs::symlink_metadata(target) {
            Ok(metadata) if metadata.is_dir() => {
                let taken = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "a folder is in the way");
                return Err((target.to_path_buf(), taken));
            }
            Ok(_) => {
                let aside = nst_files::temporary_sibling(target);
                std::fs::rename(target, &aside).map_err(|e| (target.to_path_buf(), e))?;
                Some(aside)
            }
            Err(_) => None,
        };
        self.replaced.push((target.to_path_buf(), kept));
        std::fs::rename(new, target).map_err(|e| (target.to_path_buf(), e))
    }

    /// Puts every old file back, the newest replacement first.
    fn roll_back(self) {
        for (target, kept) in self.replaced.into_iter().rev() {
            match kept {
                Some(aside) => {
                    let _ = std::fs::rename(aside, &target);
                }
                None => {
                    let _ = std::fs::remove_file(&target);
                }
            }
        }
    }

    /// Drops the old files.
    fn commit(self) {
        for (_, kept) in self.replaced {
            if let Some(aside) = kept {
                let _ = std::fs::remove_file(aside);
            }
        }
    }
}

/// The SHA-256 of a model file, hashed once per process for each length and modification time it has.
fn verified_sha256(path: &Path) -> std::io::Result<String> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    type Seen = HashMap<PathBuf, (u64, Option<SystemTime>, String)>;
    static SEEN: Mutex<Option<Seen>> = Mutex::new(None);
    let metadata = std::fs::metadata(path)?;
    let state = (metadata.len(), metadata.modified().ok());
    let key = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let seen = SEEN.lock().ok().and_then(|seen| seen.as_ref()?.get(&key).cloned());
    if let Some((_, _, sha)) = seen.filter(|(len, modified, _)| (*len, *modified) == state) {
        return Ok(sha);
    }
    let sha = file_sha256(path)?;
    if let Ok(mut seen) = SEEN.lock() {
        seen.get_or_insert_with(HashMap::new).insert(key, (state.0, state.1, sha.clone()));
    }
    Ok(sha)
}

/// A models folder.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
}

impl ModelStore {
    /// The store in `dir` (which need not exist yet).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        ModelStore { dir: dir.into() }
    }

    /// The store in `NST_MODELS`, else the platform's data folder.
    pub fn default_location() -> Result<Self, OnnxError> {
        default_models_dir().map(ModelStore::at)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The model file of `name` (whether or not it is installed).
    pub fn model_file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.safetensors"))
    }

    /// The manifest of `name`.
    pub fn manifest_file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.toml"))
    }

    /// The installed model file of `name`, verified against its manifest, or an error that says how to install
    /// or repair it.
    pub fn resolve(&self, name: &str) -> Result<PathBuf, OnnxError> {
        let file = self.model_file(name);
        if !file.exists() && std::fs::symlink_metadata(&file).is_err() {
            return Err(OnnxError::NotInstalled { name: name.to_string(), dir: self.dir.clone() });
        }
        // An install in progress holds the lock; wait for it rather than read half of one.
        let _reading = self.lock(name, Lock::Shared)?;
        self.verify(name).map(|_| file).map_err(|reason| OnnxError::Damaged {
            name: name.to_string(),
            file: self.model_file(name),
            reason,
        })
    }

    /// The manifest of the installed model `name`, if its file is a regular file that matches the manifest:
    /// the manifest names this model, and the file's SHA-256 is the one recorded. Otherwise, what is wrong.
    pub fn verify(&self, name: &str) -> Result<Manifest, String> {
        let file = self.model_file(name);
        match std::fs::metadata(&file) {
            Ok(metadata) if metadata.is_file() => {}
            Ok(_) => return Err("it is not a regular file".into()),
            Err(err) => return Err(format!("cannot read it: {err}")),
        }
        let manifest = self.read_manifest(name)?;
        if manifest.name != name {
            return Err(format!(
                "its manifest {} is the manifest of '{}'",
                self.manifest_file(name).display(),
                manifest.name
            ));
        }
        let found = verified_sha256(&file).map_err(|err| format!("cannot read it: {err}"))?;
        if found != manifest.stored_sha256 {
            return Err(format!(
                "its SHA-256 is {found}, but its manifest records {} (the file was changed or damaged)",
                manifest.stored_sha256
            ));
        }
        Ok(manifest)
    }

    fn read_manifest(&self, name: &str) -> Result<Manifest, String> {
        let path = self.manifest_file(name);
        let text = nst_files::read_text(&path, nst_files::FileKind::Manifest)
            .map_err(|err| format!("its manifest {} cannot be read: {err}", path.display()))?;
        toml::from_str::<Manifest>(&text).map_err(|err| format!("its manifest {} is not valid: {err}", path.display()))
    }

    /// Stores `model` as `name` with its manifest, as one step: both are written in full under new temporary
    /// names first, then moved into place under the model's lock, the old pair kept aside until the new pair
    /// is in and reads back. After any failure, or beside another install of the same name, the store holds
    /// the old model and manifest or the new ones, never a mix. The model's description becomes what runs
    /// report.
    pub fn install(&self, name: &str, model: &Vgg19, provenance: &Provenance) -> Result<Manifest, OnnxError> {
        check_model_name(name).map_err(|reason| OnnxError::Store { path: self.dir.clone(), reason })?;
        self.create_dir()?;
        let _installing = self.lock(name, Lock::Exclusive)?;
        // What an install killed between its renames left aside (hundreds of MB each), now that none is running.
        nst_files::remove_leftover_temporaries_of(&[&self.model_file(name), &self.manifest_file(name)]);
        let bytes = vgg19_to_safetensors_bytes(model)?;
        let manifest = Manifest {
            name: name.to_string(),
            description: bounded(&model.description, MAX_DESCRIPTION),
            source: bounded(&provenance.source, MAX_SOURCE),
            source_sha256: provenance.source_sha256.clone(),
            stored_sha256: sha256_hex(&bytes),
            licence: bounded(&provenance.licence, MAX_SOURCE),
            date: utc_date(SystemTime::now()),
        };
        let text = toml::to_string(&manifest).expect("a manifest is plain strings");
        let (model_file, manifest_file) = (self.model_file(name), self.manifest_file(name));
        let new_model = nst_files::write_temporary_with(&model_file, |w| w.write_all(&bytes))
            .map_err(|e| self.error(&model_file, e))?;
        let new_manifest = match nst_files::write_temporary_with(&manifest_file, |w| w.write_all(text.as_bytes())) {
            Ok(path) => path,
            Err(err) => {
                let _ = std::fs::remove_file(&new_model);
                return Err(self.error(&manifest_file, err));
            }
        };
        let mut swap = Swap::default();
        let moved = swap
            .replace(&new_model, &model_file)
            .and_then(|()| swap.replace(&new_manifest, &manifest_file))
            .map_err(|(path, err)| self.error(&path, err))
            // Read back what was stored: the file must load as the same weights.
            .and_then(|()| {
                if load_vgg19(&model_file)?.convs == model.convs {
                    Ok(())
                } else {
                    Err(self.error(&model_file, std::io::Error::other("the stored weights read back differently")))
                }
            });
        let _ = std::fs::remove_file(&new_model);
        let _ = std::fs::remove_file(&new_manifest);
        match moved {
            Ok(()) => {
                swap.commit();
                Ok(manifest)
            }
            Err(err) => {
                swap.roll_back();
                Err(err)
            }
        }
    }

    /// The installed models, by name, each verified against its manifest (see [`ModelStore::verify`]); a model
    /// that fails is listed with what is known and what is wrong. Entries named `*.safetensors` that are not
    /// regular files (folders, FIFOs) are not models and are left out.
    pub fn list(&self) -> Result<Vec<Installed>, OnnxError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(self.not_a_folder_or(err)),
        };
        let mut models = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".safetensors"))
            else {
                continue;
            };
            if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                continue;
            }
            let (manifest, problem) = match self.verify(name) {
                Ok(manifest) => (manifest, None),
                Err(problem) => {
                    let known = self.read_manifest(name).ok().filter(|m| m.name == name);
                    (known.unwrap_or_else(|| Manifest::unknown(name)), Some(problem))
                }
            };
            models.push(Installed { manifest, file: path, problem });
        }
        models.sort_by(|a, b| a.manifest.name.cmp(&b.manifest.name));
        Ok(models)
    }

    fn create_dir(&self) -> Result<(), OnnxError> {
        std::fs::create_dir_all(&self.dir).map_err(|err| self.not_a_folder_or(err))
    }

    /// `NST_MODELS` naming a file says so, instead of "File exists".
    fn not_a_folder_or(&self, err: std::io::Error) -> OnnxError {
        match std::fs::metadata(&self.dir) {
            Ok(metadata) if !metadata.is_dir() => OnnxError::Store {
                path: self.dir.clone(),
                reason: format!("is not a folder: the models folder ({MODELS_ENV} or --models-dir) must be one"),
            },
            _ => self.error(&self.dir, err),
        }
    }

    /// The lock of `name`'s pair of files: exclusive while installing, shared while reading. A second install
    /// of the same name is refused at once; a reader waits for an install to finish. The operating system
    /// releases it when the process ends, killed or not.
    fn lock(&self, name: &str, kind: Lock) -> Result<Option<std::fs::File>, OnnxError> {
        let path = self.dir.join(format!(".{name}.lock"));
        let opened = match kind {
            Lock::Exclusive => nst_files::open_lock_file(&path),
            // A reader creates nothing: a store without a lock file has never had an install to wait for.
            // Opened without blocking: a FIFO planted at its name is refused, not waited on forever.
            Lock::Shared => match nst_files::open_regular(&path, nst_files::FileKind::Lock) {
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                other => other.map(|(file, _)| file),
            },
        };
        let file = opened.map_err(|e| self.error(&path, e))?;
        match kind {
            Lock::Shared => file.lock_shared().map_err(|e| self.error(&path, e))?,
            Lock::Exclusive => match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(OnnxError::Store {
                        path: self.dir.clone(),
                        reason: format!(
                            "another nst is installing or reading '{name}' here now: try again when it has finished"
                        ),
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(self.error(&path, e)),
            },
        }
        Ok(Some(file))
    }

    fn error(&self, path: &Path, err: std::io::Error) -> OnnxError {
        OnnxError::Store { path: path.to_path_buf(), reason: err.to_string() }
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex SHA-256 of the file at `path`, read in blocks rather than held in memory.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let (mut file, _) = nst_files::open_regular(path, nst_files::FileKind::Model)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buffer)? {
            0 => break,
            count => hasher.update(&buffer[..count]),
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYY-MM-DD` of `time` in UTC (Howard Hinnant's civil-from-days).
pub fn utc_date(time: SystemTime) -> String {
    let days = time.duration_since(UNIX_EPOCH).map(|d| d.as_secs() / 86_400).unwrap_or(0) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::random_vgg19;
    use std::time::Duration;

    #[test]
    fn names_and_paths_are_told_apart() {
        for name in ["vgg19", "vgg19-caffe", "my_model.v2"] {
            assert!(is_model_name(name), "{name}");
        }
        for path in [
            "",
            "./vgg19",
            "models/vgg19",
            "vgg19.onnx",
            "w.safetensors",
            "vgg19-dcbb9e9d.pth",
            ".hidden",
            "a b",
            "C:\\m",
        ] {
            assert!(!is_model_name(path), "{path}");
        }
    }

    #[test]
    fn names_windows_cannot_store_are_refused_on_every_platform() {
        for name in ["vgg19", "console", "com10", "lpt", "nul-weights", "my.model"] {
            assert_eq!(check_model_name(name), Ok(()), "{name}");
        }
        for name in ["CON", "nul", "Com1", "aux.", "lpt9.v2", "PRN.x", "a.", BUILTIN, "a b"] {
            let refused = check_model_name(name).expect_err(name);
            assert!(refused.contains(&format!("'{name}'")), "{refused}");
        }
        assert!(check_model_name("com1").unwrap_err().contains("Windows reserves COM1"));
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(utc_date(UNIX_EPOCH), "1970-01-01");
        assert_eq!(utc_date(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29");
        assert_eq!(utc_date(UNIX_EPOCH + Duration::from_secs(1_796_083_200 + 86_399)), "2026-12-01");
    }

    #[test]
    fn install_resolve_and_list() {
        let dir = std::env::temp_dir().join(format!("nst-store-{}", std::process::id()));
        let store = ModelStore::at(&dir);
        let missing = store.resolve("vgg19").unwrap_err().to_string();
        assert!(missing.contains("nst model fetch") && missing.contains(&dir.display().to_string()), "{missing}");
        let model = random_vgg19(3);
        let provenance = Provenance { source: "test".into(), source_sha256: "00".into(), licence: "none".into() };
        let manifest = store.install("vgg19", &model, &provenance).unwrap();
        assert_eq!(manifest.stored_sha256, sha256_hex(&std::fs::read(store.model_file("vgg19")).unwrap()));
        assert_eq!(load_vgg19(&store.resolve("vgg19").unwrap()).unwrap().convs, model.convs);
        let listed = store.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].manifest, manifest);
        assert_eq!(listed[0].problem, None);
        assert!(store.install("builtin", &model, &provenance).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn scratch_store(name: &str) -> (PathBuf, ModelStore) {
        let dir = std::env::temp_dir().join(format!("nst-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        (dir.clone(), ModelStore::at(dir))
    }

    fn provenance() -> Provenance {
        Provenance { source: "test".into(), source_sha256: "00".into(), licence: "none".into() }
    }

    #[cfg(unix)]
    #[test]
    fn links_at_the_old_temporary_names_are_not_followed() {
        let (dir, store) = scratch_store("links");
        let victim = dir.join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        for name in [".vgg19.safetensors.partial", ".vgg19.toml.partial"] {
            std::os::unix::fs::symlink(&victim, dir.join(name)).unwrap();
        }
        store.install("vgg19", &random_vgg19(1), &provenance()).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert!(store.verify("vgg19").is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn installs_of_one_name_at_once_leave_one_whole_model() {
        let (dir, store) = scratch_store("race");
        for round in 0..2u64 {
            let results: Vec<Result<Manifest, OnnxError>> = std::thread::scope(|scope| {
                let runs: Vec<_> = (0..2u64)
                    .map(|i| {
                        let store = store.clone();
                        scope.spawn(move || store.install("vgg19", &random_vgg19(round * 2 + i), &provenance()))
                    })
                    .collect();
                runs.into_iter().map(|run| run.join().unwrap()).collect()
            });
            for refused in results.iter().filter_map(|r| r.as_ref().err()) {
                assert!(refused.to_string().contains("another nst is installing or reading 'vgg19'"), "{refused}");
            }
            assert!(results.iter().any(Result::is_ok), "both installs failed");
            let manifest = store.verify("vgg19").unwrap_or_else(|problem| panic!("round {round}: {problem}"));
            assert_eq!(manifest.stored_sha256, file_sha256(&store.model_file("vgg19")).unwrap());
        }
        let left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".partial"))
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_manifest_that_cannot_be_written_leaves_no_model_behind() {
        let (dir, store) = scratch_store("rollback");
        // A folder where the manifest goes: the model is written, the manifest's move fails, and the install
        // must take the model back out.
        std::fs::create_dir_all(store.manifest_file("fresh").join("occupied")).unwrap();
        assert!(store.install("fresh", &random_vgg19(2), &provenance()).is_err());
        assert!(!store.model_file("fresh").exists(), "a model was left without its manifest");
        assert!(store.manifest_file("fresh").join("occupied").is_dir());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_model_that_no_longer_matches_its_manifest_is_refused_and_listed_as_damaged() {
        let (dir, store) = scratch_store("damaged");
        store.install("vgg19", &random_vgg19(3), &provenance()).unwrap();
        store.install("other", &random_vgg19(4), &provenance()).unwrap();
        // The same length, one byte changed, a second later: what a damaged copy looks like.
        let file = store.model_file("vgg19");
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&file, &bytes).unwrap();
        let refused = store.resolve("vgg19").unwrap_err().to_string();
        assert!(refused.contains("'vgg19'") && refused.contains("nst model fetch vgg19"), "{refused}");
        // A manifest copied from another model belongs to that model.
        std::fs::copy(store.manifest_file("vgg19"), store.manifest_file("other")).unwrap();
        // Neither a folder nor a FIFO named like a model is one.
        std::fs::create_dir(dir.join("folder.safetensors")).unwrap();
        let listed = store.list().unwrap();
        let names: Vec<&str> = listed.iter().map(|m| m.manifest.name.as_str()).collect();
        assert_eq!(names, ["other", "vgg19"]);
        let problem = |i: usize| listed[i].problem.clone().unwrap_or_default();
        assert!(problem(0).contains("manifest of 'vgg19'"), "{}", problem(0));
        assert!(problem(1).contains("SHA-256"), "{}", problem(1));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_long_description_still_gives_a_manifest_that_reads_back() {
        let (dir, store) = scratch_store("long");
        let mut model = random_vgg19(5);
        model.description = "x".repeat(200_000);
        store.install("vgg19", &model, &provenance()).unwrap();
        let manifest = store.verify("vgg19").unwrap();
        assert!(manifest.description.len() < 2000 && manifest.description.ends_with("..."));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_models_folder_that_is_a_file_is_named_as_such() {
        let (dir, _) = scratch_store("file");
        let file = dir.join("models");
        std::fs::write(&file, b"").unwrap();
        let refused = ModelStore::at(&file).install("vgg19", &random_vgg19(6), &provenance()).unwrap_err();
        assert!(refused.to_string().contains("is not a folder"), "{refused}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn what_a_killed_install_left_aside_is_removed_by_the_next_install() {
        let (dir, store) = scratch_store("leftovers");
        store.install("vgg19", &random_vgg19(7), &provenance()).unwrap();
        let aside = dir.join(".vgg19.safetensors.0123456789abcdef.partial");
        std::fs::write(&aside, b"an old model kept aside").unwrap();
        store.install("vgg19", &random_vgg19(8), &provenance()).unwrap();
        assert!(!aside.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_at_the_lock_name_is_refused_not_waited_on() {
        let (dir, store) = scratch_store("fifo-lock");
        store.install("vgg19", &random_vgg19(9), &provenance()).unwrap();
        let lock = dir.join(".vgg19.lock");
        std::fs::remove_file(&lock).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(&lock).status().unwrap().success());
        let started = std::time::Instant::now();
        let refused = store.resolve("vgg19").unwrap_err().to_string();
        assert!(refused.contains(".vgg19.lock") && refused.contains("not a regular file"), "{refused}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
