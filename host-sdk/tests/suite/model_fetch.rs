//! `nst model fetch` against a loopback HTTP server that this test starts: it serves, under the hub's paths,
//! a timm-layout safetensors file written from the built-in weights and a tree listing with its SHA-256. Covers
//! a whole fetch followed by a run with `--model vgg19`, a resumed download, a checksum mismatch, an
//! unreachable host, proxies, and hostile servers: one that stalls, sends too much, answers 503 or 429, or
//! redirects to another host; and torchvision's legacy `.pth` from a mirror whose URL carries a query.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// The size the listing announces (default: the file's).
    announced_size: Option<usize>,
    /// Cut the first whole-file response after this many body bytes.
    cut_first_at: Option<usize>,
    /// Stop sending, connection open, after this many body bytes, in this many responses of the file.
    stall: Option<(usize, usize)>,
    /// Send the file without a length, followed by zeros for as long as the client reads.
    endless: bool,
    /// Answer the first requests of the file with these statuses and headers.
    refusals: Vec<(&'static str, &'static str)>,
    /// Redirect requests of the file to the same path on this server (`http://HOST:PORT`).
    redirect_to: Option<String>,
}

/// What the server does only a given number of times, shared by its connections.
struct Once {
    cut: Option<usize>,
    stalls: usize,
    refusals: VecDeque<(&'static str, &'static str)>,
}

