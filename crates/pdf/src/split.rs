//! Split: one PDF per group of pages, or consecutive pages packed into files of at most a
//! given size.
//!
//! The source is read once; each part is a fresh document holding clones of only the objects
//! its pages reach (fonts and images shared by many pages are cloned into every part that uses
//! them, as each part must stand alone). Cloning the whole document per part and deleting
//! pages would cost pages × file size.
//!
//! A split by size estimates each part from the serialized size of the objects its pages reach
//! (a font shared by several pages of a part counts once), writes the parts, and measures them:
//! a part that came out over the limit is packed again more tightly, down to single pages. A
//! page over the limit on its own gets its own file, flagged in the report.

use crate::copy::Copier;
use crate::dests::NamedDests;
use crate::guard::guarded;
use crate::open::open_unguarded;
use crate::output::{OutputDoc, sane_version};
use crate::page_tree::{INHERITABLE, inherited, page_count};
use crate::save::save_atomic;
use crate::streams::{prepare_page_contents, reencode_brotli};
use lopdf::{Dictionary, Document, Object, ObjectId, Writer};
use scanpro_core::ToolError;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
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
        let page_count = page_count(pages.len())?;
        let groups = choose(page_count)?;
        check_groups(&groups, page_count)?;
        let used: BTreeSet<u32> = groups.iter().flatten().copied().collect();
        reencode_brotli(&mut doc);
        prepare_page_contents(&mut doc, used.into_iter().map(|n| (n, pages[n as usize - 1])))?;
        let names = split_file_names(stem, &groups, page_count);
        let parts: Vec<Part> = groups
            .iter()
            .zip(names)
            .map(|(group, name)| Part {
                pages: group.iter().map(|&n| pages[n as usize - 1]).collect(),
                path: out_dir.join(name),
            })
            .collect();
        write_parts(&doc, &NamedDests::collect(&doc), &parts)?;
        Ok(parts.into_iter().map(|part| part.path).collect())
    })
}

/// One output of a split by size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SizedPart {
    /// The output's file name.
    pub file: String,
    pub first_page: u32,
    pub last_page: u32,
    pub bytes: u64,
    /// Whether the part is over the limit: only ever a single page too large on its own.
    pub over_limit: bool,
}

/// What a split by size produced, parts in page order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SizeSplitReport {
    pub max_bytes: u64,
    pub parts: Vec<SizedPart>,
}

/// Bytes each object costs beyond its body: `N 0 obj` … `endobj` and its cross-reference entry.
const OBJECT_OVERHEAD: u64 = 40;
/// Bytes of a part beyond its pages' objects and `Info`: header, catalog, page tree, trailer.
const PART_OVERHEAD: u64 = 600;
/// A repacked part aims this far under the limit, so estimates that ran short converge.
const REPACK_MARGIN: f64 = 0.95;

/// Writes `input` as consecutive runs of pages, each file at most `max_bytes` where a single
/// page allows, named as [`split_file_names`] does; returns the parts in page order.
pub fn split_by_size(input: &Path, max_bytes: u64, out_dir: &Path, stem: &str) -> Result<SizeSplitReport, ToolError> {
    guarded("split", || {
        let mut doc = open_unguarded(input)?;
        let pages: Vec<ObjectId> = doc.page_iter().collect();
        let page_count = page_count(pages.len())?;
        reencode_brotli(&mut doc);
        prepare_page_contents(&mut doc, (1..).zip(pages.iter().copied()))?;
        let names = NamedDests::collect(&doc);
        let costs = PageCosts::measure(&doc, &pages);
        let mut pending = costs.pack(&(1..=page_count).collect::<Vec<_>>(), max_bytes as f64);
        let mut done = Vec::new();
        while !pending.is_empty() {
            let parts = parts_for(&pending, &pages, out_dir, stem, page_count);
            write_parts(&doc, &names, &parts)?;
            let mut again = Vec::new();
            for (group, part) in pending.into_iter().zip(parts) {
                let bytes = std::fs::metadata(&part.path).map(|m| m.len()).unwrap_or(0);
                if bytes <= max_bytes || group.len() == 1 {
                    done.push(sized_part(&group, &part.path, bytes, max_bytes));
                    continue;
                }
                let _ = std::fs::remove_file(&part.path);
                let budget = max_bytes as f64 * (max_bytes as f64 / bytes as f64) * REPACK_MARGIN;
                again.extend(costs.repack(&group, budget));
            }
            pending = again;
        }
        done.sort_by_key(|part| part.first_page);
        Ok(SizeSplitReport { max_bytes, parts: done })
    })
}

fn parts_for(groups: &[Vec<u32>], pages: &[ObjectId], out_dir: &Path, stem: &str, page_count: u32) -> Vec<Part> {
    groups
        .iter()
        .zip(split_file_names(stem, groups, page_count))
        .map(|(group, name)| Part {
            pages: group.iter().map(|&n| pages[n as usize - 1]).collect(),
            path: out_dir.join(name),
        })
        .collect()
}

