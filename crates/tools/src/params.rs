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

/// [`parse`] from JSON text, for tests.
#[cfg(test)]
pub(crate) fn parse_text<P: DeserializeOwned + Validate>(json: &str) -> Result<P, ToolError> {
    parse(&serde_json::from_str(json).expect("test JSON"))
}

/// The JSON Schema of `P`, as the catalogue publishes it, with its hints for forms: `x-order`
/// (see [`in_declared_order`]), `x-advanced` on options most people leave alone, `format:
/// page-selection` with a `pattern`, `format: file-format` on lists of formats, `x-widget:
/// position-grid` on the nine anchors.
pub(crate) fn schema<P: JsonSchema + DeserializeOwned>() -> Value {
    let mut schema = schemars::schema_for!(P);
    in_declared_order::<P>(&mut schema);
    schema.to_value()
}

/// Schema transform: `x-order` lists the fields of `P` as they are declared, most used first
/// (a schema's `properties` come sorted by name). Declared order is what serde's derive hands a
/// deserializer; a type that is not a plain struct gets none.
pub(crate) fn in_declared_order<P: DeserializeOwned>(schema: &mut schemars::Schema) {
    let mut fields = None;
    let _ = P::deserialize(FieldNames(&mut fields));
    if let Some(fields) = fields {
        schema.insert("x-order".into(), serde_json::json!(fields));
    }
}

/// A deserializer that only notes the field names a struct asks for, then stops.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field names noted")
    }
}

impl std::error::Error for Stop {}

impl serde::de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = Stop;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        *self.0 = Some(fields);
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}
