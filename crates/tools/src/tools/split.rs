//! `split`: one PDF per range, per N pages, per page, or per size limit, of each input.

use super::{About, NativeTool, PDF, Tool, ToolParams, pdf_output};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, page_selection};
use scanpro_pdf::streaming;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<SplitParams>(About {
    name: "split",
    title: "Split a PDF",
    summary: "Cut a PDF into several: one file per page range (\"1-3,5,8-\"), per N pages, per page, per chapter (bookmark), or into files of at most a given size.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

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
    /// One output per bookmark of `level` (a chapter): from its page to the page before the
    /// next bookmark of that level or above; pages before the first go in a file of their own.
    Bookmarks,
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
    /// The bookmark level that starts a file for `mode = bookmarks`: 1 (the default) for the
    /// top level, 2 for the bookmarks inside those, …
    #[serde(default)]
    #[schemars(range(min = 1, max = 64))]
    pub level: Option<u32>,
}

impl Validate for SplitParams {
    fn validate(&self) -> Result<(), ToolError> {
        if self.max_size_mb.is_some() && self.mode != SplitMode::Size {
            return Err(ToolError::invalid_param("max_size_mb", "only applies with mode \"size\""));
        }
        if self.level.is_some() && self.mode != SplitMode::Bookmarks {
            return Err(ToolError::invalid_param("level", "only applies with mode \"bookmarks\""));
        }
        match self.mode {
            SplitMode::Bookmarks => match self.level {
                Some(level) if !(1..=64).contains(&level) => {
                    Err(ToolError::invalid_param("level", format!("must be between 1 and 64, got {level}")))
                }
                _ => Ok(()),
            },
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

impl ToolParams for SplitParams {}

impl NativeTool for SplitParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        if let (SplitMode::Size, Some(max_size_mb)) = (params.mode, params.max_size_mb) {
            return split_by_size(max_size_mb, inputs, out_dir);
        }
        if params.mode == SplitMode::Bookmarks {
            return split_by_bookmarks(params.level.unwrap_or(1), inputs, out_dir);
        }
        let mut stems = UniqueNames::default();
        let mut outputs = Vec::new();
        let mut streamed = false;
        for input in inputs {
            // Unique stems keep the parts of two inputs with the same name apart.
            let stem = stems.claim(&safe_stem(&input.filename), "");
            let parts = if streaming::is_large(std::slice::from_ref(&input.path)) {
                streamed = true;
                split_streaming(&input.path, &params, out_dir, &stem)?
            } else {
                scanpro_pdf::split_with(&input.path, |count| groups(&params, count), out_dir, &stem)?
            };
            outputs.extend(parts.into_iter().map(pdf_output));
        }
        Ok(StepResult { outputs, report: Some(serde_json::json!({"streaming": streamed})) })
    }
}

/// The same cut through qpdf, one run per part, for inputs too large to hold parsed.
fn split_streaming(
    input: &Path,
    params: &SplitParams,
    out_dir: &Path,
    stem: &str,
) -> Result<Vec<std::path::PathBuf>, ToolError> {
    let count = streaming::page_count(input)?;
    let groups = groups(params, count)?;
    let names = scanpro_pdf::split_file_names(stem, &groups, count);
    let mut parts = Vec::with_capacity(groups.len());
    for (group, name) in groups.iter().zip(names) {
        let out = out_dir.join(name);
        streaming::select(input, group, &out)?;
        parts.push(out);
    }
    Ok(parts)
}

/// Packs each input's pages into files of at most `max_size_mb`; the report lists every part
/// with its pages and size, and says which pages are over the limit on their own.
fn split_by_size(max_size_mb: f64, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    #[expect(clippy::cast_possible_truncation, reason = "whole bytes, at least 1; a limit past u64::MAX saturates")]
    let max_bytes = (max_size_mb * 1024.0 * 1024.0).round().max(1.0) as u64;
    let mut stems = UniqueNames::default();
    let mut outputs = Vec::new();
    let mut parts = Vec::new();
    let mut notes = Vec::new();
    for input in inputs {
        let stem = stems.claim(&safe_stem(&input.filename), "");
        let report = scanpro_pdf::split_by_size(&input.path, max_bytes, out_dir, &stem)?;
        for part in report.parts {
            if part.over_limit {
                notes.push(format!(
                    "{}: page {} alone is {:.2} MB, over the {max_size_mb} MB limit; it has a file of its own",
                    input.filename,
                    part.first_page,
                    part.bytes as f64 / (1024.0 * 1024.0)
                ));
            }
            outputs.push(pdf_output(out_dir.join(&part.file)));
            let mut entry = serde_json::to_value(&part).map_err(|e| ToolError::internal(format!("split: {e}")))?;
            entry["input"] = json!(input.filename);
            parts.push(entry);
        }
    }
    let report = json!({ "max_size_mb": max_size_mb, "max_bytes": max_bytes, "parts": parts, "notes": notes });
    Ok(StepResult { outputs, report: Some(report) })
}

/// One file per chapter (a bookmark of `level`); the report names each part's bookmark.
fn split_by_bookmarks(level: u32, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let mut stems = UniqueNames::default();
    let mut outputs = Vec::new();
    let mut parts = Vec::new();
    for input in inputs {
        let stem = stems.claim(&safe_stem(&input.filename), "");
        let outline = scanpro_pdf::outline::bookmarks(&input.path)?;
        let chapters = chapters(&outline.bookmarks, level, outline.pages);
        if chapters.len() < 2 && chapters.first().is_none_or(|(title, _)| title.is_none()) {
            return Err(ToolError::invalid_param(
                "level",
                format!("{}: no bookmark of level {level} opens a page to split at", input.filename),
            ));
        }
        let groups: Vec<Vec<u32>> = chapters.iter().map(|(_, pages)| pages.clone()).collect();
        let files = scanpro_pdf::split(&input.path, groups, out_dir, &stem)?;
        for (file, (title, pages)) in files.into_iter().zip(chapters) {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            parts.push(json!({"file": name, "input": input.filename, "bookmark": title, "first_page": pages[0], "pages": pages.len()}));
            outputs.push(pdf_output(file));
        }
    }
    Ok(StepResult { outputs, report: Some(json!({ "parts": parts })) })
}

/// The chapters that bookmarks of `level` (or above) start, each with its title and pages;
/// pages before the first chapter make an untitled one.
fn chapters(
    bookmarks: &[scanpro_pdf::outline::Bookmark],
    level: u32,
    page_count: u32,
) -> Vec<(Option<String>, Vec<u32>)> {
    let mut starts: Vec<(Option<String>, u32)> = Vec::new();
    for bookmark in bookmarks.iter().filter(|b| b.level <= level) {
        let Some(page) = bookmark.page else { continue };
        match starts.last_mut() {
            // Bookmarks on one page start one chapter, named after the first.
            Some((_, last)) if *last == page => {}
            Some((_, last)) if *last > page => {} // out of order: stays in the chapter before
            _ => starts.push((Some(bookmark.title.clone()), page)),
        }
    }
    if starts.first().is_none_or(|(_, first)| *first > 1) {
        starts.insert(0, (None, 1));
    }
    let ends = starts.iter().skip(1).map(|(_, page)| page - 1).chain([page_count]);
    starts.iter().zip(ends).map(|((title, first), last)| (title.clone(), (*first..=last).collect())).collect()
}

/// The page groups of a `page_count`-page document, one per output file.
fn groups(params: &SplitParams, page_count: u32) -> Result<Vec<Vec<u32>>, ToolError> {
    match params.mode {
        SplitMode::Ranges => page_selection("ranges", params.ranges.as_deref())?
            .resolve_groups(page_count)
            .map_err(|e| ToolError::invalid_param("ranges", e)),
        SplitMode::Every => {
            let every = params.every.unwrap_or(1).max(1) as usize;
            let pages: Vec<u32> = (1..=page_count).collect();
            Ok(pages.chunks(every).map(<[u32]>::to_vec).collect())
        }
        SplitMode::Each => Ok((1..=page_count).map(|page| vec![page]).collect()),
        SplitMode::Size => Err(ToolError::invalid_param("max_size_mb", "required when mode is \"size\"")),
        SplitMode::Bookmarks => Err(ToolError::invalid_param("mode", "bookmarks are read from the document")),
    }
}