fn sized_part(group: &[u32], path: &Path, bytes: u64, max_bytes: u64) -> SizedPart {
    SizedPart {
        file: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        first_page: group[0],
        last_page: group[group.len() - 1],
        bytes,
        over_limit: bytes > max_bytes,
    }
}

/// What each page costs in a part of its own: the objects it reaches and their sizes.
struct PageCosts {
    /// Per page (0-based): the page dictionary's own size, and the objects it reaches.
    pages: Vec<(u64, Vec<ObjectId>)>,
    sizes: HashMap<ObjectId, u64>,
    /// What every part carries besides its pages.
    base: u64,
}

impl PageCosts {
    fn measure(doc: &Document, pages: &[ObjectId]) -> Self {
        let mut sizes = HashMap::new();
        let page_set: HashSet<ObjectId> = pages.iter().copied().collect();
        let costs = pages
            .iter()
            .map(|&page| {
                let dict = doc.get_dictionary(page).cloned().unwrap_or_default();
                let mut roots: Vec<&Object> =
                    dict.iter().filter(|(k, _)| !matches!(k.as_slice(), b"Parent" | b"B")).map(|(_, v)| v).collect();
                roots.extend(
                    INHERITABLE.iter().filter(|key| !dict.has(key)).filter_map(|key| inherited(doc, &dict, key)),
                );
                let reached = reachable(doc, roots, &page_set, &mut sizes);
                (serialized_size(&Object::Dictionary(dict.clone())), reached)
            })
            .collect();
        let info = doc.trailer.get(b"Info").ok().into_iter().collect();
        let base = PART_OVERHEAD + reachable(doc, info, &page_set, &mut sizes).iter().map(|id| sizes[id]).sum::<u64>();
        Self { pages: costs, sizes, base }
    }

    /// Greedy packing of consecutive `pages` (1-based) into groups estimated at most `budget`.
    fn pack(&self, pages: &[u32], budget: f64) -> Vec<Vec<u32>> {
        let mut groups = Vec::new();
        let mut group: Vec<u32> = Vec::new();
        let mut used = HashSet::new();
        let mut total = self.base;
        for &page in pages {
            let (own, reached) = &self.pages[page as usize - 1];
            let cost = |used: &HashSet<ObjectId>| {
                own + reached.iter().filter(|id| !used.contains(*id)).map(|id| self.sizes[id]).sum::<u64>()
            };
            let mut add = cost(&used);
            if !group.is_empty() && (total + add) as f64 > budget {
                groups.push(std::mem::take(&mut group));
                used.clear();
                total = self.base;
                add = cost(&used);
            }
            group.push(page);
            used.extend(reached.iter().copied());
            total += add;
        }
        if !group.is_empty() {
            groups.push(group);
        }
        groups
    }

    /// [`pack`](Self::pack) for a group that came out too large: always at least two groups.
    fn repack(&self, group: &[u32], budget: f64) -> Vec<Vec<u32>> {
        let groups = self.pack(group, budget);
        if groups.len() > 1 {
            return groups;
        }
        let (left, right) = group.split_at(group.len() / 2);
        vec![left.to_vec(), right.to_vec()]
    }
}

/// The objects reachable from `roots` as a part would copy them (not through other pages or
/// the page tree), each once; records each one's size in `sizes`.
fn reachable(
    doc: &Document,
    roots: Vec<&Object>,
    pages: &HashSet<ObjectId>,
    sizes: &mut HashMap<ObjectId, u64>,
) -> Vec<ObjectId> {
    let mut seen = HashSet::new();
    let mut stack: Vec<&Object> = roots;
    while let Some(object) = stack.pop() {
        match object {
            Object::Reference(id) => {
                let Some(target) = doc.objects.get(id) else { continue };
                if pages.contains(id) || is_structure(target) || !seen.insert(*id) {
                    continue;
                }
                sizes.entry(*id).or_insert_with(|| serialized_size(target) + OBJECT_OVERHEAD);
                stack.push(target);
            }
            Object::Array(items) => stack.extend(items.iter()),
            Object::Dictionary(dict) => {
                stack.extend(dict.iter().filter(|(k, _)| k.as_slice() != b"Parent").map(|(_, v)| v))
            }
            Object::Stream(stream) => stack.extend(stream.dict.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    seen.into_iter().collect()
}

fn is_structure(object: &Object) -> bool {
    let dict = match object {
        Object::Dictionary(dict) => dict,
        Object::Stream(stream) => &stream.dict,
        _ => return false,
    };
    matches!(dict.get_type(), Ok(b"Page" | b"Pages" | b"Catalog" | b"StructTreeRoot" | b"StructElem"))
}

fn serialized_size(object: &Object) -> u64 {
    let mut counter = ByteCounter(0);
    let _ = Writer::write_object(&mut counter, object);
    counter.0
}

/// A writer that only counts.
struct ByteCounter(u64);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
        handles
            .into_iter()
            .try_for_each(|h| h.join().unwrap_or_else(|_| Err(ToolError::internal("split worker failed"))))
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
