//! The `nst` command: argument parsing and dispatch to its subcommands. It reaches the engine only through the
//! plugin library and the host SDK, like any other host.

#[macro_use]
mod output;

mod arguments;
mod batch;
mod bench;
mod cancel;
mod colour_profile;
mod error;
mod install;
mod model;
mod overwrite;
mod pipeline;
mod preset_info;
mod reading;
mod resolve;
mod save;
mod sizing;
mod stylize;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use arguments::EngineArgs;
use error::CliError;
use output::Shown;

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
    /// Stylize many images: files, folders or globs, or a jobs.toml list; resumable and shardable.
    Batch(Box<batch::BatchArgs>),
    /// Measure seconds per evaluation against the matrix-product peak of the CPU or GPU that runs the graphs.
    Bench(Box<bench::BenchArgs>),
    /// List the bundled presets.
    Presets(PresetsArgs),
    /// Install pretrained VGG19 weights (fetch or import) and list the installed models.
    Model(model::ModelArgs),
    /// Install the GIMP 3 filter (Filters > Artistic > Neural Style) for this user, or remove it.
    Gimp(install::HostArgs),
    /// Install the Krita filter (Filter > Neural Style) for this user, or remove it.
    Krita(install::HostArgs),
}

#[derive(Args)]
struct PresetsArgs {
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs the command line and maps errors to exit codes: 1 failure, 130 cancelled.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stylize(args) => stylize::run(*args),
        Command::Batch(args) => batch::run(*args),
        Command::Bench(args) => bench::run(*args),
        Command::Presets(args) => list_presets(args),
        Command::Model(args) => model::run(args),
        Command::Gimp(args) => install::run_gimp(args),
        Command::Krita(args) => install::run_krita(args),
    };
    let status = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if stylize::is_cancelled(&err) => {
            errln!("nst: cancelled; no output written");
            ExitCode::from(130)
        }
        Err(CliError::BatchFailures(_)) => ExitCode::from(1),
        Err(err) => {
            errln!("nst: {err}");
            ExitCode::from(1)
        }
    };
    match output::failure() {
        Some(failure) if status == ExitCode::SUCCESS => {
            errln!("nst: {failure}");
            ExitCode::from(1)
        }
        _ => status,
    }
}

/// Lists the presets through the plugin alone: no engine, so no ONNX Runtime is needed.
fn list_presets(args: PresetsArgs) -> Result<(), CliError> {
    let plugin = args.engine.plugin()?;
    let json: serde_json::Value = serde_json::from_str(&plugin.describe_presets(args.engine.presets_dir.as_deref())?)
        .map_err(|e| CliError::Usage(format!("the plugin's preset list is not JSON: {e}")))?;
    let mut broken = 0;
    for preset in json.as_array().into_iter().flatten() {
        let name = Shown(preset["name"].as_str().unwrap_or(""));
        match preset["error"].as_str() {
            None => outln!("{name:<12} {}", Shown(preset["description"].as_str().unwrap_or(""))),
            Some(error) => {
                broken += 1;
                outln!("{name:<12} NOT USABLE: {}", Shown(error));
            }
        }
    }
    match broken {
        0 => Ok(()),
        n => Err(CliError::Usage(format!("{n} preset file(s) in the presets folder do not load (see above)"))),
    }
}
