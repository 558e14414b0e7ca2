//! `merge`, `split`, `rotate`, `info`.

use super::{Validate, page_selection};
use crate::error::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeParams {
    /// Order of the inputs in the result, as 0-based input indices (e.g. `[2, 0, 1]`).
    /// Absent: the order the inputs were given. Every index must appear exactly once.
    #[serde(default)]
    pub order: Option<Vec<usize>>,
}

impl Validate for MergeParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl MergeParams {
    /// The input order to use for `input_count` inputs.
    pub fn resolve_order(&self, input_count: usize) -> Result<Vec<usize>, ToolError> {
        let Some(order) = &self.order else {
            return Ok((0..input_count).collect());
        };
        if order.len() != input_count {
            return Err(ToolError::invalid_param(
                "order",
                format!("lists {} indices but there are {input_count} inputs", order.len()),
            ));
        }
        let mut seen = vec![false; input_count];
        for &index in order {
            if index >= input_count {
                return Err(ToolError::invalid_param(
                    "order",
                    format!("index {index} does not exist (inputs are numbered 0 to {})", input_count - 1),
                ));
            }
            if std::mem::replace(&mut seen[index], true) {
                return Err(ToolError::invalid_param("order", format!("index {index} appears twice")));
            }
        }
        Ok(order.clone())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SplitMode {
    /// One output per comma-separated term of `ranges` (`1-3,5,8-` gives three files).
    #[default]
    Ranges,
    /// One output per `every` pages.
    Every,
    /// One output per page.
    Each,
    /// Consecutive pages packed into outputs of at most `max_size_mb` each (a page larger than
    /// that on its own gets a file of its own).
    Size,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitParams {
    /// How to cut the document.
    #[serde(default)]
    pub mode: SplitMode,
    /// Page selection for `mode = ranges`, e.g. `1-3,5,8-`; each term becomes one file.
    #[serde(default)]
    pub ranges: Option<String>,
    /// Pages per output for `mode = every`.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub every: Option<u32>,
    /// Largest output for `mode = size`, in megabytes (1 MB = 1024 × 1024 bytes), e.g. `9.5`.
    #[serde(default)]
    pub max_size_mb: Option<f64>,
}

impl Validate for SplitParams {
    fn validate(&self) -> Result<(), ToolError> {
        if self.max_size_mb.is_some() && self.mode != SplitMode::Size {
            return Err(ToolError::invalid_param("max_size_mb", "only applies with mode \"size\""));
        }
        match self.mode {
            SplitMode::Ranges => {
                let ranges = self.ranges.as_deref().ok_or_else(|| {
                    ToolError::invalid_param("ranges", "required when mode is \"ranges\" (e.g. \"1-3,5,8-\")")
                })?;
                page_selection("ranges", Some(ranges)).map(drop)
            }
            SplitMode::Every => match self.every {
                Some(n) if n >= 1 => Ok(()),
                Some(_) => Err(ToolError::invalid_param("every", "must be at least 1")),
                None => Err(ToolError::invalid_param("every", "required when mode is \"every\"")),
            },
            SplitMode::Each => Ok(()),
            SplitMode::Size => match self.max_size_mb {
                Some(mb) if mb.is_finite() && mb > 0.0 => Ok(()),
                Some(mb) => Err(ToolError::invalid_param("max_size_mb", format!("must be a number above 0, got {mb}"))),
                None => Err(ToolError::invalid_param("max_size_mb", "required when mode is \"size\" (e.g. 10)")),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateParams {
    /// Clockwise rotation in degrees: 90, 180 or 270 (-90 means 270). Added to any existing rotation.
    pub angle: i32,
    /// Pages to rotate (e.g. `1-3,even,last`). Absent: every page.
    #[serde(default)]
    pub pages: Option<String>,
}

impl Validate for RotateParams {
    fn validate(&self) -> Result<(), ToolError> {
        self.quarter_turns()?;
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}

impl RotateParams {
    /// The angle normalised to 90, 180 or 270.
    pub fn quarter_turns(&self) -> Result<i32, ToolError> {
        match self.angle.rem_euclid(360) {
            a @ (90 | 180 | 270) if self.angle % 90 == 0 => Ok(a),
            _ => Err(ToolError::invalid_param("angle", format!("{} is not 90, 180 or 270", self.angle))),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InfoParams {}

impl Validate for InfoParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_order_is_a_permutation() {
        let p = MergeParams { order: Some(vec![1, 0]) };
        assert_eq!(p.resolve_order(2).unwrap(), vec![1, 0]);
        assert!(p.resolve_order(3).unwrap_err().message.starts_with("order:"));
        let p = MergeParams { order: Some(vec![0, 0]) };
        assert!(p.resolve_order(2).unwrap_err().message.contains("twice"));
    }

    #[test]
    fn rotate_angles() {
        let r = |angle| RotateParams { angle, pages: None }.quarter_turns();
        assert_eq!(r(-90).unwrap(), 270);
        assert_eq!(r(450).unwrap(), 90);
        assert!(r(45).is_err());
        assert!(r(0).is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<RotateParams>(r#"{"angle":90,"page":"1"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `page`"), "{err}");
    }
}
