#!/usr/bin/env python3
"""ScanPro spine benchmarks, each against its anchor tool in the same run.

    bench/spine.py            # builds target/release/scanpro first; writes bench/out/spine.json

Measures wall time (median of --repeat runs) and peak RSS of whole commands via wait4, so ScanPro
and the anchor are measured the same way:
  - merge of 200 distinct 10-page PDFs (cut from three manuals): `scanpro run merge` vs `qpdf --empty --pages`
  - split pgfmanual.pdf (1,321 pages) into single pages: `scanpro run split --mode each` vs `qpdf --split-pages`
  - rotate every page of pgfmanual.pdf: `scanpro run rotate` vs `qpdf --rotate=+90`
  - the API of `scanpro serve`: one-shot rotate latency (p50/p99) and job throughput with 8 clients
"""
import argparse, concurrent.futures, http.client, json, os, pathlib, shutil, statistics, subprocess, sys, tempfile, time, uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
# One client plays every guest: the per-guest limits would measure themselves, not the server.
NO_GUEST_LIMITS = {"SCANPRO_METRICS_LISTEN": "127.0.0.1:0", "SCANPRO_RATE_LIMIT_PER_MINUTE": "0", "SCANPRO_ADDRESS_WRITES_PER_MINUTE": "0", "SCANPRO_NEW_GUESTS_PER_MINUTE": "0",
                   "SCANPRO_MAX_ACTIVE_JOBS": "0", "SCANPRO_GUEST_STORAGE_MB": "0"}
CORPUS = pathlib.Path(os.environ.get("SCANPRO_CORPUS", ROOT.parent / "shared" / "corpus"))
SCANPRO = ROOT / "target" / "release" / "scanpro"


