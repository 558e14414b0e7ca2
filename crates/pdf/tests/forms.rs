//! Listing and filling AcroForm fields, read back with qpdf (`--json`'s `acroform` key, the
//! widgets' appearance streams) and poppler (`pdftotext` of the flattened pages).

use lopdf::{Document, Object};
use scanpro_core::ErrorCode;
use scanpro_pdf::forms::{FieldKind, FieldValue, fill_form, form_fields};
use scanpro_testkit::checkers::{pdftotext, qpdf_check_clean, qpdf_json, run, stdout};
use scanpro_testkit::corpus::{corpus_files, text_pdf};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// pdf.js's test form: text fields, a checkbox, a radio group, a list, a drop-down and a push
/// button, made with Acrobat.
fn sample_form() -> std::path::PathBuf {
    text_pdf("pdfjs_issue15096.pdf")
}

/// qpdf's view of the form: one entry per widget.
fn qpdf_fields(path: &Path) -> Vec<Value> {
    qpdf_json(path, &["acroform"])["acroform"]["fields"].as_array().cloned().unwrap_or_default()
}

fn qpdf_field<'a>(fields: &'a [Value], name: &str) -> &'a Value {
    fields.iter().find(|f| f["fullname"] == name).unwrap_or_else(|| panic!("qpdf lists no field {name}"))
}

/// The decoded normal appearance stream of a field's (first) widget, as qpdf reads it.
fn appearance_text(path: &Path, fields: &[Value], name: &str) -> String {
    let widget = qpdf_field(fields, name)["annotation"]["object"].as_str().unwrap().trim_end_matches(" 0 R").to_owned();
    let widget = stdout("qpdf", [&format!("--show-object={widget}"), path.to_str().unwrap()]);
    let normal = widget.split("/N ").nth(1).expect("the widget has a normal appearance");
    let id = normal.split_whitespace().next().unwrap();
    stdout("qpdf", [&format!("--show-object={id}"), "--filtered-stream-data", path.to_str().unwrap()])
}

fn values(pairs: &[(&str, FieldValue)]) -> BTreeMap<String, FieldValue> {
    pairs.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect()
}

#[test]
fn fields_are_listed_as_qpdf_reads_them() {
    let form = form_fields(&sample_form()).unwrap();
    let qpdf = qpdf_fields(&sample_form());
    let ours: BTreeSet<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
    let theirs: BTreeSet<&str> = qpdf.iter().filter_map(|f| f["fullname"].as_str()).collect();
    assert_eq!(ours, theirs);
    assert_eq!(form.fields.len(), ours.len(), "each field once, however many widgets it has");
    let field = |name: &str| form.fields.iter().find(|f| f.name == name).unwrap();
    assert_eq!(field("name").kind, FieldKind::Text);
    assert_eq!(field("total").value, Some(FieldValue::Text("0".into())));
    assert_eq!(field("checkbox").kind, FieldKind::Checkbox);
    assert_eq!(field("checkbox").value, Some(FieldValue::Checked(false)));
    assert_eq!(field("Group1").kind, FieldKind::Radio);
    assert_eq!(field("Group1").value, Some(FieldValue::Text("Choice2".into())));
    assert!(field("Group1").options.len() >= 2, "{:?}", field("Group1").options);
    assert_eq!(field("List Box8").kind, FieldKind::List);
    assert_eq!(
        field("List Box8").options,
        qpdf_field(&qpdf, "List Box8")["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect::<Vec<_>>()
    );
    assert_eq!(field("Dropdown9").kind, FieldKind::Combo);
    assert_eq!(field("Dropdown9").value, Some(FieldValue::Text("value2".into())));
    assert_eq!(field("resetbutton").kind, FieldKind::Button);
    assert!(form.fields.iter().all(|f| f.pages == [1]));
    assert!(!form.xfa);
}

#[test]
fn filled_values_are_what_qpdf_reads_and_the_viewer_draws() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("filled.pdf");
    let radio = form_fields(&sample_form()).unwrap().fields.into_iter().find(|f| f.name == "Group1").unwrap();
    let other_button = radio.options.iter().find(|o| *o != "Choice2").unwrap().clone();
    let given = values(&[
        ("name", FieldValue::Text("Ada Lovelace".into())),
        ("value1", FieldValue::Text("Zoë Ångström, 12 €".into())),
        ("checkbox", FieldValue::Checked(true)),
        ("Group1", FieldValue::Text(other_button.clone())),
        ("List Box8", FieldValue::Text("item2".into())),
        ("Dropdown9", FieldValue::Text("Technical".into())),
    ]);
    let report = fill_form(&sample_form(), &given, false, &out).unwrap();
    assert_eq!(report.filled, ["Dropdown9", "Group1", "List Box8", "checkbox", "name", "value1"]);
    qpdf_check_clean(&out);

    let fields = qpdf_fields(&out);
    assert_eq!(qpdf_field(&fields, "name")["value"], "u:Ada Lovelace");
    assert_eq!(qpdf_field(&fields, "value1")["value"], "u:Zoë Ångström, 12 €");
    let on = qpdf_field(&fields, "checkbox")["value"].as_str().unwrap().to_owned();
    assert_ne!(on, "/Off");
    assert_eq!(qpdf_field(&fields, "checkbox")["annotation"]["appearancestate"], on.as_str(), "the box shows checked");
    assert_eq!(qpdf_field(&fields, "Group1")["value"], format!("/{other_button}"));
    let shown: Vec<&str> = fields
        .iter()
        .filter(|f| f["fullname"] == "Group1")
        .map(|f| f["annotation"]["appearancestate"].as_str().unwrap())
        .collect();
    assert_eq!(shown.iter().filter(|s| **s != "/Off").count(), 1, "one button of the group shows on: {shown:?}");
    assert_eq!(qpdf_field(&fields, "List Box8")["value"], "u:item2");
    assert_eq!(qpdf_field(&fields, "Dropdown9")["value"], "u:Technical");
    assert!(
        appearance_text(&out, &fields, "name").contains("Ada Lovelace"),
        "the text field's appearance draws the value"
    );
    assert!(appearance_text(&out, &fields, "Dropdown9").contains("Technical"));
    let acroform = qpdf_json(&out, &["acroform"]);
    assert_eq!(acroform["acroform"]["needappearances"], false, "appearances are made, not left to the viewer");

    let read_back = form_fields(&out).unwrap();
    let field = |name: &str| read_back.fields.iter().find(|f| f.name == name).unwrap().value.clone();
    assert_eq!(field("name"), Some(FieldValue::Text("Ada Lovelace".into())));
    assert_eq!(field("checkbox"), Some(FieldValue::Checked(true)));
    assert_eq!(field("Group1"), Some(FieldValue::Text(other_button)));

    let flat = dir.path().join("flat.pdf");
    let report = fill_form(&sample_form(), &given, true, &flat).unwrap();
    assert!(report.flattened);
    qpdf_check_clean(&flat);
    assert!(qpdf_fields(&flat).is_empty(), "flattened: no fields left");
    let text = pdftotext(&flat);
    assert!(text.contains("Ada Lovelace") && text.contains("Technical"), "{text}");
}

