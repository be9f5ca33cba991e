//! `nst model fetch`: ImageNet VGG19 weights, verified, then installed as the project's own model file.
//!
//! The weights are torchvision's VGG19 (`VGG19_Weights.IMAGENET1K_V1`, BSD-3-Clause), from two sources:
//! - the Hugging Face hub, as timm publishes them: `timm/vgg19.tv_in1k`, file `model.safetensors`, checked
//!   against the SHA-256 the hub announces for it (`HF_ENDPOINT` points at a mirror of the hub, as it does for
//!   the hub's own tools);
//! - should that fail, torchvision's own `vgg19-dcbb9e9d.pth`, checked as torch.hub checks it (the SHA-256
//!   starts with the hex digits in its name) and recorded with its whole SHA-256 (`NST_TORCHVISION_URL`
//!   names a mirror's copy; its name must keep the hash prefix).

use clap::Args;
use std::path::PathBuf;

use nst_onnx::Vgg19;
use nst_onnx::import::{MAX_MODEL_BYTES, load_vgg19};
use nst_onnx::store::{ModelStore, Provenance};

use super::download::{Checksum, DownloadError, Size, download_verified, get_text};
use super::store_error;
use crate::cli::error::CliError;

/// The hub's address unless `HF_ENDPOINT` names another.
const HUB: &str = "https://huggingface.co";
/// The repository holding torchvision's ImageNet VGG19 in safetensors.
const REPOSITORY: &str = "timm/vgg19.tv_in1k";
/// Its weights file.
const FILE: &str = "model.safetensors";
/// The weights' licence (torchvision's).
const LICENCE: &str = "BSD-3-Clause (torchvision)";
/// torchvision's own file of the same weights, unless `NST_TORCHVISION_URL` names a mirror's copy.
const TORCHVISION_URL: &str = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth";
/// That file's name, and its size: no size is announced for it, so a copy under this name that grows past it
/// is cut off.
const TORCHVISION_FILE: (&str, u64) = ("vgg19-dcbb9e9d.pth", 574_673_361);

/// `nst model fetch`.
#[derive(Args)]
pub struct FetchArgs {
    /// The model to fetch; `vgg19` is the one known today.
    #[arg(default_value = "vgg19")]
    name: String,
    /// Download and install again even when the model is installed.
    #[arg(long)]
    force: bool,
    /// No progress bar.
    #[arg(short, long)]
    quiet: bool,
}

impl FetchArgs {
    /// The pretrained VGG19, fetched unless installed, with a progress bar.
    pub fn vgg19() -> FetchArgs {
        FetchArgs { name: "vgg19".to_string(), force: false, quiet: false }
    }
}

