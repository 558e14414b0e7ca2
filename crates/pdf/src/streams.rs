//! Stream filters every reader agrees on. An output must pass `qpdf --check`, which decodes
//! every page's content; a stream that does not decode there is either re-encoded with a filter
//! everyone reads, or the file is refused as damaged (the repair tool is the way forward).

use lopdf::{DEFAULT_MAX_DECOMPRESSED_SIZE, DecompressError, Document, Error, Object, ObjectId, Stream};
use scanpro_core::{ErrorCode, ToolError};
use std::collections::HashSet;

/// Re-encodes every stream compressed with `BrotliDecode` alone with `FlateDecode`: Brotli is a
/// proposed filter that lopdf and pdf.js read but qpdf and poppler do not.
pub(crate) fn reencode_brotli(doc: &mut Document) {
    for object in doc.objects.values_mut() {
        if let Object::Stream(stream) = object
            && only_filter(stream, b"BrotliDecode")
        {
            let _ = reencode_with_flate(stream);
        }
    }
}

/// Makes the content streams of `pages` (1-based number, object id) decodable by every reader,
/// or refuses the document naming the first page that cannot be.
///
/// LZW decoders disagree on damaged data (qpdf gives up where lopdf and poppler keep what
/// decodes), so LZW content is re-encoded with Flate from what lopdf decodes. Any other content
/// stream must decode.
pub(crate) fn prepare_page_contents(
    doc: &mut Document,
    pages: impl IntoIterator<Item = (u32, ObjectId)>,
) -> Result<(), ToolError> {
    for (id, stream) in reencoded_page_contents(doc, pages)? {
        doc.objects.insert(id, Object::Stream(stream));
    }
    Ok(())
}

/// [`prepare_page_contents`] without touching `doc`: the re-encoded streams, to be written in
/// their place (a signature's incremental update writes them as a new revision).
pub(crate) fn reencoded_page_contents(
    doc: &Document,
    pages: impl IntoIterator<Item = (u32, ObjectId)>,
) -> Result<Vec<(ObjectId, Stream)>, ToolError> {
    let mut checked = HashSet::new();
    let mut reencoded = Vec::new();
    for (number, page) in pages {
        for stream_id in doc.get_page_contents(page) {
            if !checked.insert(stream_id) {
                continue;
            }
            let Some(Object::Stream(stream)) = doc.objects.get(&stream_id) else { continue };
            if only_filter(stream, b"LZWDecode") {
                let mut copy = stream.clone();
                reencode_with_flate(&mut copy).map_err(|error| undecodable(number, stream, error))?;
                reencoded.push((stream_id, copy));
            } else {
                stream
                    .decompressed_content_with_limit(DEFAULT_MAX_DECOMPRESSED_SIZE)
                    .map_err(|error| undecodable(number, stream, error))?;
            }
        }
    }
    Ok(reencoded)
}

fn only_filter(stream: &Stream, filter: &[u8]) -> bool {
    stream.filters().is_ok_and(|filters| filters == [filter])
}

fn reencode_with_flate(stream: &mut Stream) -> Result<(), Error> {
    let plain = stream.decompressed_content_with_limit(DEFAULT_MAX_DECOMPRESSED_SIZE)?;
    stream.set_plain_content(plain);
    // Left uncompressed if compression fails: bigger, still readable everywhere.
    let _ = stream.compress();
    Ok(())
}

fn undecodable(page: u32, stream: &Stream, error: Error) -> ToolError {
    match error {
        Error::Decompress(DecompressError::MemoryLimitExceeded { .. }) => ToolError::new(
            ErrorCode::ResourceLimit,
            format!("page {page}: its content inflates beyond the processing limit"),
        ),
        Error::Unimplemented(_) => {
            let filters = stream.filters().unwrap_or_default();
            let names: Vec<_> = filters.iter().map(|f| String::from_utf8_lossy(f)).collect();
            ToolError::new(
                ErrorCode::InvalidPdf,
                format!(
                    "page {page}: its content uses a compression filter that is not supported ({})",
                    names.join(" ")
                ),
            )
        }
        other => ToolError::new(
            ErrorCode::InvalidPdf,
            format!("page {page}: its content is damaged and cannot be decoded ({other}); try the repair tool"),
        ),
    }
}
