#!/usr/bin/env python3
"""OCR throughput and accuracy over the corpus scans, side by side in one run:

  - ScanPro's OCR engine (`examples/ocr`, one document at a time, --jobs pages in parallel)
  - plain `ocrmypdf --jobs N --skip-text` as its users run it, same output type

    bench/ocr.py                    # builds the example in release mode first; writes bench/out/ocr.json
    bench/ocr.py --no-build --output text

Both OCR every `dev` PDF of pdf-scanned in MANIFEST.tsv, file by file, taking turns at going
first. Throughput is pages over the summed wall time of the documents (each command measured
with wait4, children included; peak RSS is the largest process). Every output is checked: a PDF
has the input's page count (pdfinfo), and the text of the whole set is not empty. Accuracy is
the character error rate (edit distance over the reference's length, whitespace runs as one
space) against the ground truth in pdf-scanned/gt/, of the PDF's text layer (pdftotext) or of the
text output.
"""
import argparse, json, os, pathlib, shutil, subprocess, sys, tempfile, threading, time
from corpus import CORPUS, dev_files, pages

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "target" / "release" / "examples" / "ocr"


def levenshtein(a, b):
    """Edit distance, bit-parallel (Myers / Hyyrö): Python integers are the bit vectors."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    masks = {}
    for i, c in enumerate(b):
        masks[c] = masks.get(c, 0) | (1 << i)
    full, top = (1 << len(b)) - 1, 1 << (len(b) - 1)
    pv, mv, score = full, 0, len(b)
    for c in a:
        eq = masks.get(c, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & full
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = (mh | ~(xv | ph)) & full
        mv = ph & xv
    return score


def normalised(text):
    return " ".join(text.split())


def measure(argv, env=None):
    """Wall seconds, peak RSS (MiB) and exit code of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    # Drain the pipes while waiting, so a chatty child never blocks.
    out, err = [], []
    readers = [threading.Thread(target=lambda p=p, sink=sink: sink.append(p.read())) for p, sink in
               ((proc.stdout, out), (proc.stderr, err))]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    for reader in readers:
        reader.join()
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), \
        out[0].decode(errors="replace"), err[0].decode(errors="replace")


def text_of(output, kind):
    if kind == "text":
        return output.read_text(errors="replace")
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(output), "-"], capture_output=True, text=True).stdout


def run_ours(pdf, out_dir, args):
    argv = [str(EXAMPLE), "--jobs", str(args.jobs), "--output", args.output, "--out", str(out_dir), str(pdf)]
    seconds, rss, code, stdout, stderr = measure(argv)
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    if code != 0 or not lines or not lines[0]["ok"]:
        sys.exit(f"scanpro failed on {pdf.name}: {lines[:1] or stderr[-2000:]}")
    return seconds, rss, pathlib.Path(lines[0]["output"])


def run_plain(pdf, out_dir, args):
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    if args.output == "text":
        output = out_dir / "plain.txt"
        argv = ["ocrmypdf", "--jobs", str(args.jobs), "--skip-text", "--output-type", "none", "--sidecar", str(output),
                str(pdf), "-"]
    else:
        output = out_dir / "plain.pdf"
        argv = ["ocrmypdf", "--jobs", str(args.jobs), "--skip-text", "--output-type", "pdf", str(pdf), str(output)]
    seconds, rss, code, _, stderr = measure(argv, env)
    if code != 0:
        sys.exit(f"ocrmypdf failed on {pdf.name} (exit {code}): {stderr[-2000:]}")
    return seconds, rss, output


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", choices=["pdf", "text"], default="pdf")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-build", action="store_true", help="use target/release/examples/ocr as it is")
    args = parser.parse_args()
    for tool in ("ocrmypdf", "tesseract", "pdfinfo", "pdftotext"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is required (scripts/install-deps)")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "scanpro-engines", "--example", "ocr"], cwd=ROOT, check=True)
    if not EXAMPLE.is_file():
        sys.exit(f"{EXAMPLE} is missing: cargo build --release -p scanpro-engines --example ocr")

    files = dev_files("pdf-scanned", ".pdf")
    sides = {"scanpro": run_ours, "ocrmypdf": run_plain}
    totals = {side: {"seconds": 0.0, "peak_rss_mib": 0.0, "edits": 0, "characters": 0} for side in sides}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, pdf in enumerate(files):
            n = pages(pdf)
            gt = CORPUS / "pdf-scanned" / "gt" / (pdf.stem + ".txt")
            reference = normalised(gt.read_text()) if gt.is_file() else None
            row = {"file": pdf.name, "pages": n}
            order = list(sides) if index % 2 == 0 else list(reversed(sides))
            for side in order:
                seconds, rss, output = sides[side](pdf, pathlib.Path(tmp) / side / str(index), args)
                if args.output == "pdf" and pages(output) != n:
                    sys.exit(f"{side}: {output} has {pages(output)} pages, {pdf.name} has {n}")
                text = normalised(text_of(output, args.output))
                total = totals[side]
                total["seconds"] += seconds
                total["peak_rss_mib"] = max(total["peak_rss_mib"], rss)
                total["characters"] += len(text)
                row[side] = {"seconds": round(seconds, 2), "peak_rss_mib": round(rss, 1)}
                if reference is not None:
                    edits = levenshtein(text, reference)
                    total["edits"] += edits
                    total.setdefault("reference", 0)
                    total["reference"] += len(reference)
                    row[side]["cer"] = round(edits / len(reference), 4)
            rows.append(row)
            cer = "".join(f"  cer {side} {row[side]['cer']:.4f}" for side in sides if "cer" in row[side])
            print(f"{pdf.name:<42} {n:>3} p  scanpro {row['scanpro']['seconds']:>6.2f} s  "
                  f"ocrmypdf {row['ocrmypdf']['seconds']:>6.2f} s{cer}", flush=True)

    page_total = sum(row["pages"] for row in rows)
    summary = {}
    for side, total in totals.items():
        if total["characters"] == 0:
            sys.exit(f"{side}: no text recognised in any document")
        summary[side] = {
            "pages_per_min": round(page_total / total["seconds"] * 60, 1),
            "wall_s": round(total["seconds"], 1),
            "peak_rss_mib": round(total["peak_rss_mib"], 1),
            "cer": round(total["edits"] / total["reference"], 4),
        }
    print(f"\n{len(files)} documents, {page_total} pages, output {args.output}, --jobs {args.jobs}")
    for side, s in summary.items():
        print(f"  {side:<9} {s['pages_per_min']:>6.1f} pages/min  wall {s['wall_s']:>6.1f} s  "
              f"peak {s['peak_rss_mib']:>6.1f} MiB  CER {s['cer']:.4f}")
    ratio = summary["scanpro"]["pages_per_min"] / summary["ocrmypdf"]["pages_per_min"]
    print(f"  scanpro runs at {ratio:.2f}x the pages/min of plain ocrmypdf; CER "
          f"{'no worse' if summary['scanpro']['cer'] <= summary['ocrmypdf']['cer'] else 'WORSE'}")
    result = {"output": args.output, "jobs": args.jobs, "pages": page_total, "files": rows, **summary,
              "throughput_ratio": round(ratio, 2), "nproc": os.cpu_count(), "load_average": os.getloadavg()}
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"ocr-{args.output}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
