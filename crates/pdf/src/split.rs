//! Split: one PDF per group of pages.
//!
//! The source is read once; each part is a fresh document holding clones of only the objects
//! its pages reach (fonts and images shared by many pages are cloned into every part that uses
//! them, as each part must stand alone). Cloning the whole document per part and deleting
//! pages would cost pages × file size.

use crate::copy::Copier;
use crate::dests::NamedDests;
use crate::guard::guarded;
use crate::open::open_unguarded;
use crate::output::{OutputDoc, sane_version};
use crate::save::save_atomic;
use crate::streams::{prepare_page_contents, reencode_brotli};
use lopdf::{Dictionary, Document, Object, ObjectId};
use scanpro_core::ToolError;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// One output: its source pages, in order, and where it goes.
struct Part {
    pages: Vec<ObjectId>,
    path: PathBuf,
}

/// Writes one PDF per group of 1-based page numbers into `out_dir`, named by
/// [`split_file_names`]; returns their paths in group order.
pub fn split(input: &Path, groups: Vec<Vec<u32>>, out_dir: &Path, stem: &str) -> Result<Vec<PathBuf>, ToolError> {
    split_with(input, |_| Ok(groups), out_dir, stem)
}

/// [`split`] with the groups chosen once the page count is known: `choose` gets the page count
/// and returns the groups (its errors are passed through). The document is read once.
pub fn split_with(
    input: &Path,
    choose: impl FnOnce(u32) -> Result<Vec<Vec<u32>>, ToolError>,
    out_dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>, ToolError> {
    guarded("split", || {
        let mut doc = open_unguarded(input)?;
        let pages: Vec<ObjectId> = doc.page_iter().collect();
        let groups = choose(pages.len() as u32)?;
        check_groups(&groups, pages.len() as u32)?;
        let used: BTreeSet<u32> = groups.iter().flatten().copied().collect();
        reencode_brotli(&mut doc);
        prepare_page_contents(&mut doc, used.into_iter().map(|n| (n, pages[n as usize - 1])))?;
        let names = split_file_names(stem, &groups, pages.len() as u32);
        let parts: Vec<Part> = groups
            .iter()
            .zip(names)
            .map(|(group, name)| Part { pages: group.iter().map(|&n| pages[n as usize - 1]).collect(), path: out_dir.join(name) })
            .collect();
        write_parts(&doc, &NamedDests::collect(&doc), &parts)?;
        Ok(parts.into_iter().map(|part| part.path).collect())
    })
}

/// Writes the parts on every core: parts are independent and only read the source.
fn write_parts(doc: &Document, names: &NamedDests, parts: &[Part]) -> Result<(), ToolError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(parts.len().div_ceil(8)).max(1);
    if workers == 1 {
        return parts.iter().try_for_each(|part| write_part(doc, names, part));
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                scope.spawn(move || {
                    parts.iter().skip(worker).step_by(workers).try_for_each(|part| {
                        // Each worker guards itself: a panic must not cross the scope.
                        guarded("split", || write_part(doc, names, part))
                    })
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| h.join().unwrap_or_else(|_| Err(ToolError::internal("split worker failed"))))
    })
}

fn check_groups(groups: &[Vec<u32>], page_count: u32) -> Result<(), ToolError> {
    if groups.is_empty() || groups.iter().any(Vec::is_empty) {
        return Err(ToolError::invalid_param("pages", "every part needs at least one page"));
    }
    match groups.iter().flatten().find(|&&n| n == 0 || n > page_count) {
        Some(n) => Err(ToolError::invalid_param(
            "pages",
            format!("page {n} does not exist (the document has {page_count} pages)"),
        )),
        None => Ok(()),
    }
}

/// Copies the part's pages (and the source's `Info`) into a fresh document and saves it.
fn write_part(doc: &Document, names: &NamedDests, part: &Part) -> Result<(), ToolError> {
    let mut output = OutputDoc::new(sane_version(&doc.version));
    let pages_id = output.pages_id();
    let mut copier = Copier::new(doc, &mut output.doc, names, pages_id);
    copier.register_pages(&part.pages);
    let kids: Vec<ObjectId> = part.pages.iter().map(|&page| copier.copy_page(page)).collect();
    let info = doc.trailer.get(b"Info").ok().cloned().map(|info| copier.copy(info));
    let mut document = output.finish(&kids, Dictionary::new(), info.filter(|i| !matches!(i, Object::Null)));
    save_atomic(&mut document, &part.path)
}

/// Output file names for `groups` of a `page_count`-page document: `{stem}_{page}.pdf` for one
/// page, `{stem}_{first}-{last}.pdf` for several, page numbers zero-padded to the width of the
/// page count so the names sort in page order (`book_0001.pdf` … `book_1321.pdf`). A repeated
/// name gets `_2`, `_3`… appended.
pub fn split_file_names(stem: &str, groups: &[Vec<u32>], page_count: u32) -> Vec<String> {
    let width = page_count.max(1).to_string().len();
    let mut used = HashSet::new();
    groups
        .iter()
        .map(|group| {
            let first = group.first().copied().unwrap_or(0);
            let last = group.last().copied().unwrap_or(0);
            let base = if group.len() == 1 {
                format!("{stem}_{first:0width$}")
            } else {
                format!("{stem}_{first:0width$}-{last:0width$}")
            };
            let mut name = format!("{base}.pdf");
            let mut copy = 1;
            while !used.insert(name.clone()) {
                copy += 1;
                name = format!("{base}_{copy}.pdf");
            }
            name
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_in_page_order() {
        let groups = vec![vec![1], vec![2, 3, 4], vec![1321]];
        assert_eq!(
            split_file_names("pgfmanual", &groups, 1321),
            ["pgfmanual_0001.pdf", "pgfmanual_0002-0004.pdf", "pgfmanual_1321.pdf"]
        );
        assert_eq!(split_file_names("a", &[vec![3]], 9), ["a_3.pdf"]);
    }

    #[test]
    fn repeated_names_get_a_suffix() {
        let groups = vec![vec![1], vec![1], vec![1]];
        assert_eq!(split_file_names("x", &groups, 10), ["x_01.pdf", "x_01_2.pdf", "x_01_3.pdf"]);
    }
}
