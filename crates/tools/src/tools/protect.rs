//! `protect`: AES-256 encryption with a user and an owner password and permissions.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::params::parse;
use crate::step::{Input, StepResult};
use scanpro_core::params::{Validate, advanced};
use scanpro_core::{ErrorCode, ToolError};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<ProtectParams>(About {
    name: "protect",
    title: "Protect with a password",
    summary: "Encrypt with AES-256: a password to open (optional) and an owner password, with permissions for printing, copying, changes, annotations and forms.",
    group: "security",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

/// AES-256 (revision 6) passwords are cut to 127 bytes of UTF-8; longer ones are refused rather
/// than silently shortened.
const MAX_PASSWORD_BYTES: usize = 127;

#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtectParams {
    /// Password needed to open the document. Empty or absent: anyone can open it, and the
    /// permissions still apply.
    #[serde(default)]
    pub user_password: String,
    /// Password that lifts every restriction. With restricted permissions it must differ from
    /// `user_password`. Absent: with restrictions, one nobody knows (so they hold for everyone);
    /// without them, the user password.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub owner_password: String,
    /// What someone holding only the user password may do: an object such as
    /// `{"print": true, "copy": false}` (absent keys are allowed), or the allowed actions as a
    /// list (`["print"]`) or a comma-separated string (`"print,copy"`; `""` allows nothing);
    /// everything not listed is denied. Actions: `print`, `copy`, `modify`, `annotate`
    /// (readers also let whoever may annotate fill forms), `fill_forms`. Absent: everything is
    /// allowed.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub permissions: Option<PermissionsParam>,
}

/// Permissions as given: a list of allowed actions, or one flag per action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum PermissionsParam {
    /// The allowed actions; the others are denied.
    Allowed(Vec<Permission>),
    /// One flag per action; absent ones are allowed.
    Flags(PermissionFlags),
    /// The allowed actions, comma-separated (`"print,copy"`); the others are denied.
    Listed(String),
}

/// One action a PDF reader may allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Print, at full quality.
    Print,
    /// Copy or extract text and images (extraction for accessibility tools stays allowed).
    Copy,
    /// Change the document: edit content, insert, remove or rotate pages.
    Modify,
    /// Add or change comments and other annotations.
    Annotate,
    /// Fill in existing form fields.
    FillForms,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionFlags {
    /// Allow printing (default true).
    #[serde(default)]
    pub print: Option<bool>,
    /// Allow copying text and images (default true).
    #[serde(default)]
    pub copy: Option<bool>,
    /// Allow changing the document and its pages (default true).
    #[serde(default)]
    pub modify: Option<bool>,
    /// Allow adding or changing annotations (default true).
    #[serde(default)]
    pub annotate: Option<bool>,
    /// Allow filling in form fields (default true).
    #[serde(default)]
    pub fill_forms: Option<bool>,
}

/// The resolved permissions: `true` means allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Allowed {
    pub print: bool,
    pub copy: bool,
    pub modify: bool,
    pub annotate: bool,
    pub fill_forms: bool,
}

impl Allowed {
    pub const ALL: Self = Self { print: true, copy: true, modify: true, annotate: true, fill_forms: true };
    const NONE: Self = Self { print: false, copy: false, modify: false, annotate: false, fill_forms: false };

    fn only(list: &[Permission]) -> Self {
        let mut allowed = Self::NONE;
        for permission in list {
            match permission {
                Permission::Print => allowed.print = true,
                Permission::Copy => allowed.copy = true,
                Permission::Modify => allowed.modify = true,
                Permission::Annotate => allowed.annotate = true,
                Permission::FillForms => allowed.fill_forms = true,
            }
        }
        allowed
    }
}

/// `"print, copy"` → the actions; an unknown one is named in the error.
fn parse_listed(text: &str) -> Result<Vec<Permission>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|action| !action.is_empty())
        .map(|action| {
            serde_json::from_value(serde_json::Value::String(action.to_owned())).map_err(|_| {
                format!("unknown action \"{action}\" (expected print, copy, modify, annotate or fill_forms)")
            })
        })
        .collect()
}

