//! Interactive forms (AcroForm): list a document's fields, and fill them in.
//!
//! Filling sets each field's value (`/V`) and, for checkboxes and radio buttons, the state each
//! of its widgets shows (`/AS`). Text and choice fields then get fresh appearance streams from
//! qpdf (`--generate-appearances`), so every viewer shows the new values, not only the viewers
//! that honour `NeedAppearances`. qpdf draws those with the field's own font (`/DA`), which
//! holds the characters of that font's encoding only.
//!
//! Forms that exist only as XFA (drawn by Adobe's XFA engine from an XML template) are refused:
//! there are no AcroForm fields to fill. A hybrid form's XFA part is removed when it is filled,
//! since a viewer that knows XFA would otherwise show the XFA's stale values.
//!
//! Field flags, names and inheritance follow ISO 32000-1 §12.7.

use crate::dests::deref;
use crate::guard::guarded;
use crate::info::decode_text;
use crate::open::open_unguarded;
use crate::rewrite::prepare;
use crate::save::save_atomic;
use lopdf::{Dictionary, Document, Object, ObjectId, text_string};
use scanpro_core::{ErrorCode, ToolError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

const READ_ONLY: i64 = 1;
const REQUIRED: i64 = 1 << 1;
const MULTILINE: i64 = 1 << 12;
const RADIO: i64 = 1 << 15;
const PUSHBUTTON: i64 = 1 << 16;
const COMBO: i64 = 1 << 17;
const EDITABLE: i64 = 1 << 18;
const MULTI_SELECT: i64 = 1 << 21;

/// Fields nest; deeper than this is a hostile file, not a form.
const MAX_DEPTH: usize = 32;
/// Names listed in an "unknown field" message.
const NAMES_IN_MESSAGE: usize = 12;

/// A field's value, as read and as given: a checkbox is `true`/`false`, a text, radio or
/// single choice a string, a multiple-choice list an array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum FieldValue {
    Checked(bool),
    Text(String),
    Selected(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Checkbox,
    Radio,
    List,
    Combo,
    Button,
    Signature,
}

/// One field, by its fully qualified name (`parent.child`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormField {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    pub value: Option<FieldValue>,
    /// The values it takes: a choice's export values, a radio group's buttons, a checkbox's
    /// "on" state.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    pub required: bool,
    pub read_only: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub multiline: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub multi_select: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// The pages its widgets are on (1-based).
    pub pages: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormReport {
    pub pages: u32,
    pub fields: Vec<FormField>,
    /// Whether the form also carries an XFA description.
    pub xfa: bool,
}

/// What [`fill_form`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FillReport {
    pub pages: u32,
    /// The fields written, by name.
    pub filled: Vec<String>,
    /// Whether the form's XFA part was removed.
    pub xfa_removed: bool,
    pub flattened: bool,
}

/// The fields of `input`'s form, in document order; none when it has no form.
pub fn form_fields(input: &Path) -> Result<FormReport, ToolError> {
    guarded("form_fields", || {
        let doc = open_unguarded(input)?;
        let pages = crate::page_tree::page_count(doc.get_pages().len())?;
        let form = Form::read(&doc);
        if form.xfa_only {
            return Err(xfa_only());
        }
        let fields = form.fields.iter().map(|field| field.describe(&doc, &form.widget_pages)).collect();
        Ok(FormReport { pages, fields: merge_same_names(fields), xfa: form.xfa })
    })
}

