//! Replays the fuzz corpora (`fuzz/corpus/`), the hand-made seeds (`fuzz/seeds/`) and every input that once
//! failed (`fuzz/regressions/`) through the fuzz targets' checks, so what the fuzzers found stays fixed without
//! a nightly compiler.

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

use crate::support::root;

/// Every file of the target's corpus, seeds and regressions, with the number of regressions.
fn inputs(target: &str) -> (Vec<PathBuf>, usize) {
    let list = |dir: PathBuf| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| entries.map(|e| e.expect("readable folder").path()).collect())
            .unwrap_or_default();
        files.sort();
        files
    };
    let mut corpus = list(root().join("fuzz/corpus").join(target));
    corpus.extend(list(root().join("fuzz/seeds").join(target)));
    let regressions = list(root().join("fuzz/regressions").join(target));
    assert!(!corpus.is_empty(), "fuzz/corpus/{target} is empty");
    let count = regressions.len();
    (corpus.into_iter().chain(regressions).collect(), count)
}

fn replay(target: &str, check: impl Fn(&[u8])) {
    let (files, regressions) = inputs(target);
    for file in &files {
        let data = std::fs::read(file).expect("readable input");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
        assert!(outcome.is_ok(), "{target}: {} fails its check", file.display());
    }
    println!("{target}: {} inputs replayed ({regressions} regressions)", files.len());
}

#[test]
fn the_preset_corpus_passes() {
    replay("preset", checks::preset);
}

#[test]
fn the_model_import_corpus_passes() {
    replay("model_import", checks::model_import);
}

#[test]
fn the_image_decode_corpus_passes() {
    replay("image_decode", checks::image_decode);
}

#[test]
fn the_abi_arguments_corpus_passes() {
    let ort = crate::support::ort_library();
    let engine = checks::abi_engine(&root(), &ort);
    replay("abi_arguments", |data| checks::abi_arguments(engine, Path::new(&root()), data));
}

#[test]
fn the_decompression_bomb_in_the_corpus_is_refused_as_too_large() {
    let path = root().join("fuzz/seeds/image_decode/claims-60000x60000.png");
    let bytes = std::fs::read(&path).expect("the bomb seed is committed");
    assert!(bytes.len() < 1024);
    let err = nst::image_io::decode_image(&bytes, "bomb.png").expect_err("a 3.6 gigapixel claim must be refused");
    assert!(err.to_string().contains("bomb.png: too large"), "{err}");
}
