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

    /// The installed model file of `name`, or an error that says how to install it.
    pub fn resolve(&self, name: &str) -> Result<PathBuf, OnnxError> {
        let file = self.model_file(name);
        if file.is_file() {
            Ok(file)
        } else {
            Err(OnnxError::NotInstalled { name: name.to_string(), dir: self.dir.clone() })
        }
    }

    /// Stores `model` as `name` with its manifest; both are written under temporary names and renamed into
    /// place, model first, so a reader never sees a manifest without its model. The model's description
    /// becomes what runs report.
    pub fn install(&self, name: &str, model: &Vgg19, provenance: &Provenance) -> Result<Manifest, OnnxError> {
        check_model_name(name).map_err(|reason| OnnxError::Store { path: self.dir.clone(), reason })?;
        std::fs::create_dir_all(&self.dir).map_err(|e| self.error(&self.dir, e))?;
        let bytes = vgg19_to_safetensors_bytes(model)?;
        let manifest = Manifest {
            name: name.to_string(),
            description: model.description.clone(),
            source: provenance.source.clone(),
            source_sha256: provenance.source_sha256.clone(),
            stored_sha256: sha256_hex(&bytes),
            licence: provenance.licence.clone(),
            date: utc_date(SystemTime::now()),
        };
        let text = toml::to_string(&manifest).expect("a manifest is plain strings");
        write_atomically(&self.model_file(name), &bytes).map_err(|e| self.error(&self.model_file(name), e))?;
        write_atomically(&self.manifest_file(name), text.as_bytes())
            .map_err(|e| self.error(&self.manifest_file(name), e))?;
        // Read back what was stored: the file must load as the same weights.
        let stored = load_vgg19(&self.model_file(name))?;
        if stored.convs != model.convs {
            return Err(
                self.error(&self.model_file(name), std::io::Error::other("the stored weights read back differently"))
            );
        }
        Ok(manifest)
    }

    /// The installed models, by name; a model file without a readable manifest is listed with what is known.
    pub fn list(&self) -> Result<Vec<(Manifest, PathBuf)>, OnnxError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(self.error(&self.dir, err)),
        };
        let mut models = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".safetensors"))
            else {
                continue;
            };
            let manifest = nst_files::read_text(&self.manifest_file(name), nst_files::FileKind::Manifest)
                .ok()
                .and_then(|text| toml::from_str::<Manifest>(&text).ok())
                .unwrap_or_else(|| Manifest {
                    name: name.to_string(),
                    description: "(no readable manifest)".into(),
                    source: String::new(),
                    source_sha256: String::new(),
                    stored_sha256: String::new(),
                    licence: String::new(),
                    date: String::new(),
                });
            models.push((manifest, path));
        }
        models.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(models)
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

/// Writes `bytes` to `path` through a temporary file in the same folder, synced, then renamed into place.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("model");
    let partial = path.with_file_name(format!(".{name}.partial"));
    let result = (|| {
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&partial, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
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
        assert_eq!(listed[0].0, manifest);
        assert!(store.install("builtin", &model, &provenance).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
