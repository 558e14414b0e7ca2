//! `office_to_pdf`: office documents (and text, HTML) to PDF or PDF/A, each input on its own.

use super::office::{OFFICE_DOCUMENTS, convert_each, pdfa_level};
use super::{About, EngineTool, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use scanpro_core::ToolError;
use scanpro_core::params::{
    PdfaLevel, Validate, advanced, check_mark_text, check_range, page_selection, page_selection_field, parse_color,
};
use scanpro_engines::office::{ConvertOptions, ConvertRequest, FilterValue, TargetFormat};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) const TOOL: Tool = Tool::engine::<OfficeToPdfParams>(
    Engine::Libreoffice,
    About {
        name: "office_to_pdf",
        title: "Office to PDF",
        summary: "Word, Excel, PowerPoint, OpenDocument, RTF, text and HTML documents to PDF or PDF/A; each input becomes one PDF.",
        group: "convert_to_pdf",
        inputs: InputRule { min: 1, max: None, formats: OFFICE_DOCUMENTS },
    },
);

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeToPdfParams {
    /// Pages of the laid-out document to keep, in ascending order, e.g. `1-3,5`. Absent: all.
    #[serde(default)]
    #[schemars(transform = page_selection_field)]
    pub pages: Option<String>,
    /// Write PDF/A at this level instead of plain PDF.
    #[serde(default)]
    pub pdfa: Option<PdfaLevel>,
    /// Headings (text documents) or slide titles (presentations) become PDF bookmarks. Default on.
    #[serde(default)]
    // The schema says so too, so forms show the box ticked.
    #[schemars(extend("default" = true))]
    pub export_bookmarks: Option<bool>,
    /// Comments in the document become PDF comments.
    #[serde(default)]
    pub export_notes: bool,
    /// An accessible PDF/UA-1 document: tagged, with its title and language.
    #[serde(default)]
    pub pdfua: bool,
    /// Spreadsheets: each sheet on one page sized to fit it, so the PDF has one page per sheet.
    #[serde(default)]
    pub single_page_sheets: bool,
    /// Text documents and spreadsheets: portrait page styles are turned to landscape.
    #[serde(default)]
    pub landscape: bool,
    /// The password that opens an encrypted document.
    #[serde(default)]
    pub password: Option<String>,
    /// Text documents: tables of contents and other indexes are brought up to date, page
    /// numbers included, before the export.
    #[serde(default = "yes")]
    #[schemars(transform = advanced)]
    pub update_indexes: bool,
    // LibreOffice's own PDF export settings from here on. Each default is LibreOffice's, and
    // only a setting changed from it reaches the export.
    /// Form fields of the document become fillable PDF form fields.
    #[serde(default = "yes")]
    #[schemars(transform = advanced)]
    pub export_form_fields: bool,
    /// Several form fields may share one name.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub allow_duplicate_field_names: bool,
    /// Bookmarks become named destinations, which links from other PDFs can target.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub bookmarks_as_destinations: bool,
    /// Text documents: placeholder fields are shown in the PDF.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub export_placeholders: bool,
    /// Presentations: the notes pages follow the slides.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub export_notes_pages: bool,
    /// Presentations: only the notes pages, no slides.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub export_only_notes_pages: bool,
    /// Text documents: comments are printed in the page margin.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub notes_in_margin: bool,
    /// Links to OpenDocument files (`.odt`, `.ods`, …) point at the `.pdf` of the same name.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub links_to_pdf: bool,
    /// Links to files are written relative to the document.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub relative_file_links: bool,
    /// Presentations: hidden slides are exported too.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub export_hidden_slides: bool,
    /// Text documents: the blank pages inserted only to start a chapter on the right are left out.
    #[serde(default = "yes")]
    #[schemars(transform = advanced)]
    pub skip_empty_pages: bool,
    /// The original document travels inside the PDF, so LibreOffice can open it for editing.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub embed_original_document: bool,
    /// Images are compressed losslessly instead of as JPEG.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub lossless_images: bool,
    /// JPEG quality of the images, 1 to 100.
    #[serde(default = "image_quality")]
    #[schemars(transform = advanced, range(min = 1, max = 100))]
    pub image_quality: u8,
    /// Images above this resolution are scaled down to it: 75, 150, 300, 600 or 1200 dpi. Absent: kept.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub max_image_resolution: Option<u32>,
    /// What a viewer shows beside the pages when it opens the PDF.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub initial_view: InitialView,
    /// The page a viewer opens at.
    #[serde(default = "first_page")]
    #[schemars(transform = advanced, range(min = 1))]
    pub initial_page: u32,
    /// How a viewer sizes the page when it opens the PDF.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub magnification: Magnification,
    /// The zoom in percent, with `magnification` `zoom`.
    #[serde(default = "full_size")]
    #[schemars(transform = advanced, range(min = 1, max = 6400))]
    pub zoom: u32,
    /// How a viewer lays the pages out.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub page_layout: PageLayout,
    /// With `page_layout` `two_columns`: the first page on the left.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub first_page_on_left: bool,
    /// A viewer sizes its window to the first page shown.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub resize_window_to_initial_page: bool,
    /// A viewer centres its window on the screen.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub center_window: bool,
    /// A viewer opens the PDF full screen.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub full_screen: bool,
    /// A viewer's title bar shows the document's title rather than its file name.
    #[serde(default = "yes")]
    #[schemars(transform = advanced)]
    pub display_document_title: bool,
    /// A viewer hides its menu bar.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub hide_viewer_menubar: bool,
    /// A viewer hides its toolbar.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub hide_viewer_toolbar: bool,
    /// A viewer hides its window controls.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub hide_viewer_window_controls: bool,
    /// Presentations: slide transitions play in a viewer's full-screen mode.
    #[serde(default = "yes")]
    #[schemars(transform = advanced)]
    pub transition_effects: bool,
    /// Bookmark levels shown open, 1 to 10. Absent: all.
    #[serde(default)]
    #[schemars(transform = advanced, range(min = 1, max = 10))]
    pub open_bookmark_levels: Option<u8>,
    /// A text drawn once across the middle of every page, in light green unless `watermark_color` says otherwise.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub watermark_text: Option<String>,
    /// A text repeated across every page.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub tiled_watermark_text: Option<String>,
    /// The watermark's colour, `#RRGGBB`.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub watermark_color: Option<String>,
    /// The watermark's font size in points. Absent: as large as the page allows.
    #[serde(default)]
    #[schemars(transform = advanced, range(min = 1, max = 1000))]
    pub watermark_font_size: Option<u32>,
    /// The watermark's angle in degrees, counter-clockwise. Absent: along the page's longer side.
    #[serde(default)]
    #[schemars(transform = advanced, range(min = -360.0, max = 360.0))]
    pub watermark_angle: Option<f32>,
    /// The watermark's font. Absent: Helvetica.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub watermark_font: Option<String>,
}

