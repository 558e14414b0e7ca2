//! LibreOffice user profiles. A pool initialises one hardened template profile and copies it for
//! every warm instance and every cold process, so none of them pays (or races on) the first-start
//! initialisation, and all share the same settings:
//! - macros: security level "very high" and macro execution disabled outright (every load also
//!   passes `MacroExecutionMode = NEVER_EXECUTE`);
//! - no network: HTTP, HTTPS and FTP go through a proxy at 127.0.0.1:9, where nothing listens, so
//!   linked images, stylesheets and OLE links in a document are never fetched;
//! - no lock files, no auto-recovery data.

use scanpro_process::sandbox::Grants;
use scanpro_process::{ProcessError, Subprocess};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

/// `registrymodifications.xcu` written into the template before LibreOffice first starts.
const SETTINGS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseLocking" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Recovery/RecoveryInfo"><prop oor:name="Enabled" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Recovery/AutoSave"><prop oor:name="Enabled" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetProxyType" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetNoProxy" oor:op="fuse"><value></value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPProxyName" oor:op="fuse"><value>127.0.0.1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPProxyPort" oor:op="fuse"><value>9</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPSProxyName" oor:op="fuse"><value>127.0.0.1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPSProxyPort" oor:op="fuse"><value>9</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetFTPProxyName" oor:op="fuse"><value>127.0.0.1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetFTPProxyPort" oor:op="fuse"><value>9</value></prop></item>
</oor:items>
"#;

/// Where LibreOffice puts its single-instance pipe, whatever `TMPDIR` says.
pub(crate) const PIPE_DIR: &str = "/tmp";

/// Where Debian keeps LibreOffice's shared extension cache (a link from its program tree),
/// which soffice reads at start.
const SHARED_EXTENSIONS: &str = "/var/spool/libreoffice";

/// What every soffice of ScanPro may touch besides the system: `dir` (its profile and files),
/// the shared extension registry, and its single-instance pipe.
pub(crate) fn soffice_grants(dir: &Path) -> Grants {
    Grants::new().write(dir).read(SHARED_EXTENSIONS).make_sockets_in(PIPE_DIR)
}

/// Removes LibreOffice single-instance pipes nobody listens on any more. A confined soffice may
/// create its pipe but not remove it, and a killed one never does.
pub(crate) fn sweep_stale_pipes() {
    use std::os::unix::fs::FileTypeExt;
    let prefix = format!("OSL_PIPE_{}_SingleOfficeIPC_", nix::unistd::getuid());
    for entry in std::fs::read_dir(PIPE_DIR).into_iter().flatten().flatten() {
        let is_ours = entry.file_name().to_str().is_some_and(|name| name.starts_with(&prefix));
        let is_socket = entry.file_type().is_ok_and(|kind| kind.is_socket());
        if is_ours
            && is_socket
            && std::os::unix::net::UnixStream::connect(entry.path())
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// LibreOffice asks to be started again after it initialised a fresh profile.
const RESTART_REQUESTED: i32 = 81;

/// The flags every soffice.bin of ScanPro runs with, `profile` as its user installation.
pub(crate) fn soffice_args(profile: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "--headless",
        "--invisible",
        "--nologo",
        "--norestore",
        "--nodefault",
        "--nolockcheck",
        "--nofirststartwizard",
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    args.push(format!("-env:UserInstallation={}", file_url(profile)).into());
    args
}

/// Why the template profile could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProfileError {
    #[error("cannot create {}: {source}", dir.display())]
    CreateDir { dir: PathBuf, source: std::io::Error },
    /// The settings file could not be written, or read back.
    #[error("{0}")]
    Settings(#[source] std::io::Error),
    #[error("{0}")]
    Run(#[from] ProcessError),
    /// soffice failed; its last lines of stderr.
    #[error("soffice could not initialise a profile ({status}): {said}")]
    Initialise { status: ExitStatus, said: String },
    #[error("soffice kept asking for a restart while initialising a profile")]
    Restarts,
    /// LibreOffice rewrote the settings file without this one of ours.
    #[error("LibreOffice dropped the {0} setting from the profile")]
    SettingDropped(&'static str),
}

/// Creates the template profile in `dir` (which must not exist yet).
pub(crate) async fn create_template(soffice: &Path, dir: &Path, timeout: Duration) -> Result<(), ProfileError> {
    std::fs::create_dir_all(dir.join("user"))
        .map_err(|source| ProfileError::CreateDir { dir: dir.to_owned(), source })?;
    std::fs::write(dir.join("user/registrymodifications.xcu"), SETTINGS).map_err(ProfileError::Settings)?;
    for _ in 0..3 {
        let out = Subprocess::new(soffice)
            .args(soffice_args(dir))
            .arg("--terminate_after_init")
            .timeout(timeout)
            .confine_to(soffice_grants(dir))
            .run()
            .await?;
        sweep_stale_pipes();
        match out.status.code() {
            Some(0) => return check_settings(dir),
            Some(RESTART_REQUESTED) => continue,
            _ => {
                return Err(ProfileError::Initialise { status: out.status, said: crate::last_lines(&out.stderr_tail) });
            }
        }
    }
    Err(ProfileError::Restarts)
}

/// LibreOffice rewrites the settings file on exit: make sure ours survived.
fn check_settings(dir: &Path) -> Result<(), ProfileError> {
    let settings =
        std::fs::read_to_string(dir.join("user/registrymodifications.xcu")).map_err(ProfileError::Settings)?;
    for needed in ["DisableMacrosExecution", "ooInetHTTPProxyPort", "UseLocking"] {
        if !settings.contains(needed) {
            return Err(ProfileError::SettingDropped(needed));
        }
    }
    Ok(())
}

/// Copies the template profile into `to` (which may exist and be empty).
pub(crate) fn copy_template(template: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(template)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_template(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// A `file://` URL for an absolute path, percent-encoding everything but unreserved characters.
fn file_url(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut url = String::from("file://");
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            url.push(byte as char);
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_urls_are_percent_encoded() {
        assert_eq!(file_url(Path::new("/tmp/a b/é")), "file:///tmp/a%20b/%C3%A9");
        assert_eq!(file_url(Path::new("/tmp/scanpro-office-x_1.2")), "file:///tmp/scanpro-office-x_1.2");
    }
}
