#!/usr/bin/env python3
"""ScanPro page rendering against poppler and Ghostscript in the same run.

    bench/render.py                # uses target/release/scanpro as it is; writes bench/out/render.json
    bench/render.py --build        # builds it first (cargo build --release --locked --bin scanpro)

Renders the first --pages pages (default 40) of a text-heavy corpus book at --dpi (default 150)
to PNG with
  - `scanpro run pdf_to_image` (hayro, pages in parallel),
  - `pdftoppm -png -r DPI -f 1 -l N`,
  - `gs -dSAFER -dBATCH -dNOPAUSE -sDEVICE=png16m -rDPI -dFirstPage=1 -dLastPage=N`,
and prints the median wall time and peak RSS of each (whole commands, measured with wait4) and
how many times faster ScanPro is. All three render the crop box (`-cropbox`, `-dUseCropBox`), as
ScanPro and viewers do, so they paint the same pixels. Each run's output is checked: N PNG
files, the first of the expected pixel size.
"""
import argparse, json, os, pathlib, shutil, statistics, struct, subprocess, sys, tempfile, time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = pathlib.Path(os.environ.get("SCANPRO_CORPUS", ROOT.parent / "shared" / "corpus"))
SCANPRO = ROOT / "target" / "release" / "scanpro"


def measure(argv):
    """Wall seconds and peak RSS (MiB) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv[0]} failed: {proc.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def png_size(path):
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def check_output(label, out_dir, pages, first_size):
    files = sorted(out_dir.glob("*.png"))
    if len(files) != pages:
        sys.exit(f"{label}: {len(files)} PNG files, expected {pages}")
    width, height = png_size(files[0])
    if abs(width - first_size[0]) > 1 or abs(height - first_size[1]) > 1:
        sys.exit(f"{label}: first page is {width} x {height}, expected about {first_size[0]} x {first_size[1]}")


def first_page_pixels(pdf, dpi):
    """The first page's size at `dpi`, from pdfinfo."""
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "1", str(pdf)], capture_output=True, text=True, check=True).stdout
    line = next(l for l in info.splitlines() if l.startswith("Page    1 size:"))
    w, h = (float(x) for x in line.split(":", 1)[1].split("pts")[0].split(" x "))
    return round(w * dpi / 72), round(h * dpi / 72)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pdf", default=str(CORPUS / "pdf-text" / "pdfjs_freeculture.pdf"))
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build", action="store_true", help="build target/release/scanpro first")
    args = parser.parse_args()
    for tool in ("pdftoppm", "pdfinfo", "gs"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is required (apt-get install -y poppler-utils ghostscript)")
    if args.build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "scanpro"], cwd=ROOT, check=True)
    if not SCANPRO.is_file():
        sys.exit(f"{SCANPRO} is missing: build it (cargo build --release --locked --bin scanpro) or pass --build")
    pdf, n, dpi = pathlib.Path(args.pdf), args.pages, args.dpi
    first_size = first_page_pixels(pdf, dpi)

    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        commands = {
            "scanpro": lambda out: [str(SCANPRO), "run", "pdf_to_image", "--dpi", str(dpi), "--pages", f"1-{n}",
                                    str(pdf), "-o", str(out)],
            "pdftoppm": lambda out: ["pdftoppm", "-png", "-cropbox", "-r", str(dpi), "-f", "1", "-l", str(n), str(pdf),
                                     str(out / "p")],
            "gs": lambda out: ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=png16m", "-dUseCropBox", f"-r{dpi}",
                               "-dFirstPage=1", f"-dLastPage={n}", f"-sOutputFile={out / 'p-%03d.png'}", str(pdf)],
        }
        rows = {}
        for label, argv in commands.items():
            times, peaks = [], []
            for attempt in range(args.repeat):
                out = work / f"{label}-{attempt}"
                out.mkdir()
                t, rss = measure(argv(out))
                check_output(label, out, n, first_size)
                times.append(t)
                peaks.append(rss)
                shutil.rmtree(out)
            rows[label] = {"median_s": round(statistics.median(times), 3), "peak_rss_mib": round(max(peaks), 1)}

    ours = rows["scanpro"]["median_s"]
    name = f"render {n} pages of {pdf.name} at {dpi} dpi to PNG"
    print(name)
    for label, row in rows.items():
        ratio = "" if label == "scanpro" else f"  scanpro is {row['median_s'] / ours:.2f}x faster"
        print(f"  {label:<9} {row['median_s']:>7.3f} s {row['peak_rss_mib']:>7.1f} MiB{ratio}")
    result = {"name": name, **rows,
              "speedup_vs_pdftoppm": round(rows["pdftoppm"]["median_s"] / ours, 2),
              "speedup_vs_gs": round(rows["gs"]["median_s"] / ours, 2),
              "nproc": os.cpu_count()}
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "render.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