impl ProtectParams {
    /// The permissions to apply: everything allowed unless denied. A `Listed` string with an
    /// unknown action allows nothing more ([`Validate`] refuses it first).
    pub fn allowed(&self) -> Allowed {
        match &self.permissions {
            None => Allowed::ALL,
            Some(PermissionsParam::Allowed(list)) => Allowed::only(list),
            Some(PermissionsParam::Listed(text)) => Allowed::only(&parse_listed(text).unwrap_or_default()),
            Some(PermissionsParam::Flags(flags)) => Allowed {
                print: flags.print.unwrap_or(true),
                copy: flags.copy.unwrap_or(true),
                modify: flags.modify.unwrap_or(true),
                annotate: flags.annotate.unwrap_or(true),
                fill_forms: flags.fill_forms.unwrap_or(true),
            },
        }
    }
}

impl Validate for ProtectParams {
    fn validate(&self) -> Result<(), ToolError> {
        if let Some(PermissionsParam::Listed(text)) = &self.permissions {
            parse_listed(text).map_err(|why| ToolError::invalid_param("permissions", why))?;
        }
        if self.owner_password.is_empty() && self.user_password.is_empty() {
            return Err(ToolError::invalid_param("user_password", "give a user_password, an owner_password or both"));
        }
        check_length("owner_password", &self.owner_password)?;
        check_length("user_password", &self.user_password)?;
        let restricted = self.allowed() != Allowed::ALL;
        if restricted && self.user_password == self.owner_password {
            return Err(ToolError::invalid_param(
                "owner_password",
                "must differ from user_password, or whoever opens the document can lift the permissions",
            ));
        }
        if !restricted && self.user_password.is_empty() {
            return Err(ToolError::invalid_param(
                "user_password",
                "give a user_password or deny at least one permission: otherwise the document opens and \
                 behaves exactly as before",
            ));
        }
        Ok(())
    }
}

impl ProtectParams {
    /// The owner password to encrypt with: the one given, else one nobody knows when readers are
    /// restricted (so the restrictions hold), else the user password.
    fn owner_password_or_default(&self) -> String {
        if !self.owner_password.is_empty() {
            self.owner_password.clone()
        } else if self.allowed() != Allowed::ALL {
            uuid::Uuid::new_v4().simple().to_string()
        } else {
            self.user_password.clone()
        }
    }
}

pub(super) fn check_length(field: &str, password: &str) -> Result<(), ToolError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ToolError::invalid_param(field, format!("is longer than {MAX_PASSWORD_BYTES} bytes")));
    }
    Ok(())
}

impl fmt::Debug for ProtectParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectParams")
            .field("user_password", &hidden(&self.user_password))
            .field("owner_password", &hidden(&self.owner_password))
            .field("permissions", &self.permissions)
            .finish()
    }
}

pub(super) fn hidden(password: &str) -> &'static str {
    if password.is_empty() { "" } else { "***" }
}

/// By hand rather than `untagged`, so a wrong action or key says what is wrong with it.
impl<'de> Deserialize<'de> for PermissionsParam {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PermissionsVisitor;

        impl<'de> Visitor<'de> for PermissionsVisitor {
            type Value = PermissionsParam;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "permissions as an object like {\"print\": false}, or the allowed actions as a list or a string",
                )
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<PermissionsParam, E> {
                Ok(PermissionsParam::Listed(text.to_owned()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PermissionsParam, A::Error> {
                let mut allowed = Vec::new();
                while let Some(permission) = seq.next_element::<Permission>()? {
                    allowed.push(permission);
                }
                Ok(PermissionsParam::Allowed(allowed))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PermissionsParam, A::Error> {
                PermissionFlags::deserialize(de::value::MapAccessDeserializer::new(map)).map(PermissionsParam::Flags)
            }
        }

        deserializer.deserialize_any(PermissionsVisitor)
    }
}

impl ToolParams for ProtectParams {
    fn parse(params: &Value) -> Result<Self, ToolError> {
        parse_secret(params)
    }
}

impl NativeTool for ProtectParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        let permissions = pdf_permissions(params.allowed());
        let owner_password = params.owner_password_or_default();
        each_input(inputs, out_dir, "_protected", |input, out| {
            scanpro_pdf::protect(&input.path, &params.user_password, &owner_password, permissions, out)
        })
    }
}

fn pdf_permissions(allowed: Allowed) -> scanpro_pdf::Permissions {
    scanpro_pdf::Permissions {
        print: allowed.print,
        copy: allowed.copy,
        modify: allowed.modify,
        annotate: allowed.annotate,
        fill_forms: allowed.fill_forms,
    }
}

