#!/usr/bin/env python3
"""Page layout: 4-up and booklet imposition, ScanPro against pdfjam, side by side in one run.

    bench/layout.py [--repeat 3] [--no-build]     # uses target/release/scanpro; writes bench/out/layout.json

ScanPro: `scanpro run n_up --pages_per_sheet 4` and `scanpro run booklet`. Anchor: pdfjam
(LaTeX's pdfpages, the usual command-line tool for both jobs): `pdfjam --nup 2x2` and
`pdfjam --booklet true --landscape`. pdfjam comes with Debian's texlive-extra-utils and
texlive-latex-recommended, which this script installs when missing (they are not needed to run
or test ScanPro). Inputs: three `dev` PDFs of the corpus, from 20 to 1321 pages. Each output is
checked: its sheet count by pdfinfo, the text of a source page found on its sheet by pdftotext,
and qpdf --check. Times are medians of `--repeat` runs, the two tools taking turns.
"""
import math, os, pathlib, shutil, subprocess, sys, tempfile
from corpus import CORPUS, ROOT, medians_taking_turns, pages, release_bench_args, write_rows

SCANPRO = ROOT / "target" / "release" / "scanpro"
DOCUMENTS = ["pdf-text/ghsystem-manual.pdf", "pdf-text/pdfjs_freeculture.pdf", "pdf-text/pgfmanual.pdf"]


def ensure_pdfjam():
    if shutil.which("pdfjam"):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                           "texlive-extra-utils", "texlive-latex-recommended"], check=True,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))




def check(pdf, sheets, needle_page_source, sheet):
    if pages(pdf) != sheets:
        sys.exit(f"{pdf}: {pages(pdf)} sheets, expected {sheets}")
    if subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True).returncode not in (0, 3):
        sys.exit(f"{pdf} fails qpdf --check")
    source, page = needle_page_source
    words = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(source), "-"],
                           capture_output=True, text=True).stdout.split()
    found = subprocess.run(["pdftotext", "-f", str(sheet), "-l", str(sheet), str(pdf), "-"],
                           capture_output=True, text=True).stdout
    longest = max(words, key=len, default="")
    if longest and longest not in found:
        sys.exit(f"{pdf} sheet {sheet}: {longest!r} from page {page} not found")


def main():
    args = release_bench_args(__doc__)
    ensure_pdfjam()
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-layout-"))
    rows = []
    for relative in DOCUMENTS:
        source = CORPUS / relative
        count = pages(source)
        jobs = {
            "4-up": (
                [str(SCANPRO), "run", "n_up", "--pages_per_sheet", "4", str(source), "-o", "scanpro.pdf"],
                ["pdfjam", "--quiet", "--nup", "2x2", str(source), "-o", "pdfjam.pdf"],
                math.ceil(count / 4), 3,  # page 3 is on sheet 1
            ),
            "booklet": (
                [str(SCANPRO), "run", "booklet", str(source), "-o", "scanpro.pdf"],
                ["pdfjam", "--quiet", "--booklet", "true", "--landscape", str(source), "-o", "pdfjam.pdf"],
                math.ceil(count / 4) * 2, 1,  # page 1 is on the first sheet side
            ),
        }
        for job, (ours, theirs, sheets, page) in jobs.items():
            medians = medians_taking_turns({"scanpro": ours, "pdfjam": theirs}, args.repeat, work)
            check(work / "scanpro.pdf", sheets, (source, page), 1)
            check(work / "pdfjam.pdf", sheets, (source, page), 1)
            ours_s, theirs_s = medians["scanpro"], medians["pdfjam"]
            row = {"document": source.name, "pages": count, "job": job, "scanpro_s": round(ours_s, 3),
                   "pdfjam_s": round(theirs_s, 3), "ratio": round(theirs_s / ours_s, 1)}
            rows.append(row)
            print(f"{source.name:<32} {count:>5} p  {job:<8} scanpro {ours_s:7.3f} s  pdfjam {theirs_s:7.3f} s  "
                  f"{row['ratio']:>6.1f}×", flush=True)
    write_rows("layout", rows)


if __name__ == "__main__":
    main()