/// A loopback HTTP/1.1 server (one request per connection, each on its own thread; `CONNECT` tunnels accepted
/// as a proxy would) that records each request line with its Range header.
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
        let once = Arc::new(Mutex::new(Once {
            cut: behaviour.cut_first_at,
            stalls: behaviour.stall.map_or(0, |(_, times)| times),
            refusals: behaviour.refusals.iter().copied().collect(),
        }));
        let behaviour = Arc::new(behaviour);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (file, behaviour, once, log) = (file.clone(), behaviour.clone(), once.clone(), log.clone());
                // A stalled response must not hold up the next connection.
                std::thread::spawn(move || serve(stream, &file, &behaviour, &once, &log));
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

    fn file_requests(&self) -> Vec<String> {
        self.requests().into_iter().filter(|r| r.contains(FILE_PATH)).collect()
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

fn serve(stream: TcpStream, file: &[u8], behaviour: &Behaviour, once: &Mutex<Once>, log: &Mutex<Vec<String>>) {
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
    // Absolute-form targets (a plain HTTP proxy) keep only their path; a query is no part of the path.
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let path = target.find("://").map_or(target, |at| {
        let rest = &target[at + 3..];
        rest.find('/').map_or("/", |slash| &rest[slash..])
    });
    let path = path.split('?').next().unwrap_or(path);
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
            let size = behaviour.announced_size.unwrap_or(file.len());
            let listing = format!(
                r#"[{{"type":"file","oid":"x","size":1234,"path":"README.md"}},{{"type":"file","oid":"y","size":{size},"path":"model.safetensors","lfs":{{"oid":"{sha}","size":{size},"pointerSize":135}}}}]"#,
            );
            respond(&mut writer, "200 OK", "Content-Type: application/json\r\n", listing.as_bytes());
        }
        FILE_PATH => {
            if let Some(other) = &behaviour.redirect_to {
                respond(&mut writer, "302 Found", &format!("Location: {other}{target}\r\n"), b"");
                let mut rest = Vec::new();
                let _ = reader.read_to_end(&mut rest);
                return;
            }
            let refusal = once.lock().unwrap().refusals.pop_front();
            if let Some((status, headers)) = refusal {
                respond(&mut writer, status, headers, b"busy");
                let mut rest = Vec::new();
                let _ = reader.read_to_end(&mut rest);
                return;
            }
            let start = range
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.strip_suffix('-'))
                .and_then(|r| r.parse::<usize>().ok());
            let stall_after = {
                let mut once = once.lock().unwrap();
                let stall = behaviour.stall.filter(|_| once.stalls > 0).map(|(after, _)| after);
                once.stalls -= usize::from(stall.is_some());
                stall
            };
            if let Some(after) = stall_after {
                // Announce the rest of the file, send part of it, then nothing, with the connection open.
                let from = start.unwrap_or(0).min(file.len());
                let status = if from > 0 {
                    format!("206 Partial Content\r\nContent-Range: bytes {from}-{}/{}", file.len() - 1, file.len())
                } else {
                    "200 OK".to_string()
                };
                let head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n", file.len() - from);
                let _ = writer.write_all(head.as_bytes());
                let _ = writer.write_all(&file[from..(from + after).min(file.len())]);
                let _ = writer.flush();
                std::thread::sleep(Duration::from_secs(120));
                return;
            }
            if behaviour.endless {
                let _ = writer.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
                let _ = writer.write_all(file);
                let zeros = vec![0u8; 1 << 16];
                while writer.write_all(&zeros).is_ok() {}
                return;
            }
            match start {
                Some(start) if start < file.len() => {
                    let headers = format!("Content-Range: bytes {start}-{}/{}\r\n", file.len() - 1, file.len());
                    respond(&mut writer, "206 Partial Content", &headers, &file[start..]);
                }
                _ => {
                    if let Some(at) = once.lock().unwrap().cut.take() {
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

/// `nst` with the models folder `models`, the hub at `hub`, the fallback source on the same server, no proxy,
/// and short waits between attempts.
fn nst_command(models: &Path, hub: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nst"));
    command.args(args).env("NST_MODELS", models).env("HF_ENDPOINT", hub).env("ORT_DYLIB_PATH", ort_path());
    // The fallback source on the same loopback server: a test never reaches the internet.
    command.env("NST_TORCHVISION_URL", format!("{hub}/models/vgg19-dcbb9e9d.pth"));
    command.env("NST_DOWNLOAD_RETRY_SECONDS", "0.05").env_remove("NST_DOWNLOAD_IDLE_SECONDS");
    for variable in
        ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"]
    {
        command.env_remove(variable);
    }
    command.env_remove("SSL_CERT_FILE");
    command
}

/// `nst` as [`nst_command`] makes it, with the proxy `proxy` for the (plain HTTP) hub when given.
fn nst_with(models: &Path, hub: &str, proxy: Option<&str>, args: &[&str]) -> Output {
    let mut command = nst_command(models, hub, args);
    if let Some(proxy) = proxy {
        command.env("HTTP_PROXY", proxy);
    }
    command.output().unwrap()
}

/// Runs `command`, killed if it runs past `limit` (a download that hangs fails the test instead of holding it
/// up), and how long it took.
fn output_within(command: &mut Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}, killed:\n{}", text(&output));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
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
fn a_proxy_from_http_proxy_carries_the_download() {
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
    command.env("NST_MODELS", models).env("HF_ENDPOINT", server.url()).env("NST_TORCHVISION_URL", torchvision);
    command.env("NST_DOWNLOAD_RETRY_SECONDS", "0.05")
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

/// Short waits for a stalled server in these tests: a second without a byte ends an attempt.
const IDLE_SECONDS: &str = "1";

#[test]
fn a_stalled_download_ends_within_seconds_and_is_resumed() {
    let dir = scratch("fetch-stall");
    let models = dir.join("models");
    let file = timm_file();
    let at = file.len() / 2;
    let server = Server::start(file, Behaviour { stall: Some((at, 1)), ..Behaviour::default() });
    let mut command = nst_command(&models, &server.url(), &["model", "fetch", "-q"]);
    command.env("NST_DOWNLOAD_IDLE_SECONDS", IDLE_SECONDS);
    let (output, took) = output_within(&mut command, Duration::from_secs(60));
    println!("{}\ntook {took:?}, requests: {:#?}", text(&output), server.requests());
    assert!(output.status.success(), "{}", text(&output));
    let message = text(&output);
    assert!(
        message.contains(&format!("the server stopped sending: nothing arrived for 1 s, after {at} bytes")),
        "{message}"
    );
    assert!(message.contains(&format!("resuming at byte {at}")), "{message}");
    let file_requests = server.file_requests();
    assert!(
        file_requests.len() == 2 && file_requests[1].ends_with(&format!("range=bytes={at}-")),
        "{file_requests:#?}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_installed_exactly(&models);

    // A server that never sends a byte of the file: given up after a few attempts, with what had arrived.
    let dir = scratch("fetch-stall-always");
    let server = Server::start(timm_file(), Behaviour { stall: Some((0, usize::MAX)), ..Behaviour::default() });
    let mut command = nst_command(&dir.join("models"), &server.url(), &["model", "fetch", "-q"]);
    command.env("NST_DOWNLOAD_IDLE_SECONDS", IDLE_SECONDS);
    let (output, took) = output_within(&mut command, Duration::from_secs(60));
    println!("{}\ntook {took:?}", text(&output));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("nothing arrived for 1 s, after 0 bytes"), "{}", text(&output));
    assert_eq!(server.file_requests().len(), 5, "{:#?}", server.requests());
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn an_endless_or_oversize_body_is_cut_off_at_the_announced_size() {
    let dir = scratch("fetch-endless");
    let models = dir.join("models");
    let file = timm_file();
    let size = file.len();
    let sha = sha256_hex(&file);
    let server = Server::start(file.clone(), Behaviour { endless: true, ..Behaviour::default() });
    let mut command = nst_command(&models, &server.url(), &["model", "fetch", "-q"]);
    let (output, took) = output_within(&mut command, Duration::from_secs(60));
    println!("{}\ntook {took:?}", text(&output));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let message = text(&output);
    assert!(message.contains(&format!("the server sent more, more than the {size} bytes announced")), "{message}");
    assert!(message.contains("the partial download was deleted"), "{message}");
    assert!(!models.join(format!(".downloads/{sha}.partial")).exists());
    assert!(!models.join("vgg19.safetensors").exists());

    // A length beyond the announced size is refused before a byte is written.
    let dir = scratch("fetch-oversize");
    let models = dir.join("models");
    let announced = size - 100;
    let server = Server::start(file, Behaviour { announced_size: Some(announced), ..Behaviour::default() });
    let mut command = nst_command(&models, &server.url(), &["model", "fetch", "-q"]);
    let (output, _) = output_within(&mut command, Duration::from_secs(60));
    println!("{}", text(&output));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let message = text(&output);
    assert!(
        message.contains(&format!("the server announces {size} bytes, more than the {announced} bytes announced")),
        "{message}"
    );
    assert!(!models.join(format!(".downloads/{sha}.partial")).exists());
    assert!(!models.join("vgg19.safetensors").exists());
}

#[test]
fn a_busy_server_is_tried_again_after_the_wait_it_asks_for() {
    let dir = scratch("fetch-busy");
    let models = dir.join("models");
    let refusals = vec![("503 Service Unavailable", ""), ("429 Too Many Requests", "Retry-After: 1\r\n")];
    let server = Server::start(timm_file(), Behaviour { refusals, ..Behaviour::default() });
    let mut command = nst_command(&models, &server.url(), &["model", "fetch", "-q"]);
    let (output, took) = output_within(&mut command, Duration::from_secs(60));
    println!("{}\ntook {took:?}, requests: {:#?}", text(&output), server.requests());
    assert!(output.status.success(), "{}", text(&output));
    let message = text(&output);
    assert!(message.contains("HTTP 503; trying again in 0.1 s"), "{message}");
    assert!(message.contains("HTTP 429; trying again in 1.0 s"), "{message}");
    assert_eq!(server.file_requests().len(), 3, "{:#?}", server.requests());
    assert!(took >= Duration::from_secs(1), "Retry-After: 1 was not waited for ({took:?})");
    assert!(!message.contains("trying torchvision"), "{message}");
    assert_installed_exactly(&models);
}

#[test]
fn a_cross_host_redirect_is_followed_and_resumed_with_a_range_request() {
    let dir = scratch("fetch-redirect");
    let models = dir.join("models");
    let file = timm_file();
    let cut = file.len() / 3;
    let storage = Server::start(file.clone(), Behaviour { cut_first_at: Some(cut), ..Behaviour::default() });
    // Another host name (and port) for the same loopback: the redirect leaves the hub's host, as a hub's
    // redirects to its storage do.
    let elsewhere = storage.url().replace("127.0.0.1", "localhost");
    let hub = Server::start(file, Behaviour { redirect_to: Some(elsewhere), ..Behaviour::default() });
    let mut command = nst_command(&models, &hub.url(), &["model", "fetch", "-q"]);
    let (output, _) = output_within(&mut command, Duration::from_secs(60));
    println!("{}\nhub: {:#?}\nstorage: {:#?}", text(&output), hub.requests(), storage.requests());
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains(&format!("resuming at byte {cut}")), "{}", text(&output));
    let stored = storage.file_requests();
    assert_eq!(stored.len(), 2, "{stored:#?}");
    assert!(stored[0].ends_with("range=-") && stored[1].ends_with(&format!("range=bytes={cut}-")), "{stored:#?}");
    assert!(hub.file_requests()[1].ends_with(&format!("range=bytes={cut}-")), "{:#?}", hub.requests());
    assert_installed_exactly(&models);
}

#[test]
fn a_local_error_fails_at_once_without_trying_the_other_source() {
    let dir = scratch("fetch-local");
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    // The downloads folder cannot be made: a file holds its name (as a full disk, nothing can be written).
    std::fs::write(models.join(".downloads"), b"in the way").unwrap();
    let server = Server::start(timm_file(), Behaviour::default());
    let mut command = nst_command(&models, &server.url(), &["model", "fetch", "-q"]);
    let (output, _) = output_within(&mut command, Duration::from_secs(60));
    println!("{}\nrequests: {:#?}", text(&output), server.requests());
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let message = text(&output);
    let partial = models.join(".downloads").join(format!("{}.partial", sha256_hex(&timm_file())));
    assert!(message.contains(&format!("cannot write {}", partial.display())), "{message}");
    assert!(!message.contains("trying torchvision") && !message.contains("resuming"), "{message}");
    assert!(!server.requests().iter().any(|r| r.contains("/models/vgg19-")), "{:#?}", server.requests());
}

#[test]
fn http_proxy_comes_before_all_proxy() {
    let dir = scratch("fetch-proxy-order");
    let models = dir.join("models");
    let proxy = Server::start(timm_file(), Behaviour::default());
    let dead = format!("http://127.0.0.1:{}", TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    // ureq alone takes ALL_PROXY first, which leads nowhere here.
    let mut command = nst_command(&models, "http://hub.invalid", &["model", "fetch", "-q"]);
    command.env("ALL_PROXY", &dead).env("HTTP_PROXY", proxy.url());
    let (output, _) = output_within(&mut command, Duration::from_secs(60));
    println!("{}\nproxy saw: {:#?}", text(&output), proxy.requests());
    assert!(output.status.success(), "{}", text(&output));
    assert!(proxy.requests().iter().any(|r| r.contains("hub.invalid")), "{:#?}", proxy.requests());
    assert_installed_exactly(&models);

    // NO_PROXY names the host: the proxy is not asked, and the name does not resolve.
    let mut command = nst_command(&dir.join("other"), "http://hub.invalid", &["model", "fetch", "-q"]);
    command.env("HTTP_PROXY", proxy.url()).env("NO_PROXY", "hub.invalid");
    let asked = proxy.requests().len();
    let (output, _) = output_within(&mut command, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(proxy.requests().len(), asked, "{:#?}", proxy.requests());
}

/// A state dict in the legacy pickle stream of torchvision's `vgg19-dcbb9e9d.pth` (PyTorch 0.3, 2017), as
/// `torch.save` wrote it: its tensors are `torch._utils._rebuild_tensor(storage, offset, shape, stride)` calls
/// (not the later `_rebuild_tensor_v2`) on storages named by persistent ids. Returns the file and its conv
/// weights in order (each weight, then its bias).
fn legacy_pth(seed: u64) -> (Vec<u8>, Vec<f32>) {
    fn text(out: &mut Vec<u8>, value: &str) {
        out.push(b'X'); // BINUNICODE
        out.extend((value.len() as u32).to_le_bytes());
        out.extend(value.as_bytes());
    }
    fn int(out: &mut Vec<u8>, value: usize) {
        out.push(b'J'); // BININT
        out.extend((value as i32).to_le_bytes());
    }
    fn tuple(out: &mut Vec<u8>, values: &[usize]) {
        out.push(b'('); // MARK
        values.iter().for_each(|v| int(out, *v));
        out.push(b't'); // TUPLE
    }
    let model = random_vgg19(seed);
    let mut tensors: Vec<(String, Vec<usize>, Vec<f32>)> = Vec::new();
    for (index, conv) in TORCHVISION_CONV_INDICES.iter().zip(&model.convs) {
        let cout = conv.bias.len();
        let cin = conv.weight.len() / (cout * 9);
        tensors.push((format!("features.{index}.weight"), vec![cout, cin, 3, 3], conv.weight.clone()));
        tensors.push((format!("features.{index}.bias"), vec![cout], conv.bias.clone()));
    }
    tensors.push(("classifier.6.bias".into(), vec![3], vec![0.5, -0.5, 0.25]));
    let expected: Vec<f32> = model.convs.iter().flat_map(|c| c.weight.iter().chain(&c.bias).copied()).collect();

    let mut out = Vec::new();
    // The magic number 0x1950a86a20f9469cfc6c (LONG1), the protocol version 1001 (BININT2), the system info.
    out.extend(b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.");
    out.extend(b"\x80\x02M\xe9\x03.");
    out.extend(b"\x80\x02}(");
    text(&mut out, "protocol_version");
    out.extend(b"M\xe9\x03");
    text(&mut out, "little_endian");
    out.push(0x88); // NEWTRUE
    text(&mut out, "type_sizes");
    out.extend(b"}(");
    for (name, size) in [("short", 2u8), ("int", 4), ("long", 4)] {
        text(&mut out, name);
        out.extend([b'K', size]); // BININT1
    }
    out.extend(b"uu.");
    // The state dict: an OrderedDict of rebuilt tensors.
    out.extend(b"\x80\x02ccollections\nOrderedDict\n)R(");
    for (key, (name, shape, values)) in tensors.iter().enumerate() {
        text(&mut out, name);
        out.extend(b"ctorch._utils\n_rebuild_tensor\n((");
        text(&mut out, "storage");
        out.extend(b"ctorch\nFloatStorage\n");
        text(&mut out, &key.to_string());
        text(&mut out, "cpu");
        int(&mut out, values.len());
        out.extend(b"NtQ"); // no view; TUPLE; BINPERSID
        int(&mut out, 0);
        tuple(&mut out, shape);
        let strides: Vec<usize> = (0..shape.len()).map(|d| shape[d + 1..].iter().product()).collect();
        tuple(&mut out, &strides);
        out.extend(b"tR");
    }
    out.extend(b"u.");
    // The storage keys, then each storage: its element count and its little-endian values.
    out.extend(b"\x80\x02](");
    (0..tensors.len()).for_each(|key| text(&mut out, &key.to_string()));
    out.extend(b"e.");
    for (_, _, values) in &tensors {
        out.extend((values.len() as u64).to_le_bytes());
        values.iter().for_each(|v| out.extend(v.to_le_bytes()));
    }
    (out, expected)
}

/// A server without the hub that serves `pth` at `path`, and `nst model fetch` from `url` (the fallback).
fn fetch_pth_from(dir: &Path, pth: Vec<u8>, path: &str, url_tail: &str) -> (Output, Server, String) {
    let behaviour = Behaviour { no_hub: true, extra: Some((path.into(), pth)), ..Behaviour::default() };
    let server = Server::start(timm_file(), behaviour);
    let url = format!("{}{path}{url_tail}", server.url());
    let mut command = nst_command(&dir.join("models"), &server.url(), &["model", "fetch", "-q"]);
    command.env("NST_TORCHVISION_URL", &url);
    let (output, _) = output_within(&mut command, Duration::from_secs(60));
    println!("{}\nrequests: {:#?}", text(&output), server.requests());
    (output, server, url)
}

#[test]
fn torchvisions_legacy_pth_is_read_from_the_fallback_source() {
    let dir = scratch("fetch-legacy-pth");
    let (pth, expected) = legacy_pth(5);
    let sha = sha256_hex(&pth);
    let (output, _, url) = fetch_pth_from(&dir, pth, &format!("/models/vgg19-{}.pth", &sha[..8]), "");
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("HTTP 404") && text(&output).contains("trying torchvision"), "{}", text(&output));
    assert_installed_weights(&dir.join("models"), &expected);
    let manifest = std::fs::read_to_string(dir.join("models/vgg19.toml")).unwrap();
    assert!(manifest.contains(&url) && manifest.contains(&sha), "{manifest}");
}

#[test]
fn a_mirror_urls_query_and_fragment_are_no_part_of_the_file_name() {
    let dir = scratch("fetch-query");
    let (pth, expected) = legacy_pth(6);
    let sha = sha256_hex(&pth);
    let path = format!("/models/vgg19-{}.pth", &sha[..8]);
    let (output, server, _) = fetch_pth_from(&dir, pth, &path, "?download=1&token=a.b/c-0000000000#part");
    assert!(output.status.success(), "{}", text(&output));
    assert!(server.requests().iter().any(|r| r.contains("?download=1&token=a.b/c-0000000000")));
    assert_installed_weights(&dir.join("models"), &expected);
    let listed = nst_with(&dir.join("models"), "http://unused.invalid", None, &["model", "list"]);
    assert!(text(&listed).contains("torchvision's vgg19-dcbb9e9d.pth"), "{}", text(&listed));
    assert!(!text(&listed).contains("Hugging Face"), "{}", text(&listed));
}

#[test]
fn a_size_no_vgg19_file_can_have_is_refused_before_the_download() {
    let dir = scratch("fetch-huge-announced");
    let models = dir.join("models");
    let server = Server::start(timm_file(), Behaviour { announced_size: Some(1 << 40), ..Behaviour::default() });
    let output = nst_with(&models, &server.url(), None, &["model", "fetch", "-q"]);
    println!("{}", text(&output));
    assert!(!output.status.success());
    assert!(text(&output).contains("more than a VGG19 file can be"), "{}", text(&output));
    assert!(server.file_requests().is_empty(), "{:#?}", server.requests());
}

#[cfg(unix)]
#[test]
fn a_link_planted_at_the_partial_download_is_replaced_not_written_through() {
    let dir = scratch("fetch-partial-link");
    let models = dir.join("models");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, b"keep me").unwrap();
    std::fs::create_dir_all(models.join(".downloads")).unwrap();
    let partial = models.join(format!(".downloads/{}.partial", sha256_hex(&timm_file())));
    std::os::unix::fs::symlink(&victim, &partial).unwrap();
    let server = Server::start(timm_file(), Behaviour::default());
    let output = nst_with(&models, &server.url(), None, &["model", "fetch", "-q"]);
    println!("{}", text(&output));
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert_installed_exactly(&models);
}

#[test]
fn fetch_repairs_an_installed_model_that_no_longer_matches_its_manifest() {
    let dir = scratch("fetch-repair");
    let models = dir.join("models");
    let server = Server::start(timm_file(), Behaviour::default());
    let first = nst_with(&models, &server.url(), None, &["model", "fetch", "-q"]);
    assert!(first.status.success(), "{}", text(&first));
    let stored = models.join("vgg19.safetensors");
    let mut bytes = std::fs::read(&stored).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&stored, &bytes).unwrap();
    let repaired = nst_with(&models, &server.url(), None, &["model", "fetch", "-q"]);
    println!("{}", text(&repaired));
    assert!(repaired.status.success(), "{}", text(&repaired));
    assert!(text(&repaired).contains("fetching it again"), "{}", text(&repaired));
    assert!(!text(&repaired).contains("already installed"), "{}", text(&repaired));
    assert_installed_exactly(&models);
}

#[test]
fn a_tls_failure_says_how_to_trust_an_inspecting_proxy() {
    let dir = scratch("fetch-tls");
    // A server that answers TLS with plain HTTP, as a broken or intercepting middlebox may.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut hello = [0u8; 512];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let hub = format!("https://127.0.0.1:{port}");
    let (output, _) =
        output_within(&mut nst_command(&dir.join("models"), &hub, &["model", "fetch", "-q"]), Duration::from_secs(60));
    let message = text(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("set SSL_CERT_FILE to your organisation's CA bundle"), "{message}");
}
