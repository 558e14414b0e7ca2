//! `digital_sign`: a cryptographic signature (PAdES baseline B) made with the user's PKCS#12
//! certificate, appended as an incremental update so earlier signatures stay valid. Inputs: the
//! PDF, the `.p12`/`.pfx` file, and optionally a PNG or JPEG shown in a visible signature.

use super::watermark::{is_image, read_input};
use super::{About, NativeTool, Tool, ToolParams, pdf_output};
use crate::catalogue::InputRule;
use crate::names::safe_stem;
use crate::signing::{ask_tsa, settings};
use crate::step::{Input, StepResult, sniff_format};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_pdf::signatures::{Credentials, Signing, TimestampSender, Visible, sign};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<DigitalSignParams>(About {
    name: "digital_sign",
    title: "Sign digitally",
    summary: "Sign a PDF with your certificate (a PKCS#12 .p12 or .pfx file and its password): a PAdES \
              signature that any PDF reader checks, visible with text or an image or invisible, with \
              reason, location and contact, and a trusted time stamp where the server has an authority. \
              Earlier signatures stay valid.",
    group: "security",
    inputs: InputRule { min: 2, max: Some(3), formats: &["pdf", "pkcs12", "png", "jpeg"] },
});

/// Longest reason, location, contact or text line.
const MAX_TEXT_CHARS: usize = 200;
const MAX_TEXT_LINES: usize = 8;

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DigitalSignParams {
    /// The password of the certificate file.
    #[serde(default)]
    pub password: String,
    /// Why the document is signed ("I approve this document").
    #[serde(default)]
    pub reason: Option<String>,
    /// Where it is signed ("Berlin").
    #[serde(default)]
    pub location: Option<String>,
    /// How to reach the signer (an email address or phone number).
    #[serde(default)]
    pub contact: Option<String>,
    /// Show the signature on a page. Off: an invisible signature, listed in the reader's signature
    /// panel.
    #[serde(default)]
    pub visible: bool,
    /// `visible`: the page, 1-based. Default 1.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub page: Option<u32>,
    /// `visible`: the box as `[x, y, width, height]` in points from the displayed page's top left.
    /// Default 220 × 70 points at the bottom right, 36 points from the edges.
    #[serde(default)]
    pub area: Option<[f64; 4]>,
    /// `visible`: the text shown, `\n` between lines. Default: who signed, when, the reason and
    /// the location.
    #[serde(default)]
    pub text: Option<String>,
    /// `visible`: the 0-based index of the input holding a PNG or JPEG shown in the box (the PDF
    /// and the certificate come first, so usually 2).
    #[serde(default)]
    pub image: Option<usize>,
    /// The signature field's name. Default `Signature1` (or the first free number).
    #[serde(default)]
    pub field: Option<String>,
    /// Ask the server's time-stamping authority for an RFC 3161 time stamp. Default: yes when the
    /// server has one (`signature_tsa_url`); `true` without one is refused.
    #[serde(default)]
    pub timestamp: Option<bool>,
}

impl Validate for DigitalSignParams {
    fn validate(&self) -> Result<(), ToolError> {
        for (field, value) in [("reason", &self.reason), ("location", &self.location), ("contact", &self.contact)] {
            if value.as_ref().is_some_and(|v| v.chars().count() > MAX_TEXT_CHARS) {
                return Err(ToolError::invalid_param(field, format!("at most {MAX_TEXT_CHARS} characters")));
            }
        }
        if let Some(text) = &self.text
            && (text.lines().count() > MAX_TEXT_LINES || text.lines().any(|l| l.chars().count() > MAX_TEXT_CHARS))
        {
            return Err(ToolError::invalid_param(
                "text",
                format!("at most {MAX_TEXT_LINES} lines of {MAX_TEXT_CHARS} characters"),
            ));
        }
        if let Some(field) = &self.field
            && (field.is_empty() || field.chars().count() > 100 || field.contains('.'))
        {
            return Err(ToolError::invalid_param("field", "1 to 100 characters, without a dot"));
        }
        if self.page == Some(0) {
            return Err(ToolError::invalid_param("page", "pages are numbered from 1"));
        }
        if let Some(area) = self.area
            && area.iter().any(|n| !n.is_finite() || *n < 0.0 || *n > 14_400.0)
        {
            return Err(ToolError::invalid_param("area", "four numbers of points between 0 and 14400"));
        }
        let visible_only = [
            ("page", self.page.is_some()),
            ("area", self.area.is_some()),
            ("text", self.text.is_some()),
            ("image", self.image.is_some()),
        ];
        if let Some((field, _)) = visible_only.iter().find(|(_, given)| *given && !self.visible) {
            return Err(ToolError::invalid_param(field, "applies to a visible signature: set visible to true"));
        }
        Ok(())
    }
}

