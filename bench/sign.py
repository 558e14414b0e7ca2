#!/usr/bin/env python3
"""Digital signatures: ScanPro against pyHanko's command line, side by side in one run.

    bench/sign.py [--repeat 3] [--no-build]     # uses target/release/scanpro; writes bench/out/sign.json

Each document gets one invisible PAdES signature from the same PKCS#12 file (RSA 2048, made here
with openssl), whole file in, whole file out: `scanpro run digital_sign` and `pyhanko sign addsig
pkcs12` (pyHanko 0.31 with pyhanko-cli, installed from PyPI into a private virtual environment
when missing), each a process of its own, timed the same way. Each output is checked by poppler's
`pdfsig`: the signature is valid and covers the whole file. Times are medians of `--repeat` runs,
the two tools taking turns.
"""
import json, pathlib, statistics, subprocess, sys, tempfile
from corpus import CORPUS, ROOT, pages, release_bench_args, timed

SCANPRO = ROOT / "target" / "release" / "scanpro"
VENV = pathlib.Path.home() / ".cache" / "scanpro" / "bench-pyhanko"
PASSWORD = "bench password"
DOCUMENTS = ["pdf-text/lroundrect.pdf", "pdf-text/ghsystem-manual.pdf", "pdf-text/pdfjs_freeculture.pdf",
             "pdf-text/hyperref.pdf"]


def pyhanko():
    cli = VENV / "bin" / "pyhanko"
    if not cli.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "pyHanko==0.31.0", "pyhanko-cli==0.2.0"],
                       check=True)
    return str(cli)


def certificate(work):
    """A self-signed RSA 2048 signer in a PKCS#12 file, and its password in a file for pyHanko."""
    run = lambda *args: subprocess.run(["openssl", *args], cwd=work, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "30",
        "-subj", "/CN=Bench Signer")
    run("pkcs12", "-export", "-inkey", "key.pem", "-in", "cert.pem", "-passout", f"pass:{PASSWORD}", "-out",
        "signer.p12")
    (work / "password.txt").write_text(PASSWORD)
    return work / "signer.p12"


def check(pdf):
    report = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True).stdout
    if "Signature is Valid" not in report or "Total document signed" not in report:
        sys.exit(f"{pdf}: pdfsig does not find one valid signature over the whole file:\n{report}")


def main():
    args = release_bench_args(__doc__)
    cli = pyhanko()
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-sign-"))
    p12 = certificate(work)
    rows = []
    for relative in DOCUMENTS:
        source = CORPUS / relative
        ours_out, theirs_out = work / "scanpro.pdf", work / "pyhanko.pdf"
        ours = [str(SCANPRO), "run", "digital_sign", "--password", PASSWORD, str(source), str(p12), "-o", str(ours_out)]
        theirs = [cli, "sign", "addsig", "--field", "Signature1", "pkcs12", "--passfile", str(work / "password.txt"),
                  str(source), str(theirs_out), str(p12)]
        times = {"scanpro": [], "pyhanko": []}
        for _ in range(args.repeat):
            for name, argv in (("scanpro", ours), ("pyhanko", theirs)):
                times[name].append(timed(argv))
        check(ours_out)
        check(theirs_out)
        ours_s, theirs_s = statistics.median(times["scanpro"]), statistics.median(times["pyhanko"])
        row = {"document": source.name, "pages": pages(source), "bytes": source.stat().st_size,
               "scanpro_s": round(ours_s, 3), "pyhanko_s": round(theirs_s, 3), "ratio": round(theirs_s / ours_s, 2)}
        rows.append(row)
        print(f"{source.name:<28} {row['pages']:>4} p {row['bytes'] / 1e6:6.1f} MB  scanpro {ours_s:6.3f} s  "
              f"pyhanko {theirs_s:6.3f} s  {row['ratio']:>5.2f}×", flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "sign.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
