//! Parameters: JSON in, typed and validated out. Errors name the field, so the user knows what
//! to fix: `angle: invalid type: string "x", expected i32`, `params: unknown field `page`, …`.

use crate::catalogue::tool;
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Checks `params` against the tool's typed parameters and, when the number of inputs is known
/// (`None` for a step fed by the previous one), the input count against the tool's rule.
pub fn validate(tool_name: &str, params: &Value, input_count: Option<usize>) -> Result<(), ToolError> {
    let tool = tool(tool_name)?;
    (tool.check)(params)?;
    match input_count {
        Some(count) => tool.inputs.check(tool.name, count),
        None => Ok(()),
    }
}

/// Parses and validates; absent (`null`) parameters mean "all defaults".
pub(crate) fn parse<P: DeserializeOwned + Validate>(params: &Value) -> Result<P, ToolError> {
    let empty = Value::Object(Default::default());
    let params = match params {
        Value::Null => &empty,
        Value::Object(_) => params,
        other => return Err(ToolError::invalid_param("params", format!("expected a JSON object, got {other}"))),
    };
    let typed: P = serde_path_to_error::deserialize(params).map_err(|error| {
        let path = error.path().to_string();
        let problem = error.into_inner().to_string();
        // An unknown field's message names it already (and the path would repeat it); the
        // root's path is ".".
        let field = if path == "." || problem.starts_with("unknown field") { "params" } else { &path };
        ToolError::invalid_param(field, problem)
    })?;
    typed.validate()?;
    Ok(typed)
}

/// [`parse`] for the registry, which only needs the verdict.
pub(crate) fn check<P: DeserializeOwned + Validate>(params: &Value) -> Result<(), ToolError> {
    parse::<P>(params).map(drop)
}

/// The JSON Schema of `P`, as the catalogue publishes it.
pub(crate) fn schema<P: JsonSchema>() -> Value {
    schemars::schema_for!(P).to_value()
}
