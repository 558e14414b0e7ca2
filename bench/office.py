#!/usr/bin/env python3
"""Office → PDF throughput and latency over the corpus docx, side by side in one run:

  - ScanPro's pool (K = 2 warm instances, 2 clients) and, for reference, K = 1
  - a cold `soffice --headless --convert-to pdf` per document, one at a time and two at a time
    (each worker with its own profile)
  - one warm instance behind unoserver 3.x (`unoconvert` per document, as its users run it)

    bench/office.py                 # builds the example in release mode first; writes bench/out/office.json
    bench/office.py --no-build

Every configuration converts the same files (the `dev` docx of MANIFEST.tsv); every output is
checked with pdfinfo (at least one page). Throughput counts converted documents over the wall
time of the whole set; latencies are per converted document. The pool's instances start before
its clock starts (a service keeps them warm), as does unoserver; cold soffice profiles are
initialised before timing. unoserver: `/usr/bin/python3 -m pip install --break-system-packages 'unoserver==3.*'`.
"""
import argparse, concurrent.futures, json, os, pathlib, shutil, socket, statistics, subprocess, sys, tempfile, time
from corpus import CORPUS, dev_files, pages

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "target" / "release" / "examples" / "office_convert"
TIMEOUT = 180


def summarise(name, latencies, failures, wall, files):
    converted = len(latencies)
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))] if ordered else None
    row = {
        "name": name,
        "files": len(files),
        "converted": converted,
        "failed": failures,
        "wall_s": round(wall, 2),
        "docs_per_min": round(converted / wall * 60, 1) if wall else 0,
        "p50_s": round(statistics.median(ordered), 3) if ordered else None,
        "p95_s": round(p95, 3) if p95 is not None else None,
    }
    print(f"{name:<34} {row['docs_per_min']:>7.1f} docs/min  p50 {row['p50_s']!s:>6} s  p95 {row['p95_s']!s:>6} s  "
          f"{converted}/{len(files)} converted  wall {row['wall_s']} s", flush=True)
    return row


def run_pool(files, instances, out):
    argv = [str(EXAMPLE), "--instances", str(instances), "--clients", str(instances), "--timeout", str(TIMEOUT),
            "--out", str(out)] + [str(f) for f in files]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"office_convert failed: {proc.stderr[-2000:]}")
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    summary = lines[-1]["summary"]
    latencies, failures = [], []
    for line in lines[:-1]:
        if line["ok"] and pages(line["output"]) >= 1:
            latencies.append(line["seconds"])
        else:
            failures.append(f"{pathlib.Path(line['file']).name}: {line.get('code')}")
    row = summarise(f"scanpro pool K={instances}", latencies, failures, summary["wall_seconds"], files)
    row["pool_status"] = summary["status"]
    row["routes"] = {route: sum(1 for l in lines[:-1] if l.get("route") == route) for route in ("warm", "retried", "cold")}
    return row


def init_profile(profile, work):
    """One throwaway conversion initialises the profile (LibreOffice restarts itself on first use)."""
    sample = work / "init.txt"
    sample.write_text("init\n")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to", "pdf",
                    "--outdir", str(work / "init"), str(sample)], capture_output=True, timeout=TIMEOUT)


def cold_one(args):
    file, profile, out = args
    outdir = out / file.stem
    start = time.perf_counter()
    try:
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to", "pdf",
                        "--outdir", str(outdir), str(file)], capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return file, None
    elapsed = time.perf_counter() - start
    return file, elapsed if pages(outdir / f"{file.stem}.pdf") >= 1 else None


def run_cold(files, workers, work):
    profiles = [work / f"cold-profile-{i}" for i in range(workers)]
    for profile in profiles:
        init_profile(profile, work)
    out = work / f"cold-{workers}"
    latencies, failures = [], []
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        jobs = [(f, profiles[i % workers], out) for i, f in enumerate(files)]
        for file, elapsed in pool.map(cold_one, jobs):
            (latencies.append(elapsed) if elapsed is not None else failures.append(file.name))
    return summarise(f"cold soffice, {workers} at a time", latencies, failures, time.perf_counter() - start, files)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Unoserver:
    def __init__(self, work):
        self.work, self.proc = work, None

    def start(self):
        self.port, self.uno_port = free_port(), free_port()
        profile = self.work / "unoserver-profile"
        self.proc = subprocess.Popen(["unoserver", "--interface", "127.0.0.1", "--port", str(self.port),
                                      "--uno-port", str(self.uno_port), "--user-installation", str(profile)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 120
        probe = self.work / "probe.txt"
        probe.write_text("probe\n")
        while time.time() < deadline:
            if self.convert(probe, self.work / "probe.pdf", timeout=30) is not None:
                return
            time.sleep(1)
        sys.exit("unoserver did not come up")

    def convert(self, file, pdf, timeout=TIMEOUT):
        start = time.perf_counter()
        try:
            done = subprocess.run(["unoconvert", "--host", "127.0.0.1", "--port", str(self.port), "--host-location", "local",
                                   str(file), str(pdf)], capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        elapsed = time.perf_counter() - start
        return elapsed if done.returncode == 0 and pdf.exists() and pages(pdf) >= 1 else None

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc.wait()


def run_unoserver(files, work):
    if not shutil.which("unoserver"):
        sys.exit("unoserver is not installed: /usr/bin/python3 -m pip install --break-system-packages 'unoserver==3.*'")
    server = Unoserver(work)
    server.start()
    out = work / "unoserver"
    out.mkdir()
    latencies, failures, restarts = [], [], 0
    start = time.perf_counter()
    try:
        for file in files:
            elapsed = server.convert(file, out / f"{file.stem}.pdf")
            if elapsed is None:
                failures.append(file.name)
                if not server.alive():  # LibreOffice took unoserver down with it: start again
                    restarts += 1
                    server.stop()
                    server.start()
            else:
                latencies.append(elapsed)
        wall = time.perf_counter() - start
    finally:
        server.stop()
    row = summarise("one warm instance (unoserver 3)", latencies, failures, wall, files)
    row["server_restarts"] = restarts
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "scanpro-engines", "--example", "office_convert"], cwd=ROOT, check=True)
    files = dev_files("docx")
    print(f"{len(files)} docx from {CORPUS}", flush=True)
    with tempfile.TemporaryDirectory(prefix="office-bench-") as tmp:
        work = pathlib.Path(tmp)
        rows = [
            run_pool(files, 2, work / "pool-2"),
            run_pool(files, 1, work / "pool-1"),
            run_unoserver(files, work),
            run_cold(files, 1, work),
            run_cold(files, 2, work),
        ]
    by_name = {row["name"]: row for row in rows}
    ours = by_name["scanpro pool K=2"]["docs_per_min"]
    ratios = {
        "pool2_vs_cold_sequential": round(ours / by_name["cold soffice, 1 at a time"]["docs_per_min"], 2),
        "pool2_vs_cold_2_parallel": round(ours / by_name["cold soffice, 2 at a time"]["docs_per_min"], 2),
        "pool2_vs_one_warm_unoserver": round(ours / by_name["one warm instance (unoserver 3)"]["docs_per_min"], 2),
    }
    print(json.dumps(ratios))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    report = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "cores": os.cpu_count(), "rows": rows, "ratios": ratios}
    (out / "office.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
