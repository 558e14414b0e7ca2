#!/usr/bin/env python3
"""Web pages and Markdown → PDF, and the Gotenberg-compatible LibreOffice route, side by side in
one run against the anchor tools:

  - ScanPro (`scanpro serve`, 2 warm Chromium browsers, 2 clients, then 1): each corpus HTML page with its
    assets through the Gotenberg route `/forms/chromium/convert/html` (a page whose assets sit in
    sub-folders goes zipped to ScanPro's own `html_to_pdf`, which keeps folders), each Markdown
    file through `markdown_to_pdf`
  - a cold `chromium --headless --print-to-pdf` per document, one at a time and two at a time
    (Markdown made HTML first with Python-Markdown, untimed): the anchor
  - the same with a cold `chromium-headless-shell`, the browser ScanPro drives, for comparison
  - document by document, one at a time, ScanPro against the cold anchor
  - `/forms/libreoffice/convert` (2 warm LibreOffice instances, 2 clients) on the `dev` docx
    against a cold `soffice --headless --convert-to pdf` per document, one at a time

    bench/web.py               # uses target/release/scanpro if built, else target/debug/scanpro
    bench/web.py --skip-office

Every output is checked with pdfinfo (at least one page). Throughput counts converted documents
over the wall time of the set. ScanPro's browsers and instances are warmed by one untimed
document first (a service keeps them warm); cold profiles are fresh per document, as a cold run is.
"""
import argparse, concurrent.futures, io, json, os, pathlib, shutil, subprocess, sys, tempfile, time, uuid, zipfile
import urllib.request
from corpus import CORPUS, ROOT, dev_files, pages

OUT = ROOT / "bench" / "out"
VENV = pathlib.Path.home() / ".cache" / "scanpro" / "bench-markdown"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HEADLESS_SHELL = shutil.which("chromium-headless-shell") or "/usr/bin/chromium-headless-shell"
STYLE = ("body{font-family:'DejaVu Sans',sans-serif;font-size:11pt;line-height:1.4}"
         "pre,code{font-family:'DejaVu Sans Mono',monospace;font-size:9.5pt}table{border-collapse:collapse}"
         "th,td{border:1px solid #999;padding:3pt 6pt}")


def scanpro_binary():
    for profile in ("release", "debug"):
        binary = ROOT / "target" / profile / "scanpro"
        if binary.is_file():
            return binary
    sys.exit("build scanpro first: cargo build --release")


def multipart(files, fields=()):
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for name, value in fields:
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for field, filename, data in files:
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                   f'Content-Type: application/octet-stream\r\n\r\n'.encode())
        body.write(data)
        body.write(b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def post(url, files, fields=()):
    body, content_type = multipart(files, fields)
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    with urllib.request.urlopen(request, timeout=300) as response:
        return response.read()


class Server:
    def __init__(self, data_dir):
        env = dict(os.environ, SCANPRO_CHROMIUM_INSTANCES="2", SCANPRO_OFFICE_INSTANCES="2", SCANPRO_LOG_LEVEL="warn", SCANPRO_METRICS_LISTEN="127.0.0.1:0",
                   SCANPRO_RATE_LIMIT_PER_MINUTE="0", SCANPRO_ADDRESS_WRITES_PER_MINUTE="0",
                   SCANPRO_NEW_GUESTS_PER_MINUTE="0", SCANPRO_MAX_ACTIVE_JOBS="0", SCANPRO_GUEST_STORAGE_MB="0")
        self.process = subprocess.Popen([str(scanpro_binary()), "serve", "--listen", "127.0.0.1:0", "--data-dir",
                                         str(data_dir)], stdout=subprocess.PIPE, text=True, env=env)
        line = self.process.stdout.readline().strip()
        self.base = line.removeprefix("scanpro: listening on ")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


def page_dirs():
    """The `dev` HTML pages: each page's file and its folder (assets beside it), if it has one."""
    for page in dev_files("html", ".html"):
        folder = page.parent if page.name == "index.html" and page.parent != CORPUS / "html" else None
        yield page, folder


def scanpro_html(base, page, folder, out):
    if folder is None:
        data = post(f"{base}/forms/chromium/convert/html", [("files", "index.html", page.read_bytes())])
    elif any(p.is_dir() for p in folder.iterdir()):
        packed = io.BytesIO()
        with zipfile.ZipFile(packed, "w") as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder).as_posix())
        data = post(f"{base}/api/v1/tools/html_to_pdf", [("file", "page.zip", packed.getvalue())],
                    [("params", json.dumps({"paper_width": "8.5in", "paper_height": "11in"}))])
    else:
        files = [("files", p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()]
        data = post(f"{base}/forms/chromium/convert/html", files)
    out.write_bytes(data)


def scanpro_markdown(base, markdown, out):
    out.write_bytes(post(f"{base}/api/v1/tools/markdown_to_pdf", [("file", markdown.name, markdown.read_bytes())],
                         [("params", json.dumps({"paper_width": "8.5in", "paper_height": "11in"}))]))


def cold_chromium(html, out, program=CHROMIUM):
    with tempfile.TemporaryDirectory(prefix="cold-chromium-") as profile:
        subprocess.run([program, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run", "--no-pdf-header-footer",
                        f"--user-data-dir={profile}", f"--print-to-pdf={out}", html.as_uri()],
                       capture_output=True, timeout=300)


def markdown_as_html(files, scratch):
    """Each Markdown file as a standalone HTML page (for the cold browser), by Python-Markdown."""
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "markdown==3.7"], check=True)
    pages_html = {}
    for markdown in files:
        html = scratch / f"{markdown.stem}.html"
        script = ("import markdown,sys;body=markdown.markdown(open(sys.argv[1],encoding='utf-8').read(),"
                  "extensions=['tables','fenced_code']);open(sys.argv[2],'w',encoding='utf-8').write("
                  "\"<!DOCTYPE html><html><head><meta charset='utf-8'><style>\"+sys.argv[3]+\"</style></head><body>\"+body"
                  "+\"</body></html>\")")
        subprocess.run([str(VENV / "bin" / "python"), "-c", script, str(markdown), str(html), STYLE], check=True)
        pages_html[markdown] = html
    return pages_html