fn yes() -> bool {
    true
}

/// A checked count as LibreOffice's `long`.
fn long(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn image_quality() -> u8 {
    90
}

fn first_page() -> u32 {
    1
}

fn full_size() -> u32 {
    100
}

impl Default for OfficeToPdfParams {
    fn default() -> Self {
        serde_json::from_value(serde_json::json!({})).expect("every setting has a default")
    }
}

/// What a viewer shows beside the pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InitialView {
    /// The viewer's own choice.
    #[default]
    Default,
    /// The bookmarks.
    Bookmarks,
    /// Page thumbnails.
    Thumbnails,
}

/// How a viewer sizes the page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Magnification {
    /// The viewer's own choice.
    #[default]
    Default,
    /// The whole page in the window.
    WholePage,
    /// The page's width fills the window.
    PageWidth,
    /// The width of the page's content fills the window.
    VisibleWidth,
    /// The `zoom` percentage.
    Zoom,
}

/// How a viewer lays the pages out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageLayout {
    /// The viewer's own choice.
    #[default]
    Default,
    /// One page at a time.
    SinglePage,
    /// Pages in one continuous column.
    OneColumn,
    /// Pages side by side in two continuous columns.
    TwoColumns,
}

impl OfficeToPdfParams {
    fn check_export(&self) -> Result<(), ToolError> {
        if !(1..=100).contains(&self.image_quality) {
            return Err(ToolError::invalid_param(
                "image_quality",
                format!("{} is not between 1 and 100", self.image_quality),
            ));
        }
        if let Some(dpi) = self.max_image_resolution.filter(|dpi| ![75, 150, 300, 600, 1200].contains(dpi)) {
            return Err(ToolError::invalid_param(
                "max_image_resolution",
                format!("{dpi} is not one of 75, 150, 300, 600 and 1200"),
            ));
        }
        if self.initial_page == 0 {
            return Err(ToolError::invalid_param("initial_page", "pages count from 1"));
        }
        if !(1..=6400).contains(&self.zoom) {
            return Err(ToolError::invalid_param("zoom", format!("{} is not between 1 and 6400 percent", self.zoom)));
        }
        if let Some(levels) = self.open_bookmark_levels.filter(|levels| !(1..=10).contains(levels)) {
            return Err(ToolError::invalid_param("open_bookmark_levels", format!("{levels} is not between 1 and 10")));
        }
        for (field, text) in
            [("watermark_text", &self.watermark_text), ("tiled_watermark_text", &self.tiled_watermark_text)]
        {
            if let Some(text) = text {
                check_mark_text(field, text)?;
            }
        }
        if let Some(color) = &self.watermark_color {
            parse_color("watermark_color", color)?;
        }
        if let Some(size) = self.watermark_font_size.filter(|size| !(1..=1000).contains(size)) {
            return Err(ToolError::invalid_param(
                "watermark_font_size",
                format!("{size} is not between 1 and 1000 points"),
            ));
        }
        if let Some(angle) = self.watermark_angle {
            check_range("watermark_angle", angle, -360.0, 360.0)?;
        }
        if let Some(font) = &self.watermark_font
            && (font.is_empty() || font.len() > 64 || font.chars().any(char::is_control))
        {
            return Err(ToolError::invalid_param("watermark_font", "a font family name of 1 to 64 characters"));
        }
        Ok(())
    }

