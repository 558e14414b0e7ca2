//! `screenshot`: an image of a web page (its own files, or an address where remote fetches are
//! allowed) as PNG, JPEG or WebP.

use super::url_to_pdf::parse_address;
use super::web::{LoadFields, Site, tool_error, web_params};
use super::{About, EngineTool, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use crate::names::safe_stem;
use crate::step::{Output, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_engines::chromium::{Capture, ImageFormat, ScreenshotOptions, Source};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) const TOOL: Tool = Tool::engine::<ScreenshotParams>(
    Engine::Chromium,
    About {
        name: "screenshot",
        title: "Web page to image",
        summary: "An image of a web page, laid out by Chromium: its HTML file with its assets, a zip of a saved page, or (where allowed) an address.",
        group: "convert_from_pdf",
        inputs: InputRule { min: 0, max: None, formats: &[] },
    },
);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShotFormat {
    #[default]
    Png,
    Jpeg,
    Webp,
}

web_params! {
    /// `screenshot`.
    pub struct ScreenshotParams {
        /// An `http(s)` address to open instead of the inputs (where remote fetches are allowed).
        #[serde(default)]
        pub url: Option<String>,
        /// Viewport width in CSS pixels (1–10 000).
        #[serde(default = "default_width")]
        pub width: u32,
        /// Viewport height in CSS pixels (1–10 000).
        #[serde(default = "default_height")]
        pub height: u32,
        /// Only the viewport; otherwise the whole page, up to 16 384 pixels tall.
        #[serde(default)]
        pub clip: bool,
        /// Only the first element this CSS selector matches.
        #[serde(default)]
        pub selector: Option<String>,
        #[serde(default)]
        pub format: ShotFormat,
        /// JPEG and WebP quality, 0–100.
        #[serde(default)]
        pub quality: Option<u8>,
        /// Leave the page's default white background transparent (PNG and WebP).
        #[serde(default)]
        pub omit_background: bool,
        /// Encode faster, larger.
        #[serde(default)]
        pub optimize_for_speed: bool,
        /// Replace each `{{ toHTML "notes.md" }}` in the page with that Markdown input as HTML.
        #[serde(default)]
        pub expand_markdown: bool,
        /// Device pixels per CSS pixel, 0.1–4.
        #[serde(default = "one")]
        pub device_scale_factor: f64,
    }
}

fn default_width() -> u32 {
    800
}

fn default_height() -> u32 {
    600
}

fn one() -> f64 {
    1.0
}

impl ScreenshotParams {
    fn options(&self) -> Result<ScreenshotOptions, ToolError> {
        for (field, size) in [("width", self.width), ("height", self.height)] {
            if !(1..=10_000).contains(&size) {
                return Err(ToolError::invalid_param(field, "from 1 to 10000 pixels"));
            }
        }
        if !(0.1..=4.0).contains(&self.device_scale_factor) {
            return Err(ToolError::invalid_param("device_scale_factor", "from 0.1 to 4"));
        }
        let format = match self.format {
            ShotFormat::Png => ImageFormat::Png,
            ShotFormat::Jpeg => ImageFormat::Jpeg,
            ShotFormat::Webp => ImageFormat::Webp,
        };
        if let Some(quality) = self.quality {
            if quality > 100 {
                return Err(ToolError::invalid_param("quality", "from 0 to 100"));
            }
            if format == ImageFormat::Png {
                return Err(ToolError::invalid_param("quality", "applies to JPEG and WebP only"));
            }
        }
        Ok(ScreenshotOptions {
            width: self.width,
            height: self.height,
            clip: self.clip,
            selector: self.selector.clone().filter(|s| !s.trim().is_empty()),
            format,
            quality: self.quality,
            omit_background: self.omit_background,
            optimize_for_speed: self.optimize_for_speed,
            device_scale_factor: self.device_scale_factor,
        })
    }
}

impl Validate for ScreenshotParams {
    fn validate(&self) -> Result<(), ToolError> {
        if let Some(url) = &self.url {
            parse_address(url)?;
        }
        self.load().options(false)?;
        self.options().map(drop)
    }
}

impl ToolParams for ScreenshotParams {}

impl EngineTool for ScreenshotParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let shot = self.options()?;
            let load = self.load().options(false)?;
            let (source, stem, _site) = match (&self.url, step.inputs) {
                (Some(url), []) => (Source::Url(parse_address(url)?), "page".to_owned(), None),
                (Some(_), _) => {
                    return Err(ToolError::invalid_param("url", "give an address or input files, not both"));
                }
                (None, []) => {
                    return Err(ToolError::invalid_param("inputs", "give an HTML file (with its assets), or a url"));
                }
                (None, inputs) => {
                    let mut site = Site::of(inputs, step.out_dir)?;
                    if self.expand_markdown {
                        site.expand_markdown()?;
                    }
                    let stem = safe_stem(&site.main);
                    (site.source(), stem, Some(site))
                }
            };
            let pool = step.engines.chromium()?;
            let extension = shot.format.extension();
            let filename = format!("{stem}.{extension}");
            let path = step.out_dir.join(&filename);
            let content_type = format!("image/{}", shot.format.as_str());
            pool.render(&source, &load, &Capture::Screenshot(shot), &path, None).await.map_err(tool_error)?;
            Ok(StepResult { outputs: vec![Output { path, filename, content_type }], report: None })
        })
    }
}
