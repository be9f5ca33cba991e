//! The C and Python examples, built and run as their users would: the C program under valgrind (no leaks, no
//! errors), the Python script with ctypes.

use std::process::Command;

use crate::support::{build_dir, ort_path, plugin_path, repo, scratch};

/// A preset string the examples accept: shallow layers keep the valgrind run short.
fn shallow_preset() -> String {
    format!(
        "version = 1\n[style]\nimages = ['{}']\n[losses]\ncontent_layer = \"relu1_2\"\nstyle_layers = [\"relu1_1\"]\n",
        repo().join("presets/images/mosaic.png").display()
    )
}

#[test]
#[cfg_attr(windows, ignore = "needs cc and valgrind (Linux)")]
fn the_c_example_runs_under_valgrind_without_leaks_or_errors() {
    plugin_path();
    let dir = scratch("c-example");
    let binary = dir.join("stylize");
    let build = Command::new("cc")
        .args(["-Wall", "-Wextra", "-Werror", "-O1", "-g"])
        .arg(repo().join("host-sdk/examples/stylize.c"))
        .arg("-I")
        .arg(repo().join("plugin/include"))
        .arg("-L")
        .arg(build_dir())
        .arg("-lnst")
        .arg(format!("-Wl,-rpath,{}", build_dir().display()))
        .arg("-o")
        .arg(&binary)
        .output()
        .unwrap();
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let run = Command::new("valgrind")
        .arg(format!("--suppressions={}", repo().join("host-sdk/examples/valgrind.supp").display()))
        .args(["--leak-check=full", "--errors-for-leak-kinds=definite", "--error-exitcode=99"])
        .arg(&binary)
        .arg(shallow_preset())
        .env("ORT_DYLIB_PATH", ort_path())
        .output()
        .expect("valgrind must be installed (apt-get install valgrind)");
    let log = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    println!("{log}");
    assert!(run.status.success(), "exit {:?}:\n{log}", run.status.code());
    assert!(log.contains("ERROR SUMMARY: 0 errors") && log.contains("definitely lost: 0 bytes"), "{log}");
    assert!(log.contains("alpha kept 1, pixels changed 1") && log.lines().any(|l| l == "ok"), "{log}");
    assert!(log.contains("failed (status 2): content.stride 3 is smaller than a row"), "{log}");
}

#[test]
#[cfg_attr(windows, ignore = "builds with the host's C compiler (cc); the Windows run cross-compiles")]
fn the_header_compiles_as_strict_iso_c99() {
    let dir = scratch("strict-header");
    let source = dir.join("uses_header.c");
    // Every limit a host shows in its UI, and the opaque handle, used as a host would.
    std::fs::write(
        &source,
        "#include \"nst.h\"\nint main(void) {\n  NstEngine *engine = 0;\n  NstOverrides o;\n  nst_overrides_init(&o, sizeof o);\n  o.size = NST_SIZE_MAX;\n  o.iterations = NST_ITERATIONS_MIN;\n  o.style_weight_scale = NST_STRENGTH_MAX;\n  return nst_engine_trim(engine) == NST_NULL_ARGUMENT ? 0 : 1;\n}\n",
    )
    .unwrap();
    let build = Command::new("cc")
        .args(["-std=c99", "-pedantic", "-Werror", "-Wall", "-Wextra", "-c"])
        .arg(&source)
        .arg("-I")
        .arg(repo().join("plugin/include"))
        .arg("-o")
        .arg(dir.join("uses_header.o"))
        .output()
        .unwrap();
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
}

/// Every field's offset and every struct's size as a C compiler lays out `nst.h`, against the Rust types the
/// plugin and the host SDK share (`nst_sys::abi`): a field added, moved or resized on one side only fails here.
#[test]
#[cfg_attr(windows, ignore = "builds with the host's C compiler (cc); the Windows run cross-compiles")]
fn the_c_header_and_the_shared_rust_types_agree_on_every_layout() {
    use nst_host::abi::{NstImage, NstImageMut, NstOverrides, NstRunReport};
    use std::mem::{offset_of, size_of};
    macro_rules! fields {
        ($ty:ident: $($field:ident),+) => {
            vec![(format!("sizeof {}", stringify!($ty)), size_of::<$ty>()),
                 $((format!("{}.{}", stringify!($ty), stringify!($field)), offset_of!($ty, $field))),+]
        };
    }
    let mut rust = fields!(NstImage: width, height, stride, format, pixels);
    rust.extend(fields!(NstImageMut: width, height, stride, format, pixels));
    rust.extend(fields!(NstOverrides: struct_size, size, iterations, seed, style_weight, model_seed, model_path,
        pooling, init, keep_colours, match_colours, scales, style_scale, style_weights, preview_iteration, preview,
        preview_user_data, style_masks, style_mask_count, content_mask, style_weight_scale, style_weight_count,
        keep_detail));
    rust.extend(fields!(NstRunReport: iterations, evaluations, working_width, working_height, seconds, loss_total,
        loss_content, loss_style, loss_total_variation, provider, model));
    let mut program = String::from("#include <stddef.h>\n#include <stdio.h>\n#include \"nst.h\"\nint main(void) {\n");
    for (name, _) in &rust {
        let expression = match name.strip_prefix("sizeof ") {
            Some(ty) => format!("sizeof({ty})"),
            None => {
                let (ty, field) = name.split_once('.').unwrap();
                format!("offsetof({ty}, {field})")
            }
        };
        program += &format!("  printf(\"%s %zu\\n\", \"{name}\", (size_t){expression});\n");
    }
    program += "  return 0;\n}\n";
    let dir = scratch("layout");
    std::fs::write(dir.join("layout.c"), program).unwrap();
    let build = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Werror"])
        .arg(dir.join("layout.c"))
        .arg("-I")
        .arg(repo().join("plugin/include"))
        .arg("-o")
        .arg(dir.join("layout"))
        .output()
        .unwrap();
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let printed = Command::new(dir.join("layout")).output().unwrap();
    let c: Vec<(String, usize)> = String::from_utf8_lossy(&printed.stdout)
        .lines()
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').unwrap();
            (name.to_string(), value.parse().unwrap())
        })
        .collect();
    assert_eq!(c.len(), rust.len());
    for ((name, in_c), (_, in_rust)) in c.iter().zip(&rust) {
        assert_eq!(in_c, in_rust, "{name}: {in_c} in C, {in_rust} in Rust");
    }
}

#[test]
#[cfg_attr(windows, ignore = "needs python3 on the host")]
fn the_python_example_runs_on_the_nst_package_without_numpy() {
    let run = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
        .arg(repo().join("host-sdk/examples/stylize.py"))
        .arg(shallow_preset())
        .env("NST_PLUGIN", plugin_path())
        .env("PYTHONPATH", repo().join("host-sdk/python"))
        .env("ORT_DYLIB_PATH", ort_path())
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    println!("{log}");
    assert!(run.status.success() && log.lines().any(|l| l == "ok"), "{log}");
    assert!(log.contains("progress steps [1, 2, 3]"), "{log}");
}