#[test]
fn unchecking_and_clearing_work_too() {
    let dir = tempfile::tempdir().unwrap();
    let checked = dir.path().join("checked.pdf");
    fill_form(&sample_form(), &values(&[("checkbox", FieldValue::Checked(true))]), false, &checked).unwrap();
    let unchecked = dir.path().join("unchecked.pdf");
    fill_form(
        &checked,
        &values(&[("checkbox", FieldValue::Checked(false)), ("Group1", FieldValue::Text("Off".into()))]),
        false,
        &unchecked,
    )
    .unwrap();
    let fields = qpdf_fields(&unchecked);
    assert_eq!(qpdf_field(&fields, "checkbox")["value"], "/Off");
    assert!(fields.iter().filter(|f| f["fullname"] == "Group1").all(|f| f["annotation"]["appearancestate"] == "/Off"));
}

#[test]
fn wrong_values_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pdf");
    let cases: [(&str, FieldValue, &str); 7] = [
        ("nmae", FieldValue::Text("x".into()), "no field named \"nmae\"; its fields: name, value1"),
        ("name", FieldValue::Checked(true), "values.name: a text field takes a string"),
        ("checkbox", FieldValue::Text("Maybe".into()), "values.checkbox: \"Maybe\" is not one of its states"),
        ("Group1", FieldValue::Checked(true), "values.Group1: a radio group takes the button to choose"),
        (
            "List Box8",
            FieldValue::Text("item9".into()),
            "\"item9\" is not one of its options: item1, item2, item3, item4",
        ),
        ("Dropdown9", FieldValue::Selected(vec!["Technical".into(), "value1".into()]), "takes one choice"),
        ("resetbutton", FieldValue::Text("x".into()), "a push button holds no value"),
    ];
    for (name, value, expected) in cases {
        let error = fill_form(&sample_form(), &values(&[(name, value)]), false, &out).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidParams, "{name}: {error:?}");
        assert!(error.message.contains(expected), "{name}: {}", error.message);
        assert!(!out.exists(), "nothing is written when a value is refused");
    }

    let no_form = fill_form(&text_pdf("lscape.pdf"), &values(&[("name", FieldValue::Text("x".into()))]), false, &out)
        .unwrap_err();
    assert_eq!(no_form.code, ErrorCode::InvalidParams);
    assert!(no_form.message.contains("no form fields"), "{}", no_form.message);
    assert!(form_fields(&text_pdf("lscape.pdf")).unwrap().fields.is_empty());
}

