//! The container images (`Containerfile`, `scripts/build-images`), built once with this test's
//! binary and tried in buildah containers: each runs as user 10001 behind tini, does its role's
//! work on corpus documents (judged on the host by qpdf and poppler), and writes nothing outside
//! its data volume (/var/lib/scanpro) and /tmp, so that it runs on a read-only root filesystem.
//! The engines run under the Landlock sandbox there, as in production.
//!
//! Needs root, buildah and debootstrap (`scripts/install-deps --test`): without them it fails.

use scanpro_testkit::checkers::{page_count, pdfinfo, pdftotext, qpdf_check, rotations};
use scanpro_testkit::corpus::{corpus, text_pdf};
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::LazyLock;
use std::time::Instant;

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The data directory in every image: the one volume it writes to.
const DATA: &str = "/var/lib/scanpro";
/// What a container may write besides its data volume: /tmp, and the kernel's file systems.
const WRITABLE: [&str; 5] = ["tmp", "var/lib/scanpro", "proc", "dev", "sys"];
/// A directory whose own times `buildah run` changes: it makes and removes `/run/.containerenv`
/// each time. What is inside is still watched.
const TOUCHED_BY_BUILDAH: &str = "run";

/// The four images, built once for every test here; the error says why not.
static IMAGES: LazyLock<Result<(), String>> = LazyLock::new(build_images);

fn on_path(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).chain([PathBuf::from("/usr/sbin")]).any(|dir| dir.join(program).is_file())
}

fn build_images() -> Result<(), String> {
    for program in ["buildah", "debootstrap"] {
        if !on_path(program) {
            return Err(format!("{program} is not installed: the image tests need it (scripts/install-deps --test)"));
        }
    }
    if !nix::unistd::geteuid().is_root() {
        return Err("the image tests run buildah as root (buildah mount, debootstrap)".into());
    }
    let log_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("build-images.log");
    let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/build-images");
    let started = Instant::now();
    let status = Command::new(&script)
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_scanpro"))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let said = std::fs::read_to_string(&log_path).unwrap_or_default();
    if !status.success() {
        let lines: Vec<&str> = said.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        return Err(format!("scripts/build-images failed ({status}); the end of {}:\n{tail}", log_path.display()));
    }
    eprintln!("scripts/build-images took {:.0?} (log: {})", started.elapsed(), log_path.display());
    Ok(())
}

fn buildah(args: &[&str]) -> Output {
    Command::new("buildah")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run buildah ({e}): scripts/install-deps --test"))
}

