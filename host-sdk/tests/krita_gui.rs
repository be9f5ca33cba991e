//! The Krita plug-in as a user meets it, in Debian's Krita on a virtual X display: the Neural Style action opens
//! its dialog, which previews, runs with its progress bar, and cancels a run leaving the image as it was; the
//! result is one new layer, taken back by one undo. xdotool types the keys; a small driver plug-in
//! (host-sdk/tests/python/krita_gui_driver.py) reports the document's state and the dialog's texts. Screenshots
//! are kept in target/krita-gui-screenshots/.
//!
//! Unix only: it needs X11, Xvfb, xdotool, ImageMagick's import and Krita.
#![cfg(unix)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::krita::{Profile, install};
use support::{plugin_path, repo, scratch};

/// An Xvfb server on a display number it picks itself; stopped when dropped.
struct Display {
    server: Child,
    name: String,
}

impl Display {
    fn start() -> Display {
        let mut server = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb must be installed (apt-get install xvfb)");
        use std::io::Read;
        let (mut number, mut byte) = (String::new(), [0u8; 1]);
        let mut stdout = server.stdout.take().unwrap();
        while stdout.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            number.push(byte[0] as char);
        }
        assert!(!number.trim().is_empty(), "Xvfb did not report its display");
        Display { server, name: format!(":{}", number.trim()) }
    }

    fn run(&self, program: &str, args: &[&str]) -> String {
        let output = Command::new(program).args(args).env("DISPLAY", &self.name).output().unwrap();
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// The first window titled exactly `title`, waiting up to `limit`.
    fn window(&self, title: &str, limit: Duration) -> Option<String> {
        let start = Instant::now();
        while start.elapsed() < limit {
            let ids = self.run("xdotool", &["search", "--onlyvisible", "--name", &format!("^{title}$")]);
            if let Some(id) = ids.lines().next() {
                return Some(id.to_string());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        None
    }

    /// Gives `window` the keyboard and types `keys` (xdotool key names) through XTEST.
    fn keys(&self, window: &str, keys: &[&str]) {
        self.run("xdotool", &["windowfocus", "--sync", window]);
        for key in keys {
            self.run("xdotool", &["key", "--clearmodifiers", key]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Focuses a field by its Alt shortcut and replaces its text with `text`.
    fn fill(&self, window: &str, shortcut: &str, text: &str) {
        self.keys(window, &[shortcut, "ctrl+a"]);
        self.run("xdotool", &["type", "--delay", "60", text]);
        std::thread::sleep(Duration::from_millis(200));
    }

    /// The whole screen, and `window`'s part of it as NAME-window.png.
    fn screenshot(&self, dir: &Path, name: &str, window: Option<&str>) {
        let path = dir.join(format!("{name}.png"));
        self.run("timeout", &["30", "import", "-window", "root", &path.display().to_string()]);
        assert!(path.is_file(), "no screenshot at {}", path.display());
        let Some(window) = window else { return };
        let geometry = self.run("xdotool", &["getwindowgeometry", "--shell", window]);
        let value = |key: &str| -> u32 {
            geometry.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).and_then(|v| v.parse().ok()).unwrap_or(0)
        };
        let screen = image::open(&path).unwrap();
        let (x, y) = (value("X").min(screen.width() - 1), value("Y").min(screen.height() - 1));
        let (w, h) = (value("WIDTH").min(screen.width() - x), value("HEIGHT").min(screen.height() - y));
        if w > 0 && h > 0 {
            screen.crop_imm(x, y, w, h).save(dir.join(format!("{name}-window.png"))).unwrap();
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Krita with the driver plug-in: commands go to `folder`/commands, one reply a line comes back in
/// `folder`/replies.
struct Krita {
    child: Child,
    folder: PathBuf,
    sent: usize,
}

impl Krita {
    fn start(display: &Display, profile: &Profile, folder: &Path) -> Krita {
        std::fs::create_dir_all(folder).unwrap();
        let child = profile
            .command("timeout")
            .args(["600", "krita", "--nosplash"])
            .env("DISPLAY", &display.name)
            .env("NST_KRITA_DRIVER", folder)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(folder.join("krita.log")).unwrap())
            .spawn()
            .expect("krita must be installed (apt-get install krita python3-pyqt5)");
        Krita { child, folder: folder.to_path_buf(), sent: 0 }
    }

    /// Sends `command` and returns its reply, waiting up to `limit`.
    fn send(&mut self, command: &str, limit: Duration) -> String {
        use std::io::Write;
        let mut commands =
            std::fs::OpenOptions::new().create(true).append(true).open(self.folder.join("commands")).unwrap();
        writeln!(commands, "{command}").unwrap();
        self.sent += 1;
        let start = Instant::now();
        while start.elapsed() < limit {
            let replies = std::fs::read_to_string(self.folder.join("replies")).unwrap_or_default();
            if let Some(line) = replies.lines().nth(self.sent - 1) {
                return line.to_string();
            }
            assert!(self.child.try_wait().unwrap().is_none(), "Krita ended:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("no reply to '{command}' in {limit:?}:\n{}", self.log());
    }

    /// Asks for the dialog's state until `done` holds for it, up to `limit`; the last state.
    fn dialog_until(&mut self, limit: Duration, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let state = self.send("dialog", Duration::from_secs(30));
            if done(&state) || start.elapsed() > limit {
                return state;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.folder.join("krita.log")).unwrap_or_default()
    }
}

impl Drop for Krita {
    /// Krita runs under `timeout`, which passes a TERM on to it (a KILL would leave Krita running).
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let start = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() && start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A state reply without its tag: the layers, the source's pixel digest, the top layer's extent and digest (fields
/// apart by tabs, as layer names hold spaces).
fn without_tag(state: &str) -> String {
    state.split('\t').skip(1).collect::<Vec<_>>().join("\t")
}

#[test]
fn the_krita_dialog_previews_runs_into_one_undoable_layer_and_cancels_cleanly() {
    plugin_path();
    let dir = scratch("krita-gui");
    let profile = Profile::new(&dir.join("home"));
    install(&profile.pykrita());
    let driver = profile.pykrita().join("nst_gui_driver");
    std::fs::create_dir_all(&driver).unwrap();
    std::fs::copy(repo().join("host-sdk/tests/python/krita_gui_driver.py"), driver.join("__init__.py")).unwrap();
    std::fs::write(
        profile.pykrita().join("nst_gui_driver.desktop"),
        "[Desktop Entry]\nType=Service\nServiceTypes=Krita/PythonPlugin\nX-KDE-Library=nst_gui_driver\nName=nst GUI test driver\n",
    )
    .unwrap();
    profile.enable(&["nst_krita", "nst_gui_driver"]);
    let shots = repo().join("target/krita-gui-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let display = Display::start();
    let started = Instant::now();
    let mut krita = Krita::start(&display, &profile, &dir.join("driver"));
    assert_eq!(krita.send("new 256 192", Duration::from_secs(240)), "created");
    println!("Krita's window after {:.0} s", started.elapsed().as_secs_f64());
    let before = krita.send("state before", Duration::from_secs(30));
    println!("{before}");

    // The action is in Tools > Scripts and in the Filter menu (placed there once a view is open).
    let menus = krita.send("menus", Duration::from_secs(30));
    println!("{menus}");
    assert!(menus.contains("Filter:Neural Style…"), "not in the Filter menu: {menus}\n{}", krita.log());
    assert!(menus.contains("tools/scripts:Neural Style…"), "not in Tools > Scripts: {menus}");
    // The dialog, through the action; its estimate comes from the engine's benchmark.
    assert!(krita.send("action nst_neural_style", Duration::from_secs(30)).starts_with("triggered"));
    let dialog = display.window("Neural Style", Duration::from_secs(60)).expect("the dialog did not open");
    let opened = krita.dialog_until(Duration::from_secs(120), |s| s.contains("Works at") && s.contains("Model: "));
    println!("{opened}");
    assert!(opened.contains("Works at 256x192") && opened.contains("about "), "no estimate: {opened}");
    assert!(opened.contains("random-weight") && opened.contains("nst model fetch"), "no model line: {opened}");
    display.screenshot(&shots, "1-dialog", Some(&dialog));

    // Preview (Alt+P): a picture in the dialog, no layer.
    display.keys(&dialog, &["alt+p"]);
    let previewed = krita.dialog_until(Duration::from_secs(180), |s| s.contains("preview=True"));
    println!("{previewed}");
    assert!(previewed.contains("preview=True") && previewed.contains("Preview: "), "no preview: {previewed}");
    display.screenshot(&shots, "2-preview", Some(&dialog));
    assert_eq!(without_tag(&krita.send("state previewed", Duration::from_secs(30))), without_tag(&before));

    // A long run (Alt+R), cancelled with the Cancel button (Alt+C): the image stays as it was. The driver's
    // replies during the run come from Krita's GUI thread, so it is free.
    display.fill(&dialog, "alt+i", "5000");
    display.keys(&dialog, &["alt+r"]);
    let running = krita.dialog_until(Duration::from_secs(180), |s| s.contains("Iteration "));
    println!("{running}");
    assert!(running.contains("Iteration ") && running.contains("of 5000"), "the run did not start: {running}");
    assert!(running.contains("'Run': False"), "Run stayed enabled during the run: {running}");
    let during = krita.send("state during", Duration::from_secs(5));
    display.screenshot(&shots, "3-running", Some(&dialog));
    display.keys(&dialog, &["alt+c"]);
    let cancelled = krita.dialog_until(Duration::from_secs(120), |s| s.contains("Cancelled"));
    println!("{cancelled}");
    assert!(cancelled.contains("Cancelled: the image is as it was"), "not cancelled: {cancelled}");
    display.screenshot(&shots, "4-cancelled", Some(&dialog));
    assert_eq!(without_tag(&during), without_tag(&before), "the image changed during the run");
    assert_eq!(without_tag(&krita.send("state cancelled", Duration::from_secs(30))), without_tag(&before));

    // A short run: one new layer above the source, which stays as it was; one undo takes it back.
    display.fill(&dialog, "alt+w", "64");
    display.fill(&dialog, "alt+i", "6");
    display.keys(&dialog, &["alt+r"]);
    let closed = krita.dialog_until(Duration::from_secs(240), |s| s == "dialog closed");
    assert_eq!(closed, "dialog closed", "the run did not finish");
    let after = krita.send("state after-run", Duration::from_secs(30));
    println!("{after}");
    display.screenshot(&shots, "5-result", None);
    let layers = |state: &str| state.split('\t').nth(1).unwrap_or("").to_string();
    assert_eq!(layers(&after), format!("{}|mosaic (neural style)", layers(&before)), "{after}");
    assert!(after.contains("top_bounds=0,0,256,192"), "the new layer does not cover the image: {after}");
    let source = |state: &str| state.split('\t').nth(2).unwrap_or("").to_string();
    assert_eq!(source(&after), source(&before), "the source layer changed");
    let top = |state: &str| state.split('\t').nth(4).unwrap_or("").to_string();
    assert_ne!(
        top(&after),
        format!("top={}", &source(&after)["source=".len()..]),
        "the new layer is a copy of the source"
    );
    assert_eq!(krita.send("undo", Duration::from_secs(30)), "undone");
    let undone = krita.send("state undone", Duration::from_secs(30));
    println!("{undone}");
    assert_eq!(without_tag(&undone), without_tag(&before), "one undo did not take the run back");
    assert_eq!(krita.send("redo", Duration::from_secs(30)), "redone");
    let redone = krita.send("state redone", Duration::from_secs(30));
    assert_eq!(without_tag(&redone), without_tag(&after), "redo did not bring the layer back");
}
