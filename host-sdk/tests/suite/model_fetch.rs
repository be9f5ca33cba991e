//! `nst model fetch` against a loopback HTTP server that this test starts: it serves, under the hub's paths,
//! a timm-layout safetensors file written from the built-in weights and a tree listing with its SHA-256. Covers
//! a whole fetch followed by a run with `--model vgg19`, a resumed download, a checksum mismatch, an
//! unreachable host and a proxy from `HTTPS_PROXY`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use crate::support::{ort_path, plugin_path, quick_preset, repo, scratch, text};
use nst_onnx::import::{TORCHVISION_CONV_INDICES, load_vgg19};
use nst_onnx::random::random_vgg19;
use nst_onnx::store::sha256_hex;
use safetensors::tensor::{Dtype, TensorView};

const FILE_PATH: &str = "/timm/vgg19.tv_in1k/resolve/main/model.safetensors";
const LISTING_PATH: &str = "/api/models/timm/vgg19.tv_in1k/tree/main";

/// The built-in weights (seed 11) under timm's names, with timm's classifier tensors beside them.
fn timm_file() -> Vec<u8> {
    let model = random_vgg19(11);
    let mut tensors: Vec<(String, Vec<u8>, Vec<usize>)> = Vec::new();
    for (index, conv) in TORCHVISION_CONV_INDICES.iter().zip(&model.convs) {
        let cout = conv.bias.len();
        let cin = conv.weight.len() / (cout * 9);
        let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        tensors.push((format!("features.{index}.weight"), bytes(&conv.weight), vec![cout, cin, 3, 3]));
        tensors.push((format!("features.{index}.bias"), bytes(&conv.bias), vec![cout]));
    }
    tensors.push(("pre_logits.fc1.bias".into(), vec![0; 16], vec![4]));
    tensors.push(("head.fc.weight".into(), vec![0; 24], vec![2, 3]));
    let views: Vec<(&str, TensorView)> = tensors
        .iter()
        .map(|(name, data, shape)| (name.as_str(), TensorView::new(Dtype::F32, shape.clone(), data).unwrap()))
        .collect();
    safetensors::serialize(views, None).unwrap()
}

/// How the server behaves.
#[derive(Clone, Default)]
struct Behaviour {
    /// Answer 404 for the hub's paths (a hub that is down or lost the file).
    no_hub: bool,
    /// Another file, served at this path with Range support (torchvision's `.pth`).
    extra: Option<(String, Vec<u8>)>,
    /// The SHA-256 the listing announces (default: the file's).
    announced_sha256: Option<String>,
    /// Cut the first whole-file response after this many body bytes.
    cut_first_at: Option<usize>,
}

/// A loopback HTTP/1.1 server (one request per connection, `CONNECT` tunnels accepted as a proxy would) that
/// records each request line with its Range header.
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(file: Vec<u8>, behaviour: Behaviour) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let file = Arc::new(file);
        std::thread::spawn(move || {
            let mut cut = behaviour.cut_first_at;
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                serve(stream, &file, &behaviour, &mut cut, &log);
            }
        });
        Server { port, requests }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads a request head: the request line and the Range header.
fn read_head(reader: &mut BufReader<TcpStream>) -> Option<(String, Option<String>)> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let request_line = line.trim_end().to_string();
    let mut range = None;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("range")
        {
            range = Some(value.trim().to_string());
        }
    }
    (!request_line.is_empty()).then_some((request_line, range))
}

