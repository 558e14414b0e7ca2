//! A multipart body read as Gotenberg reads it: every part with a filename is an input file
//! (but for the `embeds`, `watermark`, `stamp` and `facturxXml` buckets), keyed by its sanitised
//! filename (a repeated name replaces the earlier file) and taken in natural filename order;
//! every other part is a value, the first of a name winning, an empty one meaning the default.

use super::reply::Refusal;
use crate::AppState;
use crate::files::{next_field, store_part};
use axum::extract::Multipart;
use scanpro_core::FileId;
use scanpro_pipeline::Caller;
use std::collections::BTreeMap;

/// Parts in one body; a form is small whatever it holds (its values share `max_json_kb`).
const MAX_PARTS: usize = 1000;

/// Chromium's header and footer templates: read into the form, not stored as inputs.
const TEMPLATES: [&str; 2] = ["header.html", "footer.html"];
/// The largest header or footer template.
const MAX_TEMPLATE_BYTES: usize = 64 << 10;

/// File parts kept apart from the inputs, their features refused (`embeds` are kept apart too, for
/// the embed route).
const BUCKETS: [&str; 3] = ["watermark", "stamp", "facturxXml"];

/// An uploaded input: its stored file and the name Gotenberg knows it by.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub file: FileId,
}

/// The form of one call.
#[derive(Debug, Default)]
pub struct Form {
    uploads: Vec<Upload>,
    values: BTreeMap<String, String>,
    buckets: Vec<String>,
    templates: BTreeMap<String, String>,
    /// Files of the `embeds` field, for `/forms/pdfengines/embed`.
    embeds: Vec<Upload>,
}

impl Form {
    /// Reads the whole body, storing each input file for `caller` as it streams.
    pub async fn read(state: &AppState, caller: &Caller, mut multipart: Multipart) -> Result<Self, Refusal> {
        let mut form = Self::default();
        let limit = state.settings.max_json_bytes;
        let (mut parts, mut value_bytes) = (0, 0);
        while let Some(mut field) = next_field(&mut multipart).await.map_err(|_| Refusal::malformed_body())? {
            parts += 1;
            if parts > MAX_PARTS {
                return Err(Refusal::too_large());
            }
            let field_name = field.name().unwrap_or_default().to_owned();
            if let Some(filename) = field.file_name().map(sanitised) {
                if field_name == "embeds" {
                    let stored = store_part(&state.pipeline, caller, field).await.map_err(Refusal::from)?;
                    form.embeds.retain(|u| u.name != filename);
                    form.embeds.push(Upload { name: filename, file: stored.id });
                    continue;
                }
                if BUCKETS.contains(&field_name.as_str()) {
                    form.buckets.push(field_name);
                    while field.chunk().await.map_err(|_| Refusal::malformed_body())?.is_some() {}
                    continue;
                }
                if TEMPLATES.contains(&filename.as_str()) {
                    let mut text = Vec::new();
                    while let Some(chunk) = field.chunk().await.map_err(|_| Refusal::malformed_body())? {
                        text.extend_from_slice(&chunk);
                        if text.len() > MAX_TEMPLATE_BYTES {
                            return Err(Refusal::too_large());
                        }
                    }
                    form.templates.insert(filename, String::from_utf8_lossy(&text).into_owned());
                    continue;
                }
                let stored = store_part(&state.pipeline, caller, field).await.map_err(Refusal::from)?;
                form.uploads.retain(|u| u.name != filename);
                form.uploads.push(Upload { name: filename, file: stored.id });
                continue;
            }
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|_| Refusal::malformed_body())? {
                value_bytes += chunk.len();
                if value_bytes > limit {
                    return Err(Refusal::too_large());
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8_lossy(&value).into_owned();
            form.values.entry(field_name).or_insert(value);
        }
        form.uploads.sort_by(|a, b| natord::compare(&a.name, &b.name));
        Ok(form)
    }

    /// The inputs whose extension is one of `extensions` (lowercase, with the dot), in natural
    /// order; none is Gotenberg's form error.
    pub fn inputs(&self, extensions: &[&str]) -> Result<Vec<Upload>, Refusal> {
        let found: Vec<Upload> = self
            .uploads
            .iter()
            .filter(|u| extensions.iter().any(|e| u.name.to_lowercase().ends_with(e)))
            .cloned()
            .collect();
        if found.is_empty() {
            return Err(Refusal::form(vec![format!("no form file found for extensions: [{}]", extensions.join(" "))]));
        }
        Ok(found)
    }

    /// The text of `header.html` or `footer.html`, when sent.
    pub fn template(&self, name: &str) -> Option<&str> {
        self.templates.get(name).map(String::as_str)
    }

    /// Adds files fetched for `downloadFrom`, each as an upload with its name would be.
    pub fn add_downloaded(&mut self, downloaded: Vec<(Upload, super::download::Destination)>) {
        use super::download::Destination;
        for (upload, destination) in downloaded {
            match destination {
                Destination::Input => {
                    self.uploads.retain(|u| u.name != upload.name);
                    self.uploads.push(upload);
                }
                Destination::Embed => {
                    self.embeds.retain(|u| u.name != upload.name);
                    self.embeds.push(upload);
                }
                Destination::Refused(field) => self.buckets.push(field),
            }
        }
        self.uploads.sort_by(|a, b| natord::compare(&a.name, &b.name));
    }

    /// The files of the `embeds` field, in the order sent.
    pub fn embeds(&self) -> &[Upload] {
        &self.embeds
    }

    /// Every uploaded file, in natural order.
    pub fn uploads(&self) -> &[Upload] {
        &self.uploads
    }

    /// The value of `name`, unless absent or empty.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Fields the route knows but ScanPro cannot honour, given with a value other than their
    /// default: refused as invalid, never ignored. `defaults` pairs each name with its default;
    /// boolean and integer values compare as Gotenberg parses them (`1` is `true`).
    pub fn unsupported(&self, defaults: &[(&str, &str)], errors: &mut Vec<String>) {
        for (name, default) in defaults {
            let Some(value) = self.value(name) else { continue };
            let same = match (go_bool(default), default.parse::<i64>()) {
                (Some(default), _) => match go_bool(value) {
                    Some(parsed) => parsed == default,
                    None => {
                        let why = format!("strconv.ParseBool: parsing \"{value}\": invalid syntax");
                        errors.push(format!("form field '{name}' is invalid (got '{value}', resulting to {why})"));
                        continue;
                    }
                },
                (None, Ok(default)) => value.parse::<i64>().is_ok_and(|v| v == default),
                (None, Err(_)) => value == *default,
            };
            if !same {
                errors.push(format!(
                    "form field '{name}' is invalid (got '{value}', resulting to not supported by ScanPro)"
                ));
            }
        }
        for bucket in &self.buckets {
            errors.push(format!("form file field '{bucket}' is invalid (resulting to not supported by ScanPro)"));
        }
    }
}

/// Gotenberg's typed readings of a value, each adding its error to `errors`.
pub struct Fields<'a> {
    form: &'a Form,
    pub errors: Vec<String>,
}