    /// The settings that differ from LibreOffice's defaults, under its `FilterData` names.
    fn filter_data(&self) -> Vec<(&'static str, FilterValue)> {
        let defaults = Self::default();
        let mut data = Vec::new();
        let flags = [
            ("ExportFormFields", self.export_form_fields, defaults.export_form_fields),
            ("AllowDuplicateFieldNames", self.allow_duplicate_field_names, defaults.allow_duplicate_field_names),
            ("ExportBookmarksToPDFDestination", self.bookmarks_as_destinations, defaults.bookmarks_as_destinations),
            ("ExportPlaceholders", self.export_placeholders, defaults.export_placeholders),
            ("ExportNotesPages", self.export_notes_pages, defaults.export_notes_pages),
            ("ExportOnlyNotesPages", self.export_only_notes_pages, defaults.export_only_notes_pages),
            ("ExportNotesInMargin", self.notes_in_margin, defaults.notes_in_margin),
            ("ConvertOOoTargetToPDFTarget", self.links_to_pdf, defaults.links_to_pdf),
            ("ExportLinksRelativeFsys", self.relative_file_links, defaults.relative_file_links),
            ("ExportHiddenSlides", self.export_hidden_slides, defaults.export_hidden_slides),
            ("IsSkipEmptyPages", self.skip_empty_pages, defaults.skip_empty_pages),
            ("IsAddStream", self.embed_original_document, defaults.embed_original_document),
            ("UseLosslessCompression", self.lossless_images, defaults.lossless_images),
            ("FirstPageOnLeft", self.first_page_on_left, defaults.first_page_on_left),
            ("ResizeWindowToInitialPage", self.resize_window_to_initial_page, defaults.resize_window_to_initial_page),
            ("CenterWindow", self.center_window, defaults.center_window),
            ("OpenInFullScreenMode", self.full_screen, defaults.full_screen),
            ("DisplayPDFDocumentTitle", self.display_document_title, defaults.display_document_title),
            ("HideViewerMenubar", self.hide_viewer_menubar, defaults.hide_viewer_menubar),
            ("HideViewerToolbar", self.hide_viewer_toolbar, defaults.hide_viewer_toolbar),
            ("HideViewerWindowControls", self.hide_viewer_window_controls, defaults.hide_viewer_window_controls),
            ("UseTransitionEffects", self.transition_effects, defaults.transition_effects),
        ];
        data.extend(
            flags
                .into_iter()
                .filter(|(_, value, default)| value != default)
                .map(|(name, value, _)| (name, FilterValue::Bool(value))),
        );
        let numbers = [
            ("Quality", i32::from(self.image_quality), i32::from(defaults.image_quality)),
            ("InitialView", self.initial_view as i32, defaults.initial_view as i32),
            ("InitialPage", long(self.initial_page), long(defaults.initial_page)),
            ("Magnification", self.magnification as i32, defaults.magnification as i32),
            ("Zoom", long(self.zoom), long(defaults.zoom)),
            ("PageLayout", self.page_layout as i32, defaults.page_layout as i32),
            ("OpenBookmarkLevels", self.open_bookmark_levels.map_or(-1, i32::from), -1),
        ];
        data.extend(
            numbers
                .into_iter()
                .filter(|(_, value, default)| value != default)
                .map(|(name, value, _)| (name, FilterValue::Int(value))),
        );
        if let Some(dpi) = self.max_image_resolution {
            data.push(("ReduceImageResolution", FilterValue::Bool(true)));
            data.push(("MaxImageResolution", FilterValue::Int(long(dpi))));
        }
        let texts = [
            ("Watermark", &self.watermark_text),
            ("TiledWatermark", &self.tiled_watermark_text),
            ("WatermarkFontName", &self.watermark_font),
        ];
        data.extend(texts.into_iter().filter_map(|(name, text)| Some((name, FilterValue::Text(text.clone()?)))));
        if let Some(Ok([r, g, b])) = self.watermark_color.as_deref().map(|c| parse_color("watermark_color", c)) {
            data.push(("WatermarkColor", FilterValue::Int(i32::from_be_bytes([0, r, g, b]))));
        }
        if let Some(size) = self.watermark_font_size {
            data.push(("WatermarkFontHeight", FilterValue::Int(long(size))));
        }
        if let Some(angle) = self.watermark_angle {
            // LibreOffice reads tenths of a degree; the angle is checked to lie within ±360.
            #[allow(clippy::cast_possible_truncation, reason = "at most ±3600 after the check")]
            let tenths = (angle * 10.0).round() as i32;
            data.push(("WatermarkRotateAngle", FilterValue::Int(tenths)));
        }
        data
    }
}