fn serve(stream: TcpStream, file: &[u8], behaviour: &Behaviour, cut: &mut Option<usize>, log: &Mutex<Vec<String>>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let Some((mut request_line, mut range)) = read_head(&mut reader) else { return };
    if request_line.starts_with("CONNECT ") {
        log.lock().unwrap().push(request_line.clone());
        writer.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap();
        let Some(head) = read_head(&mut reader) else { return };
        (request_line, range) = head;
    }
    log.lock().unwrap().push(format!("{request_line} range={}", range.as_deref().unwrap_or("-")));
    // Absolute-form targets (a plain HTTP proxy) keep only their path.
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let path = target.find("://").map_or(target, |at| {
        let rest = &target[at + 3..];
        rest.find('/').map_or("/", |slash| &rest[slash..])
    });
    let respond = |writer: &mut TcpStream, status: &str, headers: &str, body: &[u8]| {
        let head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n", body.len());
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(body);
    };
    let extra = behaviour.extra.as_ref().filter(|(extra_path, _)| extra_path == path);
    let (path, file) = match extra {
        Some((_, bytes)) => (FILE_PATH, bytes.as_slice()),
        None if behaviour.no_hub => ("/gone", file),
        None => (path, file),
    };
    match path {
        LISTING_PATH => {
            let sha = behaviour.announced_sha256.clone().unwrap_or_else(|| sha256_hex(file));
            let listing = format!(
                r#"[{{"type":"file","oid":"x","size":1234,"path":"README.md"}},{{"type":"file","oid":"y","size":{0},"path":"model.safetensors","lfs":{{"oid":"{sha}","size":{0},"pointerSize":135}}}}]"#,
                file.len()
            );
            respond(&mut writer, "200 OK", "Content-Type: application/json\r\n", listing.as_bytes());
        }
        FILE_PATH => {
            let start = range
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.strip_suffix('-'))
                .and_then(|r| r.parse::<usize>().ok());
            match start {
                Some(start) if start < file.len() => {
                    let headers = format!("Content-Range: bytes {start}-{}/{}\r\n", file.len() - 1, file.len());
                    respond(&mut writer, "206 Partial Content", &headers, &file[start..]);
                }
                _ => {
                    if let Some(at) = cut.take() {
                        // Announce the whole file, send part of it, and drop the connection.
                        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", file.len());
                        let _ = writer.write_all(head.as_bytes());
                        let _ = writer.write_all(&file[..at]);
                        let _ = writer.flush();
                        let _ = writer.shutdown(std::net::Shutdown::Both);
                        return;
                    }
                    respond(&mut writer, "200 OK", "", file);
                }
            }
        }
        _ => respond(&mut writer, "404 Not Found", "", b"not found"),
    }
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
}

/// `nst` with the models folder `models` and the hub at `hub`, and no proxy unless `proxy` is given.
fn nst_with(models: &Path, hub: &str, proxy: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nst"));
    command.args(args).env("NST_MODELS", models).env("HF_ENDPOINT", hub).env("ORT_DYLIB_PATH", ort_path());
    // The fallback source on the same loopback server: a test never reaches the internet.
    command.env("NST_TORCHVISION_URL", format!("{hub}/models/vgg19-dcbb9e9d.pth"));
    for variable in
        ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"]
    {
        command.env_remove(variable);
    }
    if let Some(proxy) = proxy {
        command.env("HTTPS_PROXY", proxy);
    }
    command.output().unwrap()
}

/// The installed model's weights, element by element, against `expected` (weight then bias of each conv).
fn assert_installed_weights(models: &Path, expected: &[f32]) {
    let stored = load_vgg19(&models.join("vgg19.safetensors")).unwrap();
    let ours: Vec<f32> = stored.convs.iter().flat_map(|c| c.weight.iter().chain(&c.bias).copied()).collect();
    assert_eq!(ours.len(), expected.len());
    let differing = ours.iter().zip(expected).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
    assert_eq!(differing, 0, "{differing} of {} weights differ", ours.len());
}

fn assert_installed_exactly(models: &Path) {
    let stored = load_vgg19(&models.join("vgg19.safetensors")).unwrap();
    let served = random_vgg19(11);
    for (index, (ours, theirs)) in stored.convs.iter().zip(&served.convs).enumerate() {
        // Element by element: a flipped or transposed kernel keeps its sum.
        assert!(ours.weight == theirs.weight && ours.bias == theirs.bias, "conv {index} differs");
    }
    let manifest = std::fs::read_to_string(models.join("vgg19.toml")).unwrap();
    assert!(manifest.contains(&sha256_hex(&timm_file())), "{manifest}");
    assert!(manifest.contains(&sha256_hex(&std::fs::read(models.join("vgg19.safetensors")).unwrap())));
}

