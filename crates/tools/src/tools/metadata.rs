//! `metadata`: write title, author, subject, keywords, creator and dates; report the result.

use super::page_outputs::each_input;
use super::{PDF, Runner, Tool};
use crate::catalogue::InputRule;
use crate::params::{check, parse, schema};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::MetadataParams;
use scanpro_pdf::MetadataUpdate;
use serde_json::Value;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "metadata",
    title: "Edit metadata",
    summary: "Set the title, author, subject, keywords, creator and dates (an empty value removes one; absent ones are kept); the report shows the resulting metadata.",
    group: "edit",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<MetadataParams>,
    check: check::<MetadataParams>,
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: MetadataParams = parse(params)?;
    let (creation_date, mod_date) = params.pdf_dates()?;
    let update = MetadataUpdate {
        title: params.title,
        author: params.author,
        subject: params.subject,
        keywords: params.keywords,
        creator: params.creator,
        creation_date,
        mod_date,
    };
    each_input(inputs, out_dir, "_metadata", |input, out| scanpro_pdf::write_metadata(&input.path, &update, out))
}
