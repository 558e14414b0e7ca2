"""What the benches share: the corpus's `dev` files by category, and page counts by pdfinfo."""

import argparse, json, os, pathlib, statistics, subprocess, sys, time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = pathlib.Path(os.environ.get("SCANPRO_CORPUS", ROOT.parent / "shared" / "corpus"))


def dev_files(category, suffix=""):
    """The `dev` files of `category` in MANIFEST.tsv, sorted; exits when one is missing."""
    rows = [line.split("\t") for line in (CORPUS / "MANIFEST.tsv").read_text().splitlines()[1:]]
    files = [CORPUS / row[1] for row in rows if row[0] == category and row[4] == "dev" and row[1].endswith(suffix)]
    missing = [f for f in files if not f.is_file()]
    if missing or not files:
        sys.exit(f"corpus {category} files missing: {missing or 'none listed'}")
    return sorted(files)


def pages(pdf):
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return 0


def release_bench_args(doc):
    """`--repeat N` (3) and `--no-build`; builds target/release/scanpro unless told not to."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "scanpro"], cwd=ROOT, check=True)
    return args


def timed(argv, cwd=None):
    """Seconds `argv` takes, start to finish; exits when it fails (3 is qpdf's success with warnings)."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        sys.exit(f"{argv[:3]} failed: {proc.stderr.decode()[-2000:]}")
    return elapsed


def medians_taking_turns(commands, repeat, cwd=None):
    """The median seconds of each named command (`{"scanpro": argv, "qpdf": argv}`), run `repeat`
    times, the commands taking turns so that a busy moment of the machine hits them alike."""
    times = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            times[name].append(timed(argv, cwd))
    return {name: statistics.median(values) for name, values in times.items()}


def write_rows(name, rows):
    """Writes a benchmark's rows to bench/out/NAME.json."""
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(rows, indent=2))