/// The sample form changed with lopdf: `change` edits the AcroForm dictionary and the fields.
fn altered_form(dir: &Path, change: impl FnOnce(&mut Document)) -> std::path::PathBuf {
    let mut doc = Document::load(sample_form()).unwrap();
    change(&mut doc);
    let path = dir.join("altered.pdf");
    doc.save(&path).unwrap();
    path
}

fn acroform_id(doc: &Document) -> lopdf::ObjectId {
    doc.catalog().unwrap().get(b"AcroForm").unwrap().as_reference().unwrap()
}

#[test]
fn read_only_fields_and_length_limits_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = altered_form(dir.path(), |doc| {
        let fields = doc.get_dictionary(acroform_id(doc)).unwrap().get(b"Fields").unwrap().as_array().unwrap().clone();
        for field in fields {
            let field = doc.get_dictionary_mut(field.as_reference().unwrap()).unwrap();
            match field.get(b"T").unwrap().as_str().unwrap() {
                b"name" => field.set("MaxLen", 5),
                b"total" => field.set("Ff", 1),
                _ => {}
            }
        }
    });
    let listed = form_fields(&path).unwrap();
    assert!(listed.fields.iter().find(|f| f.name == "total").unwrap().read_only);
    assert_eq!(listed.fields.iter().find(|f| f.name == "name").unwrap().max_length, Some(5));
    let out = dir.path().join("out.pdf");
    let error = fill_form(&path, &values(&[("total", FieldValue::Text("9".into()))]), false, &out).unwrap_err();
    assert!(error.message.contains("values.total: the field is read-only"), "{}", error.message);
    let error =
        fill_form(&path, &values(&[("name", FieldValue::Text("Ada Lovelace".into()))]), false, &out).unwrap_err();
    assert!(error.message.contains("at most 5 characters"), "{}", error.message);
}

#[test]
fn xfa_only_forms_are_refused_and_hybrid_forms_lose_their_stale_xfa() {
    let dir = tempfile::tempdir().unwrap();
    let xfa_packet = || Object::Stream(lopdf::Stream::new(lopdf::Dictionary::new(), b"<xdp:xdp/>".to_vec()));
    let xfa_only = altered_form(dir.path(), |doc| {
        let packet = doc.add_object(xfa_packet());
        let acroform = doc.get_dictionary_mut(acroform_id(doc)).unwrap();
        acroform.set("Fields", Object::Array(Vec::new()));
        acroform.set("XFA", packet);
    });
    let out = dir.path().join("out.pdf");
    for error in [
        form_fields(&xfa_only).unwrap_err(),
        fill_form(&xfa_only, &values(&[("name", FieldValue::Text("x".into()))]), false, &out).unwrap_err(),
    ] {
        assert_eq!(error.code, ErrorCode::UnsupportedFormat);
        assert!(error.message.contains("XFA form"), "{}", error.message);
    }

    let hybrid_path = dir.path().join("hybrid.pdf");
    let mut hybrid = Document::load(sample_form()).unwrap();
    let packet = hybrid.add_object(xfa_packet());
    let id = acroform_id(&hybrid);
    hybrid.get_dictionary_mut(id).unwrap().set("XFA", packet);
    hybrid.save(&hybrid_path).unwrap();
    assert!(form_fields(&hybrid_path).unwrap().xfa);
    let report = fill_form(&hybrid_path, &values(&[("name", FieldValue::Text("Ada".into()))]), false, &out).unwrap();
    assert!(report.xfa_removed);
    let whole = stdout("qpdf", ["--qdf", "--object-streams=disable", out.to_str().unwrap(), "-"]);
    assert!(!whole.contains("/XFA"), "the XFA part is gone");
    assert_eq!(qpdf_field(&qpdf_fields(&out), "name")["value"], "u:Ada");
}

/// Every PDF of the corpus: listing never fails on a readable file, and names the same fields
/// qpdf does.
#[test]
fn corpus_forms_list_the_fields_qpdf_lists() {
    let mut forms = 0;
    for path in corpus_files("pdf-text") {
        let Ok(form) = form_fields(&path) else { continue };
        let qpdf = run("qpdf", ["--json", "--json-key=acroform", path.to_str().unwrap()]);
        if !matches!(qpdf.status.code(), Some(0 | 3)) {
            continue; // qpdf cannot read this one's form; nothing to compare with
        }
        let qpdf: Value = serde_json::from_slice(&qpdf.stdout).unwrap();
        let ours: BTreeSet<String> = form.fields.iter().map(|f| f.name.clone()).collect();
        let theirs: BTreeSet<String> = qpdf["acroform"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["fullname"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(ours, theirs, "{}", path.display());
        forms += usize::from(!ours.is_empty());
    }
    assert!(forms >= 5, "the corpus holds forms: {forms}");
}
