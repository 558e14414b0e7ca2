//! The `ocrmypdf` command line for a request, and the lines its plugin (`scanpro_plugin.py`)
//! writes back.

use scanpro_core::params::{OcrMode, OcrParams};
use scanpro_process::progress::PageProgress;
use std::ffi::OsString;
use std::path::Path;

/// The plugin's source, written beside each run's input.
pub(crate) const PLUGIN_SOURCE: &str = include_str!("scanpro_plugin.py");

/// What OCRmyPDF writes, and where.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    /// A searchable PDF.
    Pdf(&'a Path),
    /// A searchable PDF/A-2b.
    Pdfa(&'a Path),
    /// Only the recognised text, pages separated by form feeds; no PDF.
    Sidecar(&'a Path),
}

/// Arguments of `ocrmypdf`: every value is ours (checked languages, numbers, paths in the run's
/// directory), none is user text.
pub(crate) fn ocrmypdf_args(
    params: &OcrParams,
    jobs: usize,
    plugin: &Path,
    input: &Path,
    target: Target<'_>,
) -> Vec<OsString> {
    let mut args: Vec<OsString> =
        vec!["--plugin".into(), plugin.into(), "--jobs".into(), jobs.max(1).to_string().into()];
    args.extend(["-l".into(), params.languages.join("+").into()]);
    args.push(
        match params.mode {
            OcrMode::SkipText => "--skip-text",
            OcrMode::Force => "--force-ocr",
            OcrMode::Redo => "--redo-ocr",
        }
        .into(),
    );
    if params.deskew {
        args.push("--deskew".into());
    }
    if params.rotate_pages {
        args.push("--rotate-pages".into());
    }
    args.extend(["--scanpro-image-dpi".into(), params.image_dpi_or_default().to_string().into()]);
    let (output_type, output): (&str, OsString) = match target {
        // PDF/A only when asked: the conversion can grow files and loses some Unicode text.
        Target::Pdf(path) => ("pdf", path.into()),
        Target::Pdfa(path) => ("pdfa-2", path.into()),
        Target::Sidecar(path) => {
            args.extend(["--sidecar".into(), path.into()]);
            ("none", "-".into())
        }
    };
    args.extend(["--output-type".into(), output_type.into(), input.into(), output]);
    args
}

/// A line of the plugin's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PluginLine<'a> {
    /// Pages through the OCR stage.
    Progress(PageProgress),
    /// A page (1-based) was handed to Tesseract.
    PageOcr(u32),
    /// The type of an exception OCRmyPDF logged as it failed.
    Exception(&'a str),
}

impl<'a> PluginLine<'a> {
    /// The plugin's lines; `None` for everything else OCRmyPDF writes (its log).
    pub(crate) fn parse(line: &'a str) -> Option<Self> {
        let mut words = line.split_ascii_whitespace();
        let line = match words.next()? {
            "SCANPRO-PROGRESS" => {
                Self::Progress(PageProgress { done: words.next()?.parse().ok()?, total: words.next()?.parse().ok()? })
            }
            "SCANPRO-PAGE-OCR" => Self::PageOcr(words.next()?.parse().ok()?),
            "SCANPRO-EXCEPTION" => Self::Exception(words.next()?),
            _ => return None,
        };
        words.next().is_none().then_some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(args: &[OsString]) -> String {
        args.iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn arguments_follow_the_parameters() {
        let (plugin, input) = (Path::new("/w/plugin.py"), Path::new("/w/input.pdf"));
        let params = OcrParams::default();
        assert_eq!(
            text(&ocrmypdf_args(&params, 2, plugin, input, Target::Pdf(Path::new("/w/out.pdf")))),
            "--plugin /w/plugin.py --jobs 2 -l eng --skip-text --scanpro-image-dpi 300 --output-type pdf \
             /w/input.pdf /w/out.pdf"
        );
        let params = OcrParams {
            languages: vec!["deu".into(), "eng".into()],
            mode: OcrMode::Force,
            deskew: true,
            rotate_pages: true,
            image_dpi: Some(200),
            ..OcrParams::default()
        };
        assert_eq!(
            text(&ocrmypdf_args(&params, 0, plugin, input, Target::Sidecar(Path::new("/w/out.txt")))),
            "--plugin /w/plugin.py --jobs 1 -l deu+eng --force-ocr --deskew --rotate-pages --scanpro-image-dpi 200 \
             --sidecar /w/out.txt --output-type none /w/input.pdf -"
        );
        let params = OcrParams { mode: OcrMode::Redo, ..OcrParams::default() };
        let args = text(&ocrmypdf_args(&params, 4, plugin, input, Target::Pdfa(Path::new("/w/out.pdf"))));
        assert!(args.contains("--redo-ocr") && args.contains("--output-type pdfa-2"), "{args}");
    }

    #[test]
    fn plugin_lines_parse_and_log_lines_do_not() {
        assert_eq!(
            PluginLine::parse("SCANPRO-PROGRESS 3 10"),
            Some(PluginLine::Progress(PageProgress { done: 3, total: 10 }))
        );
        assert_eq!(PluginLine::parse("SCANPRO-PAGE-OCR 7"), Some(PluginLine::PageOcr(7)));
        assert_eq!(
            PluginLine::parse("SCANPRO-EXCEPTION DecompressionBombError"),
            Some(PluginLine::Exception("DecompressionBombError"))
        );
        for other in [
            "",
            "   1 skipping all processing on this page",
            "SCANPRO-PROGRESS 3",
            "SCANPRO-PAGE-OCR x",
            "SCANPRO-PAGE-OCR 1 2",
        ] {
            assert_eq!(PluginLine::parse(other), None, "{other:?}");
        }
    }
}
