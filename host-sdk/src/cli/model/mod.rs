//! `nst model`: install pretrained VGG19 weights (downloaded or from a file) into the models folder, and list
//! what is installed. It needs neither the plugin nor ONNX Runtime: the weights are read and stored by
//! `nst_onnx`, and runs find them by name (`--model vgg19`).

mod download;
mod fetch;
mod import;

use std::path::PathBuf;

use clap::{Args, Subcommand};
use nst_onnx::store::ModelStore;

use super::error::CliError;
use super::output::Shown;

/// `nst model ...`.
#[derive(Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    command: ModelCommand,
    /// The models folder (default: NST_MODELS, else the user's data folder, e.g. ~/.local/share/nst/models).
    #[arg(long, global = true, value_name = "DIR")]
    models_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Download ImageNet VGG19 weights, verify them, keep the 16 feature convolutions (about 80 MB) and install
    /// them under NAME (vgg19: torchvision's weights, from the Hugging Face hub, else torchvision's .pth).
    Fetch(fetch::FetchArgs),
    /// Install VGG19 weights from a file: .safetensors (timm or torchvision names), a torchvision PyTorch
    /// checkpoint (.pth), or ONNX (torchvision export with or without its classifier, the model zoo's vgg19-7).
    Import(import::ImportArgs),
    /// List the installed models, where they are, and the built-in model.
    List,
}

/// Runs `nst model`.
pub fn run(args: ModelArgs) -> Result<(), CliError> {
    let store = match args.models_dir {
        Some(dir) => ModelStore::at(dir),
        None => ModelStore::default_location().map_err(|e| CliError::Usage(e.to_string()))?,
    };
    match args.command {
        ModelCommand::Fetch(fetch) => fetch::run(&store, fetch),
        ModelCommand::Import(import) => import::run(&store, import),
        ModelCommand::List => list(&store),
    }
}

/// Fetches the pretrained VGG19 into the default models folder unless it is there (for the plug-in installers).
pub fn fetch_pretrained() -> Result<(), CliError> {
    let store = ModelStore::default_location().map_err(|e| CliError::Usage(e.to_string()))?;
    fetch::run(&store, fetch::FetchArgs::vgg19())
}

fn list(store: &ModelStore) -> Result<(), CliError> {
    let models = store.list().map_err(|e| CliError::Usage(e.to_string()))?;
    outln!("models folder: {}", store.dir().display());
    outln!("{:<12} built-in random-weight VGG19 (seeded, not pretrained; always available)", "builtin");
    for model in &models {
        let (manifest, path) = (&model.manifest, &model.file);
        let size = std::fs::metadata(path).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);
        outln!("{:<12} {}", Shown(&manifest.name), Shown(&manifest.description));
        if let Some(problem) = &model.problem {
            outln!(
                "{:<12}   DAMAGED: {}; runs refuse it: `nst model fetch {}` repairs it",
                "",
                Shown(problem),
                Shown(&manifest.name)
            );
        }
        outln!("{:<12}   file {} ({size:.1} MB), installed {}", "", path.display(), Shown(&manifest.date));
        outln!(
            "{:<12}   from {} (sha256 {}), licence {}",
            "",
            Shown(&manifest.source),
            Shown(&manifest.source_sha256),
            Shown(&manifest.licence)
        );
    }
    if models.is_empty() {
        outln!("no pretrained model installed: `nst model fetch` downloads VGG19 (about 550 MB, keeps 80 MB)");
    }
    Ok(())
}

/// The store's error as the command's.
fn store_error(err: nst_onnx::OnnxError) -> CliError {
    CliError::Usage(err.to_string())
}
