//! A real OpenID Connect provider on loopback: node-oidc-provider (`crates/testkit/oidc`) on a
//! free port, killed on drop. `scripts/install-deps --test` installs its packages; when it
//! cannot start, the test fails.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The client the provider knows.
pub const CLIENT_ID: &str = "scanpro";
pub const CLIENT_SECRET: &str = "scanpro-secret";

/// A running provider whose one client may return to `redirect_uri`.
pub struct OidcProvider {
    child: Child,
    port: u16,
}

impl OidcProvider {
    pub fn start(redirect_uri: &str) -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "{}: its packages are missing; run scripts/install-deps --test",
            dir.display()
        );
        let port = crate::free_port();
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .arg(port.to_string())
            .arg(redirect_uri)
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("node could not start the OpenID Connect provider ({e}); install Node.js"));
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the OpenID Connect provider did not start");
        // It goes on writing notices: a closed pipe would kill it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Self { child, port }
    }

    /// The issuer URL, for `oidc_issuer`.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
