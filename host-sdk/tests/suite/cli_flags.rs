//! Any combination of `nst stylize` flags within their documented ranges either runs, writing its output, or is
//! refused with a message: never a signal, never an output without success. Cases are drawn from a seeded
//! generator, small sizes and few iterations so that they stay quick.

use crate::support::{nst, quick_preset, repo, scratch, text};

/// SplitMix64: the cases are the same on every run.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self) -> bool {
        self.below(2) == 0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn documented_flag_ranges_run_or_are_refused_never_crash() {
    let dir = scratch("cli-flags");
    let preset = quick_preset(&dir);
    let content = repo().join("presets/samples/chelsea.png");
    let style = repo().join("presets/images/waves.png");
    let mut draw = Draw(2026);
    let (mut ran, mut refused) = (0, 0);
    for case in 0..14 {
        let extension = ["png", "jpg", "tiff"][draw.below(3) as usize];
        let out = dir.join(format!("out{case}.{extension}"));
        let mut args: Vec<String> = vec![
            "stylize".into(),
            content.display().to_string(),
            "--preset".into(),
            preset.display().to_string(),
            "-o".into(),
            out.display().to_string(),
            "-q".into(),
            "--size".into(),
            (16 + draw.below(49)).to_string(),
            "--iterations".into(),
            (1 + draw.below(3)).to_string(),
        ];
        let flag = |args: &mut Vec<String>, name: &str, value: String| {
            args.push(name.into());
            args.push(value);
        };
        if draw.chance() {
            flag(&mut args, "--style-weight", format!("{}", (draw.unit() * 1e3).round()));
        }
        if draw.chance() {
            flag(&mut args, "--style-scale", format!("{:.2}", 0.1 + draw.unit() * 3.9));
        }
        if draw.chance() {
            flag(&mut args, "--scales", (1 + draw.below(3)).to_string());
        }
        if draw.chance() {
            flag(&mut args, "--seed", draw.below(1 << 40).to_string());
        }
        if draw.chance() {
            flag(&mut args, "--init", ["content", "noise"][draw.below(2) as usize].into());
        }
        if draw.chance() {
            flag(&mut args, "--pooling", ["max", "average"][draw.below(2) as usize].into());
        }
        if draw.chance() {
            flag(&mut args, "--style", style.display().to_string());
        }
        for switch in ["--keep-colours", "--match-colours", "--16-bit"] {
            if draw.chance() {
                args.push(switch.into());
            }
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = nst(&refs);
        let log = text(&output);
        println!("case {case}: {} -> {:?}", args[7..].join(" "), output.status.code());
        let code = output.status.code().unwrap_or_else(|| panic!("case {case} died by a signal: {args:?}\n{log}"));
        match code {
            0 => {
                ran += 1;
                assert!(out.is_file(), "case {case} succeeded without an output: {log}");
            }
            1 => {
                refused += 1;
                assert!(log.contains("nst: ") && !out.exists(), "case {case} failed without a message: {log}");
                println!("  refused: {}", log.trim());
            }
            other => panic!("case {case} exited with {other}: {log}"),
        }
    }
    println!("{ran} ran, {refused} refused");
    assert!(ran > 0, "no case ran");
}