/// Writes `values` (by field name) into `input`'s form and saves it as `out`, with appearances
/// generated for every viewer; with `flatten`, the filled form is drawn into its pages.
pub fn fill_form(
    input: &Path,
    values: &BTreeMap<String, FieldValue>,
    flatten: bool,
    out: &Path,
) -> Result<FillReport, ToolError> {
    let (pages, xfa_removed) = guarded("fill_form", || {
        let mut doc = open_unguarded(input)?;
        let prepared = prepare(&mut doc)?;
        let form = Form::read(&doc);
        if form.xfa_only {
            return Err(xfa_only());
        }
        if form.fields.is_empty() {
            return Err(ToolError::new(ErrorCode::InvalidParams, "the PDF has no form fields to fill"));
        }
        let mut edits = Vec::new();
        for (name, value) in values {
            let targets: Vec<&Field> = form.fields.iter().filter(|f| &f.name == name).collect();
            if targets.is_empty() {
                return Err(unknown_field(name, &form.fields));
            }
            for field in targets {
                edits.push(field.edit(&doc, value)?);
            }
        }
        for edit in edits {
            edit.apply(&mut doc);
        }
        let xfa_removed = form.xfa;
        let roots: Vec<ObjectId> =
            form.fields.iter().filter(|f| values.contains_key(&f.name)).map(|f| f.root).collect();
        with_acroform(&mut doc, |acroform| {
            acroform.set("NeedAppearances", true);
            acroform.remove(b"XFA");
            list_fields(acroform, &roots);
        });
        save_atomic(&mut doc, out)?;
        Ok((prepared.pages, xfa_removed))
    })?;
    crate::streaming::generate_appearances(out, flatten)?;
    Ok(FillReport { pages, filled: values.keys().cloned().collect(), xfa_removed, flattened: flatten })
}

fn xfa_only() -> ToolError {
    ToolError::new(
        ErrorCode::UnsupportedFormat,
        "the PDF's form is an XFA form only (drawn by Adobe's XFA engine), with no AcroForm fields to read or fill",
    )
}

fn unknown_field(name: &str, fields: &[Field]) -> ToolError {
    let mut names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    names.dedup();
    let shown = names.iter().take(NAMES_IN_MESSAGE).copied().collect::<Vec<_>>().join(", ");
    let more = if names.len() > NAMES_IN_MESSAGE { ", …" } else { "" };
    ToolError::new(
        ErrorCode::InvalidParams,
        format!("values: the form has no field named {name:?}; its fields: {shown}{more}"),
    )
}

/// A terminal field (one that holds a value) with what it inherits.
struct Field {
    id: ObjectId,
    /// Its outermost field, the one `/Fields` lists (or should).
    root: ObjectId,
    name: String,
    kind: FieldKind,
    flags: i64,
    value: Option<Object>,
    options: Vec<ChoiceOption>,
    widgets: Vec<ObjectId>,
}

/// A choice's (or a button group's) option: the value exported, and the text shown.
struct ChoiceOption {
    export: String,
    shown: String,
}

struct Form {
    fields: Vec<Field>,
    widget_pages: HashMap<ObjectId, u32>,
    xfa: bool,
    xfa_only: bool,
}

/// What a parent field passes down to its kids.
#[derive(Clone, Default)]
struct Inherited {
    name: String,
    field_type: Option<Vec<u8>>,
    flags: Option<i64>,
    value: Option<Object>,
    options: Option<Object>,
}

impl Form {
    fn read(doc: &Document) -> Self {
        let acroform =
            doc.catalog().ok().and_then(|c| deref(doc, c.get(b"AcroForm").ok())).and_then(|o| o.as_dict().ok());
        let mut fields = Vec::new();
        let mut seen = HashSet::new();
        if let Some(Object::Array(roots)) = acroform.and_then(|a| deref(doc, a.get(b"Fields").ok())) {
            for root in roots {
                if let Object::Reference(id) = root {
                    walk(doc, *id, *id, &Inherited::default(), 0, &mut seen, &mut fields);
                }
            }
        }
        let listed_none = fields.is_empty();
        let widget_pages = widget_pages(doc);
        // Field widgets on pages that `/Fields` forgot: viewers show them, and qpdf reads them
        // as fields too.
        let mut orphans: Vec<ObjectId> = widget_pages.keys().filter(|id| !seen.contains(id)).copied().collect();
        orphans.sort_unstable();
        for widget in orphans {
            if let Some(root) = top_field(doc, widget).filter(|root| !seen.contains(root)) {
                walk(doc, root, root, &Inherited::default(), 0, &mut seen, &mut fields);
            }
        }
        let xfa = acroform.is_some_and(|a| a.has(b"XFA"));
        let needs_rendering =
            doc.catalog().ok().and_then(|c| c.get(b"NeedsRendering").ok()).and_then(|o| o.as_bool().ok()) == Some(true);
        // An XFA form's widgets, if it has any, are placeholders its `/Fields` leaves out.
        let xfa_only = xfa && (listed_none || needs_rendering);
        Self { fields, widget_pages, xfa, xfa_only }
    }
}