def timed_set(name, jobs, workers):
    """Runs `jobs` (name, function writing an output, output path) with `workers` at once."""
    latencies, failed = [], []

    per_document = {}

    def one(job):
        label, work, out = job
        started = time.perf_counter()
        try:
            work()
            seconds = time.perf_counter() - started
            count = pages(out) if out.exists() else 0
        except Exception as error:  # noqa: BLE001 - a failed document is counted, not fatal
            print(f"  {label}: {error}", file=sys.stderr)
            seconds, count = time.perf_counter() - started, 0
        return label, count, seconds

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for label, count, seconds in pool.map(one, jobs):
            if count >= 1:
                latencies.append(seconds)
                per_document[label] = {"s": round(seconds, 3), "pages": count}
            else:
                failed.append(label)
    wall = time.perf_counter() - started
    row = {"name": name, "documents": len(jobs), "converted": len(latencies), "failed": failed,
           "per_document": per_document,
           "wall_s": round(wall, 2), "docs_per_min": round(len(latencies) / wall * 60, 1),
           "p50_s": round(sorted(latencies)[len(latencies) // 2], 3) if latencies else None}
    print(f"{name:<44} {row['docs_per_min']:>7.1f} docs/min  p50 {row['p50_s']} s  "
          f"{row['converted']}/{row['documents']}  wall {row['wall_s']} s", flush=True)
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-office", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="bench-html-"))
    markdown_files = dev_files("markdown", ".md")
    web_pages = list(page_dirs())
    markdown_html = markdown_as_html(markdown_files, scratch)
    server = Server(scratch / "data")
    rows = []
    try:
        warm = scratch / "warm"
        warm.mkdir()
        # Both browsers start before the clock, as a service keeps them warm.
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda i: scanpro_html(server.base, web_pages[0][0], web_pages[0][1], warm / f"{i}.pdf"),
                          range(4)))
        documents = [(p.parent.name if f else p.stem, p, f) for p, f in web_pages]
        out = scratch / "scanpro"
        out.mkdir()
        jobs = [(label, (lambda p=p, f=f, o=out / f"{label}.pdf": scanpro_html(server.base, p, f, o)),
                 out / f"{label}.pdf") for label, p, f in documents]
        jobs += [(m.stem, (lambda m=m, o=out / f"{m.stem}.md.pdf": scanpro_markdown(server.base, m, o)),
                  out / f"{m.stem}.md.pdf") for m in markdown_files]
        rows.append(timed_set("scanpro warm browsers, 2 clients", jobs, 2))
        one_client = timed_set("scanpro warm browsers, 1 client", jobs, 1)
        for workers in (1, 2):
            out = scratch / f"cold{workers}"
            out.mkdir()
            jobs = [(label, (lambda p=p, o=out / f"{label}.pdf": cold_chromium(p, o)), out / f"{label}.pdf")
                    for label, p, _ in documents]
            jobs += [(m.stem, (lambda h=markdown_html[m], o=out / f"{m.stem}.md.pdf": cold_chromium(h, o)),
                      out / f"{m.stem}.md.pdf") for m in markdown_files]
            rows.append(timed_set(f"cold chromium --print-to-pdf, {workers} at a time", jobs, workers))
        ratio = rows[0]["docs_per_min"] / max(rows[1]["docs_per_min"], rows[2]["docs_per_min"])
        sequential = one_client["docs_per_min"] / rows[1]["docs_per_min"]
        # The same browser ScanPro drives, started cold per document, for comparison.
        shells = []
        for workers in (1, 2):
            out = scratch / f"shell{workers}"
            out.mkdir()
            jobs = [(label, (lambda p=p, o=out / f"{label}.pdf": cold_chromium(p, o, HEADLESS_SHELL)), out / f"{label}.pdf")
                    for label, p, _ in documents]
            jobs += [(m.stem, (lambda h=markdown_html[m], o=out / f"{m.stem}.md.pdf": cold_chromium(h, o, HEADLESS_SHELL)),
                      out / f"{m.stem}.md.pdf") for m in markdown_files]
            shells.append(timed_set(f"cold chromium-headless-shell, {workers} at a time", jobs, workers))
        shell_ratio = rows[0]["docs_per_min"] / max(row["docs_per_min"] for row in shells)
        rows.insert(1, one_client)
        rows[4:4] = shells
        print(f"ScanPro / best cold Chromium throughput: {ratio:.1f}x; one at a time: {sequential:.1f}x; "
              f"against the best cold headless shell: {shell_ratio:.1f}x")
        summary = {"html_ratio_vs_best_cold": round(ratio, 2), "html_ratio_one_at_a_time": round(sequential, 2),
                   "html_ratio_vs_best_cold_headless_shell": round(shell_ratio, 2)}
        # Document by document, one at a time: where the fixed cost of a cold browser dominates
        # (one-page documents: invoices, tickets, letters) and where layout and printing do.
        warm_docs, cold_docs = one_client["per_document"], rows[2]["per_document"]  # cold chromium, 1 at a time
        print(f"{'document':<36} {'pages':>5} {'warm s':>7} {'cold s':>7} {'ratio':>6}")
        for label in sorted(set(warm_docs) & set(cold_docs), key=lambda l: cold_docs[l]["pages"]):
            w, c = warm_docs[label], cold_docs[label]
            print(f"{label:<36} {c['pages']:>5} {w['s']:>7.2f} {c['s']:>7.2f} {c['s'] / w['s']:>5.1f}x")
        one_page = [l for l in set(warm_docs) & set(cold_docs) if cold_docs[l]["pages"] == 1]
        if one_page:
            ratio_one_page = sum(cold_docs[l]["s"] for l in one_page) / sum(warm_docs[l]["s"] for l in one_page)
            summary["one_page_documents"] = len(one_page)
            summary["html_ratio_one_page_one_at_a_time"] = round(ratio_one_page, 2)
            print(f"one-page documents ({len(one_page)}), one at a time: {ratio_one_page:.1f}x")
        if not args.skip_office:
            docx = dev_files("docx", ".docx")
            post(f"{server.base}/forms/libreoffice/convert", [("files", docx[0].name, docx[0].read_bytes())])
            out = scratch / "office"
            out.mkdir()
            jobs = [(d.stem, (lambda d=d, o=out / f"{d.stem}.pdf": o.write_bytes(
                post(f"{server.base}/forms/libreoffice/convert", [("files", d.name, d.read_bytes())]))),
                out / f"{d.stem}.pdf") for d in docx]
            rows.append(timed_set("scanpro /forms/libreoffice/convert, 2 clients", jobs, 2))
            out = scratch / "soffice"
            out.mkdir()

            def cold_soffice(d, o):
                with tempfile.TemporaryDirectory(prefix="cold-soffice-") as profile:
                    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to",
                                    "pdf", "--outdir", str(o.parent), str(d)], capture_output=True, timeout=300)
                    (o.parent / f"{d.stem}.pdf").rename(o) if (o.parent / f"{d.stem}.pdf") != o else None
            jobs = [(d.stem, (lambda d=d, o=out / f"{d.stem}.pdf": cold_soffice(d, o)), out / f"{d.stem}.pdf")
                    for d in docx]
            rows.append(timed_set("cold soffice --convert-to pdf, 1 at a time", jobs, 1))
            summary["office_ratio_vs_cold"] = round(rows[-2]["docs_per_min"] / rows[-1]["docs_per_min"], 2)
            print(f"ScanPro Gotenberg LibreOffice route / cold soffice: {summary['office_ratio_vs_cold']:.1f}x")
    finally:
        server.stop()
    (OUT / "web.json").write_text(json.dumps({"rows": rows, **summary}, indent=2))
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
