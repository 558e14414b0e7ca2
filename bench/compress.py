#!/usr/bin/env python3
"""ScanPro `compress` (level `recommended`) against `gs -dPDFSETTINGS=/ebook`, side by side in one run.

    bench/compress.py               # builds the example in release mode first; writes bench/out/compress.json
    bench/compress.py --no-build
    bench/compress.py --category pdf-scanned --category jpeg-scans
    bench/compress.py --no-build --example target/debug/examples/compress --level extreme

Every `dev` PDF of the corpus categories `pdf-text` and `pdf-scanned` (MANIFEST.tsv), and the
colour JPEG scans at 200 dpi that `bench/scans.py` makes from corpus pages (`jpeg-scans`), goes
through
  - ScanPro: the engine's example binary (`cargo build --release -p scanpro-engines --example
    compress`, or the one `--example` names: sizes and SSIM do not depend on the build) with
    `--level recommended` (or `--level`), one process for the whole set,
  - the anchor: `gs -dSAFER -dNOPAUSE -dBATCH -dQUIET -sDEVICE=pdfwrite -dPDFSETTINGS=/ebook`,
and each output is checked: page count (pdfinfo), `qpdf --check`, size against the input, and
the mean structural similarity (SSIM, scikit-image) of its pages (crop box) rendered by pdftoppm
at 100 dpi in gray against the input's (up to 12 pages spread over the document, first and last
included), and the share of the input's distinct words that pdftotext still extracts.
No file is skipped; a file that fails on one side is reported with the reason and counts at
its input size for that side (the user keeps the original).

Targets: ScanPro's output is never larger than its input; its total is smaller than /ebook's
in each category, at a mean SSIM of at least 0.99 (text) and 0.95 (scans).
The JSON report goes to bench/out/compress-LEVEL.json.

Python needs numpy, Pillow, scikit-image and img2pdf: `pip install numpy Pillow scikit-image img2pdf`.
"""
import argparse, io, json, os, pathlib, statistics, subprocess, sys, tempfile, time
from corpus import CORPUS, dev_files, pages
from scans import make_scans

try:
    import numpy as np
    from PIL import Image
    from skimage.metrics import structural_similarity
except ImportError as missing:
    sys.exit(f"{missing}: pip install numpy Pillow scikit-image")

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "target" / "release" / "examples" / "compress"
CATEGORIES = {"pdf-text": 0.99, "pdf-scanned": 0.95, "jpeg-scans": 0.95}
SAMPLED_PAGES = 12
DPI = 100
TIMEOUT = 600


def qpdf_ok(pdf):
    return subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True).returncode == 0


