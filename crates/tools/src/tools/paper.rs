//! Paper sizes the layout tools (`n_up`, `booklet`, `scale_pages`) print on.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A sheet size; each is turned to landscape where the layout calls for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    /// The size of the document's (first) page.
    #[default]
    Same,
    /// ISO A3, 297 × 420 mm.
    A3,
    /// ISO A4, 210 × 297 mm.
    A4,
    /// ISO A5, 148 × 210 mm.
    A5,
    /// US Letter, 8.5 × 11 in.
    Letter,
    /// US Legal, 8.5 × 14 in.
    Legal,
    /// US Tabloid, 11 × 17 in.
    Tabloid,
}

impl Paper {
    /// Width and height of the portrait sheet in points; `None` for [`Paper::Same`].
    pub fn points(self) -> Option<(f64, f64)> {
        Some(match self {
            Self::Same => return None,
            Self::A3 => (841.89, 1190.55),
            Self::A4 => scanpro_pdf::impose::A4,
            Self::A5 => (419.53, 595.28),
            Self::Letter => scanpro_pdf::impose::LETTER,
            Self::Legal => (612.0, 1008.0),
            Self::Tabloid => (792.0, 1224.0),
        })
    }

    pub fn sheet(self) -> scanpro_pdf::impose::SheetSize {
        self.points()
            .map_or(scanpro_pdf::impose::SheetSize::Source, |(w, h)| scanpro_pdf::impose::SheetSize::Paper(w, h))
    }
}
