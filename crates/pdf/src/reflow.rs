//! A PDF read back as structured text — headings, paragraphs, lists, tables and images — from
//! the layout poppler's `pdftohtml -xml` measures (each line's box and font size, each image's
//! box and file), and written as Markdown or HTML.
//!
//! - Headings: lines set larger than the body text (the size most characters have), ranked by
//!   size into up to three levels.
//! - Lists: lines opening with a bullet, a number or a letter and `.` or `)`; lines indented
//!   under an item continue it.
//! - Tables: two or more consecutive rows split into the same number of cells whose left edges
//!   line up.
//! - Paragraphs: lines closer than about a line's height, hyphenation at line ends undone.
//! - Running heads and feet (a line repeated at the same height on at least half the pages) and
//!   bare page numbers are left out.

use crate::text_layer::{poppler_reader, unescape};
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Images kept at most, and the smallest side (points) an image needs to be kept.
pub const MAX_IMAGES: usize = 500;
const MIN_IMAGE_SIDE: f64 = 16.0;
/// Heading sizes: at least this much larger than the body text.
const HEADING_RATIO: f64 = 1.15;
const MAX_HEADING_CHARS: usize = 160;

/// What the text is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    Markdown,
    Html,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReflowReport {
    pub pages: usize,
    pub headings: usize,
    pub paragraphs: usize,
    pub lists: usize,
    pub tables: usize,
    pub images: usize,
}

/// The document written: the text file and the image files it refers to (Markdown), all in the
/// output directory. HTML carries its images inside, as data URLs.
pub struct Reflowed {
    pub text: PathBuf,
    pub images: Vec<PathBuf>,
    pub report: ReflowReport,
}

#[derive(Debug, Clone, PartialEq)]
enum Block {
    Heading(usize, String),
    Paragraph(String),
    List { ordered: bool, items: Vec<String> },
    Table(Vec<Vec<String>>),
    Image(String),
}

/// One line fragment as pdftohtml measures it (points, from the page's top left).
#[derive(Debug, Clone)]
struct Fragment {
    page: usize,
    top: f64,
    left: f64,
    height: f64,
    size: f64,
    text: String,
}

#[derive(Debug, Clone)]
struct Picture {
    page: usize,
    top: f64,
    file: PathBuf,
}

/// Reads `input` and writes it as `format` into `out_dir`, named after `stem`.
pub fn reflow(
    input: &Path,
    out_dir: &Path,
    stem: &str,
    format: TextFormat,
    with_images: bool,
) -> Result<Reflowed, ToolError> {
    crate::open::open(input)?;
    let work = tempfile::Builder::new()
        .prefix("reflow-")
        .tempdir_in(out_dir)
        .map_err(|e| ToolError::internal(format!("scratch directory: {e}")))?;
    let (pages, fragments, pictures) = measure(input, work.path(), with_images)?;
    let blocks = structure(&fragments, &pictures, pages);
    let mut report = ReflowReport { pages, ..ReflowReport::default() };
    for block in &blocks {
        match block {
            Block::Heading(..) => report.headings += 1,
            Block::Paragraph(_) => report.paragraphs += 1,
            Block::List { .. } => report.lists += 1,
            Block::Table(_) => report.tables += 1,
            Block::Image(_) => report.images += 1,
        }
    }
    // Image files move beside the text under names of the output's own.
    let mut images = Vec::new();
    let mut names = HashMap::new();
    for picture in &pictures {
        let Some(original) = picture.file.file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        if names.contains_key(&original) || !blocks.iter().any(|b| *b == Block::Image(original.clone())) {
            continue;
        }
        let extension = picture.file.extension().and_then(|e| e.to_str()).unwrap_or("png");
        let name = format!("{stem}_image{}.{extension}", names.len() + 1);
        names.insert(original, name);
    }
    let text = match format {
        TextFormat::Markdown => markdown(&blocks, &names),
        TextFormat::Html => html(&blocks, &names, work.path(), stem)?,
    };
    let text_path = out_dir.join(format!("{stem}.{}", if format == TextFormat::Markdown { "md" } else { "html" }));
    std::fs::write(&text_path, text).map_err(|e| ToolError::internal(format!("cannot write the text: {e}")))?;
    if format == TextFormat::Markdown {
        for (original, name) in &names {
            let target = out_dir.join(name);
            std::fs::rename(work.path().join(original), &target)
                .map_err(|e| ToolError::internal(format!("cannot keep image {original}: {e}")))?;
            images.push(target);
        }
        images.sort();
    }
    Ok(Reflowed { text: text_path, images, report })
}