impl ToolParams for DigitalSignParams {}

impl NativeTool for DigitalSignParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let document = &inputs[0];
        if sniff_format(&document.path)? != Some("pdf") {
            return Err(ToolError::invalid_param("inputs", "the PDF to sign comes first"));
        }
        let certificate = inputs
            .iter()
            .find(|input| sniff_format(&input.path).is_ok_and(|f| f == Some("pkcs12")))
            .ok_or_else(|| ToolError::invalid_param("inputs", "add the certificate: a PKCS#12 (.p12 or .pfx) file"))?;
        let credentials = Credentials::from_pkcs12(&read_input(certificate)?, &self.password)?;
        // An image among the inputs is shown in a visible signature: the one `image` names, else
        // the only one there is.
        let images: Vec<usize> = (1..inputs.len()).filter(|&i| is_image(&inputs[i]).unwrap_or(false)).collect();
        let chosen = match (self.image, images.as_slice()) {
            (Some(index), _) => Some(index),
            (None, [only]) if self.visible => Some(*only),
            (None, []) => None,
            (None, _) if !self.visible => {
                return Err(ToolError::invalid_param("visible", "an image input is shown only in a visible signature"));
            }
            (None, _) => {
                return Err(ToolError::invalid_param(
                    "image",
                    "several images were given: name the one to show by its index",
                ));
            }
        };
        let image = match chosen {
            Some(index) => {
                let input = inputs.get(index).ok_or_else(|| {
                    ToolError::invalid_param("image", format!("there is no input {index} (inputs are numbered from 0)"))
                })?;
                if !is_image(input)? {
                    return Err(ToolError::invalid_param("image", format!("input {index} is not a PNG or JPEG image")));
                }
                Some(read_input(input)?)
            }
            None => None,
        };
        let settings = settings();
        let timestamp_wanted = self.timestamp.unwrap_or(settings.tsa_url.is_some());
        let tsa_url = match (timestamp_wanted, &settings.tsa_url) {
            (false, _) => None,
            (true, Some(url)) => Some(url.clone()),
            (true, None) => {
                return Err(ToolError::invalid_param(
                    "timestamp",
                    "this server has no time-stamping authority (signature_tsa_url)",
                ));
            }
        };
        let send = |request: &[u8]| ask_tsa(tsa_url.as_deref().unwrap_or_default(), settings.tsa_address, request);
        let visible = self.visible.then(|| Visible {
            page: self.page.unwrap_or(1),
            area: self.area,
            text: self.text.as_ref().map(|t| t.lines().map(str::to_owned).collect()),
            image,
        });
        let signing = Signing {
            credentials: &credentials,
            field: self.field.clone(),
            reason: self.reason.clone(),
            location: self.location.clone(),
            contact: self.contact.clone(),
            visible,
            at: chrono::Utc::now(),
            timestamp: tsa_url.is_some().then_some(&send as &TimestampSender<'_>),
        };
        let out = out_dir.join(format!("{}_signed.pdf", safe_stem(&document.filename)));
        let report = sign(&document.path, &out, &signing)?;
        let report = serde_json::to_value(&report).map_err(|e| ToolError::internal(format!("digital_sign: {e}")))?;
        Ok(StepResult { outputs: vec![pdf_output(out)], report: Some(report) })
    }
}
