#!/usr/bin/env python3
"""Colour JPEG page scans at 200 dpi, as an office scanner writes them, made from corpus pages.

    bench/scans.py            # writes bench/out/scans/*.pdf (skips those already made)

The corpus's own scans are gray or bilevel images; what offices mostly send are colour JPEG
scans of black-and-white pages. Each document here is pages of a corpus PDF rendered by
pdftoppm at 200 dpi in colour, given what a scanner adds (a paper tint, sensor noise of
sigma 2, a blur of radius 0.6; seeded, so every run makes the same bytes), saved as JPEG at
quality 85 with 4:2:0 chroma and an sRGB profile (Pillow's libjpeg) and wrapped into a PDF by img2pdf, which keeps
the JPEG bytes. Needs `pip install numpy Pillow img2pdf`.
"""
import io, pathlib, subprocess, sys

from corpus import CORPUS

try:
    import img2pdf
    import numpy as np
    from PIL import Image, ImageCms, ImageFilter
except ImportError as missing:
    sys.exit(f"{missing}: pip install numpy Pillow img2pdf")

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "scans"
DPI = 200
# (name, corpus PDF, first page, last page): prose, a two-column paper with figures, a
# newsletter, a colour brochure.
SCANS = [
    ("jpegscan_freeculture_p30-39", "pdf-text/pdfjs_freeculture.pdf", 30, 39),
    ("jpegscan_tracemonkey_p1-4", "pdf-text/pdfjs_tracemonkey.pdf", 1, 4),
    ("jpegscan_ltnews17_p1-2", "pdf-text/ltnews17.pdf", 1, 2),
    ("jpegscan_pdkids_p3-6", "pdf-text/pdfjs_pdkids.pdf", 3, 6),
]
PAPER = np.array([0.97, 0.955, 0.92])
# Scanners tag their JPEGs with the colour profile they were made in.
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def scanned_page(pdf, page, seed):
    ppm = subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile", str(pdf)],
                         capture_output=True, check=True).stdout
    pixels = np.asarray(Image.open(io.BytesIO(ppm)).convert("RGB"), dtype=np.float32)
    noise = np.random.default_rng(seed).normal(0.0, 2.0, pixels.shape[:2])[..., None]
    scanned = np.clip(pixels * PAPER + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(scanned).filter(ImageFilter.GaussianBlur(0.6))
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG", quality=85, subsampling="4:2:0", dpi=(DPI, DPI), icc_profile=SRGB)
    return jpeg.getvalue()


def make_scans():
    """The scan PDFs, made when missing; their paths."""
    OUT.mkdir(parents=True, exist_ok=True)
    made = []
    for name, source, first, last in SCANS:
        path = OUT / f"{name}.pdf"
        if not path.is_file():
            pages = [scanned_page(CORPUS / source, page, seed=page) for page in range(first, last + 1)]
            path.write_bytes(img2pdf.convert(pages))
        made.append(path)
    return made


if __name__ == "__main__":
    for path in make_scans():
        print(f"{path.stat().st_size:>10}  {path}")
