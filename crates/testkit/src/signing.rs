//! A test PKI made with the `openssl` command (a root CA, RSA and ECDSA signers in PKCS#12
//! files, a time-stamping authority served over HTTP by `openssl ts`), and the independent
//! signature checkers: poppler's `pdfsig` and pyHanko (the venv `scripts/install-deps --test`
//! makes, or `SCANPRO_PYHANKO_PYTHON`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The password of every PKCS#12 file the PKI writes.
pub const P12_PASSWORD: &str = "correct horse";

pub struct TestPki {
    pub dir: PathBuf,
    /// The root CA certificate (PEM): the trust store.
    pub root_pem: PathBuf,
    /// RSA 2048 signer "Alice Example", issued by the root, in a PKCS#12 file (AES, PBKDF2).
    pub rsa_p12: PathBuf,
    /// The same key and certificate in a legacy PKCS#12 file (RC2 and 3DES, as older tools write).
    pub legacy_p12: PathBuf,
    /// ECDSA P-256 signer "Bob Example".
    pub ec_p12: PathBuf,
    /// A self-signed signer "Mallory", outside the root.
    pub self_signed_p12: PathBuf,
    /// Alice's certificate and key in PEM, for pyHanko's own signer.
    pub rsa_cert_pem: PathBuf,
    pub rsa_key_pem: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl (Debian package openssl)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `openssl` with the words of `command` (split at spaces) and then `subject`, the one argument
/// that holds spaces.
fn openssl_with_subject(dir: &Path, command: &str, subject: &str) {
    let mut args: Vec<&str> = command.split(' ').collect();
    args.extend(["-subj", subject]);
    openssl(dir, &args);
}

/// `name.key` (RSA 2048) and the self-signed `name.pem`.
fn self_signed(dir: &Path, name: &str, subject: &str, extra: &str) {
    openssl(dir, &["genrsa", "-out", &format!("{name}.key"), "2048"]);
    let command = format!("req -x509 -new -key {name}.key -days 3650 -sha256 -out {name}.pem{extra}");
    openssl_with_subject(dir, &command, subject);
}

/// `name.pem` for the existing key `key`, issued by the certificate `ca` (with `ca.key`).
fn issue(dir: &Path, name: &str, key: &str, subject: &str, ca: &str, extensions: &str) {
    openssl_with_subject(dir, &format!("req -new -key {key}.key -out {name}.csr"), subject);
    let sign = format!(
        "x509 -req -in {name}.csr -CA {ca}.pem -CAkey {ca}.key -CAcreateserial -days 730 -sha256 -out {name}.pem{extensions}"
    );
    openssl(dir, &sign.split(' ').collect::<Vec<_>>());
}

/// `out` holding `name.key` and `name.pem` (and `more` certificates), under [`P12_PASSWORD`].
fn export(dir: &Path, name: &str, out: &str, more: &str) {
    let command = format!("pkcs12 -export -inkey {name}.key -in {name}.pem -out {out}{more}");
    let mut args: Vec<&str> = command.split(' ').collect();
    let password = format!("pass:{P12_PASSWORD}");
    args.extend(["-passout", &password]);
    openssl(dir, &args);
}

const CA_EXTENSIONS: &str = "[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n\
subjectKeyIdentifier=hash\n[signer]\nbasicConstraints=CA:false\nkeyUsage=critical,digitalSignature,nonRepudiation\n\
subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n[tsa]\nbasicConstraints=CA:false\n\
keyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\n\
authorityKeyIdentifier=keyid\n";

impl TestPki {
    pub fn create(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("ext.cnf"), CA_EXTENSIONS).unwrap();
        self_signed(dir, "root", "/CN=ScanPro Test Root/O=ScanPro Tests", " -extensions ca -config ext.cnf");
        let signer = " -extfile ext.cnf -extensions signer";
        openssl(dir, &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "alice.key"]);
        issue(dir, "alice", "alice", "/CN=Alice Example/O=Example GmbH/C=DE", "root", signer);
        openssl(dir, &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "bob.key"]);
        issue(dir, "bob", "bob", "/CN=Bob Example/O=Example SARL/C=FR", "root", signer);
        openssl(dir, &["genrsa", "-out", "tsa.key", "2048"]);
        issue(dir, "tsa", "tsa", "/CN=ScanPro Test TSA", "root", " -extfile ext.cnf -extensions tsa");
        export(dir, "alice", "alice.p12", " -certfile root.pem");
        export(dir, "alice", "alice-legacy.p12", " -certfile root.pem -legacy");
        export(dir, "bob", "bob.p12", " -certfile root.pem");
        self_signed(dir, "mallory", "/CN=Mallory", "");
        export(dir, "mallory", "mallory.p12", "");
        Self {
            dir: dir.to_owned(),
            root_pem: dir.join("root.pem"),
            rsa_p12: dir.join("alice.p12"),
            legacy_p12: dir.join("alice-legacy.p12"),
            ec_p12: dir.join("bob.p12"),
            self_signed_p12: dir.join("mallory.p12"),
            rsa_cert_pem: dir.join("alice.pem"),
            rsa_key_pem: dir.join("alice.key"),
        }
    }

    /// A hostile PKCS#12 file: its certificate's issuer was issued by that certificate, so the
    /// chain is a cycle (A ← B ← A).
    pub fn cyclic_p12(&self) -> PathBuf {
        let dir = &self.dir;
        self_signed(dir, "cycle-b0", "/CN=Cycle B", "");
        openssl(dir, &["genrsa", "-out", "cycle-a.key", "2048"]);
        issue(dir, "cycle-a", "cycle-a", "/CN=Cycle A", "cycle-b0", "");
        // B again, with B's key, now issued by A.
        std::fs::copy(dir.join("cycle-b0.key"), dir.join("cycle-b.key")).unwrap();
        issue(dir, "cycle-b", "cycle-b", "/CN=Cycle B", "cycle-a", "");
        export(dir, "cycle-a", "cycle.p12", " -certfile cycle-b.pem");
        dir.join("cycle.p12")
    }

    /// A certificate "Chief Executive" issued with Alice's key, though Alice's certificate is not
    /// a CA: a chain no verifier may accept.
    pub fn rogue_p12(&self) -> PathBuf {
        let dir = &self.dir;
        openssl(dir, &["genrsa", "-out", "rogue.key", "2048"]);
        issue(dir, "rogue", "rogue", "/CN=Chief Executive", "alice", " -extfile ext.cnf -extensions signer");
        let chain = [
            std::fs::read_to_string(dir.join("alice.pem")).unwrap(),
            std::fs::read_to_string(dir.join("root.pem")).unwrap(),
        ];
        std::fs::write(dir.join("rogue-chain.pem"), chain.concat()).unwrap();
        export(dir, "rogue", "rogue.p12", " -certfile rogue-chain.pem");
        dir.join("rogue.p12")
    }

    /// Starts a time-stamping authority on loopback: each POSTed RFC 3161 request is answered by
    /// `openssl ts -reply` with the PKI's TSA certificate.
    pub fn start_tsa(&self) -> Tsa {
        let config = format!(
            "[tsa]\ndefault_tsa=tsa_config\n[tsa_config]\ndir={dir}\nserial={dir}/tsaserial\nsigner_cert={dir}/tsa.pem\n\
             certs={dir}/root.pem\nsigner_key={dir}/tsa.key\nsigner_digest=sha256\ndefault_policy=1.2.3.4.1\n\
             digests=sha256,sha384,sha512\naccuracy=secs:1\ness_cert_id_chain=no\ness_cert_id_alg=sha256\n\
             ordering=no\ntsa_name=no\n",
            dir = self.dir.display()
        );
        std::fs::write(self.dir.join("tsa.cnf"), config).unwrap();
        std::fs::write(self.dir.join("tsaserial"), "01\n").unwrap();
        let port = crate::free_port();
        let script = format!(
            "import http.server, subprocess\n\
             class H(http.server.BaseHTTPRequestHandler):\n\
             \x20   def do_POST(self):\n\
             \x20       body = self.rfile.read(int(self.headers['Content-Length']))\n\
             \x20       out = subprocess.run(['openssl', 'ts', '-reply', '-config', 'tsa.cnf', '-queryfile', '/dev/stdin', '-out', '/dev/stdout'], input=body, capture_output=True, cwd={dir:?})\n\
             \x20       self.send_response(200 if out.returncode == 0 else 500)\n\
             \x20       self.send_header('Content-Type', 'application/timestamp-reply')\n\
             \x20       self.send_header('Content-Length', str(len(out.stdout)))\n\
             \x20       self.end_headers()\n\
             \x20       self.wfile.write(out.stdout)\n\
             \x20       with open({log:?}, 'a') as log: log.write('request\\n')\n\
             http.server.HTTPServer(('127.0.0.1', {port}), H).serve_forever()\n",
            dir = self.dir.display().to_string(),
            log = self.dir.join("tsa.log").display().to_string(),
        );
        let child =
            Command::new("python3").args(["-c", &script]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Tsa { child, url: format!("http://127.0.0.1:{port}/tsa"), log: self.dir.join("tsa.log") }
    }
}