/// Runs pdftohtml and reads its XML: the page count, line fragments and images.
fn measure(input: &Path, work: &Path, with_images: bool) -> Result<(usize, Vec<Fragment>, Vec<Picture>), ToolError> {
    let absolute = std::path::absolute(input).map_err(|e| ToolError::internal(format!("{}: {e}", input.display())))?;
    let base = work.join("doc");
    let mut command = poppler_reader("pdftohtml").args(["-xml", "-zoom", "1", "-q", "-nodrm", "-fmt", "png"]);
    if !with_images {
        command = command.arg("-i");
    }
    command = command.arg(&absolute).arg(&base).allow_read(&absolute).allow_write(work);
    let output = command.run_blocking().map_err(|e| ToolError::internal(format!("pdftohtml: {e}")))?;
    let xml = std::fs::read_to_string(base.with_extension("xml")).ok().filter(|_| output.status.success());
    let Some(xml) = xml else {
        let why = output.stderr_tail.lines().last().unwrap_or("unreadable").to_owned();
        return Err(ToolError::new(ErrorCode::InvalidPdf, format!("the PDF's text cannot be read: {why}")));
    };
    Ok(parse(&xml, work))
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn number(tag: &str, name: &str) -> f64 {
    attribute(tag, name).and_then(|n| n.parse().ok()).unwrap_or(0.0)
}

/// Reads pdftohtml's XML: `<page>`, `<fontspec id size>`, `<text top left width height
/// font>…</text>`, `<image top left width height src>`.
fn parse(xml: &str, work: &Path) -> (usize, Vec<Fragment>, Vec<Picture>) {
    let mut sizes: HashMap<String, f64> = HashMap::new();
    let (mut page, mut fragments, mut pictures) = (0, Vec::new(), Vec::new());
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let Some(close) = rest.find('>') else { break };
        let tag = &rest[..=close];
        if tag.starts_with("<page ") {
            page += 1;
        } else if tag.starts_with("<fontspec ") {
            if let Some(id) = attribute(tag, "id") {
                sizes.insert(id, number(tag, "size"));
            }
        } else if tag.starts_with("<text ") {
            let end = rest.find("</text>").unwrap_or(rest.len());
            let inner = &rest[close + 1..end];
            let text = unescape(&strip_tags(inner)).split_whitespace().collect::<Vec<_>>().join(" ");
            let font = attribute(tag, "font").unwrap_or_default();
            if !text.is_empty() {
                fragments.push(Fragment {
                    page,
                    top: number(tag, "top"),
                    left: number(tag, "left"),
                    height: number(tag, "height"),
                    size: sizes.get(&font).copied().unwrap_or(0.0),
                    text,
                });
            }
            rest = &rest[end..];
            continue;
        } else if tag.starts_with("<image ") {
            let src = attribute(tag, "src").unwrap_or_default();
            let file = work.join(Path::new(&src).file_name().unwrap_or_default());
            let big_enough = number(tag, "width") >= MIN_IMAGE_SIDE && number(tag, "height") >= MIN_IMAGE_SIDE;
            if big_enough && file.is_file() && pictures.len() < MAX_IMAGES {
                pictures.push(Picture { page, top: number(tag, "top"), file });
            }
        }
        rest = &rest[close + 1..];
    }
    (page, fragments, pictures)
}

fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for c in text.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// A row: the fragments of one page sharing a baseline, left to right.
#[derive(Debug, Clone)]
struct Row {
    page: usize,
    top: f64,
    bottom: f64,
    left: f64,
    size: f64,
    cells: Vec<Fragment>,
}

