//! `nst model fetch`: ImageNet VGG19 weights from the Hugging Face hub, verified against the SHA-256 the hub
//! announces for the file, then installed as the project's own model file.
//!
//! The source is torchvision's VGG19 (`VGG19_Weights.IMAGENET1K_V1`, BSD-3-Clause) as timm publishes it:
//! `timm/vgg19.tv_in1k`, file `model.safetensors`, with torchvision's tensor names. `HF_ENDPOINT` points at
//! a mirror of the hub, as it does for the hub's own tools.

use clap::Args;
use nst_onnx::import::vgg19_from_safetensors_bytes;
use nst_onnx::store::{ModelStore, Provenance};

use super::download::{DownloadError, agent, download_verified, get_text};
use super::store_error;
use crate::cli::common::CliError;

/// The hub's address unless `HF_ENDPOINT` names another.
const HUB: &str = "https://huggingface.co";
/// The repository holding torchvision's ImageNet VGG19 in safetensors.
const REPOSITORY: &str = "timm/vgg19.tv_in1k";
/// Its weights file.
const FILE: &str = "model.safetensors";
/// The weights' licence (torchvision's).
const LICENCE: &str = "BSD-3-Clause (torchvision)";

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

/// Downloads, verifies and installs the model.
pub fn run(store: &ModelStore, args: FetchArgs) -> Result<(), CliError> {
    if args.name != "vgg19" {
        return Err(CliError::Usage(format!(
            "no source is known for a model named '{}': `nst model fetch` knows vgg19; for other weights use \
             `nst model import FILE --name {}`",
            args.name, args.name
        )));
    }
    if !args.force && store.resolve(&args.name).is_ok() {
        println!(
            "'{}' is already installed in {} (--force fetches it again)",
            args.name,
            store.model_file(&args.name).display()
        );
        return Ok(());
    }
    let hub = std::env::var("HF_ENDPOINT").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| HUB.to_string());
    let hub = hub.trim_end_matches('/');
    let listing_url = format!("{hub}/api/models/{REPOSITORY}/tree/main");
    let file_url = format!("{hub}/{REPOSITORY}/resolve/main/{FILE}");
    let offline_hint = |err: DownloadError| {
        let hint = match err {
            DownloadError::Unreachable { .. } => format!(
                "\nWithout internet here: download {file_url} on a machine that has it, copy it over and run \
                 `nst model import {FILE} --name {}`. A proxy is taken from HTTPS_PROXY, HTTP_PROXY or ALL_PROXY.",
                args.name
            ),
            _ => String::new(),
        };
        CliError::Usage(format!("{err}{hint}"))
    };

    let agent = agent();
    let listing = get_text(&agent, &listing_url).map_err(offline_hint)?;
    let (sha256, size) =
        announced_checksum(&listing, FILE).map_err(|why| CliError::Usage(format!("{listing_url}: {why}")))?;
    if !args.quiet {
        println!("fetching {file_url} ({:.0} MB, SHA-256 {sha256})", size as f64 / 1e6);
    }
    let partial = store.dir().join(".downloads").join(format!("{sha256}.partial"));
    let bytes =
        download_verified(&agent, &file_url, &sha256, Some(size), &partial, !args.quiet).map_err(offline_hint)?;
    let mut model = vgg19_from_safetensors_bytes(&bytes, &file_url).map_err(store_error)?;
    model.description = format!(
        "pretrained VGG19 '{}' (torchvision's ImageNet weights, {REPOSITORY} on the Hugging Face hub)",
        args.name
    );
    let provenance = Provenance { source: file_url.clone(), source_sha256: sha256, licence: LICENCE.into() };
    let manifest = store.install(&args.name, &model, &provenance).map_err(store_error)?;
    drop(bytes);
    let _ = std::fs::remove_file(&partial);
    println!("installed '{}' in {}", manifest.name, store.model_file(&manifest.name).display());
    println!("model:  {}", manifest.description);
    println!("sha256: {} (downloaded, verified), {} (stored)", manifest.source_sha256, manifest.stored_sha256);
    println!("use it: nst stylize IMAGE --preset NAME -o OUT --model {}", manifest.name);
    Ok(())
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
}