/// The outermost field of a widget annotation that belongs to a field; `None` for other
/// annotations.
fn top_field(doc: &Document, widget: ObjectId) -> Option<ObjectId> {
    let dict = doc.get_dictionary(widget).ok()?;
    if !dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|s| s == b"Widget") {
        return None;
    }
    let mut top = widget;
    let mut typed = dict.has(b"FT");
    for _ in 0..MAX_DEPTH {
        let Some(parent) =
            doc.get_dictionary(top).ok().and_then(|d| d.get(b"Parent").ok()).and_then(|p| p.as_reference().ok())
        else {
            break;
        };
        top = parent;
        typed |= doc.get_dictionary(top).is_ok_and(|d| d.has(b"FT"));
    }
    typed.then_some(top)
}

fn walk(
    doc: &Document,
    id: ObjectId,
    root: ObjectId,
    parent: &Inherited,
    depth: usize,
    seen: &mut HashSet<ObjectId>,
    out: &mut Vec<Field>,
) {
    if depth > MAX_DEPTH || !seen.insert(id) {
        return;
    }
    let Ok(dict) = doc.get_dictionary(id) else { return };
    let mut own = parent.clone();
    if let Some(part) = dict.get(b"T").ok().and_then(decode_text) {
        own.name = if parent.name.is_empty() { part } else { format!("{}.{part}", parent.name) };
    }
    if let Ok(Object::Name(field_type)) = dict.get(b"FT") {
        own.field_type = Some(field_type.clone());
    }
    if let Some(flags) = deref(doc, dict.get(b"Ff").ok()).and_then(|o| o.as_i64().ok()) {
        own.flags = Some(flags);
    }
    if let Some(value) = deref(doc, dict.get(b"V").ok()) {
        own.value = Some(value.clone());
    }
    if let Some(options) = deref(doc, dict.get(b"Opt").ok()) {
        own.options = Some(options.clone());
    }
    let kids: Vec<ObjectId> = match deref(doc, dict.get(b"Kids").ok()) {
        Some(Object::Array(kids)) => kids.iter().filter_map(|k| k.as_reference().ok()).collect(),
        _ => Vec::new(),
    };
    let (child_fields, widgets): (Vec<ObjectId>, Vec<ObjectId>) =
        kids.into_iter().partition(|kid| doc.get_dictionary(*kid).is_ok_and(is_child_field));
    for child in child_fields {
        walk(doc, child, root, &own, depth + 1, seen, out);
    }
    let is_widget = dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|s| s == b"Widget");
    let mut widgets: Vec<ObjectId> = widgets.into_iter().filter(|w| seen.insert(*w)).collect();
    if is_widget {
        widgets.insert(0, id);
    }
    let terminal = !widgets.is_empty() || (dict.has(b"FT") && !dict.has(b"Kids"));
    if !terminal || own.name.is_empty() {
        return;
    }
    let flags = own.flags.unwrap_or(0);
    let Some(kind) = kind_of(own.field_type.as_deref(), flags) else { return };
    let options = match own.options.as_ref() {
        Some(Object::Array(entries)) => entries.iter().filter_map(|e| choice_option(doc, e)).collect(),
        _ => Vec::new(),
    };
    out.push(Field { id, root, name: own.name, kind, flags, value: own.value, options, widgets });
}

/// A kid is a field of its own when it is named and either has kids or points back at its
/// parent, as the standard requires of field kids; a named widget without `/Parent` (which
/// Acrobat writes in radio groups) is one of its parent's widgets, as qpdf and pdf.js read it.
fn is_child_field(kid: &Dictionary) -> bool {
    let widget = kid.get(b"Subtype").and_then(Object::as_name).is_ok_and(|s| s == b"Widget");
    kid.has(b"T") && (kid.has(b"Kids") || kid.has(b"Parent") || !widget)
}

fn kind_of(field_type: Option<&[u8]>, flags: i64) -> Option<FieldKind> {
    Some(match field_type? {
        b"Tx" => FieldKind::Text,
        b"Btn" if flags & PUSHBUTTON != 0 => FieldKind::Button,
        b"Btn" if flags & RADIO != 0 => FieldKind::Radio,
        b"Btn" => FieldKind::Checkbox,
        b"Ch" if flags & COMBO != 0 => FieldKind::Combo,
        b"Ch" => FieldKind::List,
        b"Sig" => FieldKind::Signature,
        _ => return None,
    })
}