/// [`parse`] whose errors never quote a password: serde names the value it did not expect
/// (`invalid type: integer `1234``), so a password field's type error is reworded.
pub(super) fn parse_secret<P: DeserializeOwned + Validate>(params: &Value) -> Result<P, ToolError> {
    parse(params).map_err(|error| {
        let field = ["owner_password", "user_password", "password"]
            .into_iter()
            .find(|field| error.message.starts_with(&format!("{field}: invalid")));
        match field {
            Some(field) if error.code == ErrorCode::InvalidParams => {
                ToolError::invalid_param(field, "must be a string")
            }
            _ => error,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn protect(value: serde_json::Value) -> Result<ProtectParams, String> {
        let params: ProtectParams = serde_json::from_value(value).map_err(|e| e.to_string())?;
        params.validate().map_err(|e| e.message)?;
        Ok(params)
    }

    #[test]
    fn permissions_as_object_or_list() {
        let p = protect(json!({"owner_password": "o", "permissions": {"print": false, "copy": false}})).unwrap();
        assert_eq!(p.allowed(), Allowed { print: false, copy: false, ..Allowed::ALL });
        let p = protect(json!({"owner_password": "o", "permissions": ["print", "fill_forms"]})).unwrap();
        assert_eq!(p.allowed(), Allowed { print: true, copy: false, modify: false, annotate: false, fill_forms: true });
        let p = protect(json!({"owner_password": "o", "user_password": "u"})).unwrap();
        assert_eq!(p.allowed(), Allowed::ALL);
        let p = protect(json!({"owner_password": "o", "permissions": " print , copy"})).unwrap();
        assert_eq!(p.allowed(), Allowed { print: true, copy: true, modify: false, annotate: false, fill_forms: false });
        let p = protect(json!({"owner_password": "o", "permissions": ""})).unwrap();
        assert_eq!(p.allowed(), Allowed::only(&[]));
    }

    #[test]
    fn bad_permissions_say_what_is_wrong() {
        let err = protect(json!({"owner_password": "o", "permissions": ["print", "fly"]})).unwrap_err();
        assert!(err.contains("unknown variant `fly`"), "{err}");
        let err = protect(json!({"owner_password": "o", "permissions": {"printing": false}})).unwrap_err();
        assert!(err.contains("unknown field `printing`"), "{err}");
        let err = protect(json!({"owner_password": "o", "permissions": "print,fly"})).unwrap_err();
        assert_eq!(err, "permissions: unknown action \"fly\" (expected print, copy, modify, annotate or fill_forms)");
        let err = protect(json!({"owner_password": "o", "permissions": 7})).unwrap_err();
        assert!(err.contains("permissions as an object"), "{err}");
    }

    #[test]
    fn passwords_are_checked() {
        let err = protect(json!({"owner_password": "", "user_password": ""})).unwrap_err();
        assert_eq!(err, "user_password: give a user_password, an owner_password or both");
        let only_user = protect(json!({"user_password": "u"})).unwrap();
        assert_eq!(only_user.owner_password_or_default(), "u");
        let restricted = protect(json!({"user_password": "u", "permissions": ["print"]})).unwrap();
        let unknown = restricted.owner_password_or_default();
        assert!(unknown.len() == 32 && unknown != "u", "{unknown}");
        let err =
            protect(json!({"owner_password": "same", "user_password": "same", "permissions": ["print"]})).unwrap_err();
        assert!(err.starts_with("owner_password: must differ"), "{err}");
        let err = protect(json!({"owner_password": "o"})).unwrap_err();
        assert!(err.starts_with("user_password: give a user_password or deny"), "{err}");
        let err = protect(json!({"owner_password": "x".repeat(128), "user_password": "u"})).unwrap_err();
        assert_eq!(err, "owner_password: is longer than 127 bytes");
    }

    #[test]
    fn debug_hides_passwords() {
        let p = protect(json!({"owner_password": "s3cret-owner", "user_password": "s3cret-user"})).unwrap();
        let shown = format!("{p:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let unlock = super::super::unlock::UnlockParams { password: "s3cret".into() };
        assert!(!format!("{unlock:?}").contains("s3cret"));
    }
}