impl<'a> Fields<'a> {
    pub fn of(form: &'a Form) -> Self {
        Self { form, errors: Vec::new() }
    }

    fn invalid(&mut self, name: &str, value: &str, why: String) {
        self.errors.push(format!("form field '{name}' is invalid (got '{value}', resulting to {why})"));
    }

    /// Go's `strconv.ParseBool`.
    pub fn bool(&mut self, name: &str, default: bool) -> bool {
        match self.form.value(name) {
            None => default,
            Some(text) => go_bool(text).unwrap_or_else(|| {
                let why = format!("strconv.ParseBool: parsing \"{text}\": invalid syntax");
                self.invalid(name, text, why);
                default
            }),
        }
    }

    /// Go's `strconv.Atoi`.
    pub fn int(&mut self, name: &str, default: i64) -> i64 {
        match self.form.value(name) {
            None => default,
            Some(text) => text.parse().unwrap_or_else(|_| {
                self.invalid(name, text, format!("strconv.Atoi: parsing \"{text}\": invalid syntax"));
                default
            }),
        }
    }

    /// Go's `strconv.Atoi`, then `check`, whose refusal is Gotenberg's reason (`value is not 0,
    /// 1 or 2`).
    pub fn int_where(&mut self, name: &str, default: i64, check: impl Fn(i64) -> Result<(), &'static str>) -> i64 {
        let value = self.int(name, default);
        match check(value) {
            Ok(()) => value,
            Err(why) => {
                let text = self.form.value(name).unwrap_or_default().to_owned();
                self.invalid(name, &text, why.to_owned());
                default
            }
        }
    }

