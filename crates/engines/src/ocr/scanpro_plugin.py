"""ScanPro's OCRmyPDF plugin: machine-readable progress on stderr, and a resolution for images
that do not state a credible one.

Each line it writes is whole and flushed at once, so it never interleaves with log lines:

    SCANPRO-PROGRESS <done> <total>   pages through the OCR stage, from 0 to the page count
    SCANPRO-PAGE-OCR <page>           a page (1-based) was handed to Tesseract; skipped pages are not
    SCANPRO-EXCEPTION <type>          OCRmyPDF logged this exception (its exit status is then 15 or 7)

Written against OCRmyPDF 14: its OCR stage is the progress bar described "OCR" ("Image
processing" when Tesseract is not used), updated twice per page with a unit_scale of 0.5. The
other bars (scanning contents, optimising, PDF/A conversion) are not pages done, and are ignored.
"""

import logging
import sys

from ocrmypdf import hookimpl

OCR_STAGES = {"OCR", "Image processing"}


def emit(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class PageProgress:
    """A tqdm-like bar that reports whole pages of the OCR stage."""

    def __init__(self, *_args, total=None, desc=None, unit_scale=1, **_kwargs):
        self.scale = unit_scale or 1
        self.active = desc in OCR_STAGES and bool(total)
        self.total = int(total * self.scale) if self.active else 0
        self.count = 0
        self.reported = None

    def __enter__(self):
        self.report()
        return self

    def __exit__(self, *_exc):
        return False

    def update(self, n=1, **_kwargs):
        self.count += n
        self.report()

    def close(self):
        pass

    def report(self):
        if not self.active:
            return
        done = min(int(self.count * self.scale), self.total)
        if done != self.reported:
            self.reported = done
            emit(f"SCANPRO-PROGRESS {done} {self.total}")


class ExceptionNames(logging.Handler):
    """Names the exception behind a failure, so that it is classified by type, not by message."""

    def emit(self, record):
        if record.exc_info and record.exc_info[0] is not None:
            emit(f"SCANPRO-EXCEPTION {record.exc_info[0].__name__}")


logging.getLogger("ocrmypdf").addHandler(ExceptionNames(level=logging.ERROR))


@hookimpl
def get_progressbar_class():
    return PageProgress


@hookimpl
def add_options(parser):
    parser.add_argument(
        "--scanpro-image-dpi",
        type=int,
        default=300,
        help="Resolution given to an image input without a credible one of its own.",
    )


@hookimpl
def check_options(options):
    # OCRmyPDF refuses an image without a resolution or with one of 96 dpi or less; --image-dpi
    # would override every image's own, so the default is given only to those it would refuse.
    if options.image_dpi:
        return
    try:
        from PIL import Image

        with Image.open(options.input_file) as image:
            dpi = image.info.get("dpi")
    except Exception:
        return  # Not an image: a PDF, or something OCRmyPDF refuses with its own message.
    if dpi is None or tuple(dpi) <= (96, 96):
        options.image_dpi = options.scanpro_image_dpi


@hookimpl
def filter_ocr_image(page, image):
    emit(f"SCANPRO-PAGE-OCR {page.pageno + 1}")
    return image
