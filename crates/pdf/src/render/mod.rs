//! Rendering PDF pages to PNG or JPEG: `pdf_to_image` and thumbnails.
//!
//! hayro (pure Rust) renders the pages, several at once (one worker per core, each with its own
//! caches and buffers). A page hayro fails on (it panics: caught by the panic guard) is
//! rendered by poppler's `pdftoppm` instead, and so is every page of a document hayro cannot
//! open at all but lopdf can (a damaged cross-reference table); each page says which renderer
//! made it. The fallback is not used for documents opened with a password, which would have to
//! be handed to pdftoppm on its command line.
//!
//! Every page is checked against a pixel budget before anything is rendered: a page larger than
//! [`MAX_PAGE_PIXELS`] at the requested size, or wider or taller than 65,535 pixels, is refused
//! with `resource_limit`. Pixel sizes are the page's visible area (crop box, after `/Rotate`) at
//! the resolution asked, rounded to whole pixels. So is a page drawing an image (directly, in a
//! form, or as a soft mask) that declares more than [`MAX_IMAGE_PIXELS`]: a few bytes of Flate
//! can declare any size, and decoding it would exhaust the step's memory, which ends the
//! process (an allocation failure aborts) instead of failing the page.

mod encode;
mod fallback;

pub use encode::RasterEncoding;

use crate::format;
use crate::guard::guarded;
use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_syntax::object::dict::keys;
use hayro::hayro_syntax::object::{Dict, Name, ObjectIdentifier, Stream};
use hayro::hayro_syntax::page::Page;
use hayro::hayro_syntax::{DecryptionError, LoadPdfError, Pdf};
use hayro::kurbo::Affine;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use hayro::{RenderCache, RenderSettings, render_into};
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Largest page rendered, in pixels (100 megapixels: 400 MB of RGBA).
pub const MAX_PAGE_PIXELS: u64 = 100_000_000;
/// Largest image decoded, in pixels (256 megapixels: 1 GB once expanded to RGBA).
pub const MAX_IMAGE_PIXELS: u64 = 256_000_000;
/// Forms nest forms; deeper than this the page is not drawn anyway.
const MAX_FORM_DEPTH: u32 = 32;
/// The rasteriser addresses pixels with 16 bits.
const MAX_SIDE: u32 = u16::MAX as u32;

/// How large to render each page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderSize {
    /// At this resolution: a page of `w` points becomes `w × dpi / 72` pixels wide.
    Dpi(u32),
    /// This many pixels wide, the height following the page's aspect ratio (thumbnails).
    Width(u32),
}

#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'a> {
    pub size: RenderSize,
    pub encoding: RasterEncoding,
    /// Opens an encrypted document.
    pub password: Option<&'a str>,
}

/// Which program rendered a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Renderer {
    Hayro,
    Pdftoppm,
}

/// One image written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedPage {
    /// 1-based page number.
    pub page: u32,
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub renderer: Renderer,
}