#[test]
fn fetch_installs_the_verified_weights_and_runs_find_them_by_name() {
    let dir = scratch("fetch");
    let models = dir.join("models");
    let server = Server::start(timm_file(), Behaviour::default());
    let output = nst_with(&models, &server.url(), None, &["model", "fetch", "-q"]);
    println!("{}", text(&output));
    assert!(output.status.success(), "{}", text(&output));
    assert_installed_exactly(&models);
    assert!(!models.join(".downloads").read_dir().unwrap().any(|_| true), "the download was not cleaned up");

    let listed = nst_with(&models, &server.url(), None, &["model", "list"]);
    assert!(text(&listed).contains("vgg19") && text(&listed).contains("BSD-3-Clause"), "{}", text(&listed));
    let again = nst_with(&models, &server.url(), None, &["model", "fetch"]);
    assert!(text(&again).contains("already installed"), "{}", text(&again));

    plugin_path();
    let preset = quick_preset(&dir);
    let content = repo().join("presets/samples/astronaut.png");
    let out = dir.join("out.png");
    let stylize_with = |models: &Path| {
        let args = [content.to_str().unwrap(), "--preset", preset.to_str().unwrap(), "--model", "vgg19"];
        let out = ["-o", out.to_str().unwrap(), "-q"];
        nst_with(models, &server.url(), None, &[&["stylize"][..], &args, &out].concat())
    };
    let run = stylize_with(&models);
    println!("{}", text(&run));
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).contains("model:     pretrained VGG19 'vgg19'"), "{}", text(&run));
    assert!(out.is_file());

    // A preset that names the model finds it too.
    let named = dir.join("named.toml");
    let quick = std::fs::read_to_string(&preset).unwrap();
    std::fs::write(&named, format!("{quick}[network]\nmodel = \"vgg19\"\n")).unwrap();
    let args = ["stylize", content.to_str().unwrap(), "--preset", named.to_str().unwrap(), "-o", out.to_str().unwrap()];
    let by_preset = nst_with(&models, &server.url(), None, &args);
    assert!(text(&by_preset).contains("model:     pretrained VGG19 'vgg19'"), "{}", text(&by_preset));

    let missing = stylize_with(&dir.join("empty"));
    assert!(!missing.status.success());
    assert!(
        text(&missing).contains("model 'vgg19' is not installed") && text(&missing).contains("nst model fetch"),
        "{}",
        text(&missing)
    );
}

#[test]
fn a_cut_download_resumes_with_a_range_request() {
    let dir = scratch("fetch-resume");
    let models = dir.join("models");
    let file = timm_file();
    let cut = file.len() / 3;
    let server = Server::start(file, Behaviour { cut_first_at: Some(cut), ..Behaviour::default() });
    let output = nst_with(&models, &server.url(), None, &["model", "fetch", "-q"]);
    println!("{}\nrequests: {:#?}", text(&output), server.requests());
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains(&format!("resuming at byte {cut}")), "{}", text(&output));
    let requests = server.requests();
    let file_requests: Vec<&String> = requests.iter().filter(|r| r.contains(FILE_PATH)).collect();
    assert_eq!(file_requests.len(), 2, "{requests:#?}");
    assert!(file_requests[0].ends_with("range=-"), "{requests:#?}");
    assert!(file_requests[1].ends_with(&format!("range=bytes={cut}-")), "{requests:#?}");
    assert_installed_exactly(&models);
}

#[test]
fn a_checksum_mismatch_deletes_the_download_and_installs_nothing() {
    let dir = scratch("fetch-mismatch");
    let models = dir.join("models");
    let wrong = "0123456789abcdef".repeat(4);
    let server =
        Server::start(timm_file(), Behaviour { announced_sha256: Some(wrong.clone()), ..Behaviour::default() });
    let output = nst_with(&models, &server.url(), None, &["model", "fetch", "-q"]);
    println!("{}", text(&output));
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("checksum mismatch") && text(&output).contains(&wrong), "{}", text(&output));
    assert!(text(&output).contains("partial download was deleted"), "{}", text(&output));
    assert!(!models.join(format!(".downloads/{wrong}.partial")).exists());
    assert!(!models.join("vgg19.safetensors").exists() && !models.join("vgg19.toml").exists());
}

#[test]
fn an_unreachable_host_is_named_with_the_offline_alternative() {
    let dir = scratch("fetch-unreachable");
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let hub = format!("http://127.0.0.1:{port}");
    let output = nst_with(&dir.join("models"), &hub, None, &["model", "fetch", "-q"]);
    println!("{}", text(&output));
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output);
    assert!(message.contains(&format!("cannot reach {hub}{LISTING_PATH}")), "{message}");
    assert!(message.contains("nst model import model.safetensors"), "{message}");
}