pub struct Tsa {
    child: Child,
    pub url: String,
    log: PathBuf,
}

impl Tsa {
    /// How many requests it answered.
    pub fn requests(&self) -> usize {
        std::fs::read_to_string(&self.log).map_or(0, |log| log.lines().count())
    }
}

impl Drop for Tsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pdfsig`'s report on `pdf` (poppler-utils).
pub fn pdfsig(pdf: &Path) -> String {
    let out = crate::checkers::run("pdfsig", [pdf.as_os_str()]);
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The Python that has pyHanko.
pub fn pyhanko_python() -> PathBuf {
    if let Some(python) = std::env::var_os("SCANPRO_PYHANKO_PYTHON") {
        return python.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache"));
    cache.join("scanpro/pyhanko/bin/python")
}

const PYHANKO_VALIDATE: &str = r#"
import json, sys
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.keys import load_cert_from_pemder
from pyhanko_certvalidator import ValidationContext
roots = [load_cert_from_pemder(path) for path in sys.argv[2:]]
with open(sys.argv[1], 'rb') as f:
    reader = PdfFileReader(f)
    out = []
    for sig in reader.embedded_signatures:
        vc = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode='soft-fail')
        status = validate_pdf_signature(sig, vc)
        out.append({
            'field': sig.field_name,
            'intact': status.intact,
            'valid': status.valid,
            'trusted': status.trusted,
            'bottom_line': status.bottom_line,
            'coverage': status.coverage.name,
            'modification_level': status.modification_level.name if status.modification_level else None,
            'docmdp_ok': status.docmdp_ok,
            'signer': status.signing_cert.subject.native.get('common_name'),
            'timestamp_valid': status.timestamp_validity.valid if status.timestamp_validity else None,
            'timestamp': str(status.timestamp_validity.timestamp) if status.timestamp_validity else None,
            'pades_b': status.md_algorithm,
        })
print(json.dumps(out))
"#;

/// pyHanko's validation of every signature in `pdf`, trusting `roots`: one JSON object per
/// signature (`intact`, `valid`, `trusted`, `coverage`, `modification_level`, `signer`, …).
pub fn pyhanko_validate(pdf: &Path, roots: &[&Path]) -> serde_json::Value {
    let out = Command::new(pyhanko_python())
        .arg("-c")
        .arg(PYHANKO_VALIDATE)
        .arg(pdf)
        .args(roots)
        .output()
        .expect("pyHanko's Python: run scripts/install-deps --test");
    assert!(out.status.success(), "pyHanko validation failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("pyHanko's report is JSON")
}
