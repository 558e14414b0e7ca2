//! `reorder`: the same pages in a new order.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, page_selection};
use schemars::JsonSchema;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<ReorderParams>(About {
    name: "reorder",
    title: "Reorder pages",
    summary: "Put the pages in a new order, naming every page once (\"3,1,2\" or [3, 1, 2]); bookmarks follow their pages.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorderParams {
    /// The new page order, naming every page exactly once: `"3,1,2"` (any page selection,
    /// e.g. `"2-last,1"` or `"odd,even"`) or an array of 1-based page numbers (`[3, 1, 2]`).
    pub order: PageOrder,
}

/// A page order: a page-selection string or an array of 1-based page numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum PageOrder {
    /// A page selection read term by term, e.g. `"3,1-2"`.
    Text(String),
    /// 1-based page numbers, e.g. `[3, 1, 2]`.
    Pages(Vec<u32>),
}

impl Validate for ReorderParams {
    fn validate(&self) -> Result<(), ToolError> {
        match &self.order {
            PageOrder::Text(text) => page_selection("order", Some(text)).map(drop),
            PageOrder::Pages(pages) if pages.is_empty() => Err(ToolError::invalid_param("order", "names no pages")),
            PageOrder::Pages(pages) => match pages.iter().find(|&&page| page == 0) {
                Some(_) => Err(ToolError::invalid_param("order", "pages are numbered from 1")),
                None => Ok(()),
            },
        }
    }
}

impl ReorderParams {
    /// The source pages in their new order: a permutation of `1..=page_count`.
    pub fn resolve_order(&self, page_count: u32) -> Result<Vec<u32>, ToolError> {
        let order = match &self.order {
            PageOrder::Text(text) => page_selection("order", Some(text))?
                .resolve_groups(page_count)
                .map_err(|e| ToolError::invalid_param("order", e))?
                .concat(),
            PageOrder::Pages(pages) => pages.clone(),
        };
        check_permutation(&order, page_count)?;
        Ok(order)
    }
}

/// Every page of `1..=page_count` exactly once; the error names the first page out of range,
/// repeated, or missing.
fn check_permutation(order: &[u32], page_count: u32) -> Result<(), ToolError> {
    let mut seen = vec![false; page_count as usize + 1];
    for &page in order {
        if page == 0 || page > page_count {
            return Err(ToolError::invalid_param(
                "order",
                format!("page {page} does not exist (the document has {page_count} pages)"),
            ));
        }
        if std::mem::replace(&mut seen[page as usize], true) {
            return Err(ToolError::invalid_param("order", format!("page {page} appears more than once")));
        }
    }
    match (1..=page_count).find(|&page| !seen[page as usize]) {
        Some(missing) => Err(ToolError::invalid_param(
            "order",
            format!("page {missing} is missing: the order must name each of the {page_count} pages exactly once"),
        )),
        None => Ok(()),
    }
}

/// By hand rather than `untagged`, so a wrong element says what is wrong with it.
impl<'de> Deserialize<'de> for PageOrder {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderVisitor;

        impl<'de> Visitor<'de> for OrderVisitor {
            type Value = PageOrder;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a page order: a string like \"3,1,2\" or an array of page numbers")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<PageOrder, E> {
                Ok(PageOrder::Text(text.to_owned()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PageOrder, A::Error> {
                let mut pages = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(100_000));
                while let Some(page) = seq.next_element::<u32>()? {
                    pages.push(page);
                }
                Ok(PageOrder::Pages(pages))
            }
        }

        deserializer.deserialize_any(OrderVisitor)
    }
}

impl ToolParams for ReorderParams {}

impl NativeTool for ReorderParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        each_input(inputs, out_dir, "_reordered", |input, out| {
            scanpro_pdf::select_pages(&input.path, |count| params.resolve_order(count), out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reorder(order: serde_json::Value) -> ReorderParams {
        let params: ReorderParams = serde_json::from_value(serde_json::json!({ "order": order })).unwrap();
        params.validate().unwrap();
        params
    }

    #[test]
    fn reorder_accepts_text_and_arrays() {
        assert_eq!(reorder("3,1,2".into()).resolve_order(3).unwrap(), [3, 1, 2]);
        assert_eq!(reorder("2-last,1".into()).resolve_order(4).unwrap(), [2, 3, 4, 1]);
        assert_eq!(reorder("even,odd".into()).resolve_order(4).unwrap(), [2, 4, 1, 3]);
        assert_eq!(reorder(serde_json::json!([2, 1])).resolve_order(2).unwrap(), [2, 1]);
    }

    #[test]
    fn reorder_names_the_missing_or_repeated_page() {
        let err = reorder("3,1".into()).resolve_order(3).unwrap_err();
        assert_eq!(err.message, "order: page 2 is missing: the order must name each of the 3 pages exactly once");
        let err = reorder(serde_json::json!([1, 2, 2])).resolve_order(3).unwrap_err();
        assert_eq!(err.message, "order: page 2 appears more than once");
        let err = reorder(serde_json::json!([1, 4])).resolve_order(3).unwrap_err();
        assert_eq!(err.message, "order: page 4 does not exist (the document has 3 pages)");
        let err = reorder("1-3,2".into()).resolve_order(3).unwrap_err();
        assert!(err.message.contains("page 2 appears more than once"), "{err}");
    }

    #[test]
    fn reorder_refuses_what_is_not_an_order() {
        let parse = |v: serde_json::Value| serde_json::from_value::<ReorderParams>(serde_json::json!({ "order": v }));
        assert!(parse(serde_json::json!(3)).unwrap_err().to_string().contains("a page order"));
        assert!(parse(serde_json::json!([1, "2"])).unwrap_err().to_string().contains("expected u32"));
        let zero: ReorderParams = parse(serde_json::json!([0, 1])).unwrap();
        assert_eq!(zero.validate().unwrap_err().message, "order: pages are numbered from 1");
        let bad: ReorderParams = parse(serde_json::json!("1,x")).unwrap();
        assert!(bad.validate().unwrap_err().message.starts_with("order: \"x\""));
    }
}