    /// Go's `strconv.ParseFloat`.
    pub fn float(&mut self, name: &str, default: f64) -> f64 {
        match self.form.value(name) {
            None => default,
            Some(text) => text.parse::<f64>().ok().filter(|v| v.is_finite()).unwrap_or_else(|| {
                self.invalid(name, text, format!("strconv.ParseFloat: parsing \"{text}\": invalid syntax"));
                default
            }),
        }
    }

    /// Go's `time.ParseDuration`, in milliseconds.
    pub fn duration_ms(&mut self, name: &str) -> u64 {
        let Some(text) = self.form.value(name) else { return 0 };
        go_duration_ms(text).unwrap_or_else(|| {
            self.invalid(name, text, format!("time: invalid duration \"{text}\""));
            0
        })
    }

    /// A string value, or `None`.
    pub fn string(&self, name: &str) -> Option<String> {
        self.form.value(name).map(str::to_owned)
    }

    /// A required string value.
    pub fn required(&mut self, name: &str) -> Option<String> {
        let value = self.string(name);
        if value.is_none() {
            self.errors.push(format!("form field '{name}' is required"));
        }
        value
    }

    /// A JSON value, parsed strictly.
    pub fn json(&mut self, name: &str) -> Option<serde_json::Value> {
        let text = self.form.value(name)?;
        match serde_json::from_str(text) {
            Ok(value) => Some(value),
            Err(e) => {
                self.invalid(name, text, format!("unmarshal {name}: {e}"));
                None
            }
        }
    }

    /// A field whose value must be one of `allowed`.
    pub fn choice(&mut self, name: &str, allowed: &[&str]) -> Option<String> {
        let value = self.string(name)?;
        if allowed.contains(&value.as_str()) {
            Some(value)
        } else {
            let why = format!("wrong value, expected either {}", allowed.join(", "));
            self.invalid(name, &value, why);
            None
        }
    }

    /// The errors so far as Gotenberg's one `400`.
    pub fn finish(self) -> Result<(), Refusal> {
        if self.errors.is_empty() { Ok(()) } else { Err(Refusal::form(self.errors)) }
    }
}

/// Go's `time.ParseDuration` (`1s`, `500ms`, `1m30s`, `2.5s`) in whole milliseconds.
fn go_duration_ms(text: &str) -> Option<u64> {
    if text == "0" {
        return Some(0);
    }
    let mut rest = text;
    let mut total = 0.0;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).filter(|&i| i > 0)?;
        let number: f64 = rest[..number_end].parse().ok()?;
        let unit_end =
            rest[number_end..].find(|c: char| c.is_ascii_digit() || c == '.').map_or(rest.len(), |i| number_end + i);
        let per_ms = match &rest[number_end..unit_end] {
            "ns" => 1e-6,
            "us" | "µs" => 1e-3,
            "ms" => 1.0,
            "s" => 1e3,
            "m" => 60e3,
            "h" => 3600e3,
            _ => return None,
        };
        total += number * per_ms;
        rest = &rest[unit_end..];
    }
    // Bounded above, so the cast keeps every value.
    #[allow(clippy::cast_possible_truncation)]
    (total.is_finite() && total < 1e15).then(|| total.round() as u64)
}

/// Go's `strconv.ParseBool`.
fn go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The text after the last `/` or `\`, without control characters.
pub(super) fn sanitised(filename: &str) -> String {
    let last = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    last.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_keep_their_last_segment_only() {
        assert_eq!(sanitised("../../etc/passwd"), "passwd");
        assert_eq!(sanitised("C:\\Temp\\report.pdf"), "report.pdf");
        assert_eq!(sanitised("a\u{0}b\n.pdf"), "ab.pdf");
    }

    #[test]
    fn durations_read_as_go_reads_them() {
        assert_eq!(go_duration_ms("1s"), Some(1000));
        assert_eq!(go_duration_ms("500ms"), Some(500));
        assert_eq!(go_duration_ms("2.5s"), Some(2500));
        assert_eq!(go_duration_ms("1m30s"), Some(90_000));
        assert_eq!(go_duration_ms("0"), Some(0));
        assert_eq!(go_duration_ms("5"), None);
        assert_eq!(go_duration_ms("soon"), None);
    }

    #[test]
    fn inputs_come_in_natural_order() {
        let mut names = ["page_10.pdf", "page_2.pdf", "page_1.pdf"];
        names.sort_by(|a, b| natord::compare(a, b));
        assert_eq!(names, ["page_1.pdf", "page_2.pdf", "page_10.pdf"]);
    }
}