#[test]
fn a_proxy_from_https_proxy_carries_the_download() {
    let dir = scratch("fetch-proxy");
    let models = dir.join("models");
    let proxy = Server::start(timm_file(), Behaviour::default());
    // The hub's name does not resolve here: only the proxy can reach it.
    let output = nst_with(&models, "http://hub.invalid", Some(&proxy.url()), &["model", "fetch", "-q"]);
    println!("{}\nproxy saw: {:#?}", text(&output), proxy.requests());
    assert!(output.status.success(), "{}", text(&output));
    let requests = proxy.requests();
    assert!(requests.iter().any(|r| r.contains("hub.invalid")), "the proxy was not used: {requests:#?}");
    assert_installed_exactly(&models);
}

/// `command` with the models folder `models` and both download sources on the loopback `server`.
fn fetching_from<'a>(command: &'a mut Command, models: &Path, server: &Server) -> &'a mut Command {
    let torchvision = format!("{}/models/vgg19-dcbb9e9d.pth", server.url());
    command.env("NST_MODELS", models).env("HF_ENDPOINT", server.url()).env("NST_TORCHVISION_URL", torchvision)
}

#[test]
#[cfg_attr(windows, ignore = "runs scripts/gimp-install (bash) and GIMP on Linux")]
fn gimp_install_pretrained_fetches_once_and_points_the_plugin_at_the_model() {
    let dir = scratch("fetch-gimp");
    let models = dir.join("models");
    let server = Server::start(timm_file(), Behaviour::default());
    plugin_path();
    let mut command = Command::new(repo().join("scripts/gimp-install"));
    let install = command
        .args(["--gimp", "2.10", "--pretrained", "--dest"])
        .arg(dir.join("plug-ins"))
        .arg("--gegl-dest")
        .arg(dir.join("gegl"))
        .arg("--library-dir")
        .arg(crate::support::build_dir());
    let install = fetching_from(install, &models, &server).output().unwrap();
    println!("{}", text(&install));
    assert!(install.status.success(), "{}", text(&install));
    assert_installed_exactly(&models);
    let config = std::fs::read_to_string(dir.join("plug-ins/nst/nst.toml")).unwrap();
    let active: Vec<&str> = config.lines().filter(|line| line.trim_start().starts_with("model")).collect();
    assert_eq!(active, ["model = \"vgg19\"                    # set by gimp-install --pretrained"], "{config}");
}

#[test]
fn nst_gimp_install_pretrained_fetches_the_model_and_points_the_filter_at_it() {
    let dir = scratch("fetch-gimp3");
    let models = dir.join("models");
    std::fs::create_dir(dir.join("plug-ins")).unwrap();
    let server = Server::start(timm_file(), Behaviour::default());
    plugin_path();
    let mut command = Command::new(env!("CARGO_BIN_EXE_nst"));
    let install = command
        .args(["gimp", "install", "--pretrained", "--dest"])
        .arg(dir.join("plug-ins"))
        .env("ORT_DYLIB_PATH", crate::support::ort_path());
    let install = fetching_from(install, &models, &server).output().unwrap();
    println!("{}", text(&install));
    assert!(install.status.success(), "{}", text(&install));
    assert_installed_exactly(&models);
    assert!(!text(&install).contains("not pretrained"), "it still says the random network runs: {}", text(&install));
    let config = std::fs::read_to_string(dir.join("plug-ins/neural-style/nst.toml")).unwrap();
    let active: Vec<&str> = config.lines().filter(|line| line.trim_start().starts_with("model")).collect();
    assert_eq!(active, ["model = \"vgg19\"                    # set by --pretrained"], "{config}");
}

