//! Rust-native PDF operations over [`lopdf`]: pure functions, paths in → paths out.
//!
//! Every public operation opens its input with [`open()`], which classifies a bad input with a
//! stable [`ErrorCode`](scanpro_core::ErrorCode) (`unsupported_format`, `encrypted_input`,
//! `invalid_pdf`, `resource_limit`), and runs inside a panic guard: lopdf can panic on hostile
//! input, and a panic becomes an `internal_error` instead of unwinding into the caller. The guard
//! cannot stop a hang or an abort, so production runs these functions in a killable child
//! process as well.
//!
//! Merge and split build each output by copying only the objects its pages reach into a fresh
//! document (one object-id space, one flat page tree); rotate edits the document in place.
//! Every output is written atomically (temp file in the output's directory, then rename) and
//! passes `qpdf --check`: what would not (undecodable page content) is refused as `invalid_pdf`.
//!
//! # What survives
//! - Page content, resources, annotations, and each page's inherited `MediaBox`, `CropBox`,
//!   `Resources` and `Rotate` (copied onto the page, since the parent tree is replaced).
//! - Links: named destinations are resolved to explicit ones while copying, so internal links
//!   keep working without the source's name tree. A link whose target page is not in the
//!   output (split) is removed rather than left pointing nowhere.
//! - Bookmarks, in [`merge()`]: each input becomes one top-level bookmark (closed) holding that
//!   input's own outline. [`split()`] drops the outline; [`rotate()`] keeps the whole document.
//! - Dropped by merge and split: interactive forms (`AcroForm`; widget annotations still show
//!   their appearance), the structure tree (tagging), article threads, document-level
//!   JavaScript, embedded-file lists and page labels. The `Info` dictionary of the (first) input
//!   is kept.
//!
//! # Layout
//! - [`open`](mod@open): read, sniff and load an input; classify failures; decrypt with the
//!   empty user password when that opens the file.
//! - [`format`](mod@format): content sniffing (`%PDF-` within the first 1024 bytes; other
//!   kinds by magic bytes).
//! - `guard`: the panic guard every public function runs in.
//! - `copy`: the object-graph copier that moves or clones the objects reachable from pages into
//!   a new document, rewriting references and destinations.
//! - `dests`: the table of a document's named destinations.
//! - `page_tree`: inherited page attributes (`MediaBox`, `CropBox`, `Resources`, `Rotate`), and
//!   flattening a damaged page tree in place.
//! - `output`: a fresh output document: catalog, one flat page tree, `Info`.
//! - `save`: atomic writes.
//! - `streams`: re-encodes filters not every reader knows (Brotli, damaged LZW) and refuses
//!   pages whose content does not decode, so every output passes `qpdf --check`.
//! - [`merge`](mod@merge), [`split`](mod@split), [`rotate`](mod@rotate), [`info`](mod@info):
//!   the operations.
//! - [`images_to_pdf`](mod@images_to_pdf) (written with krilla) and [`render`](mod@render)
//!   (hayro, with poppler's `pdftoppm` as fallback): between raster images and PDF pages.
//! - [`stamp`](mod@stamp): text and images drawn on existing pages (watermarks, page numbers,
//!   visual signatures), drawn once with krilla and placed on each page as a Form XObject.
//! - [`pages`](mod@pages): remove, extract and reorder pages; [`security`](mod@security):
//!   AES-256 protect and unlock; [`metadata`](mod@metadata): the Info dictionary;
//!   [`attachments`](mod@attachments): files embedded in the document;
//!   [`accessible`](mod@accessible): PDF/UA identification of a tagged PDF;
//!   [`forms`](mod@forms): list and fill AcroForm fields; [`impose`](mod@impose): n-up,
//!   booklets and pages scaled to a paper size, pages drawn as Form XObjects on new sheets;
//!   [`repair`](mod@repair): lopdf, then qpdf, then Ghostscript; [`sanitize`](mod@sanitize):
//!   scripts, embedded files, links out and metadata removed; [`annotations`](mod@annotations):
//!   comments, links or form fields removed; [`outline`](mod@outline): bookmarks read and
//!   written; [`ink`](mod@ink): blank pages and white margins found on small renderings
//!   (`remove_blank_pages`, `crop`); [`compare`](mod@compare): two documents' words diffed,
//!   the changes reported and drawn side by side; [`redact`](mod@redact): what lies under
//!   each box removed, by areas or by search, pages rasterised where glyphs cannot be cut.
//! - [`signatures`](mod@signatures): PAdES signing from a PKCS#12 file as an incremental update
//!   (the signed bytes kept as they were), and each signature's integrity, coverage, time and
//!   trust checked; [`reflow`](mod@reflow): the text read back as Markdown or HTML, its
//!   structure found from poppler's layout.
//! - [`streaming`](mod@streaming): the qpdf path that merge, split and rotate take for inputs
//!   above `large_input_mb`.

pub mod accessible;
pub mod annotations;
pub mod attachments;
pub mod compare;
mod copy;
mod dests;
pub mod format;
pub mod forms;
mod guard;
pub mod images_to_pdf;
pub mod impose;
pub mod info;
pub mod ink;
pub mod merge;
pub mod metadata;
pub mod open;
pub mod outline;
mod output;
mod page_tree;
pub mod pages;
pub mod redact;
pub mod reflow;
pub mod render;
pub mod repair;
mod rewrite;
pub mod rotate;
pub mod sanitize;
mod save;
pub mod security;
pub mod signatures;
pub mod split;
pub mod stamp;
pub mod streaming;
mod streams;
mod text_layer;

pub use accessible::{PdfUaReport, mark_pdfua};
pub use images_to_pdf::{ImageInput, ImagePage, images_to_pdf};
pub use info::{DocInfo, Metadata, PageInfo, info};
pub use lopdf;
pub use merge::{MergeReport, merge, merge_with_titles};
pub use metadata::{MetadataReport, MetadataUpdate, write_metadata};
pub use open::open;
pub use open::open_with_password;
pub use pages::{PagesReport, select_pages};
pub use render::{RasterEncoding, RenderOptions, RenderSize, RenderedPage, Renderer, render_pages};
pub use repair::{RepairMethod, RepairReport, repair};
pub use rotate::{RotateReport, rotate, rotate_with};
pub use security::{Permissions, ProtectReport, UnlockReport, protect, unlock};
pub use split::{SizeSplitReport, SizedPart, split_by_size};
pub use split::{split, split_file_names, split_with};
pub use stamp::{Anchor, Mark, MarkContent, MarkSize, Placement, StampPlan, StampReport, TextMark, stamp};
