//! The GIMP windows as a user meets them, on a virtual X display: the filter's progress dialog cancelled
//! with its own Cancel (Escape), and the filter's dialog opened, previewed and run with the keyboard; and GIMP 3's
//! dialog (inside its Debian 13 root, on the same kind of display) previewed and run. GIMP's
//! batch mode drives the image; xdotool drives the windows; the screenshots are kept in
//! target/gimp-gui-screenshots/ as the run's artefacts.
//!
//! Unix only: it needs X11, Xvfb and xdotool.
#![cfg(unix)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::{DynamicImage, GenericImageView};
use support::{checks, plugin_path, repo, scratch};

/// An Xvfb server on a display number it picks itself; stopped when dropped.
struct Display {
    server: Child,
    name: String,
}

impl Display {
    /// A display for local clients; `tcp` also listens on 127.0.0.1, for GIMP 3 inside its root.
    fn start(tcp: bool) -> Display {
        let mut server = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x1024x24", if tcp { "-listen" } else { "-nolisten" }, "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb must be installed (apt-get install xvfb)");
        let mut number = String::new();
        use std::io::Read;
        let mut stdout = server.stdout.take().unwrap();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            number.push(byte[0] as char);
        }
        assert!(!number.trim().is_empty(), "Xvfb did not report its display");
        Display { server, name: format!(":{}", number.trim()) }
    }

    fn run(&self, program: &str, args: &[&str]) -> (bool, String) {
        let output = Command::new(program).args(args).env("DISPLAY", &self.name).output().unwrap();
        (output.status.success(), String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// The id of the first window titled exactly `title`, waiting up to `limit`.
    fn window(&self, title: &str, limit: Duration) -> Option<String> {
        self.window_matching(&format!("^{title}$"), limit)
    }

    /// The id of the first window whose title matches the regular expression `pattern`, waiting up to `limit`.
    fn window_matching(&self, pattern: &str, limit: Duration) -> Option<String> {
        let start = Instant::now();
        while start.elapsed() < limit {
            let (found, ids) = self.run("xdotool", &["search", "--name", pattern]);
            if found && !ids.is_empty() {
                return ids.lines().next().map(str::to_string);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        None
    }

    /// Clicks at (`right`, `bottom`) pixels in from the bottom-right corner of `window`.
    fn click_from_corner(&self, window: &str, right: i64, bottom: i64) {
        let (_, geometry) = self.run("xdotool", &["getwindowgeometry", "--shell", window]);
        let value = |key: &str| -> i64 {
            geometry.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).and_then(|v| v.parse().ok()).unwrap_or(0)
        };
        let (x, y) = (value("X") + value("WIDTH") - right, value("Y") + value("HEIGHT") - bottom);
        self.run("xdotool", &["mousemove", &x.to_string(), &y.to_string(), "click", "1"]);
    }

    /// Gives `window` the keyboard and types `key` through the XTEST extension (GTK 3 ignores the synthetic
    /// events of `key --window`). Not checked, as for `key`.
    fn type_key(&self, window: &str, key: &str) {
        self.run("xdotool", &["windowfocus", "--sync", window]);
        self.run("xdotool", &["key", key]);
    }

    /// Sends `key` to `window`. Not checked: a key that closes the window makes xdotool fail on the key's
    /// release; what the key did is checked instead.
    fn key(&self, window: &str, key: &str) {
        self.run("xdotool", &["key", "--window", window, key]);
    }

    /// The whole screen (`import -window ID` can wait for ever on a window without a window manager).
    fn screenshot(&self, path: &Path) {
        let (ok, _) = self.run("timeout", &["30", "import", "-window", "root", &path.display().to_string()]);
        assert!(ok && path.is_file(), "no screenshot at {}", path.display());
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// GIMP 2.10 with its window, running `script` as a batch command, isolated in `dir`.
fn start_gimp(display: &Display, dir: &Path, script: &str) -> Child {
    Command::new("timeout")
        .args(["300", "gimp-2.10", "-d", "-f", "-s", "-g"])
        .arg(dir.join("gimprc"))
        .args(["--stack-trace-mode=never", "-b", script, "-b", "(gimp-quit 0)"])
        .env("DISPLAY", &display.name)
        .env("GIMP2_DIRECTORY", dir.join("profile"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gimp-2.10 must be installed (apt-get install gimp)")
}

/// GIMP 3 with its window, inside its root, running /job/work/`script` with python-fu-eval.
fn start_gimp3(display: &Display, root: &Path, script: &str) -> Child {
    Command::new(repo().join("scripts/gimp3-root"))
        .args([
            "--run",
            "bash",
            "-c",
            &format!(
                "DISPLAY=127.0.0.1{} GIMP3_DIRECTORY=/job/gimpdir timeout 280 gimp-3.0 --batch-interpreter=python-fu-eval -b \"exec(open('/job/work/{script}').read())\" --quit",
                display.name
            ),
        ])
        .env("NST_GIMP3_ROOT", root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(gimp: Child) -> String {
    let output = gimp.wait_with_output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The image's dirty flag, channels and selection, printed to the console after `tag`.
fn state(tag: &str) -> String {
    format!(
        "(gimp-message (string-append \"{tag}: dirty \" (number->string (car (gimp-image-is-dirty img))) \" channels \" (number->string (car (gimp-image-get-channels img))) \" selection \" (apply string-append (map (lambda (v) (string-append (number->string v) \" \")) (gimp-selection-bounds img)))))"
    )
}

fn state_line(log: &str, tag: &str) -> Option<String> {
    log.lines().find_map(|l| l.split_once(&format!("{tag}:")).map(|(_, rest)| rest.trim().to_string()))
}

fn artefacts() -> PathBuf {
    let dir = repo().join("target/gimp-gui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Mean absolute difference of two same-sized screenshots, in 8-bit units.
fn difference(a: &Path, b: &Path) -> f64 {
    let (a, b) = (image::open(a).unwrap().to_rgb8(), image::open(b).unwrap().to_rgb8());
    assert_eq!(a.dimensions(), b.dimensions());
    a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| (*x as f64 - *y as f64).abs()).sum::<f64>() / a.as_raw().len() as f64
}

/// In the open filter dialog `window`: a screenshot, Alt+V (Preview), screenshots until the preview is drawn
/// (up to a minute), then Alt+O (OK). Returns how much the preview changed the screen (mean, 8-bit units).
fn preview_then_ok(
    display: &Display,
    window: &str,
    shots: &Path,
    before: &str,
    after: &str,
    press: fn(&Display, &str, &str),
) -> f64 {
    std::thread::sleep(Duration::from_secs(2));
    display.screenshot(&shots.join(before));
    press(display, window, "alt+v");
    let (start, mut change) = (Instant::now(), 0.0);
    while start.elapsed() < Duration::from_secs(60) && change < 1.0 {
        std::thread::sleep(Duration::from_secs(2));
        display.screenshot(&shots.join(after));
        change = difference(&shots.join(before), &shots.join(after));
    }
    press(display, window, "alt+o");
    change
}

#[test]
fn the_gimp_window_cancels_cleanly_and_its_dialog_previews_runs_and_remembers() {
    plugin_path();
    let dir = scratch("gimp-gui");
    let install = support::install_gimp2(&dir.join("plug-ins"), &dir.join("gegl"));
    assert!(install.status.success(), "{}", String::from_utf8_lossy(&install.stderr));
    std::fs::write(
        dir.join("gimprc"),
        format!("(plug-in-path \"{}:${{gimp_plug_in_dir}}/plug-ins\")\n", dir.join("plug-ins").display()),
    )
    .unwrap();
    let input = checks::detailed(96, 64);
    input.save(dir.join("in.png")).unwrap();
    let shots = artefacts();
    let display = Display::start(false);
    let load = format!(
        "(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE \"{d}/in.png\" \"in.png\"))) (drw (car (gimp-image-get-active-drawable img))))",
        d = dir.display()
    );
    let save = |name: &str| {
        let path = dir.join(name);
        format!("(file-png-save2 RUN-NONINTERACTIVE img drw \"{p}\" \"{p}\" 0 9 0 0 0 0 0 0 0)", p = path.display())
    };

    // 1. A long run cancelled from its progress dialog, as the Cancel button does.
    let script = format!(
        "{load} (gimp-message-set-handler CONSOLE) (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 8 8 48 40) (gimp-image-clean-all img) {} (catch #f (plug-in-nst-style RUN-NONINTERACTIVE img drw \"mosaic\" -1 0 10000 1.0 -1 -1 -1)) {} {})",
        state("cancel-before"),
        state("cancel-after"),
        save("cancelled.png")
    );
    let mut gimp = start_gimp(&display, &dir, &script);
    let progress = display.window("Progress", Duration::from_secs(120));
    if let Some(window) = &progress {
        std::thread::sleep(Duration::from_secs(2));
        display.screenshot(&shots.join("1-progress.png"));
        // Escape until GIMP ends: on a busy machine the dialog may not take the first one yet, so keep sending
        // it, to the progress window as it is now, for far longer than that; the run's 10000 iterations last
        // longer still, so a run that ends here was cancelled, and one that was not fails the state check below.
        let start = Instant::now();
        while gimp.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(240) {
            let current = display.window("Progress", Duration::from_secs(1)).unwrap_or_else(|| window.clone());
            display.key(&current, "Escape");
            std::thread::sleep(Duration::from_secs(2));
        }
        println!("GIMP ended {:?} after the first Escape", start.elapsed());
    }
    let log = finish(gimp);
    assert!(progress.is_some(), "no progress dialog appeared:\n{log}");
    let (before, after) = (state_line(&log, "cancel-before"), state_line(&log, "cancel-after"));
    println!("before the cancelled run: {before:?}; after: {after:?}");
    assert!(before.is_some() && before == after, "the cancelled run changed the image's state:\n{log}");
    assert!(!log.contains("inconsistent state"), "{log}");
    let cancelled = image::open(dir.join("cancelled.png")).unwrap().to_rgba8();
    assert_eq!(cancelled, input, "the cancelled run changed pixels");

    // 2. The dialog: opened, previewed (Alt+V), run (Alt+O); its settings outlive GIMP.
    let script = format!(
        "{load} (gimp-message-set-handler CONSOLE) (plug-in-nst-style RUN-INTERACTIVE img drw \"mosaic\" -1 0 0 1.0 -1 -1 -1) {})",
        save("from-dialog.png")
    );
    let gimp = start_gimp(&display, &dir, &script);
    let dialog = display.window("Neural Style", Duration::from_secs(120));
    let preview_change = dialog.as_ref().map_or(0.0, |window| {
        preview_then_ok(&display, window, &shots, "2-dialog.png", "3-dialog-preview.png", Display::key)
    });
    let gimp_running = Instant::now();
    let log = finish(gimp);
    println!("dialog run finished {:.0} s after OK", gimp_running.elapsed().as_secs_f64());
    assert!(dialog.is_some(), "the dialog did not open:\n{log}");
    println!("the preview changed the dialog's screenshot by {preview_change:.2} (mean, 8-bit units)");
    assert!(preview_change >= 1.0, "the preview did not appear in the dialog");
    let result = image::open(dir.join("from-dialog.png")).unwrap();
    assert_eq!(result.dimensions(), (96, 64), "the result is not at the layer's size");
    let change = checks::luma_change(&result, &DynamicImage::ImageRgba8(input.clone()));
    println!("the dialog's run changed the layer by {change:.4} (mean luma)");
    assert!(change > 0.01, "the dialog's run did not change the layer:\n{log}");
    let parasites = std::fs::read_to_string(dir.join("profile/parasiterc")).unwrap_or_default();
    assert!(parasites.contains("nst-style-settings"), "the dialog's settings were not kept for the next start");
    println!("screenshots: {}", shots.display());
}

#[test]
fn the_gimp3_window_cancels_cleanly_and_its_dialog_previews_runs_and_keeps_its_settings() {
    plugin_path();
    let root = support::gimp3::fresh_job();
    let work = root.join("job/work");
    let input = checks::detailed(96, 64);
    input.save(work.join("detailed.png")).unwrap();
    support::gimp3::install(&root);
    let shots = artefacts();
    let display = Display::start(true);

    // 1. A long run on a displayed image, cancelled with the Cancel button of the image window's status bar.
    std::fs::write(
        work.join("cancel.py"),
        "from gi.repository import Gimp, Gio\n\
         image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path('/job/work/detailed.png'))\n\
         Gimp.Display.new(image)\n\
         Gimp.displays_flush()\n\
         image.select_rectangle(Gimp.ChannelOps.REPLACE, 8, 8, 48, 40)\n\
         image.clean_all()\n\
         def state(tag):\n    \
             print('%s: dirty %s channels %d selection %s' % (tag, image.is_dirty(), len(image.get_channels()), list(Gimp.Selection.bounds(image))), flush=True)\n\
         state('cancel-before')\n\
         open('/job/work/started', 'w').close()\n\
         proc = Gimp.get_pdb().lookup_procedure('plug-in-nst-style')\n\
         config = proc.create_config()\n\
         config.set_property('run-mode', Gimp.RunMode.NONINTERACTIVE)\n\
         config.set_property('image', image)\n\
         config.set_core_object_array('drawables', image.get_selected_drawables())\n\
         config.set_property('iterations', 3000)\n\
         print('cancel status', proc.run(config).index(0).value_nick, flush=True)\n\
         state('cancel-after')\n\
         Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path('/job/work/cancelled.png'), None)\n",
    )
    .unwrap();
    let mut gimp = start_gimp3(&display, &root, "cancel.py");
    let window = display.window_matching("96x64 – GIMP$", Duration::from_secs(180));
    if let Some(window) = &window {
        // The run starts once the script has written its marker; a busy machine may take a while.
        let start = Instant::now();
        while !work.join("started").exists() && start.elapsed() < Duration::from_secs(120) {
            std::thread::sleep(Duration::from_millis(500));
        }
        std::thread::sleep(Duration::from_secs(3));
        display.screenshot(&shots.join("4-gimp3-progress.png"));
        // The status bar's Cancel button of GIMP 3.0's default 800x600 image window (measured on its
        // screenshot), pressed until GIMP ends: a click before the progress shows it does nothing.
        let start = Instant::now();
        while gimp.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(120) {
            display.click_from_corner(window, 283, 18);
            std::thread::sleep(Duration::from_secs(3));
        }
    }
    let log = finish(gimp);
    assert!(window.is_some(), "the GIMP 3 image window did not open:\n{log}");
    assert!(log.contains("cancel status cancel"), "the run was not cancelled:\n{log}");
    let (before, after) = (state_line(&log, "cancel-before"), state_line(&log, "cancel-after"));
    println!("GIMP 3, before the cancelled run: {before:?}; after: {after:?}");
    assert!(before.is_some() && before == after, "the cancelled run changed the image's state:\n{log}");
    assert!(!log.contains("inconsistent state"), "{log}");
    assert_eq!(image::open(work.join("cancelled.png")).unwrap().to_rgba8(), input, "the cancelled run changed pixels");

    // 2. The dialog: opened, previewed, run; its values kept for the next start.
    std::fs::write(
        work.join("dialog.py"),
        "from gi.repository import Gimp, Gio\n\
         image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path('/job/work/detailed.png'))\n\
         proc = Gimp.get_pdb().lookup_procedure('plug-in-nst-style')\n\
         config = proc.create_config()\n\
         config.set_property('run-mode', Gimp.RunMode.INTERACTIVE)\n\
         config.set_property('image', image)\n\
         config.set_core_object_array('drawables', image.get_selected_drawables())\n\
         print('dialog status', proc.run(config).index(0).value_nick, flush=True)\n\
         Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path('/job/work/from-dialog.png'), None)\n",
    )
    .unwrap();
    let gimp = start_gimp3(&display, &root, "dialog.py");
    let dialog = display.window("Neural Style", Duration::from_secs(180));
    let preview_change = dialog.as_ref().map_or(0.0, |window| {
        preview_then_ok(&display, window, &shots, "5-gimp3-dialog.png", "6-gimp3-dialog-preview.png", Display::type_key)
    });
    let log = finish(gimp);
    assert!(dialog.is_some(), "the GIMP 3 dialog did not open:\n{log}");
    println!("the preview changed the GIMP 3 dialog's screenshot by {preview_change:.2} (mean, 8-bit units)");
    assert!(preview_change >= 1.0, "the preview did not appear in the GIMP 3 dialog");
    assert!(log.contains("dialog status success"), "{log}");
    let result = image::open(work.join("from-dialog.png")).unwrap();
    assert_eq!(result.dimensions(), (96, 64));
    let change = checks::luma_change(&result, &DynamicImage::ImageRgba8(input));
    println!("the GIMP 3 dialog's run changed the layer by {change:.4} (mean luma)");
    assert!(change > 0.01, "the GIMP 3 dialog's run did not change the layer");
    let kept = root.join("job/gimpdir/plug-in-settings/GimpProcedureConfigRun-plug-in-nst-style.last");
    assert!(kept.is_file(), "GIMP 3 did not keep the dialog's values for the next start");
}
