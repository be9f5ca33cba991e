//! `nst bench`: seconds per evaluation against the matrix-product peak of what runs the graphs, per size.

use clap::Args;

use super::arguments::EngineArgs;
use super::error::CliError;

/// Arguments of `nst bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// Image sides to measure (repeat; default 128 256 512).
    #[arg(long = "size")]
    sizes: Vec<u32>,
    /// Timed evaluations per size (after two warm-up ones); the median is reported.
    #[arg(long, default_value_t = 5)]
    evaluations: u32,
    /// Preset whose layers, pooling and model are measured.
    #[arg(long, default_value = "mosaic")]
    preset: String,
    /// Print a JSON array (one object per size) instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs `nst bench`.
pub fn run(args: BenchArgs) -> Result<(), CliError> {
    let (_, engine) = args.engine.open()?;
    let sizes = if args.sizes.is_empty() { vec![128, 256, 512] } else { args.sizes.clone() };
    let mut rows = Vec::new();
    if !args.json {
        outln!(
            "{:>6} {:>10} {:>10} {:>10} {:>10} {:>8} {:>7} {:>9} {:>10}",
            "size",
            "s/eval",
            "conv GFLOP",
            "GFLOP/s",
            "peak",
            "ratio",
            "rust",
            "peak MiB",
            "saved MiB"
        );
    }
    for size in sizes {
        let json = engine.benchmark(&args.preset, size, args.evaluations)?;
        let row: serde_json::Value = serde_json::from_str(&json)
            .map_err(|e| CliError::Usage(format!("the plugin's benchmark is not JSON: {e}")))?;
        if !args.json {
            let f = |key: &str| row[key].as_f64().unwrap_or(f64::NAN);
            outln!(
                "{:>6} {:>10.3} {:>10.1} {:>10.1} {:>10.1} {:>8.2} {:>6.1}% {:>9.0} {:>10.0}",
                f("size"),
                f("seconds_per_evaluation"),
                f("conv_gflop"),
                f("achieved_gflops"),
                f("peak_gflops"),
                f("ratio_to_floor"),
                100.0 * f("rust_share"),
                f("peak_rss_mb"),
                f("saved_activations_mb")
            );
        }
        rows.push(row);
    }
    if args.json {
        outln!("{}", serde_json::Value::Array(rows));
    }
    Ok(())
}