impl Row {
    fn text(&self) -> String {
        self.cells.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join(" ")
    }
}

fn rows(fragments: &[Fragment], pages: usize) -> Vec<Row> {
    // Dot leaders (a table of contents) join a title to its page number: they carry no text.
    let leader = |f: &&Fragment| f.text.chars().all(|c| c == '.' || c == '…' || c.is_whitespace());
    let mut sorted: Vec<&Fragment> = fragments.iter().filter(|f| !leader(f)).collect();
    sorted.sort_by(|a, b| {
        (a.page, a.top, a.left).partial_cmp(&(b.page, b.top, b.left)).unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut rows: Vec<Row> = Vec::new();
    for fragment in sorted {
        match rows.last_mut() {
            Some(row)
                if row.page == fragment.page && (fragment.top - row.top).abs() <= fragment.height.max(4.0) * 0.4 =>
            {
                row.bottom = row.bottom.max(fragment.top + fragment.height);
                row.size = row.size.max(fragment.size);
                row.left = row.left.min(fragment.left);
                row.cells.push(fragment.clone());
            }
            _ => rows.push(Row {
                page: fragment.page,
                top: fragment.top,
                bottom: fragment.top + fragment.height,
                left: fragment.left,
                size: fragment.size,
                cells: vec![fragment.clone()],
            }),
        }
    }
    for row in &mut rows {
        row.cells.sort_by(|a, b| a.left.partial_cmp(&b.left).unwrap_or(std::cmp::Ordering::Equal));
    }
    drop_running_lines(rows, pages)
}

/// Leaves out bare page numbers and lines repeated at the same height on half the pages or more.
fn drop_running_lines(rows: Vec<Row>, pages: usize) -> Vec<Row> {
    let key = |row: &Row| {
        let text: String = row.text().chars().filter(|c| !c.is_ascii_digit()).collect();
        (text, bucket(row.top / 3.0))
    };
    let mut seen: HashMap<(String, i64), usize> = HashMap::new();
    for row in &rows {
        *seen.entry(key(row)).or_default() += 1;
    }
    rows.into_iter()
        .filter(|row| {
            let text = row.text();
            let page_number = text.chars().all(|c| c.is_ascii_digit() || c.is_whitespace());
            let running = pages >= 3 && seen.get(&key(row)).copied().unwrap_or(0) * 2 >= pages;
            !page_number && !running
        })
        .collect()
}

/// A measure rounded to a whole number, to group sizes and heights that differ by rounding.
#[expect(clippy::cast_possible_truncation, reason = "page measures are far inside i64's range")]
fn bucket(measure: f64) -> i64 {
    measure.round() as i64
}

/// The size most characters are set in.
fn body_size(rows: &[Row]) -> f64 {
    let mut weights: HashMap<i64, usize> = HashMap::new();
    for row in rows {
        for cell in &row.cells {
            *weights.entry(bucket(cell.size * 2.0)).or_default() += cell.text.chars().count();
        }
    }
    weights.into_iter().max_by_key(|(size, weight)| (*weight, -size)).map_or(10.0, |(size, _)| size as f64 / 2.0)
}

fn list_marker(text: &str) -> Option<(bool, usize)> {
    let first = text.split_whitespace().next()?;
    if text.len() == first.len() {
        return None;
    }
    let bullet =
        matches!(first, "•" | "◦" | "▪" | "‣" | "●" | "○" | "■" | "□" | "–" | "—" | "-" | "*" | "·" | "➢" | "✓");
    let numbered = {
        let body = first.trim_end_matches(['.', ')']);
        first.len() > body.len()
            && first.len() - body.len() == 1
            && ((!body.is_empty() && body.len() <= 3 && body.chars().all(|c| c.is_ascii_digit()))
                || (body.len() == 1 && body.chars().all(|c| c.is_ascii_lowercase())))
    };
    (bullet || numbered).then_some((numbered, first.len()))
}

/// Rows that split into the same cells, their left edges lining up, form a table.
fn table_at(rows: &[Row], start: usize) -> Option<usize> {
    let first = &rows[start];
    if first.cells.len() < 2 {
        return None;
    }
    let columns: Vec<f64> = first.cells.iter().map(|c| c.left).collect();
    let mut end = start + 1;
    while end < rows.len() {
        let row = &rows[end];
        let aligned = row.page == first.page
            && row.cells.len() == columns.len()
            && row.cells.iter().zip(&columns).all(|(cell, left)| (cell.left - left).abs() <= 12.0);
        if !aligned {
            break;
        }
        end += 1;
    }
    // Two columns over two rows is as often a numbered heading or a list as a table.
    let rows_needed = if columns.len() == 2 { 3 } else { 2 };
    (end - start >= rows_needed).then_some(end)
}

fn structure(fragments: &[Fragment], pictures: &[Picture], pages: usize) -> Vec<Block> {
    let rows = rows(fragments, pages);
    let body = body_size(&rows);
    let mut heading_sizes: Vec<i64> = rows
        .iter()
        .filter(|row| row.size >= body * HEADING_RATIO && row.text().chars().count() <= MAX_HEADING_CHARS)
        .map(|row| bucket(row.size * 2.0))
        .collect();
    heading_sizes.sort_unstable_by(|a, b| b.cmp(a));
    heading_sizes.dedup();
    let level = |row: &Row| -> Option<usize> {
        if row.size < body * HEADING_RATIO || row.text().chars().count() > MAX_HEADING_CHARS {
            return None;
        }
        let size = bucket(row.size * 2.0);
        heading_sizes.iter().position(|s| *s == size).map(|rank| (rank + 1).min(3))
    };

    let mut blocks = Vec::new();
    let mut pictures: Vec<&Picture> = pictures.iter().collect();
    pictures.sort_by(|a, b| (a.page, a.top).partial_cmp(&(b.page, b.top)).unwrap_or(std::cmp::Ordering::Equal));
    let mut pictures = pictures.into_iter().peekable();
    let mut index = 0;
    let mut previous: Option<&Row> = None;
    while index < rows.len() {
        let row = &rows[index];
        while let Some(picture) = pictures.next_if(|p| (p.page, p.top) < (row.page, row.top)) {
            blocks.push(Block::Image(picture.file.file_name().unwrap_or_default().to_string_lossy().into_owned()));
        }
        let gap = previous.filter(|p| p.page == row.page).map_or(f64::INFINITY, |p| row.top - p.bottom);
        let close = gap <= row.size.max(body) * 0.9;
        let heading = level(row);
        if let Some(end) = heading.is_none().then(|| table_at(&rows, index)).flatten() {
            let table = rows[index..end].iter().map(|r| r.cells.iter().map(|c| c.text.clone()).collect()).collect();
            blocks.push(Block::Table(table));
            previous = Some(&rows[end - 1]);
            index = end;
            continue;
        }
        let text = row.text();
        if let Some(level) = heading {
            match blocks.last_mut() {
                Some(Block::Heading(last, heading)) if *last == level && close => {
                    heading.push(' ');
                    heading.push_str(&text);
                }
                _ => blocks.push(Block::Heading(level, text)),
            }
        } else if let Some((ordered, marker)) = list_marker(&text) {
            let item = text[marker..].trim().to_owned();
            match blocks.last_mut() {
                Some(Block::List { ordered: o, items }) if *o == ordered && gap <= body * 2.5 => items.push(item),
                _ => blocks.push(Block::List { ordered, items: vec![item] }),
            }
        } else {
            let continues_item = matches!(blocks.last(), Some(Block::List { .. }))
                && close
                && previous.is_some_and(|p| row.left > p.left + 3.0);
            match blocks.last_mut() {
                Some(Block::List { items, .. }) if continues_item => {
                    join_line(items.last_mut().expect("an item"), &text)
                }
                Some(Block::Paragraph(paragraph)) if close || continues_across_pages(previous, row, paragraph) => {
                    join_line(paragraph, &text);
                }
                _ => blocks.push(Block::Paragraph(text)),
            }
        }
        previous = Some(row);
        index += 1;
    }
    blocks
        .extend(pictures.map(|p| Block::Image(p.file.file_name().unwrap_or_default().to_string_lossy().into_owned())));
    blocks
}

/// A sentence cut by a page break: the paragraph does not end with a full stop and the next
/// page's first line starts in lower case.
fn continues_across_pages(previous: Option<&Row>, row: &Row, paragraph: &str) -> bool {
    previous.is_some_and(|p| p.page + 1 == row.page)
        && !paragraph.ends_with(['.', ':', '!', '?'])
        && row.text().chars().next().is_some_and(char::is_lowercase)
}

/// Appends a line, undoing a hyphen that split a word at the line's end.
fn join_line(text: &mut String, line: &str) {
    let hyphenated = text.ends_with('-')
        && text.chars().rev().nth(1).is_some_and(char::is_alphabetic)
        && line.chars().next().is_some_and(char::is_lowercase);
    if hyphenated {
        text.pop();
    } else {
        text.push(' ');
    }
    text.push_str(line);
}

fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    // A line opening like a heading, a bullet or a numbered item would be read as one: the mark
    // is escaped (`\#`, `1\.`), as CommonMark allows for punctuation only.
    if out.starts_with(['#', '+', '-', '=']) {
        out.insert(0, '\\');
    }
    let digits = out.chars().take_while(char::is_ascii_digit).count();
    if (1..=9).contains(&digits) && out[digits..].starts_with(['.', ')']) {
        out.insert(digits, '\\');
    }
    out
}

fn markdown(blocks: &[Block], names: &HashMap<String, String>) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "{} {}\n", "#".repeat(*level), markdown_escape(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{}\n", markdown_escape(text));
            }
            Block::List { ordered, items } => {
                for (n, item) in items.iter().enumerate() {
                    let marker = if *ordered { format!("{}.", n + 1) } else { "-".into() };
                    let _ = writeln!(out, "{marker} {}", markdown_escape(item));
                }
                out.push('\n');
            }
            Block::Table(rows) => {
                for (n, row) in rows.iter().enumerate() {
                    let cells: Vec<String> = row.iter().map(|c| markdown_escape(c)).collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                    if n == 0 {
                        let _ = writeln!(out, "|{}", " --- |".repeat(row.len()));
                    }
                }
                out.push('\n');
            }
            Block::Image(original) => {
                if let Some(name) = names.get(original) {
                    let _ = writeln!(out, "![]({name})\n");
                }
            }
        }
    }
    out
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn html(blocks: &[Block], names: &HashMap<String, String>, work: &Path, stem: &str) -> Result<String, ToolError> {
    use base64::Engine;
    let mut out = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>body{{max-width:48em;\
         margin:2em auto;padding:0 1em;font-family:sans-serif;line-height:1.5}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #999;padding:.2em .5em}}img{{max-width:100%}}</style>\n</head>\n<body>\n",
        html_escape(stem)
    );
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", html_escape(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", html_escape(text));
            }
            Block::List { ordered, items } => {
                let tag = if *ordered { "ol" } else { "ul" };
                let _ = writeln!(out, "<{tag}>");
                for item in items {
                    let _ = writeln!(out, "<li>{}</li>", html_escape(item));
                }
                let _ = writeln!(out, "</{tag}>");
            }
            Block::Table(rows) => {
                out.push_str("<table>\n");
                for (n, row) in rows.iter().enumerate() {
                    let cell = if n == 0 { "th" } else { "td" };
                    let cells: String = row.iter().map(|c| format!("<{cell}>{}</{cell}>", html_escape(c))).collect();
                    let _ = writeln!(out, "<tr>{cells}</tr>");
                }
                out.push_str("</table>\n");
            }
            Block::Image(original) => {
                if names.contains_key(original) {
                    let bytes = std::fs::read(work.join(original))
                        .map_err(|e| ToolError::internal(format!("cannot read image {original}: {e}")))?;
                    let mime = if original.ends_with(".jpg") { "image/jpeg" } else { "image/png" };
                    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
                    let _ = writeln!(out, "<p><img alt=\"\" src=\"data:{mime};base64,{data}\"></p>");
                }
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    Ok(out)
}