fn choice_option(doc: &Document, entry: &Object) -> Option<ChoiceOption> {
    match deref(doc, Some(entry))? {
        Object::Array(pair) => {
            let export = pair.first().and_then(|o| deref(doc, Some(o))).and_then(decode_text)?;
            let shown =
                pair.get(1).and_then(|o| deref(doc, Some(o))).and_then(decode_text).unwrap_or_else(|| export.clone());
            Some(ChoiceOption { export, shown })
        }
        text => decode_text(text).map(|export| ChoiceOption { shown: export.clone(), export }),
    }
}

/// Widget annotation → the page it is on.
fn widget_pages(doc: &Document) -> HashMap<ObjectId, u32> {
    let mut pages = HashMap::new();
    for (number, page_id) in doc.get_pages() {
        let annots = doc.get_dictionary(page_id).ok().and_then(|page| deref(doc, page.get(b"Annots").ok()));
        if let Some(Object::Array(annots)) = annots {
            for annot in annots.iter().filter_map(|a| a.as_reference().ok()) {
                pages.entry(annot).or_insert(number);
            }
        }
    }
    pages
}

/// The appearance states a button widget can show other than `Off`.
fn on_states(doc: &Document, widget: ObjectId) -> Vec<String> {
    let normal = doc
        .get_dictionary(widget)
        .ok()
        .and_then(|w| deref(doc, w.get(b"AP").ok()))
        .and_then(|ap| ap.as_dict().ok())
        .and_then(|ap| deref(doc, ap.get(b"N").ok()))
        .and_then(|n| n.as_dict().ok());
    normal
        .map(|n| n.iter().map(|(k, _)| String::from_utf8_lossy(k).into_owned()).filter(|k| k != "Off").collect())
        .unwrap_or_default()
}

fn name_text(object: &Object) -> Option<String> {
    match object {
        Object::Name(name) => Some(String::from_utf8_lossy(name).into_owned()),
        _ => None,
    }
}

impl Field {
    /// The button states of all its widgets, in order, each once.
    fn states(&self, doc: &Document) -> Vec<String> {
        let mut states: Vec<String> = Vec::new();
        for widget in &self.widgets {
            for state in on_states(doc, *widget) {
                if !states.contains(&state) {
                    states.push(state);
                }
            }
        }
        states
    }

    /// A button state as the user sees it: `/Opt` names the states `0`, `1`, … of a group
    /// whose buttons export values that are not names.
    fn state_label(&self, state: &str) -> String {
        state
            .parse::<usize>()
            .ok()
            .and_then(|i| self.options.get(i))
            .map_or_else(|| state.to_owned(), |o| o.export.clone())
    }

    fn describe(&self, doc: &Document, widget_pages: &HashMap<ObjectId, u32>) -> FormField {
        let value = self.value.as_ref();
        let (value, options) = match self.kind {
            FieldKind::Text => (value.and_then(decode_text_keep_spaces).map(FieldValue::Text), Vec::new()),
            FieldKind::Checkbox => {
                let checked = value.and_then(name_text).is_some_and(|v| v != "Off");
                let states = self.states(doc).iter().map(|s| self.state_label(s)).collect();
                (Some(FieldValue::Checked(checked)), states)
            }
            FieldKind::Radio => {
                let chosen =
                    value.and_then(name_text).filter(|v| v != "Off").map(|v| FieldValue::Text(self.state_label(&v)));
                (chosen, self.states(doc).iter().map(|s| self.state_label(s)).collect())
            }
            FieldKind::List | FieldKind::Combo => {
                let chosen = match value {
                    Some(Object::Array(items)) => Some(FieldValue::Selected(
                        items.iter().filter_map(|i| deref(doc, Some(i))).filter_map(decode_text).collect(),
                    )),
                    Some(other) => decode_text(other).map(FieldValue::Text),
                    None => None,
                };
                (chosen, self.options.iter().map(|o| o.export.clone()).collect())
            }
            FieldKind::Button | FieldKind::Signature => (None, Vec::new()),
        };
        let mut pages: Vec<u32> = self.widgets.iter().filter_map(|w| widget_pages.get(w).copied()).collect();
        pages.sort_unstable();
        pages.dedup();
        let max_length = doc
            .get_dictionary(self.id)
            .ok()
            .and_then(|d| deref(doc, d.get(b"MaxLen").ok()))
            .and_then(|o| o.as_i64().ok())
            .and_then(|n| u32::try_from(n).ok());
        FormField {
            name: self.name.clone(),
            kind: self.kind,
            value,
            options,
            required: self.flags & REQUIRED != 0,
            read_only: self.flags & READ_ONLY != 0,
            multiline: self.kind == FieldKind::Text && self.flags & MULTILINE != 0,
            multi_select: self.kind == FieldKind::List && self.flags & MULTI_SELECT != 0,
            max_length: max_length.filter(|_| self.kind == FieldKind::Text),
            pages,
        }
    }