/// Downloads, verifies and installs the model.
pub fn run(store: &ModelStore, args: FetchArgs) -> Result<(), CliError> {
    if args.name != "vgg19" {
        return Err(CliError::Usage(format!(
            "no source is known for a model named '{}': `nst model fetch` knows vgg19; for other weights use \
             `nst model import FILE --name {}`",
            args.name, args.name
        )));
    }
    match store.resolve(&args.name) {
        Ok(file) if !args.force => {
            outln!("'{}' is already installed in {} (--force fetches it again)", args.name, file.display());
            return Ok(());
        }
        // A damaged model is repaired by fetching it again.
        Err(damaged @ nst_onnx::OnnxError::Damaged { .. }) => errln!("nst: {damaged}\nnst: fetching it again"),
        _ => {}
    }
    let hub = std::env::var("HF_ENDPOINT").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| HUB.to_string());
    let torchvision_url =
        std::env::var("NST_TORCHVISION_URL").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| TORCHVISION_URL.into());
    let hub_file_url = format!("{}/{REPOSITORY}/resolve/main/{FILE}", hub.trim_end_matches('/'));
    let fetched = match from_hub(store, hub.trim_end_matches('/'), args.quiet) {
        Ok(fetched) => fetched,
        // A full disk or an unwritable models folder fails the other source the same way.
        Err(hub_error) if hub_error.is_local() => return Err(CliError::Usage(hub_error.to_string())),
        Err(hub_error) => {
            errln!("nst: {hub_error}\nnst: trying torchvision's own copy of the same weights");
            from_torchvision(store, &torchvision_url, args.quiet).map_err(|torchvision_error| {
                let unreachable =
                    [&hub_error, &torchvision_error].iter().any(|err| matches!(err, DownloadError::Unreachable { .. }));
                let hint = if unreachable {
                    format!(
                        "\nWithout internet here: download {hub_file_url} (or {torchvision_url}) on a machine that \
                         has it, copy it over and run `nst model import {FILE} --name {}`. A proxy is taken from \
                         HTTPS_PROXY, HTTP_PROXY or ALL_PROXY.",
                        args.name
                    )
                } else {
                    String::new()
                };
                CliError::Usage(format!("{torchvision_error}{hint}"))
            })?
        }
    };
    let Fetched { mut model, url, sha256, partial } = fetched;
    let from_pth = file_name(&url).ends_with(".pth");
    let source_name = if from_pth { "torchvision's vgg19-dcbb9e9d.pth" } else { REPOSITORY };
    model.description = format!(
        "pretrained VGG19 '{}' (torchvision's ImageNet weights, {source_name}{})",
        args.name,
        if from_pth { "" } else { " on the Hugging Face hub" }
    );
    let provenance = Provenance { source: url, source_sha256: sha256, licence: LICENCE.into() };
    let manifest = store.install(&args.name, &model, &provenance).map_err(store_error)?;
    let _ = std::fs::remove_file(&partial);
    outln!("installed '{}' in {}", manifest.name, store.model_file(&manifest.name).display());
    outln!("model:  {}", crate::cli::output::Shown(&manifest.description));
    outln!("source: {}", manifest.source);
    outln!("sha256: {} (downloaded, verified), {} (stored)", manifest.source_sha256, manifest.stored_sha256);
    outln!("use it: nst stylize IMAGE --preset NAME -o OUT --model {}", manifest.name);
    Ok(())
}

/// A verified download, read: the weights, where they came from, the file's SHA-256 and where it lies.
struct Fetched {
    model: Vgg19,
    url: String,
    sha256: String,
    partial: PathBuf,
}

/// The weights from the hub, checked against the SHA-256 its file listing announces.
fn from_hub(store: &ModelStore, hub: &str, quiet: bool) -> Result<Fetched, DownloadError> {
    let listing_url = format!("{hub}/api/models/{REPOSITORY}/tree/main");
    let url = format!("{hub}/{REPOSITORY}/resolve/main/{FILE}");
    let listing = get_text(&listing_url)?;
    let (sha256, size) = announced_checksum(&listing, FILE)
        .map_err(|reason| DownloadError::Refused { url: listing_url.clone(), reason })?;
    if size > MAX_MODEL_BYTES {
        return Err(DownloadError::Refused {
            url: listing_url,
            reason: format!("it announces {size} bytes for {FILE}, more than a VGG19 file can be ({MAX_MODEL_BYTES})"),
        });
    }
    if !quiet {
        outln!("fetching {url} ({:.0} MB, SHA-256 {sha256})", size as f64 / 1e6);
    }
    let partial = downloads(store).join(format!("{sha256}.partial"));
    let sha256 = download_verified(&url, &Checksum::Sha256(sha256), Size::Announced(size), &partial, !quiet)?;
    read_weights(url, sha256, partial)
}

/// The weights from torchvision's `.pth`, checked against the hash prefix in its name.
fn from_torchvision(store: &ModelStore, url: &str, quiet: bool) -> Result<Fetched, DownloadError> {
    let name = file_name(url);
    let prefix = hash_prefix(name).ok_or_else(|| DownloadError::Refused {
        url: url.into(),
        reason: format!("'{name}' carries no hash prefix (NAME-HEXDIGITS.pth) to check the download against"),
    })?;
    if !quiet {
        outln!("fetching {url} (SHA-256 starting {prefix})");
    }
    let partial = downloads(store).join(format!("{name}.partial"));
    // Another file under a mirror's name is still a VGG19 file, which the importer reads up to its limit.
    let size = Size::AtMost(if name == TORCHVISION_FILE.0 { TORCHVISION_FILE.1 } else { MAX_MODEL_BYTES });
    let sha256 = download_verified(url, &Checksum::Sha256Prefix(prefix.into()), size, &partial, !quiet)?;
    read_weights(url.into(), sha256, partial)
}

