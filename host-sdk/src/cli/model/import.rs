//! `nst model import FILE`: install VGG19 weights from a file, for machines without internet and for mirrors.

use std::path::PathBuf;

use clap::Args;
use nst_files::{FileKind, open_regular};
use nst_onnx::import::load_vgg19;
use nst_onnx::store::{ModelStore, Provenance, file_sha256};

use super::store_error;
use crate::cli::error::CliError;

/// `nst model import`.
#[derive(Args)]
pub struct ImportArgs {
    /// A VGG19 .safetensors (timm or torchvision names), .pth (torchvision checkpoint) or .onnx file
    /// (torchvision export, model zoo vgg19-7).
    file: PathBuf,
    /// The name to install it under (runs use `--model NAME`).
    #[arg(long, default_value = "vgg19")]
    name: String,
    /// The weights' licence, recorded in the manifest.
    #[arg(long, default_value = "unknown (imported from a file)")]
    licence: String,
}

/// Reads, checks and installs the file's weights.
pub fn run(store: &ModelStore, args: ImportArgs) -> Result<(), CliError> {
    let file = &args.file;
    // The name first: a name that cannot be stored is refused before the file is read and hashed.
    nst_onnx::store::check_model_name(&args.name).map_err(CliError::Usage)?;
    // A FIFO, a device, a folder or a file larger than any VGG19 is refused before it is hashed.
    open_regular(file, FileKind::Model).map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
    // Hashed in blocks; the loader reads the weights itself (a checkpoint tensor by tensor).
    let source_sha256 =
        file_sha256(file).map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
    let source = std::fs::canonicalize(file).unwrap_or_else(|_| file.clone()).display().to_string();
    let mut model = load_vgg19(file).map_err(store_error)?;
    model.description =
        format!("VGG19 '{}', imported from {}", args.name, model.description.trim_start_matches("VGG19 from "));
    let provenance = Provenance { source, source_sha256, licence: args.licence };
    let manifest = store.install(&args.name, &model, &provenance).map_err(store_error)?;
    outln!("installed '{}' in {}", manifest.name, store.model_file(&manifest.name).display());
    outln!("model:  {}", crate::cli::output::Shown(&manifest.description));
    outln!("sha256: {} (source), {} (stored)", manifest.source_sha256, manifest.stored_sha256);
    outln!("use it: nst stylize IMAGE --preset NAME -o OUT --model {}", manifest.name);
    Ok(())
}