impl Validate for OfficeToPdfParams {
    fn validate(&self) -> Result<(), ToolError> {
        page_selection("pages", self.pages.as_deref())?;
        if self.password.as_deref().is_some_and(str::is_empty) {
            return Err(ToolError::invalid_param("password", "empty; leave it out for a document without one"));
        }
        self.check_export()
    }
}

impl ToolParams for OfficeToPdfParams {}

impl EngineTool for OfficeToPdfParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let params = self;
            let options = ConvertOptions {
                pages: params.pages.as_deref().map(|pages| page_selection("pages", Some(pages))).transpose()?,
                pdfa: params.pdfa.map(pdfa_level),
                export_bookmarks: params.export_bookmarks,
                export_notes: params.export_notes,
                pdfua: params.pdfua,
                single_page_sheets: params.single_page_sheets,
                landscape: params.landscape,
                pdf_export: params.filter_data(),
                password: params.password.clone(),
                update_indexes: params.update_indexes,
            };
            convert_each(&step, step.inputs, &ConvertRequest { to: TargetFormat::Pdf, options }).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(json: serde_json::Value) -> OfficeToPdfParams {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn only_settings_changed_from_libreoffice_defaults_reach_the_export() {
        assert!(params(serde_json::json!({})).filter_data().is_empty());
        let data = params(serde_json::json!({
            "skip_empty_pages": false,
            "image_quality": 70,
            "max_image_resolution": 150,
            "watermark_text": "DRAFT",
            "watermark_color": "#ff0000",
            "watermark_angle": 45,
            "page_layout": "two_columns",
            "open_bookmark_levels": 2,
        }))
        .filter_data();
        for expected in [
            ("IsSkipEmptyPages", FilterValue::Bool(false)),
            ("Quality", FilterValue::Int(70)),
            ("ReduceImageResolution", FilterValue::Bool(true)),
            ("MaxImageResolution", FilterValue::Int(150)),
            ("Watermark", FilterValue::Text("DRAFT".into())),
            ("WatermarkColor", FilterValue::Int(0xFF0000)),
            ("WatermarkRotateAngle", FilterValue::Int(450)),
            ("PageLayout", FilterValue::Int(3)),
            ("OpenBookmarkLevels", FilterValue::Int(2)),
        ] {
            assert!(data.contains(&expected), "{expected:?} missing from {data:?}");
        }
        assert_eq!(data.len(), 9, "{data:?}");
    }

    #[test]
    fn absurd_export_settings_are_refused_by_name() {
        for (json, field) in [
            (serde_json::json!({"image_quality": 0}), "image_quality"),
            (serde_json::json!({"max_image_resolution": 100}), "max_image_resolution"),
            (serde_json::json!({"zoom": 0}), "zoom"),
            (serde_json::json!({"initial_page": 0}), "initial_page"),
            (serde_json::json!({"open_bookmark_levels": 11}), "open_bookmark_levels"),
            (serde_json::json!({"watermark_color": "red"}), "watermark_color"),
            (serde_json::json!({"watermark_angle": 720}), "watermark_angle"),
            (serde_json::json!({"password": ""}), "password"),
        ] {
            let error = params(json.clone()).validate().unwrap_err();
            assert!(error.message.starts_with(field), "{json}: {}", error.message);
        }
        assert!(serde_json::from_value::<OfficeToPdfParams>(serde_json::json!({"nonsense": 1})).is_err());
    }
}
