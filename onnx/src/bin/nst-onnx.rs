//! `nst-onnx export`: writes the forward and backward graphs of a VGG19 as .onnx files.

use std::path::PathBuf;
use std::process::ExitCode;

use nst_onnx::backward::backward_graph;
use nst_onnx::forward::forward_graph;
use nst_onnx::graph::encode;
use nst_onnx::import::load_vgg19;
use nst_onnx::random::random_vgg19;
use nst_onnx::{Layer, Pooling};

const USAGE: &str = "\
usage: nst-onnx export -o DIR [--model random|FILE.onnx] [--seed N] [--pooling max|average] [--taps relu1_1,...]

Writes DIR/forward.onnx (image -> ReLU outputs) and DIR/backward.onnx (saved ReLU outputs + tap gradients ->
image gradient). --model defaults to the built-in random VGG19 (seed 0); FILE.onnx is a torchvision
vgg19().features export or the ONNX model zoo vgg19-7.onnx. --taps defaults to the style and content layers
relu1_1,relu2_1,relu3_1,relu4_1,relu4_2,relu5_1.";

struct Options {
    out: PathBuf,
    model: String,
    seed: u64,
    pooling: Pooling,
    taps: Vec<Layer>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let [command, rest @ ..] = args else { return Err("missing command".into()) };
    if command != "export" {
        return Err(format!("unknown command '{command}'"));
    }
    let mut options = Options {
        out: PathBuf::new(),
        model: "random".into(),
        seed: 0,
        pooling: Pooling::Max,
        taps: ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]
            .iter()
            .map(|name| Layer::parse(name).expect("known layer"))
            .collect(),
    };
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "-o" | "--out" => options.out = PathBuf::from(value()?),
            "--model" => options.model = value()?.clone(),
            "--seed" => {
                options.seed = value()?.parse().map_err(|_| "--seed takes a non-negative integer".to_string())?
            }
            "--pooling" => {
                options.pooling = match value()?.as_str() {
                    "max" => Pooling::Max,
                    "average" | "avg" => Pooling::Average,
                    other => return Err(format!("--pooling takes max or average, not '{other}'")),
                }
            }
            "--taps" => {
                options.taps = value()?
                    .split(',')
                    .map(|name| Layer::parse(name.trim()).map_err(|e| e.to_string()))
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    if options.out.as_os_str().is_empty() {
        return Err("-o DIR is required".into());
    }
    if options.taps.is_empty() {
        return Err("--taps needs at least one layer".into());
    }
    Ok(options)
}

fn run(options: Options) -> Result<(), String> {
    let model = if options.model == "random" {
        random_vgg19(options.seed)
    } else {
        load_vgg19(options.model.as_ref()).map_err(|e| e.to_string())?
    };
    let deepest = *options.taps.iter().max().expect("taps checked non-empty");
    std::fs::create_dir_all(&options.out).map_err(|e| format!("cannot create {}: {e}", options.out.display()))?;
    let forward = forward_graph(&model, deepest, options.pooling);
    let backward = backward_graph(&model, &options.taps, options.pooling).expect("taps checked non-empty");
    for (name, graph) in [("forward.onnx", forward), ("backward.onnx", backward)] {
        let path = options.out.join(name);
        nst_files::write_atomically(&path, &encode(&graph))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!("model: {}", model.description);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match parse(&args).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("nst-onnx: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