    /// Checks `value` against the field and works out what to write.
    fn edit(&self, doc: &Document, value: &FieldValue) -> Result<Edit, ToolError> {
        let refuse = |why: String| ToolError::new(ErrorCode::InvalidParams, format!("values.{}: {why}", self.name));
        if self.flags & READ_ONLY != 0 {
            return Err(refuse("the field is read-only".into()));
        }
        let mut edit = Edit { field: self.id, value: Object::Null, selected: None, states: Vec::new() };
        match (self.kind, value) {
            (FieldKind::Text, FieldValue::Text(text)) => {
                let max = self.describe(doc, &HashMap::new()).max_length;
                if let Some(max) = max.filter(|&max| text.chars().count() > max as usize) {
                    return Err(refuse(format!("the field holds at most {max} characters")));
                }
                edit.value = text_string(text);
            }
            (FieldKind::Text, _) => return Err(refuse("a text field takes a string".into())),
            (FieldKind::Checkbox | FieldKind::Radio, value) => {
                let states = self.states(doc);
                let state = self.state_for(&states, value).map_err(refuse)?;
                edit.value = Object::Name(state.clone().into_bytes());
                edit.states = self
                    .widgets
                    .iter()
                    .map(|w| {
                        let shows = on_states(doc, *w).contains(&state);
                        (*w, if shows { state.clone() } else { "Off".to_owned() })
                    })
                    .collect();
            }
            (FieldKind::List | FieldKind::Combo, value) => {
                let chosen: Vec<&String> = match value {
                    FieldValue::Text(one) => vec![one],
                    FieldValue::Selected(many) if self.flags & MULTI_SELECT != 0 => many.iter().collect(),
                    FieldValue::Selected(_) => return Err(refuse("the field takes one choice, a string".into())),
                    FieldValue::Checked(_) => return Err(refuse("a choice field takes one of its options".into())),
                };
                let free_text = self.kind == FieldKind::Combo && self.flags & EDITABLE != 0;
                let mut indices = Vec::new();
                for choice in &chosen {
                    match self.options.iter().position(|o| &o.export == *choice || &o.shown == *choice) {
                        Some(index) => indices.push(index),
                        None if free_text => {}
                        None => {
                            let options: Vec<&str> = self.options.iter().map(|o| o.export.as_str()).collect();
                            return Err(refuse(format!(
                                "{choice:?} is not one of its options: {}",
                                options.join(", ")
                            )));
                        }
                    }
                }
                let export = |choice: &String| {
                    self.options
                        .iter()
                        .find(|o| &o.shown == choice)
                        .map_or_else(|| choice.clone(), |o| o.export.clone())
                };
                edit.value = match value {
                    FieldValue::Selected(_) => Object::Array(chosen.iter().map(|c| text_string(&export(c))).collect()),
                    _ => text_string(&export(chosen[0])),
                };
                indices.sort_unstable();
                // `/I` lists a list box's selected options; a combo box has none.
                edit.selected = (self.kind == FieldKind::List).then_some(indices);
            }
            (FieldKind::Button, _) => return Err(refuse("a push button holds no value".into())),
            (FieldKind::Signature, _) => return Err(refuse("a signature field is filled by signing".into())),
        }
        Ok(edit)
    }

