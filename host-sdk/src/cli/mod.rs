//! The `nst` command: argument parsing and dispatch to its subcommands.

mod cancel;
mod stylize;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Neural style transfer (Gatys et al.) with VGG19 on ONNX Runtime.
#[derive(Parser)]
#[command(name = "nst", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Stylize one image with a preset.
    Stylize(Box<stylize::StylizeArgs>),
    /// List the bundled presets.
    Presets(PresetsArgs),
}

#[derive(Args)]
struct PresetsArgs {
    /// Folder of bundled presets (default: beside the program, or NST_PRESETS_DIR).
    #[arg(long)]
    presets_dir: Option<PathBuf>,
}

/// Runs the command line and maps errors to exit codes: 1 failure, 2 usage, 130 cancelled.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stylize(args) => stylize::run(*args),
        Command::Presets(args) => list_presets(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(nst::EngineError::Cancelled) => {
            eprintln!("nst: cancelled; no output written");
            ExitCode::from(130)
        }
        Err(err) => {
            eprintln!("nst: {err}");
            ExitCode::from(1)
        }
    }
}

fn list_presets(args: PresetsArgs) -> nst::Result<()> {
    let dir = nst::preset::presets_dir(args.presets_dir.as_deref())?;
    for (name, path) in nst::preset::bundled_presets(&dir) {
        match nst::preset::load_preset(&path.display().to_string(), None) {
            Ok(preset) => println!("{name:<12} {}", preset.description),
            Err(err) => println!("{name:<12} (invalid: {err})"),
        }
    }
    Ok(())
}
