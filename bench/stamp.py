#!/usr/bin/env python3
"""Watermark + page numbers on a 500-page PDF: ScanPro vs qpdf overlaying prepared stamp pages.

    bench/stamp.py [--repeat 3] [--no-build]     # uses target/release/scanpro; writes bench/out/stamp.json

ScanPro: `scanpro run watermark` then `scanpro run page_numbers` (font embedding, layout and
numbering included). Anchor: `qpdf --overlay` of a one-page "DRAFT" stamp repeated on every page,
then `qpdf --overlay` of a prepared 500-page PDF of page numbers, page for page. The stamps for
qpdf are made beforehand with Ghostscript and are not timed: the anchor is given its inputs ready.
"""
import json, os, pathlib, statistics, subprocess, sys, tempfile, time
from corpus import release_bench_args

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = pathlib.Path(os.environ.get("SCANPRO_CORPUS", ROOT.parent / "shared" / "corpus"))
SCANPRO = ROOT / "target" / "release" / "scanpro"
PAGES = 500


def measure(argv):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 3):
        sys.exit(f"{argv[:3]} failed: {proc.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def postscript_to_pdf(work, name, program):
    """Stamps for the anchor, made with Ghostscript before anything is timed."""
    source, pdf = work / f"{name}.ps", work / f"{name}.pdf"
    source.write_text(program)
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-sPAPERSIZE=letter", "-o", str(pdf), str(source)], check=True)
    return pdf


def sequence(commands):
    total, peak = 0.0, 0.0
    for argv in commands:
        t, rss = measure(argv)
        total += t
        peak = max(peak, rss)
    return total, peak


def check(pdf, page, needle):
    text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True, text=True).stdout
    if needle not in text:
        sys.exit(f"{pdf.name} page {page}: {needle!r} not found")
    if subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True).returncode not in (0, 3):
        sys.exit(f"{pdf.name} fails qpdf --check")


def main():
    args = release_bench_args(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        book = work / "book.pdf"
        subprocess.run(["qpdf", str(CORPUS / "pdf-text" / "pgfmanual.pdf"), "--pages", ".", f"1-{PAGES}", "--", str(book)], check=True)
        stamp = postscript_to_pdf(work, "stamp", "/Helvetica findfont 96 scalefont setfont 0.6 setgray 150 400 moveto (DRAFT) show showpage\n")
        numbers = postscript_to_pdf(work, "numbers", f"1 1 {PAGES} {{ /n exch def /Helvetica findfont 12 scalefont setfont "
                                    f"280 20 moveto (Page ) show n 10 string cvs show ( of {PAGES}) show showpage }} for\n")
        ours = [
            [str(SCANPRO), "run", "watermark", "--text", "DRAFT", "--opacity", "0.4", str(book), "-o", str(work / "w.pdf")],
            [str(SCANPRO), "run", "page_numbers", "--template", "Page {n} of {total}", str(work / "w.pdf"), "-o", str(work / "ours.pdf")],
        ]
        anchor = [
            ["qpdf", str(book), "--overlay", str(stamp), "--repeat=1", "--", str(work / "q1.pdf")],
            ["qpdf", str(work / "q1.pdf"), "--overlay", str(numbers), "--", str(work / "anchor.pdf")],
        ]
        rows = {}
        for label, commands in (("scanpro", ours), ("qpdf --overlay", anchor)):
            runs = [sequence(commands) for _ in range(args.repeat)]
            rows[label] = {"median_s": round(statistics.median(t for t, _ in runs), 3), "peak_rss_mib": round(max(r for _, r in runs), 1)}
        check(work / "ours.pdf", 3, f"Page 3 of {PAGES}")
        check(work / "ours.pdf", 3, "DRAFT")
        check(work / "anchor.pdf", 3, f"Page 3 of {PAGES}")
        ratio = rows["qpdf --overlay"]["median_s"] / rows["scanpro"]["median_s"]
        print(f"watermark + page numbers, {PAGES} pages: scanpro {rows['scanpro']['median_s']:.3f} s {rows['scanpro']['peak_rss_mib']:.1f} MiB | "
              f"qpdf --overlay {rows['qpdf --overlay']['median_s']:.3f} s {rows['qpdf --overlay']['peak_rss_mib']:.1f} MiB | {ratio:.2f}x")
        out = ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        (out / "stamp.json").write_text(json.dumps({"name": f"watermark + page numbers, {PAGES} pages", **rows, "speedup_vs_anchor": round(ratio, 2)}, indent=2))


if __name__ == "__main__":
    main()