def sample(count):
    if count <= SAMPLED_PAGES:
        return list(range(1, count + 1))
    return sorted({1 + i * (count - 1) // (SAMPLED_PAGES - 1) for i in range(SAMPLED_PAGES)})


def render(pdf, page):
    out = subprocess.run(["pdftoppm", "-cropbox", "-gray", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile", str(pdf)],
                         capture_output=True, timeout=TIMEOUT)
    if out.returncode != 0 or not out.stdout:
        return None
    return np.asarray(Image.open(io.BytesIO(out.stdout)).convert("L"))


def page_ssim(a, b):
    """SSIM of two renders; pages whose size changed (rotated, cropped) score 0."""
    if a is None or b is None:
        return 0.0
    if abs(a.shape[0] - b.shape[0]) > 2 or abs(a.shape[1] - b.shape[1]) > 2:
        return 0.0
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    return float(structural_similarity(a[:h, :w], b[:h, :w], data_range=255))


def words(pdf):
    out = subprocess.run(["pdftotext", "-q", str(pdf), "-"], capture_output=True, timeout=TIMEOUT)
    return set(out.stdout.decode("utf-8", "replace").split())


def check(input_pdf, output, reference, input_words):
    """Size, pages, qpdf, kept words and SSIM of one output against the input's."""
    if output is None or not output.is_file():
        return {"ok": False, "why": "no output"}
    result = {"bytes": output.stat().st_size, "pages": pages(output), "qpdf_ok": qpdf_ok(output)}
    if input_words:
        kept = words(output)
        result["words_kept"] = round(sum(1 for w in input_words if w in kept) / len(input_words), 4)
    scores = [page_ssim(ref, render(output, page)) for page, ref in reference.items()]
    result["ssim"] = round(statistics.mean(scores), 4) if scores else None
    result["ssim_min"] = round(min(scores), 4) if scores else None
    result["ok"] = result["pages"] == pages(input_pdf) and result["qpdf_ok"]
    if not result["ok"]:
        result["why"] = "page count changed" if result["pages"] != pages(input_pdf) else "fails qpdf --check"
    return result


def run_scanpro(files, out, example, level):
    argv = [str(example), "--level", level, "--timeout", "120", "--out", str(out)] + [str(f) for f in files]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"compress example failed: {proc.stderr[-2000:]}")
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return {line["file"]: line for line in lines}, wall


def run_ebook(file, out):
    start = time.perf_counter()
    try:
        proc = subprocess.run(["gs", "-dSAFER", "-dNOPAUSE", "-dBATCH", "-dQUIET", "-sDEVICE=pdfwrite", "-dPDFSETTINGS=/ebook",
                               f"-sOutputFile={out}", str(file)], capture_output=True, timeout=TIMEOUT)
        ok = proc.returncode == 0
    except subprocess.TimeoutExpired:
        ok = False
    return (out if ok else None), time.perf_counter() - start


def bench_category(category, work, example, level):
    files = make_scans() if category == "jpeg-scans" else dev_files(category, ".pdf")
    print(f"{category}: {len(files)} files", flush=True)
    ours, ours_wall = run_scanpro(files, work / f"{category}-scanpro", example, level)
    rows = []
    for file in files:
        size = file.stat().st_size
        reference = {page: render(file, page) for page in sample(pages(file))}
        input_words = words(file)
        line = ours[str(file)]
        row = {"file": file.name, "bytes": size, "pages": pages(file)}
        if line["ok"]:
            report = line["report"]
            row["scanpro"] = check(file, pathlib.Path(line["output"]), reference, input_words)
            row["scanpro"].update(seconds=round(line["seconds"], 2), method=report["method"],
                                  returned_original=report["returned_original"])
        else:
            row["scanpro"] = {"ok": False, "why": f"{line['code']}: {line['message']}", "seconds": round(line["seconds"], 2)}
        ebook_out, ebook_seconds = run_ebook(file, work / f"{category}-ebook-{file.name}")
        row["ebook"] = check(file, ebook_out, reference, input_words)
        row["ebook"]["seconds"] = round(ebook_seconds, 2)
        for side in ("scanpro", "ebook"):
            # A failed output leaves the user with the original.
            result = row[side]
            result["counted_bytes"] = result["bytes"] if result["ok"] else size
            result["counted_ssim"] = result["ssim"] if result["ok"] else 1.0
        s, e = row["scanpro"], row["ebook"]
        print(f"  {file.name:<44} {size:>10}  scanpro {s['counted_bytes']:>10} ssim {s.get('ssim')!s:>6} {s.get('method', s.get('why'))!s:<11}"
              f"  ebook {e['counted_bytes']:>10} ssim {e.get('ssim')!s:>6}{'' if e['ok'] else ' (' + e['why'] + ')'}", flush=True)
        rows.append(row)
    total_in = sum(r["bytes"] for r in rows)
    summary = {"files": len(rows), "input_bytes": total_in, "scanpro_wall_s": round(ours_wall, 1),
               "ebook_wall_s": round(sum(r["ebook"]["seconds"] for r in rows), 1)}
    for side in ("scanpro", "ebook"):
        total = sum(r[side]["counted_bytes"] for r in rows)
        ssims = [r[side]["counted_ssim"] for r in rows if r[side]["counted_ssim"] is not None]
        summary[side] = {
            "bytes": total,
            "ratio": round(total / total_in, 4),
            "mean_ssim": round(statistics.mean(ssims), 4),
            "min_ssim": round(min(ssims), 4),
            # Documents whose output lost more than 5 % of the input's distinct words (pdftotext).
            "lost_text": [r["file"] for r in rows if r[side].get("ok") and r[side].get("words_kept", 1.0) < 0.95],
            "larger_than_input": [r["file"] for r in rows if r[side].get("ok") and r[side]["bytes"] > r["bytes"]],
            "failed": {r["file"]: r[side]["why"] for r in rows if not r[side]["ok"]},
        }
    floor = CATEGORIES[category]
    summary["scanpro_vs_ebook_bytes"] = round(summary["scanpro"]["bytes"] / summary["ebook"]["bytes"], 4)
    summary["targets"] = {
        "never_larger": not summary["scanpro"]["larger_than_input"],
        "smaller_than_ebook": summary["scanpro"]["bytes"] < summary["ebook"]["bytes"],
        f"mean_ssim_at_least_{floor}": summary["scanpro"]["mean_ssim"] >= floor,
    }
    print(json.dumps({category: summary}, indent=1), flush=True)
    return {"summary": summary, "files": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--category", choices=sorted(CATEGORIES), action="append")
    parser.add_argument("--level", default="recommended", choices=["lossless", "low", "recommended", "extreme"])
    parser.add_argument("--example", type=pathlib.Path, default=EXAMPLE, help="the compress example binary to run")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "scanpro-engines", "--example", "compress"], cwd=ROOT, check=True)
    report = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "cores": os.cpu_count(), "dpi": DPI, "level": args.level,
              "sampled_pages": SAMPLED_PAGES, "categories": {}}
    with tempfile.TemporaryDirectory(prefix="compress-bench-") as tmp:
        for category in args.category or sorted(CATEGORIES):
            report["categories"][category] = bench_category(category, pathlib.Path(tmp), args.example, args.level)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"compress-{args.level}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