/// `buildah ARGS`, which must succeed; its standard output, trimmed.
fn buildah_ok(args: &[&str]) -> String {
    let out = buildah(args);
    assert!(out.status.success(), "buildah {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A working container of one image, its data directory a fresh host directory; removed on drop.
struct Container {
    name: String,
    volume: tempfile::TempDir,
    /// The container's root file system, mounted on the host.
    root: PathBuf,
}

impl Container {
    fn of(image: &str) -> Self {
        if let Err(why) = &*IMAGES {
            panic!("{why}");
        }
        let name = format!("scanpro-images-test-{}", image.rsplit('/').next().unwrap().replace(':', "-"));
        // A container left by an interrupted run.
        let _ = buildah(&["rm", &name]);
        buildah_ok(&["from", "--name", &name, image]);
        let root = PathBuf::from(buildah_ok(&["mount", &name]));
        let volume = tempfile::tempdir().unwrap();
        // The container's user, not root, writes there.
        std::fs::set_permissions(volume.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        Self { name, volume, root }
    }

    /// Copies `file` into the data volume, readable by the container's user; its path inside.
    fn put(&self, file: &Path) -> String {
        let name = file.file_name().unwrap();
        let copy = self.volume.path().join(name);
        std::fs::copy(file, &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).unwrap();
        format!("{DATA}/{}", name.to_string_lossy())
    }

    /// Where a file of the data volume is on the host.
    fn host(&self, name: &str) -> PathBuf {
        self.volume.path().join(name)
    }

    /// `buildah run`: `args` as the image's user, with the data volume mounted.
    fn run(&self, args: &[&str]) -> Output {
        let volume = format!("{}:{DATA}", self.volume.path().display());
        let mut command = vec!["run", "--isolation", "chroot", "--volume", &volume, &self.name, "--"];
        command.extend(args);
        buildah(&command)
    }

    /// [`Self::run`], which must succeed; its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} in {} exited {:?}:\n{}{}",
            self.name,
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The image is set up to run `scanpro CMD` behind tini as user 10001, with its data in the
    /// volume, and the binary starts there.
    fn check_identity(&self, image: &str, cmd: &[&str]) {
        let inspected: Value = serde_json::from_str(&buildah_ok(&["inspect", "--type", "image", image])).unwrap();
        let config = &inspected["OCIv1"]["config"];
        assert_eq!(config["User"], "10001", "{image}: {config}");
        assert_eq!(
            config["Entrypoint"],
            serde_json::json!(["/usr/bin/tini", "--", "/usr/local/bin/scanpro"]),
            "{config}"
        );
        assert_eq!(config["Cmd"], serde_json::json!(cmd), "{image}: {config}");
        let env = config["Env"].as_array().unwrap();
        assert!(env.contains(&format!("SCANPRO_DATA_DIR={DATA}").into()), "{image}: {config}");
        let version = self.ok(&["/usr/bin/tini", "--", "/usr/local/bin/scanpro", "--version"]);
        assert_eq!(version.trim(), format!("scanpro {VERSION}"));
        assert_eq!(self.ok(&["id", "-u"]).trim(), "10001");
    }

    /// Every entry of the root file system outside [`WRITABLE`], with what a write changes.
    fn snapshot(&self) -> Snapshot {
        let mut entries = Snapshot::new();
        let mut pending = vec![self.root.clone()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
                let path = entry.unwrap().path();
                let relative = path.strip_prefix(&self.root).unwrap().to_owned();
                if WRITABLE.iter().any(|writable| relative == Path::new(writable)) {
                    continue;
                }
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    pending.push(path);
                }
                if relative != Path::new(TOUCHED_BY_BUILDAH) {
                    entries.insert(relative, (meta.ctime(), meta.ctime_nsec(), meta.size(), meta.ino()));
                }
            }
        }
        entries
    }

    /// Nothing outside [`WRITABLE`] was created, changed or removed since `before`.
    fn assert_wrote_nothing_since(&self, before: &Snapshot) {
        let after = self.snapshot();
        let mut written: Vec<String> = before
            .iter()
            .filter_map(|(path, was)| match after.get(path) {
                None => Some(format!("removed /{}", path.display())),
                Some(now) if now != was => Some(format!("changed /{}", path.display())),
                Some(_) => None,
            })
            .collect();
        written.extend(
            after.keys().filter(|path| !before.contains_key(*path)).map(|p| format!("created /{}", p.display())),
        );
        assert!(written.is_empty(), "{} wrote outside {DATA} and /tmp:\n{}", self.name, written.join("\n"));
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = buildah(&["umount", &self.name]);
        let _ = buildah(&["rm", &self.name]);
    }
}

/// Path → (ctime, its nanoseconds, size, inode): any write, chmod, rename or copy-up changes one.
type Snapshot = BTreeMap<PathBuf, (i64, i64, u64, u64)>;

fn image(name: &str) -> String {
    format!("localhost/{name}:{VERSION}")
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

#[test]
fn the_light_image_runs_tools_migrations_and_backups() {
    let image = image("scanpro");
    let container = Container::of(&image);
    container.check_identity(&image, &["serve", "--listen", "0.0.0.0:8080"]);
    let before = container.snapshot();

    let source = text_pdf("ltnews17.pdf");
    let input = container.put(&source);
    container.ok(&["scanpro", "run", "rotate", "--angle", "90", &input, "-o", &format!("{DATA}/rotated.pdf")]);
    let rotated = container.host("rotated.pdf");
    qpdf_check(&rotated);
    let turned: Vec<u32> = rotations(&source).iter().map(|angle| (angle + 90) % 360).collect();
    assert_eq!(rotations(&rotated), turned);

    // SQLite in the data directory the image names; PostgreSQL's are backed up with pg_dump.
    container.ok(&["scanpro", "migrate"]);
    assert!(container.host("scanpro.db").is_file(), "the database is in the volume");
    container.ok(&["scanpro", "backup", "database", "--dest", &format!("{DATA}/backups")]);
    let backups: Vec<_> = std::fs::read_dir(container.host("backups")).unwrap().flatten().map(|e| e.path()).collect();
    assert!(
        backups.len() == 1 && backups[0].join("manifest.json").is_file(),
        "one database backup with its manifest: {backups:?}"
    );
    for program in ["pg_dump", "pg_restore"] {
        assert!(container.ok(&[program, "--version"]).contains("PostgreSQL"), "{program}");
    }
    // `repair`'s last resort.
    container.ok(&["gs", "--version"]);

    container.assert_wrote_nothing_since(&before);
}

#[test]
fn the_libreoffice_image_converts_office_documents() {
    let image = image("scanpro-libreoffice");
    let container = Container::of(&image);
    container.check_identity(&image, &["engine", "libreoffice", "--listen", "0.0.0.0:8080"]);
    let before = container.snapshot();

    let input = container.put(&corpus("docx/heading123.docx"));
    container.ok(&["scanpro", "run", "office_to_pdf", &input, "-o", &format!("{DATA}/heading123.pdf")]);
    let pdf = container.host("heading123.pdf");
    qpdf_check(&pdf);
    assert_eq!(page_count(&pdf), 1);
    let text = pdftotext(&pdf);
    assert!(text.contains("First paragraph") && text.contains("Lorem ipsum dolor sit amet"), "{text}");

    container.assert_wrote_nothing_since(&before);
}

#[test]
fn the_chromium_image_prints_web_pages() {
    let image = image("scanpro-chromium");
    let container = Container::of(&image);
    container.check_identity(&image, &["engine", "chromium", "--listen", "0.0.0.0:8080"]);
    let before = container.snapshot();

    let temp = tempfile::tempdir().unwrap();
    let page = temp.path().join("index.html");
    std::fs::write(&page, "<!DOCTYPE html><html><body><h1>Printed inside the image</h1></body></html>").unwrap();
    let input = container.put(&page);
    container.ok(&["scanpro", "run", "html_to_pdf", &input, "-o", &format!("{DATA}/page.pdf")]);
    let pdf = container.host("page.pdf");
    qpdf_check(&pdf);
    assert!(pdfinfo(&pdf, &[]).contains("Skia/PDF"), "laid out by Chromium, not LibreOffice");
    assert!(pdftotext(&pdf).contains("Printed inside the image"));

    container.assert_wrote_nothing_since(&before);
}

#[test]
fn the_ghostscript_image_compresses_and_makes_pdfa() {
    let image = image("scanpro-ghostscript");
    let container = Container::of(&image);
    container.check_identity(&image, &["engine", "ghostscript", "--listen", "0.0.0.0:8080"]);
    let before = container.snapshot();

    let source = text_pdf("ltnews17.pdf");
    let input = container.put(&source);
    container.ok(&["scanpro", "run", "compress", "--level", "recommended", &input, "-o", &format!("{DATA}/small.pdf")]);
    let small = container.host("small.pdf");
    qpdf_check(&small);
    assert!(small.metadata().unwrap().len() <= source.metadata().unwrap().len(), "never larger");
    assert_eq!(page_count(&small), page_count(&source));
    assert_eq!(words(&pdftotext(&small)), words(&pdftotext(&source)), "the text stays");

    container.ok(&["scanpro", "run", "pdfa", "--level", "2b", &input, "-o", &format!("{DATA}/archive.pdf")]);
    let archive = container.host("archive.pdf");
    qpdf_check(&archive);
    let metadata = pdfinfo(&archive, &["-meta"]);
    let part = ["pdfaid:part='2'", "pdfaid:part=\"2\"", "<pdfaid:part>2</pdfaid:part>"];
    assert!(part.iter().any(|p| metadata.contains(p)), "a PDF/A-2 identification: {metadata}");

    container.assert_wrote_nothing_since(&before);
}

#[test]
fn the_ocr_image_makes_scans_searchable() {
    let image = image("scanpro-ocr");
    let container = Container::of(&image);
    container.check_identity(&image, &["engine", "ocr", "--listen", "0.0.0.0:8080"]);
    let languages = container.ok(&["tesseract", "--list-langs"]);
    for language in ["eng", "deu", "fra", "spa", "ita", "por", "osd"] {
        assert!(languages.lines().any(|line| line.trim() == language), "{language} is installed: {languages}");
    }
    let before = container.snapshot();

    let scan = corpus("pdf-scanned/ocrmypdf_linn.pdf");
    assert!(pdftotext(&scan).trim().is_empty(), "the scan has no text of its own");
    let input = container.put(&scan);
    container.ok(&["scanpro", "run", "ocr", "--languages", "eng", &input, "-o", &format!("{DATA}/searchable.pdf")]);
    let searchable = container.host("searchable.pdf");
    qpdf_check(&searchable);
    assert_eq!(page_count(&searchable), page_count(&scan));
    let text = pdftotext(&searchable);
    assert!(words(&text).len() > 20, "recognised text: {text:?}");

    container.assert_wrote_nothing_since(&before);
}