/// Renders the pages `choose` picks (given the page count) of `input` into `out_dir`, one file
/// per page named `{stem}_p{NNN}.{png|jpg}` (zero-padded to at least three digits, so the
/// names sort in page order). Returns the pages in the order chosen.
pub fn render_pages(
    input: &Path,
    options: &RenderOptions<'_>,
    choose: impl FnOnce(u32) -> Result<Vec<u32>, ToolError>,
    out_dir: &Path,
    stem: &str,
) -> Result<Vec<RenderedPage>, ToolError> {
    guarded("pdf_to_image", || {
        let Some(pdf) = open_with_hayro(read_pdf(input)?, options.password)? else {
            return render_damaged(input, options, choose, out_dir, stem);
        };
        let page_count = crate::page_tree::page_count(pdf.pages().len())?;
        let pages = choose(page_count)?;
        let plans = pages
            .iter()
            .map(|&number| {
                let page = &pdf.pages()[number as usize - 1];
                check_images(page, number)?;
                let (width, height) = page.render_dimensions();
                plan(number, (width.into(), height.into()), page_count, options, out_dir, stem)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let results = render_in_parallel(&pdf, &plans, options);
        plans.into_iter().zip(results).map(|(plan, result)| finish(input, plan, result, options)).collect()
    })
}

fn read_pdf(input: &Path) -> Result<Vec<u8>, ToolError> {
    let bytes =
        std::fs::read(input).map_err(|e| ToolError::internal(format!("cannot read {}: {e}", input.display())))?;
    let head = &bytes[..bytes.len().min(format::SNIFF_LEN)];
    if !format::is_pdf(head) {
        let what = format::describe(head);
        return Err(ToolError::new(ErrorCode::UnsupportedFormat, format!("this is {what}, not a PDF")));
    }
    Ok(bytes)
}

/// hayro's reading of the document; `None` when hayro finds no pages but the fallback may.
fn open_with_hayro(data: Vec<u8>, password: Option<&str>) -> Result<Option<Pdf>, ToolError> {
    match Pdf::new_with_password(data, password.unwrap_or("")) {
        Ok(pdf) if !pdf.pages().is_empty() => Ok(Some(pdf)),
        Ok(_) | Err(LoadPdfError::Invalid) if password.is_none() => Ok(None),
        Ok(_) | Err(LoadPdfError::Invalid) => {
            Err(ToolError::new(ErrorCode::InvalidPdf, "the PDF is damaged and its pages cannot be read"))
        }
        Err(LoadPdfError::Decryption(why)) => Err(decryption_error(why, password)),
    }
}

fn decryption_error(why: DecryptionError, password: Option<&str>) -> ToolError {
    match (why, password) {
        (DecryptionError::PasswordProtected, None) => ToolError::new(
            ErrorCode::EncryptedInput,
            "the PDF is protected by a password; give it as \"password\" to render the pages",
        ),
        (DecryptionError::PasswordProtected, Some(_)) => {
            ToolError::new(ErrorCode::WrongPassword, "password: it does not open this PDF")
        }
        (other, _) => {
            ToolError::new(ErrorCode::EncryptedInput, format!("the PDF's encryption cannot be read ({other:?})"))
        }
    }
}

/// Refuses a page whose images declare more than [`MAX_IMAGE_PIXELS`], before any is decoded.
fn check_images(page: &Page<'_>, number: u32) -> Result<(), ToolError> {
    check_x_objects(&page.resources().x_objects, number, 0, &mut Vec::new())
}

fn check_x_objects(
    x_objects: &Dict<'_>,
    page: u32,
    depth: u32,
    seen: &mut Vec<ObjectIdentifier>,
) -> Result<(), ToolError> {
    if depth > MAX_FORM_DEPTH {
        return Ok(());
    }
    for name in x_objects.keys() {
        let Some(stream) = x_objects.get::<Stream<'_>>(&*name) else { continue };
        if seen.contains(&stream.obj_id()) {
            continue;
        }
        seen.push(stream.obj_id());
        let dict = stream.dict();
        match dict.get::<Name<'_>>(keys::SUBTYPE).as_deref() {
            Some(keys::IMAGE) => {
                check_image_size(dict, page)?;
                if let Some(mask) = dict.get::<Stream<'_>>(keys::SMASK) {
                    check_image_size(mask.dict(), page)?;
                }
            }
            Some(keys::FORM) => {
                let resources = dict.get::<Dict<'_>>(keys::RESOURCES).unwrap_or_default();
                let inner = resources.get::<Dict<'_>>(keys::XOBJECT).unwrap_or_default();
                check_x_objects(&inner, page, depth + 1, seen)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_image_size(image: &Dict<'_>, page: u32) -> Result<(), ToolError> {
    let side = |long: &[u8], short: &[u8]| image.get::<u32>(long).or_else(|| image.get::<u32>(short)).unwrap_or(0);
    let (width, height) = (side(keys::WIDTH, keys::W), side(keys::HEIGHT, keys::H));
    if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS {
        return Err(ToolError::new(
            ErrorCode::ResourceLimit,
            format!(
                "page {page} draws an image of {width} × {height} pixels, more than the {} megapixels decoded; \
                 the page cannot be rendered",
                MAX_IMAGE_PIXELS / 1_000_000
            ),
        ));
    }
    Ok(())
}

/// What to render for one page, checked against the pixel budget.
#[derive(Debug, Clone)]
struct PagePlan {
    page: u32,
    /// Visible page size in points, after rotation.
    size_pt: (f64, f64),
    pixels: (u32, u32),
    out: PathBuf,
}

fn plan(
    page: u32,
    size_pt: (f64, f64),
    page_count: u32,
    options: &RenderOptions<'_>,
    out_dir: &Path,
    stem: &str,
) -> Result<PagePlan, ToolError> {
    let scale = match options.size {
        RenderSize::Dpi(dpi) => f64::from(dpi) / 72.0,
        RenderSize::Width(width) => f64::from(width) / size_pt.0,
    };
    let to_pixels = |points: f64| (points * scale).round().max(1.0);
    let (width, height) = (to_pixels(size_pt.0), to_pixels(size_pt.1));
    if width * height > MAX_PAGE_PIXELS as f64 || width > f64::from(MAX_SIDE) || height > f64::from(MAX_SIDE) {
        return Err(ToolError::new(
            ErrorCode::ResourceLimit,
            format!(
                "page {page} would be {width} × {height} pixels ({:.0} × {:.0} points), more than the {} megapixels \
                 (and 65,535 pixels a side) rendered; ask for a lower resolution",
                size_pt.0,
                size_pt.1,
                MAX_PAGE_PIXELS / 1_000_000
            ),
        ));
    }
    let digits = page_count.to_string().len().max(3);
    let out = out_dir.join(format!("{stem}_p{page:0digits$}.{}", options.encoding.extension()));
    #[expect(
        clippy::cast_possible_truncation,
        reason = "whole numbers from 1 to MAX_SIDE: rounded, at least 1, checked above"
    )]
    let pixels = (width as u32, height as u32);
    Ok(PagePlan { page, size_pt, pixels, out })
}

/// How hayro did on one page.
#[derive(Debug)]
enum Outcome {
    Written,
    /// hayro panicked; the message says where.
    Crashed(String),
}

/// Renders every planned page with hayro, one worker per core taking the next page. Each page's
/// result is its own: a crash of hayro on one page is that page's [`Outcome::Crashed`].
fn render_in_parallel(pdf: &Pdf, plans: &[PagePlan], options: &RenderOptions<'_>) -> Vec<Result<Outcome, ToolError>> {
    let results: Vec<Mutex<Option<Result<Outcome, ToolError>>>> = plans.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(plans.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut worker = Worker::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(plan) = plans.get(index) else { break };
                    let page = &pdf.pages()[plan.page as usize - 1];
                    let result = match guarded(&format!("page {}", plan.page), || Ok(worker.rasterise(page, plan))) {
                        Ok(pixmap) => encode_page(&pixmap, plan, options).map(|()| Outcome::Written),
                        Err(crash) => {
                            // The panic may have left the caches half-updated.
                            worker = Worker::new();
                            Ok(Outcome::Crashed(crash.message))
                        }
                    };
                    *results[index].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| Err(ToolError::internal("not rendered")))
        })
        .collect()
}

