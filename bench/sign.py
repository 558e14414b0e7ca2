#!/usr/bin/env python3
"""Digital signatures: ScanPro against pyHanko's command line, side by side in one run.

    bench/sign.py [--repeat 3] [--no-build]     # uses target/release/scanpro; writes bench/out/sign.json

Each document gets one invisible PAdES signature from the same PKCS#12 file (RSA 2048, made here
with openssl), whole file in, whole file out: `scanpro run digital_sign` and `pyhanko sign addsig
pkcs12` (pyHanko 0.31 with pyhanko-cli, installed from PyPI into a private virtual environment
when missing), each a process of its own, timed the same way. Each output is checked by poppler's
`pdfsig`: the signature is valid and covers the whole file. Times are medians of `--repeat` runs,
the two tools taking turns. A third figure leaves Python's start-up out: pyHanko's library signing
the same file `--repeat` times in one warm process (its `sign_pdf` call alone), against ScanPro's
whole command, process start included.
"""
import pathlib, subprocess, sys, tempfile
from corpus import CORPUS, ROOT, medians_taking_turns, pages, release_bench_args, write_rows

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


WARM = """
import sys, time
from pyhanko.sign import signers
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
p12, password, source, out, repeat = sys.argv[1], sys.argv[2].encode(), sys.argv[3], sys.argv[4], int(sys.argv[5])
signer = signers.SimpleSigner.load_pkcs12(p12, passphrase=password)
meta = signers.PdfSignatureMetadata(field_name='Signature1')
times = []
for _ in range(repeat):
    start = time.perf_counter()
    with open(source, 'rb') as f, open(out, 'wb') as o:
        signers.sign_pdf(IncrementalPdfFileWriter(f, strict=False), meta, signer=signer, output=o)
    times.append(time.perf_counter() - start)
print(sorted(times)[len(times) // 2])
"""


def warm_pyhanko(source, p12, out, repeat):
    """pyHanko's library in one Python process, imports and key loading left out: its own time."""
    python = str(VENV / "bin" / "python")
    proc = subprocess.run([python, "-c", WARM, str(p12), PASSWORD, str(source), str(out), str(repeat)],
                          capture_output=True, text=True, check=True)
    return float(proc.stdout.strip().splitlines()[-1])


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
        medians = medians_taking_turns({"scanpro": ours, "pyhanko": theirs}, args.repeat)
        check(ours_out)
        check(theirs_out)
        warm_s = warm_pyhanko(source, p12, work / "pyhanko-warm.pdf", args.repeat)
        check(work / "pyhanko-warm.pdf")
        ours_s, theirs_s = medians["scanpro"], medians["pyhanko"]
        row = {"document": source.name, "pages": pages(source), "bytes": source.stat().st_size,
               "scanpro_s": round(ours_s, 3), "pyhanko_s": round(theirs_s, 3), "ratio": round(theirs_s / ours_s, 2),
               "pyhanko_library_s": round(warm_s, 3), "library_ratio": round(warm_s / ours_s, 2)}
        rows.append(row)
        print(f"{source.name:<28} {row['pages']:>4} p {row['bytes'] / 1e6:6.1f} MB  scanpro {ours_s:6.3f} s  "
              f"pyhanko {theirs_s:6.3f} s  {row['ratio']:>5.2f}×  pyhanko library {warm_s:6.3f} s  "
              f"{row['library_ratio']:>5.2f}×", flush=True)
    write_rows("sign", rows)


if __name__ == "__main__":
    main()