def measure(argv, cwd=None):
    """Wall seconds and peak RSS (MiB) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 3):  # qpdf: 3 = warnings
        sys.exit(f"{argv[0]} failed: {proc.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def page_count(pdf):
    return int(subprocess.run(["qpdf", "--show-npages", str(pdf)], capture_output=True, text=True).stdout)


def check_pages(pdf, expected):
    """Results are checked with qpdf, not with our own reader."""
    check = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True)
    pages = subprocess.run(["qpdf", "--show-npages", str(pdf)], capture_output=True, text=True).stdout.strip()
    if check.returncode not in (0, 3) or pages != str(expected):
        sys.exit(f"{pdf.name}: qpdf --check exit {check.returncode}, {pages} pages (expected {expected})")


def compare(name, ours, anchor, repeat, setup=None):
    rows = {}
    for label, argv in (("scanpro", ours), (anchor[0], anchor[1])):
        times, peaks = [], []
        for _ in range(repeat):
            if setup:
                setup()
            t, rss = measure(argv)
            times.append(t)
            peaks.append(rss)
        rows[label] = {"median_s": round(statistics.median(times), 3), "peak_rss_mib": round(max(peaks), 1)}
    ratio = rows[anchor[0]]["median_s"] / rows["scanpro"]["median_s"]
    print(f"{name:<34} scanpro {rows['scanpro']['median_s']:>7.3f} s {rows['scanpro']['peak_rss_mib']:>7.1f} MiB | "
          f"{anchor[0]} {rows[anchor[0]]['median_s']:>7.3f} s {rows[anchor[0]]['peak_rss_mib']:>7.1f} MiB | {ratio:.2f}x")
    return {"name": name, **rows, "speedup_vs_anchor": round(ratio, 2)}


def api_bench(work, requests, clients):
    data = work / "serve-data"
    server = subprocess.Popen([str(SCANPRO), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              env={**os.environ, "SCANPRO_LOG_LEVEL": "warn", **NO_GUEST_LIMITS})
    try:
        host, port = server.stdout.readline().decode().strip().rsplit("/", 1)[-1].split(":")
        pdf = (CORPUS / "pdf-text" / "ltnews17.pdf").read_bytes()

        def one_shot(_):
            boundary = uuid.uuid4().hex
            body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"params\"\r\n\r\n{{\"angle\":90}}\r\n"
                    f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
                    f"Content-Type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
            conn = http.client.HTTPConnection(host, int(port), timeout=120)
            start = time.perf_counter()
            conn.request("POST", "/api/v1/tools/rotate", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status
            return time.perf_counter() - start

        one_shot(0)
        sequential = sorted(one_shot(i) for i in range(requests // 4))
        start = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            concurrent_latencies = sorted(pool.map(one_shot, range(requests)))
        wall = time.perf_counter() - start
        pct = lambda xs, p: round(xs[min(len(xs) - 1, int(p * len(xs)))] * 1000, 1)
        result = {"name": "api one-shot rotate (166 KB, 2 pages)",
                  "sequential_p50_ms": pct(sequential, 0.5), "sequential_p99_ms": pct(sequential, 0.99),
                  f"concurrent{clients}_p50_ms": pct(concurrent_latencies, 0.5), f"concurrent{clients}_p99_ms": pct(concurrent_latencies, 0.99),
                  "jobs_per_s": round(requests / wall, 1)}
        print(f"{result['name']:<34} sequential p50 {result['sequential_p50_ms']} ms p99 {result['sequential_p99_ms']} ms | "
              f"{clients} clients p50 {result[f'concurrent{clients}_p50_ms']} ms p99 {result[f'concurrent{clients}_p99_ms']} ms, {result['jobs_per_s']} jobs/s")
        return result
    finally:
        server.terminate()
        server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    for tool in ("qpdf",):
        if not shutil.which(tool):
            sys.exit(f"{tool} is required (scripts/install-deps)")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "scanpro"], cwd=ROOT, check=True)
    manual = CORPUS / "pdf-text" / "pgfmanual.pdf"
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        chunks = work / "chunks"
        chunks.mkdir()
        for book in ("pgfmanual.pdf", "hyperref.pdf", "interface3.pdf"):
            stem = book.removesuffix(".pdf")
            subprocess.run(["qpdf", "--split-pages=10", str(CORPUS / "pdf-text" / book), str(chunks / f"{stem}-%d.pdf")], check=True)
        # Full 10-page chunks only (the last chunk of a book may be shorter).
        parts = [p for p in sorted(chunks.glob("*.pdf")) if page_count(p) == 10][:200]
        results.append(compare(
            f"merge {len(parts)} x 10-page PDFs",
            [str(SCANPRO), "run", "merge", *map(str, parts), "-o", str(work / "m1.pdf")],
            ("qpdf", ["qpdf", "--empty", "--pages", *map(str, parts), "--", str(work / "m2.pdf")]),
            args.repeat))
        check_pages(work / "m1.pdf", 10 * len(parts))
        out1, out2 = work / "s1", work / "s2"

        def fresh_dirs():
            for d in (out1, out2):
                shutil.rmtree(d, ignore_errors=True)
                d.mkdir()
        results.append(compare(
            "split 1,321 pages into singles",
            [str(SCANPRO), "run", "split", "--mode", "each", str(manual), "-o", str(out1)],
            ("qpdf", ["qpdf", "--split-pages", str(manual), str(out2 / "p-%d.pdf")]),
            args.repeat, setup=fresh_dirs))
        fresh_dirs()
        measure([str(SCANPRO), "run", "split", "--mode", "each", str(manual), "-o", str(out1)])
        if len(list(out1.glob("*.pdf"))) != 1321:
            sys.exit("split did not produce 1,321 files")
        results.append(compare(
            "rotate 1,321 pages",
            [str(SCANPRO), "run", "rotate", "--angle", "90", str(manual), "-o", str(work / "r1.pdf")],
            ("qpdf", ["qpdf", "--rotate=+90", str(manual), str(work / "r2.pdf")]),
            args.repeat))
        check_pages(work / "r1.pdf", 1321)
        results.append(api_bench(work, args.requests, 8))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "spine.json").write_text(json.dumps({"results": results, "nproc": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()
