"""What the benches share: the corpus's `dev` files by category, and page counts by pdfinfo."""

import os, pathlib, subprocess, sys

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