fn encode_page(pixmap: &Pixmap, plan: &PagePlan, options: &RenderOptions<'_>) -> Result<(), ToolError> {
    let bytes = encode::encode(pixmap.data_as_u8_slice(), plan.pixels.0, plan.pixels.1, options.encoding)
        .map_err(|why| ToolError::internal(format!("page {}: encoding failed: {why}", plan.page)))?;
    write_atomic(&bytes, &plan.out)
}

/// One rendering thread's reusable state.
struct Worker<'a> {
    cache: RenderCache<'a>,
    context: RenderContext,
    resources: Resources,
    settings: InterpreterSettings,
}

impl<'a> Worker<'a> {
    fn new() -> Self {
        Self {
            cache: RenderCache::new(),
            context: RenderContext::new(1, 1),
            resources: Resources::default(),
            settings: InterpreterSettings::default(),
        }
    }

    /// The page's pixels (opaque RGBA, on white), exactly `plan.pixels` in size.
    fn rasterise(&mut self, page: &'a Page<'a>, plan: &PagePlan) -> Pixmap {
        #[expect(clippy::cast_possible_truncation, reason = "`plan` keeps each side within MAX_SIDE, u16::MAX")]
        let (width, height) = (plan.pixels.0 as u16, plan.pixels.1 as u16);
        self.context.reset_and_resize(width, height);
        let scale = Affine::scale_non_uniform(f64::from(width) / plan.size_pt.0, f64::from(height) / plan.size_pt.1);
        let transform = scale * page.initial_transform(true).to_kurbo();
        render_into(page, &self.cache, &self.settings, &RenderSettings::default(), &mut self.context, transform);
        self.context.flush();
        let mut pixmap = Pixmap::new(width, height);
        let raster = RasterizerSettings { target_init: TargetInit::Clear(WHITE), ..Default::default() };
        self.context.render_with(&mut pixmap, &mut self.resources, raster);
        pixmap
    }
}