fn downloads(store: &ModelStore) -> PathBuf {
    store.dir().join(".downloads")
}

/// Reads the verified download's weights (any format the importer knows).
fn read_weights(url: String, sha256: String, partial: PathBuf) -> Result<Fetched, DownloadError> {
    let model = load_vgg19(&partial).map_err(|err| DownloadError::Refused {
        url: url.clone(),
        reason: format!("the verified file is not a usable VGG19: {err}"),
    })?;
    Ok(Fetched { model, url, sha256, partial })
}

/// The last segment of a URL's path: a mirror's `?query` or `#fragment` (a signed link's token) is no part of
/// the file's name.
fn file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path)
}

/// The hex digits after the last '-' of a file name before its extension, as torch.hub reads them
/// (`vgg19-dcbb9e9d.pth` -> `dcbb9e9d`).
fn hash_prefix(name: &str) -> Option<&str> {
    let stem = name.split('.').next()?;
    let prefix = stem.rsplit_once('-')?.1;
    (prefix.len() >= 8 && prefix.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then_some(prefix)
}

/// The SHA-256 and size the hub announces for `file` in a tree listing (`[{"path", "size", "lfs": {"oid",
/// "size"}}]`): large files are stored with Git LFS, whose object id is the file's SHA-256.
fn announced_checksum(listing: &str, file: &str) -> Result<(String, u64), String> {
    let entries: serde_json::Value =
        serde_json::from_str(listing).map_err(|e| format!("the file listing is not JSON: {e}"))?;
    let entry = entries
        .as_array()
        .and_then(|entries| entries.iter().find(|entry| entry["path"].as_str() == Some(file)))
        .ok_or_else(|| format!("the listing has no file '{file}'"))?;
    let lfs = &entry["lfs"];
    let sha256 = lfs["oid"].as_str().map(str::to_ascii_lowercase).unwrap_or_default();
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("no SHA-256 is announced for '{file}' (its 'lfs.oid' is '{sha256}')"));
    }
    let size =
        lfs["size"].as_u64().or_else(|| entry["size"].as_u64()).ok_or_else(|| format!("no size for '{file}'"))?;
    Ok((sha256, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_announced_checksum_is_the_lfs_object_id() {
        let sha = "ab".repeat(32);
        let listing = format!(
            r#"[{{"type":"file","path":"README.md","size":10}},
               {{"type":"file","path":"model.safetensors","size":99,"lfs":{{"oid":"{}","size":99,"pointerSize":134}}}}]"#,
            sha.to_uppercase()
        );
        assert_eq!(announced_checksum(&listing, FILE).unwrap(), (sha, 99));
        assert!(announced_checksum("[]", FILE).unwrap_err().contains("no file"));
        let no_lfs = r#"[{"type":"file","path":"model.safetensors","size":99}]"#;
        assert!(announced_checksum(no_lfs, FILE).unwrap_err().contains("no SHA-256"));
    }

    #[test]
    fn the_hash_prefix_is_read_from_the_name_as_torch_hub_reads_it() {
        assert_eq!(hash_prefix("vgg19-dcbb9e9d.pth"), Some("dcbb9e9d"));
        assert_eq!(hash_prefix("vgg19_bn-c79401a0.pth"), Some("c79401a0"));
        assert_eq!(hash_prefix("vgg19.pth"), None);
        assert_eq!(hash_prefix("vgg19-XYZ12345.pth"), None);
    }

    #[test]
    fn a_mirrors_query_and_fragment_are_no_part_of_the_file_name() {
        let url = "https://mirror.example/models/vgg19-dcbb9e9d.pth?token=a.b/c-0123456789#part";
        assert_eq!(file_name(url), "vgg19-dcbb9e9d.pth");
        assert_eq!(file_name("https://mirror.example/vgg19-dcbb9e9d.pth#x/y"), "vgg19-dcbb9e9d.pth");
        assert_eq!(file_name(TORCHVISION_URL), TORCHVISION_FILE.0);
    }
}
