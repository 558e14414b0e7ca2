//! `n_up`: several pages on each sheet, in a grid.

use super::page_outputs::each_input;
use super::paper::Paper;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, advanced, check_range};
use scanpro_pdf::impose::{NUp, Order, Orientation};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<NUpParams>(About {
    name: "n_up",
    title: "Pages per sheet",
    summary: "Put 2, 4, 6, 9 or 16 pages on each sheet, scaled to fit, in rows or columns, with \
              optional borders: handouts, proofs and paper saved.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SheetOrientation {
    /// Whichever shows the pages larger.
    #[default]
    Auto,
    Portrait,
    Landscape,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FillOrder {
    /// Rows, left to right, top to bottom.
    #[default]
    Across,
    /// Columns, top to bottom, left to right.
    Down,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NUpParams {
    /// Pages on each sheet: 2, 4, 6, 9 or 16.
    #[serde(default = "two")]
    #[schemars(extend("enum" = [2, 4, 6, 9, 16]))]
    pub pages_per_sheet: u32,
    /// Sheet size: `same` as the document's pages, or a paper size.
    #[serde(default)]
    pub sheet_size: Paper,
    /// Sheet orientation.
    #[serde(default)]
    pub orientation: SheetOrientation,
    /// The order pages fill a sheet.
    #[serde(default)]
    pub order: FillOrder,
    /// A thin line around each page.
    #[serde(default)]
    pub borders: bool,
    /// Space around the sheet's edge and between pages, in points (1/72 inch).
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub margin: f32,
}

fn two() -> u32 {
    2
}

impl Default for NUpParams {
    fn default() -> Self {
        Self {
            pages_per_sheet: two(),
            sheet_size: Paper::default(),
            orientation: SheetOrientation::default(),
            order: FillOrder::default(),
            borders: false,
            margin: 0.0,
        }
    }
}

impl Validate for NUpParams {
    fn validate(&self) -> Result<(), ToolError> {
        if ![2, 4, 6, 9, 16].contains(&self.pages_per_sheet) {
            return Err(ToolError::invalid_param(
                "pages_per_sheet",
                format!("{}: one of 2, 4, 6, 9 or 16", self.pages_per_sheet),
            ));
        }
        check_range("margin", self.margin, 0.0, 144.0)
    }
}

impl ToolParams for NUpParams {}

impl NativeTool for NUpParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let layout = NUp {
            pages_per_sheet: self.pages_per_sheet,
            sheet: self.sheet_size.sheet(),
            orientation: match self.orientation {
                SheetOrientation::Auto => Orientation::Auto,
                SheetOrientation::Portrait => Orientation::Portrait,
                SheetOrientation::Landscape => Orientation::Landscape,
            },
            order: match self.order {
                FillOrder::Across => Order::Across,
                FillOrder::Down => Order::Down,
            },
            borders: self.borders,
            margin: f64::from(self.margin),
        };
        let suffix = format!("_{}up", self.pages_per_sheet);
        each_input(inputs, out_dir, &suffix, |input, out| scanpro_pdf::impose::n_up(&input.path, &layout, out))
    }
}