/// The page as rendered, or rendered by the fallback when hayro crashed on it.
fn finish(
    input: &Path,
    plan: PagePlan,
    result: Result<Outcome, ToolError>,
    options: &RenderOptions<'_>,
) -> Result<RenderedPage, ToolError> {
    let (width, height) = plan.pixels;
    match result? {
        Outcome::Written => {
            Ok(RenderedPage { page: plan.page, path: plan.out, width, height, renderer: Renderer::Hayro })
        }
        Outcome::Crashed(why) if options.password.is_none() => fallback_page(input, plan, options, &why),
        Outcome::Crashed(why) => Err(ToolError::internal(why)),
    }
}

fn fallback_page(
    input: &Path,
    plan: PagePlan,
    options: &RenderOptions<'_>,
    hayro_error: &str,
) -> Result<RenderedPage, ToolError> {
    let (width, height) =
        fallback::render_page(input, plan.page, options.size, options.encoding, &plan.out).map_err(|why| {
            ToolError::new(
                ErrorCode::InvalidPdf,
                format!("page {} cannot be rendered ({hayro_error}; fallback: {why})", plan.page),
            )
        })?;
    Ok(RenderedPage { page: plan.page, path: plan.out, width, height, renderer: Renderer::Pdftoppm })
}

/// A document hayro cannot open: if lopdf can (it rebuilds damaged cross-reference tables),
/// pdftoppm renders its pages; otherwise lopdf's verdict (`invalid_pdf`, `encrypted_input`)
/// stands.
fn render_damaged(
    input: &Path,
    options: &RenderOptions<'_>,
    choose: impl FnOnce(u32) -> Result<Vec<u32>, ToolError>,
    out_dir: &Path,
    stem: &str,
) -> Result<Vec<RenderedPage>, ToolError> {
    let info = crate::info::info(input)?;
    let pages = choose(info.pages)?;
    let mut rendered = Vec::with_capacity(pages.len());
    for number in pages {
        let size = &info.page_sizes[number as usize - 1];
        let turned = size.rotation % 180 == 90;
        let size_pt = if turned { (size.height, size.width) } else { (size.width, size.height) };
        let plan = plan(number, size_pt, info.pages, options, out_dir, stem)?;
        rendered.push(fallback_page(input, plan, options, "hayro cannot open the document")?);
    }
    Ok(rendered)
}

