//! What the marks drawn on top of (or under) existing pages share: `watermark`, `page_numbers`
//! and `sign` place text and images with these.
//!
//! Coordinates and sizes are in PDF points (1/72 inch) on the page as it is displayed, that is
//! after its `/Rotate`: "bottom left" is the bottom left a reader sees. Angles are degrees,
//! counterclockwise. Optional fields are `Option`s so the tool can tell "not given" from "given"
//! and refuse options that would have no effect.

use crate::error::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest text accepted for one mark, in characters.
pub const MAX_MARK_TEXT_CHARS: usize = 1000;

/// Most lines accepted in one mark's text.
pub const MAX_MARK_LINES: usize = 20;

/// One of nine anchors on the displayed page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(extend("x-widget" = "position-grid"))]
pub enum Position {
    TopLeft,
    TopCenter,
    TopRight,
    MiddleLeft,
    Center,
    MiddleRight,
    BottomLeft,
    BottomCenter,
    BottomRight,
}

impl Position {
    /// Horizontal and vertical alignment: -1 start (left, bottom), 0 centre, 1 end (right, top).
    pub fn alignment(self) -> (i8, i8) {
        match self {
            Self::TopLeft => (-1, 1),
            Self::TopCenter => (0, 1),
            Self::TopRight => (1, 1),
            Self::MiddleLeft => (-1, 0),
            Self::Center => (0, 0),
            Self::MiddleRight => (1, 0),
            Self::BottomLeft => (-1, -1),
            Self::BottomCenter => (0, -1),
            Self::BottomRight => (1, -1),
        }
    }

    /// The snake_case name, as written in parameters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TopLeft => "top_left",
            Self::TopCenter => "top_center",
            Self::TopRight => "top_right",
            Self::MiddleLeft => "middle_left",
            Self::Center => "center",
            Self::MiddleRight => "middle_right",
            Self::BottomLeft => "bottom_left",
            Self::BottomCenter => "bottom_center",
            Self::BottomRight => "bottom_right",
        }
    }
}

/// The embedded typefaces (DejaVu); each covers Latin, Greek and Cyrillic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StampFont {
    /// DejaVu Sans.
    #[default]
    Sans,
    /// DejaVu Sans Bold.
    SansBold,
    /// DejaVu Serif.
    Serif,
    /// DejaVu Sans Mono.
    Mono,
}

/// Whether a mark is drawn over the page's content or beneath it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// On top of everything on the page.
    #[default]
    Over,
    /// Beneath the page's content: hidden wherever the page paints an opaque background
    /// (scanned pages are one big opaque image).
    Under,
}

/// An RGB colour from `#RRGGBB` (hex digits in either case); the error names `field`.
pub fn parse_color(field: &str, value: &str) -> Result<[u8; 3], ToolError> {
    let bad = || ToolError::invalid_param(field, format!("{value:?} is not a #RRGGBB colour"));
    let hex = value.strip_prefix('#').filter(|h| h.len() == 6 && h.is_ascii()).ok_or_else(bad)?;
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
    Ok([channel(0)?, channel(2)?, channel(4)?])
}

/// Checks that a number is finite and within `min..=max`.
pub fn check_range(field: &str, value: f32, min: f32, max: f32) -> Result<(), ToolError> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ToolError::invalid_param(field, format!("must be between {min} and {max}, got {value}")))
    }
}

pub fn check_opacity(field: &str, value: f32) -> Result<(), ToolError> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(ToolError::invalid_param(field, "must be between 0 and 1"))
    }
}

/// Text must show something, and stay within the size limits.
pub fn check_mark_text(field: &str, text: &str) -> Result<(), ToolError> {
    if text.trim().is_empty() {
        return Err(ToolError::invalid_param(field, "must not be empty"));
    }
    if text.chars().count() > MAX_MARK_TEXT_CHARS {
        return Err(ToolError::invalid_param(field, format!("is longer than {MAX_MARK_TEXT_CHARS} characters")));
    }
    if text.lines().count() > MAX_MARK_LINES {
        return Err(ToolError::invalid_param(field, format!("has more than {MAX_MARK_LINES} lines")));
    }
    if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n') {
        return Err(ToolError::invalid_param(field, format!("contains the control character U+{:04X}", c as u32)));
    }
    Ok(())
}

pub const DEFAULT_EDGE_MARGIN: f32 = 36.0;

pub fn check_margin(margin: Option<f32>, position: Position) -> Result<(), ToolError> {
    match margin {
        Some(_) if position == Position::Center => {
            Err(ToolError::invalid_param("margin", "has no effect with position \"center\"; choose an edge position"))
        }
        Some(margin) => check_range("margin", margin, 0.0, 10_000.0),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_hex_triplets() {
        assert_eq!(parse_color("color", "#ff8000").unwrap(), [255, 128, 0]);
        assert_eq!(parse_color("color", "#FF8000").unwrap(), [255, 128, 0]);
        for bad in ["#GG0000", "ff8000", "#fff", "#ff80001", "#ÿÿÿ"] {
            let err = parse_color("color", bad).unwrap_err();
            assert_eq!(err.message, format!("color: {bad:?} is not a #RRGGBB colour"));
        }
    }
}
