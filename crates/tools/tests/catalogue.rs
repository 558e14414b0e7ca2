//! The catalogue and parameter validation: what clients see before anything runs.

use scanpro_core::ErrorCode;
use scanpro_tools::{catalogue, find, validate};
use serde_json::json;

#[test]
fn every_tool_is_listed_with_a_schema() {
    let tools = catalogue();
    let names: Vec<&str> = tools.iter().map(|t| t.name).collect();
    let expected = [
        "merge",
        "split",
        "rotate",
        "info",
        "remove_pages",
        "extract_pages",
        "reorder",
        "watermark",
        "page_numbers",
        "protect",
        "unlock",
        "metadata",
        "sign",
        "images_to_pdf",
        "pdf_to_image",
        "thumbnails",
        "repair",
        "convert",
    ];
    for name in expected {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "names are unique: {names:?}");
    for tool in &tools {
        assert_eq!(tool.params_schema["type"], "object", "{}: {}", tool.name, tool.params_schema);
        assert!(!tool.title.is_empty() && !tool.summary.is_empty() && !tool.group.is_empty());
        // Only the tools that take a web page's assets, or files to attach, take any file.
        let any_file = ["html_to_pdf", "url_to_pdf", "screenshot", "attach"].contains(&tool.name);
        assert_eq!(tool.inputs.formats.is_empty(), any_file, "{}", tool.name);
        let listed = serde_json::to_value(tool).unwrap();
        assert_eq!(listed["name"], tool.name);
    }
    let rotate = find("rotate").unwrap();
    assert_eq!(rotate.params_schema["required"], json!(["angle"]));
    assert!(rotate.params_schema["properties"]["angle"]["description"].as_str().unwrap().contains("90"));
    assert!(rotate.params_schema["properties"]["pages"].is_object());
    let split = find("split").unwrap();
    assert!(split.params_schema.to_string().contains("\"every\""), "{}", split.params_schema);
    assert!(find("nope").is_none());
}

fn message(tool: &str, params: serde_json::Value, inputs: Option<usize>) -> String {
    let err = validate(tool, &params, inputs).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParams, "{err}");
    err.message
}

#[test]
fn validation_errors_name_the_field() {
    assert_eq!(message("nope", json!({}), Some(1)), "unknown tool \"nope\"; see GET /api/v1/tools");
    assert_eq!(
        message("rotate", json!({"angle": 90, "page": "1"}), Some(1)),
        "params: unknown field `page`, expected `angle` or `pages`"
    );
    assert_eq!(message("rotate", json!({}), Some(1)), "params: missing field `angle`");
    assert!(message("rotate", json!({"angle": "ninety"}), Some(1)).starts_with("angle: invalid type: string"));
    assert_eq!(message("rotate", json!({"angle": 45}), Some(1)), "angle: 45 is not 90, 180 or 270");
    assert!(message("rotate", json!({"angle": 90, "pages": "1-x"}), Some(1)).starts_with("pages: \"1-x\""));
    assert!(message("split", json!({"mode": "ranges"}), Some(1)).starts_with("ranges: required"));
    assert!(message("split", json!({"mode": "sideways"}), Some(1)).starts_with("mode: unknown variant `sideways`"));
    assert!(message("split", json!({"mode": "every", "every": 0}), Some(1)).starts_with("every: must be at least 1"));
    assert!(message("merge", json!({"order": [0, "1"]}), Some(2)).starts_with("order[1]: invalid type"));
    assert!(message("merge", json!([1, 2]), Some(2)).starts_with("params: expected a JSON object"));
}

#[test]
fn validation_checks_the_number_of_inputs_when_known() {
    assert_eq!(message("merge", json!({}), Some(0)), "inputs: merge needs at least 1 input, got 0");
    assert_eq!(message("info", json!({}), Some(2)), "inputs: info takes at most 1 input, got 2");
    validate("info", &json!({}), None).unwrap();
    validate("merge", &json!({"order": [1, 0]}), Some(2)).unwrap();
    validate("rotate", &json!({"angle": -90, "pages": "even,last"}), Some(3)).unwrap();
    validate("split", &json!({"mode": "each"}), None).unwrap();
    validate("info", &serde_json::Value::Null, Some(1)).unwrap();
}