    /// The button state that `value` chooses: `true` the (only) on state, `false` off, a string
    /// one of the states by name or export value.
    fn state_for(&self, states: &[String], value: &FieldValue) -> Result<String, String> {
        let listed = || states.iter().map(|s| self.state_label(s)).collect::<Vec<_>>().join(", ");
        match value {
            FieldValue::Checked(false) => Ok("Off".into()),
            FieldValue::Checked(true) if self.kind == FieldKind::Checkbox => {
                states.first().cloned().ok_or_else(|| "the checkbox has no checked appearance".to_owned())
            }
            FieldValue::Checked(true) => Err(format!("a radio group takes the button to choose, one of: {}", listed())),
            FieldValue::Text(text) if text == "Off" => Ok("Off".into()),
            FieldValue::Text(text) => states
                .iter()
                .find(|s| *s == text || self.state_label(s) == *text)
                .cloned()
                .ok_or_else(|| format!("{text:?} is not one of its states: {}", listed())),
            FieldValue::Selected(_) => Err("a button takes true, false or one of its states".into()),
        }
    }
}

/// Text field values keep their inner spacing and line breaks.
fn decode_text_keep_spaces(object: &Object) -> Option<String> {
    match object {
        Object::String(..) => lopdf::decode_text_string(object).ok().or_else(|| decode_text(object)),
        _ => decode_text(object),
    }
}

/// The changes for one field.
struct Edit {
    field: ObjectId,
    value: Object,
    /// A list's selected option indices (`/I`).
    selected: Option<Vec<usize>>,
    /// Each button widget's appearance state.
    states: Vec<(ObjectId, String)>,
}

impl Edit {
    fn apply(self, doc: &mut Document) {
        if let Ok(field) = doc.get_dictionary_mut(self.field) {
            field.set("V", self.value);
            match self.selected {
                Some(indices) => {
                    let indices =
                        indices.into_iter().filter_map(|i| i64::try_from(i).ok()).map(Object::Integer).collect();
                    field.set("I", Object::Array(indices));
                }
                None => {
                    field.remove(b"I");
                }
            }
        }
        for (widget, state) in self.states {
            if let Ok(widget) = doc.get_dictionary_mut(widget) {
                widget.set("AS", Object::Name(state.into_bytes()));
            }
        }
    }
}

/// Runs `change` on the catalog's `AcroForm` dictionary, direct or referenced; made when the
/// document has none (its fields were all orphans).
fn with_acroform(doc: &mut Document, change: impl FnOnce(&mut Dictionary)) {
    let reference = doc.catalog().ok().and_then(|c| c.get(b"AcroForm").ok()).and_then(|o| o.as_reference().ok());
    let acroform = match reference {
        Some(id) => doc.get_dictionary_mut(id).ok(),
        None => doc.catalog_mut().ok().and_then(|catalog| {
            if !catalog.get(b"AcroForm").is_ok_and(|o| o.as_dict().is_ok()) {
                catalog.set("AcroForm", Dictionary::new());
            }
            catalog.get_mut(b"AcroForm").ok().and_then(|o| o.as_dict_mut().ok())
        }),
    };
    if let Some(acroform) = acroform {
        change(acroform);
    }
}

/// Adds to `/Fields` the filled fields it did not list, so their appearances are made and
/// every viewer treats them as the form's.
fn list_fields(acroform: &mut Dictionary, roots: &[ObjectId]) {
    let mut listed = match acroform.get(b"Fields") {
        Ok(Object::Array(fields)) => fields.clone(),
        _ => Vec::new(),
    };
    for root in roots {
        if !listed.contains(&Object::Reference(*root)) {
            listed.push(Object::Reference(*root));
        }
    }
    acroform.set("Fields", Object::Array(listed));
}

/// Terminal fields that share a name are one field (ISO 32000-1 §12.7.3.2) split across
/// objects: reported once, with all their pages.
fn merge_same_names(fields: Vec<FormField>) -> Vec<FormField> {
    let mut merged: Vec<FormField> = Vec::with_capacity(fields.len());
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for field in fields {
        match by_name.get(&field.name).map(|&i| &mut merged[i]) {
            Some(existing) => {
                existing.pages.extend(field.pages);
                existing.pages.sort_unstable();
                existing.pages.dedup();
                for option in field.options {
                    if !existing.options.contains(&option) {
                        existing.options.push(option);
                    }
                }
            }
            None => {
                by_name.insert(field.name.clone(), merged.len());
                merged.push(field);
            }
        }
    }
    merged
}
