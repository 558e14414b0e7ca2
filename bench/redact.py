#!/usr/bin/env python3
"""Redaction: ScanPro against PyMuPDF, side by side in one run.

    bench/redact.py [--repeat 3] [--no-build]     # uses target/release/scanpro; writes bench/out/redact.json

Each document has every occurrence of one word redacted, whole file in, whole file out:
ScanPro `scanpro run redact --search WORD`, and PyMuPDF (the usual library for true redaction:
`page.search_for`, `add_redact_annot`, `apply_redactions`, `save`) in a Python process of its
own, timed the same way. PyMuPDF is installed from PyPI into a private virtual environment
when missing. Inputs: three `dev` PDFs of the corpus, from 20 to 352 pages. Each output is
checked: pdftotext reads the word zero times, and the page count is kept. Times are medians of
`--repeat` runs, the two tools taking turns.
"""
import pathlib, subprocess, sys, tempfile
from corpus import CORPUS, ROOT, medians_taking_turns, pages, release_bench_args, write_rows

SCANPRO = ROOT / "target" / "release" / "scanpro"
VENV = pathlib.Path.home() / ".cache" / "scanpro" / "bench-pymupdf"
DOCUMENTS = [("pdf-text/ghsystem-manual.pdf", "statement"), ("pdf-text/pypdf_GeoTopo-komprimiert.pdf", "Geometrie"),
             ("pdf-text/pdfjs_freeculture.pdf", "culture")]
PYMUPDF = """
import sys, fitz
source, word, out = sys.argv[1:4]
doc = fitz.open(source)
for page in doc:
    for rect in page.search_for(word):
        page.add_redact_annot(rect, fill=(0, 0, 0))
    page.apply_redactions()
doc.save(out, garbage=3, deflate=True)
"""


def python():
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if subprocess.run([str(VENV / "bin" / "python"), "-c", "import fitz"], capture_output=True).returncode != 0:
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "pymupdf==1.26.5"], check=True)
    return str(VENV / "bin" / "python")




def check(pdf, word, count):
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    if word.lower() in text.lower():
        sys.exit(f"{pdf}: pdftotext still reads {word!r}")
    if pages(pdf) != count:
        sys.exit(f"{pdf}: {pages(pdf)} pages, expected {count}")


def main():
    args = release_bench_args(__doc__)
    interpreter = python()
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-redact-"))
    script = work / "redact_pymupdf.py"
    script.write_text(PYMUPDF)
    rows = []
    for relative, word in DOCUMENTS:
        source = CORPUS / relative
        count = pages(source)
        ours = [str(SCANPRO), "run", "redact", "--search", word, str(source), "-o", str(work / "scanpro.pdf")]
        theirs = [interpreter, str(script), str(source), word, str(work / "pymupdf.pdf")]
        medians = medians_taking_turns({"scanpro": ours, "pymupdf": theirs}, args.repeat)
        check(work / "scanpro.pdf", word, count)
        check(work / "pymupdf.pdf", word, count)
        ours_s, theirs_s = medians["scanpro"], medians["pymupdf"]
        row = {"document": source.name, "pages": count, "word": word, "scanpro_s": round(ours_s, 3),
               "pymupdf_s": round(theirs_s, 3), "ratio": round(theirs_s / ours_s, 2)}
        rows.append(row)
        print(f"{source.name:<36} {count:>4} p  {word!r:<12} scanpro {ours_s:7.3f} s  pymupdf {theirs_s:7.3f} s  "
              f"{row['ratio']:>5.2f}×", flush=True)
    write_rows("redact", rows)


if __name__ == "__main__":
    main()