#[test]
#[cfg_attr(windows, ignore = "makes its .pth file with python3 on the host")]
fn without_the_hub_torchvisions_pth_is_fetched_and_checked_by_the_prefix_in_its_name() {
    let dir = scratch("fetch-pth");
    let models = dir.join("models");
    // A legacy-format checkpoint (the format of vgg19-dcbb9e9d.pth), written by the tests' Python helper.
    let files = dir.join("files");
    let script = repo().join("tests/python/make_vgg_files.py");
    let made = Command::new("python3")
        .arg(&script)
        .arg(&files)
        .env("PYTHONPATH", repo().join(".cache/python"))
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    let pth = std::fs::read(files.join("torchvision_legacy.pth")).unwrap();
    let expected: Vec<f32> = std::fs::read(files.join("torchvision_legacy.pth.weights"))
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let sha = sha256_hex(&pth);
    let name = format!("/models/vgg19-{}.pth", &sha[..8]);
    let behaviour = Behaviour { no_hub: true, extra: Some((name.clone(), pth)), ..Behaviour::default() };
    let server = Server::start(timm_file(), behaviour);
    let url = format!("{}{name}", server.url());
    let mut command = Command::new(env!("CARGO_BIN_EXE_nst"));
    command.args(["model", "fetch", "-q"]).env("NST_MODELS", &models).env("HF_ENDPOINT", server.url());
    command.env("NST_TORCHVISION_URL", &url).env_remove("HTTPS_PROXY").env_remove("https_proxy");
    let output = command.output().unwrap();
    println!("{}", text(&output));
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("HTTP 404") && text(&output).contains("trying torchvision"), "{}", text(&output));
    assert_installed_weights(&models, &expected);
    let manifest = std::fs::read_to_string(models.join("vgg19.toml")).unwrap();
    assert!(manifest.contains(&url) && manifest.contains(&sha), "{manifest}");

    // A file whose SHA-256 does not start with the digits in its name is refused and deleted.
    let wrong_name = "/models/vgg19-00000000.pth";
    let pth = std::fs::read(files.join("torchvision_legacy.pth")).unwrap();
    let behaviour = Behaviour { no_hub: true, extra: Some((wrong_name.into(), pth)), ..Behaviour::default() };
    let server = Server::start(timm_file(), behaviour);
    let wrong = format!("{}{wrong_name}", server.url());
    let mut command = Command::new(env!("CARGO_BIN_EXE_nst"));
    command.args(["model", "fetch", "-q", "--models-dir"]).arg(dir.join("other"));
    command.env("HF_ENDPOINT", server.url()).env("NST_TORCHVISION_URL", &wrong);
    let refused = command.output().unwrap();
    println!("{}", text(&refused));
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused).contains("checksum mismatch") && text(&refused).contains("00000000..."),
        "{}",
        text(&refused)
    );
    assert!(!dir.join("other/vgg19.safetensors").exists());
}

#[test]
#[cfg_attr(windows, ignore = "makes its .pth file with python3 on the host")]
fn import_installs_each_format_with_the_files_weights() {
    let dir = scratch("import-formats");
    let files = dir.join("files");
    let made = Command::new("python3")
        .arg(repo().join("tests/python/make_vgg_files.py"))
        .arg(&files)
        .env("PYTHONPATH", repo().join(".cache/python"))
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    for file in ["timm.safetensors", "torchvision_legacy.pth", "torchvision_zip.pth", "torchvision_full.onnx"] {
        let models = dir.join(format!("models-{file}"));
        let path = files.join(file);
        let output = nst_with(&models, "http://unused.invalid", None, &["model", "import", path.to_str().unwrap()]);
        println!("{}", text(&output));
        assert!(output.status.success(), "{file}: {}", text(&output));
        let expected: Vec<f32> = std::fs::read(files.join(format!("{file}.weights")))
            .unwrap()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_installed_weights(&models, &expected);
        let manifest = std::fs::read_to_string(models.join("vgg19.toml")).unwrap();
        assert!(manifest.contains(&sha256_hex(&std::fs::read(&path).unwrap())), "{manifest}");
        let listed = nst_with(&models, "http://unused.invalid", None, &["model", "list"]);
        assert!(
            text(&listed).contains(&format!("VGG19 'vgg19', imported from {}", path.display())),
            "{}",
            text(&listed)
        );
    }
    let refused = nst_with(&dir.join("m"), "http://unused.invalid", None, &["model", "import", "/nonexistent.pth"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused).contains("cannot read /nonexistent.pth"), "{}", text(&refused));
}

#[test]
fn a_name_no_models_folder_can_hold_is_refused_before_the_file_is_read() {
    let dir = scratch("import-names");
    let models = dir.join("models");
    // The file does not exist: a name checked first is refused for the name, not for the file.
    let missing = dir.join("weights.safetensors");
    for name in ["CON", "aux.", "com1", "builtin", "../up"] {
        let output = nst_with(
            &models,
            "http://127.0.0.1:9",
            None,
            &["model", "import", missing.to_str().unwrap(), "--name", name],
        );
        let message = text(&output);
        assert_eq!(output.status.code(), Some(1), "{message}");
        assert!(message.contains(&format!("'{name}' cannot name a model")), "{name}: {message}");
        assert!(!message.contains("cannot read"), "the file was opened before the name was checked: {message}");
    }
    assert!(!models.exists(), "a refused import created the models folder");
}