/// Writes `bytes` to a temp file beside `out`, then renames it: an output appears whole or not
/// at all.
pub(crate) fn write_atomic(bytes: &[u8], out: &Path) -> Result<(), ToolError> {
    use std::io::Write;
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let fail = |e: &dyn std::fmt::Display| ToolError::internal(format!("cannot write {}: {e}", out.display()));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".scanpro-").suffix(".part");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut temp = builder.tempfile_in(dir).map_err(|e| fail(&e))?;
    temp.write_all(bytes).map_err(|e| fail(&e))?;
    temp.persist(out).map(drop).map_err(|e| fail(&e.error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(size: RenderSize) -> RenderOptions<'static> {
        RenderOptions { size, encoding: RasterEncoding::Png, password: None }
    }

    #[test]
    fn plans_name_pages_sortably_and_size_them() {
        let dir = Path::new("/out");
        let p = plan(7, (612.0, 792.0), 12, &options(RenderSize::Dpi(150)), dir, "book").unwrap();
        assert_eq!(p.out, Path::new("/out/book_p007.png"));
        assert_eq!(p.pixels, (1275, 1650));
        let p = plan(7, (612.0, 792.0), 1200, &options(RenderSize::Width(200)), dir, "book").unwrap();
        assert_eq!(p.out, Path::new("/out/book_p0007.png"));
        assert_eq!(p.pixels, (200, 259));
    }

    /// Tests that need the corpus and pdftoppm.
    mod with_engines {
        use super::*;
        use scanpro_testkit::corpus::text_pdf;

        /// hayro renders every corpus page, so its failure is simulated: the page goes to pdftoppm.
        #[test]
        fn a_page_hayro_fails_on_is_rendered_by_pdftoppm() {
            let dir = tempfile::tempdir().unwrap();
            let pdf = text_pdf("lscape.pdf");
            let jpeg = RenderOptions {
                size: RenderSize::Dpi(50),
                encoding: RasterEncoding::Jpeg { quality: 80 },
                password: None,
            };
            let planned = plan(2, (595.276, 841.89), 3, &jpeg, dir.path(), "lscape").unwrap();
            let crashed = Ok(Outcome::Crashed("page 2: the PDF library failed on this document (boom)".into()));
            let page = finish(&pdf, planned.clone(), crashed, &jpeg).unwrap();
            assert_eq!((page.page, page.renderer), (2, Renderer::Pdftoppm));
            assert!(page.path.ends_with("lscape_p002.jpg"));
            assert!(std::fs::read(&page.path).unwrap().starts_with(b"\xFF\xD8\xFF"));
            let (width, height) = image::image_dimensions(&page.path).unwrap();
            assert_eq!((page.width, page.height), (width, height));
            assert!(
                width.abs_diff(planned.pixels.0) <= 1 && height.abs_diff(planned.pixels.1) <= 1,
                "{width} × {height}"
            );

            let thumbnail = RenderOptions { size: RenderSize::Width(120), ..options(RenderSize::Width(120)) };
            let planned = plan(1, (612.0, 792.0), 3, &thumbnail, dir.path(), "thumb").unwrap();
            let page = finish(&pdf, planned, Ok(Outcome::Crashed("boom".into())), &thumbnail).unwrap();
            assert_eq!(image::image_dimensions(&page.path).unwrap().0, 120);
        }

        #[test]
        fn no_fallback_for_password_protected_documents_or_other_errors() {
            let dir = tempfile::tempdir().unwrap();
            let pdf = text_pdf("lscape.pdf");
            let locked = RenderOptions { password: Some("secret"), ..options(RenderSize::Dpi(50)) };
            let planned = plan(1, (612.0, 792.0), 3, &locked, dir.path(), "x").unwrap();
            let err = finish(&pdf, planned.clone(), Ok(Outcome::Crashed("boom".into())), &locked).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (ErrorCode::InternalError, "boom"));
            // A failure to write is no reason to render again.
            let full = Err(ToolError::internal("cannot write x_p001.png: no space left on device"));
            let err = finish(&pdf, planned, full, &options(RenderSize::Dpi(50))).unwrap_err();
            assert!(err.message.starts_with("cannot write"), "{err}");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        }

        #[test]
        fn absurd_pages_are_refused_by_name_and_size() {
            let err =
                plan(3, (14_400.0, 14_400.0), 5, &options(RenderSize::Dpi(300)), Path::new("."), "x").unwrap_err();
            assert_eq!(err.code, ErrorCode::ResourceLimit);
            assert!(err.message.starts_with("page 3 would be 60000 × 60000 pixels"), "{err}");
            let err = plan(1, (100_000.0, 10.0), 1, &options(RenderSize::Dpi(72)), Path::new("."), "x").unwrap_err();
            assert_eq!(err.code, ErrorCode::ResourceLimit);
        }
    }
}
