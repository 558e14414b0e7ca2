//! `remove_pages`, `extract_pages`, `reorder`: which source pages an output holds, and in which
//! order. Each resolves against the document's page count once it is known.

use super::{Validate, page_selection};
use crate::error::ToolError;
use crate::pages::PageSelection;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemovePagesParams {
    /// Pages to remove (e.g. `2,5-7,last`). At least one page must remain.
    pub pages: String,
}

impl Validate for RemovePagesParams {
    fn validate(&self) -> Result<(), ToolError> {
        page_selection("pages", Some(&self.pages)).map(drop)
    }
}

impl RemovePagesParams {
    /// The pages that stay, 1-based, in document order.
    pub fn kept_pages(&self, page_count: u32) -> Result<Vec<u32>, ToolError> {
        let removed = resolve("pages", &self.pages, page_count)?;
        if removed.len() >= page_count as usize {
            return Err(ToolError::invalid_param(
                "pages",
                format!("\"{}\" removes every page ({page_count}); at least one page must remain", self.pages.trim()),
            ));
        }
        let mut gone = vec![false; page_count as usize + 1];
        for page in removed {
            gone[page as usize] = true;
        }
        Ok((1..=page_count).filter(|&page| !gone[page as usize]).collect())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractPagesParams {
    /// Pages to keep, in the order written: `5,1-3` gives page 5 then pages 1 to 3. A page
    /// named twice is kept once, where it first appears.
    pub pages: String,
}

impl Validate for ExtractPagesParams {
    fn validate(&self) -> Result<(), ToolError> {
        page_selection("pages", Some(&self.pages)).map(drop)
    }
}

impl ExtractPagesParams {
    /// The pages of the output, 1-based source numbers, in output order.
    pub fn selected_pages(&self, page_count: u32) -> Result<Vec<u32>, ToolError> {
        resolve("pages", &self.pages, page_count)
    }
}

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

fn resolve(field: &str, selection: &str, page_count: u32) -> Result<Vec<u32>, ToolError> {
    PageSelection::parse(selection).and_then(|s| s.resolve(page_count)).map_err(|e| ToolError::invalid_param(field, e))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn reorder(order: serde_json::Value) -> ReorderParams {
        let params: ReorderParams = serde_json::from_value(serde_json::json!({ "order": order })).unwrap();
        params.validate().unwrap();
        params
    }

    #[test]
    fn remove_keeps_the_rest_and_never_everything() {
        let remove = |pages: &str| RemovePagesParams { pages: pages.into() };
        assert_eq!(remove("2,4-5").kept_pages(6).unwrap(), [1, 3, 6]);
        assert_eq!(remove("last").kept_pages(3).unwrap(), [1, 2]);
        let err = remove("1-3").kept_pages(3).unwrap_err();
        assert!(err.message.starts_with("pages: \"1-3\" removes every page (3)"), "{err}");
        assert!(remove("odd,even").kept_pages(4).is_err());
        assert!(remove("9").kept_pages(3).unwrap_err().message.starts_with("pages: \"9\""));
    }

    #[test]
    fn extract_keeps_the_order_written() {
        let extract = ExtractPagesParams { pages: "5,1-3,2".into() };
        assert_eq!(extract.selected_pages(6).unwrap(), [5, 1, 2, 3]);
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
