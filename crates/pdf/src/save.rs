//! Writing outputs atomically: an output appears complete under its name or not at all, so a
//! crash or a kill mid-write never leaves a truncated PDF for the worker to upload.
//!
//! Two writers: lopdf's, for a document held whole in memory, and [`StreamingPdf`], which
//! writes objects as soon as they are final, for merges whose output would not fit in memory
//! as lopdf objects (a 10 MB book takes some 250 MB once parsed).

use lopdf::{Dictionary, Document, Object, ObjectId, Writer};
use scanpro_core::ToolError;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

const BUFFER: usize = 256 * 1024;

/// Writes `doc` with lopdf's plain writer (no object streams: the fastest, and every reader
/// accepts it) to a temp file beside `out`, then renames it over `out`.
pub(crate) fn save_atomic(doc: &mut Document, out: &Path) -> Result<(), ToolError> {
    set_stream_lengths(doc);
    let temp = temp_beside(out)?;
    let mut writer = BufWriter::with_capacity(BUFFER, temp.as_file());
    doc.save_to(&mut writer).map_err(|e| write_error(out, &e))?;
    writer.flush().map_err(|e| write_error(out, &e))?;
    drop(writer);
    persist(temp, out)
}

/// Writes finished bytes to a temp file beside `out`, then renames it over `out`.
pub(crate) fn write_bytes_atomic(bytes: &[u8], out: &Path) -> Result<(), ToolError> {
    let mut temp = temp_beside(out)?;
    temp.write_all(bytes).map_err(|e| write_error(out, &e))?;
    persist(temp, out)
}

/// The writer copies each stream's `/Length` as it finds it, and a damaged file's lengths can be
/// missing, indirect or wrong: every stream gets the length of the data it holds.
fn set_stream_lengths(doc: &mut Document) {
    for object in doc.objects.values_mut() {
        if let Object::Stream(stream) = object {
            stream.dict.set("Length", stream.content.len() as i64);
        }
    }
}

/// A PDF written object by object, with a classic cross-reference table at the end.
pub(crate) struct StreamingPdf {
    out: PathBuf,
    temp: NamedTempFile,
    writer: Counting<BufWriter<File>>,
    /// Object number → byte offset.
    offsets: BTreeMap<u32, u64>,
}

impl StreamingPdf {
    /// Starts a PDF headed `%PDF-{version}` beside `out` (a later version can still be declared
    /// in the catalog's `/Version`).
    pub(crate) fn create(out: &Path, version: &str) -> Result<Self, ToolError> {
        let temp = temp_beside(out)?;
        let file = temp.as_file().try_clone().map_err(|e| write_error(out, &e))?;
        let mut pdf = Self {
            out: out.to_owned(),
            temp,
            writer: Counting { inner: BufWriter::with_capacity(BUFFER, file), written: 0 },
            offsets: BTreeMap::new(),
        };
        pdf.io(|w| {
            writeln!(w, "%PDF-{version}")?;
            // High bytes on the second line mark the file as binary for transfer tools.
            w.write_all(b"%\xE2\xE3\xCF\xD3\n")
        })?;
        Ok(pdf)
    }

    /// Writes one object; streams get the `/Length` of the data they hold.
    pub(crate) fn write(&mut self, id: ObjectId, object: &Object) -> Result<(), ToolError> {
        self.offsets.insert(id.0, self.writer.written);
        let (number, generation) = id;
        self.io(|w| {
            writeln!(w, "{number} {generation} obj")?;
            match object {
                Object::Stream(stream) if !has_true_length(stream) => {
                    let mut stream = stream.clone();
                    stream.dict.set("Length", stream.content.len() as i64);
                    Writer::write_object(w, &Object::Stream(stream))?;
                }
                _ => Writer::write_object(w, object)?,
            }
            w.write_all(b"\nendobj\n")
        })
    }

    /// Writes the cross-reference table and `trailer` (its `/Size` is set here), then moves the
    /// file into place. Numbers never written become `null` objects, so the table has no gaps.
    pub(crate) fn finish(mut self, mut trailer: Dictionary) -> Result<(), ToolError> {
        let last = self.offsets.keys().next_back().copied().unwrap_or(0);
        for number in 1..=last {
            if !self.offsets.contains_key(&number) {
                self.write((number, 0), &Object::Null)?;
            }
        }
        let table_start = self.writer.written;
        let offsets = std::mem::take(&mut self.offsets);
        trailer.set("Size", i64::from(last) + 1);
        self.io(|w| {
            write!(w, "xref\n0 {}\n0000000000 65535 f\r\n", last + 1)?;
            for offset in offsets.values() {
                write!(w, "{offset:010} 00000 n\r\n")?;
            }
            w.write_all(b"trailer\n")?;
            Writer::write_object(w, &Object::Dictionary(trailer))?;
            write!(w, "\nstartxref\n{table_start}\n%%EOF\n")?;
            w.flush()
        })?;
        drop(self.writer);
        persist(self.temp, &self.out)
    }

    fn io(
        &mut self,
        write: impl FnOnce(&mut Counting<BufWriter<File>>) -> std::io::Result<()>,
    ) -> Result<(), ToolError> {
        write(&mut self.writer).map_err(|e| write_error(&self.out, &e))
    }
}

fn has_true_length(stream: &lopdf::Stream) -> bool {
    matches!(stream.dict.get(b"Length"), Ok(Object::Integer(n)) if *n == stream.content.len() as i64)
}

/// Counts the bytes written: object offsets for the cross-reference table.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A temp file in `out`'s directory, so the final rename stays on one filesystem.
fn temp_beside(out: &Path) -> Result<NamedTempFile, ToolError> {
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".scanpro-").suffix(".part");
    // Temp files are private by default; an output is an ordinary file.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    builder.tempfile_in(dir).map_err(|e| write_error(out, &e))
}

fn persist(temp: NamedTempFile, out: &Path) -> Result<(), ToolError> {
    temp.persist(out).map(drop).map_err(|e| write_error(out, &e.error))
}

fn write_error(out: &Path, error: &dyn std::fmt::Display) -> ToolError {
    ToolError::internal(format!("cannot write {}: {error}", out.display()))
}
