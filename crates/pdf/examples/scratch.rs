use std::path::{Path, PathBuf};
use std::process::Command;
fn check(p: &Path) -> String { let o = Command::new("qpdf").arg("--check").arg(p).output().unwrap(); let c = o.status.code().unwrap(); if c == 0 { "0".into() } else { format!("{c} {}", String::from_utf8_lossy(&o.stdout).lines().filter(|l| l.starts_with("WARN") || l.starts_with("ERR")).take(3).collect::<Vec<_>>().join(" | ")) } }
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let out = Path::new("/tmp/scratch");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in &files {
        let _ = std::fs::remove_dir_all(out); std::fs::create_dir_all(out).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let t = std::time::Instant::now();
        let info = match scanpro_pdf::info(f) { Ok(i) => i, Err(e) => { println!("{name}: {e}"); continue } };
        let n = info.page_count;
        let mut res = vec![];
        match scanpro_pdf::split(f, vec![vec![1], vec![n], (1..=n).collect()], out, "s") { Ok(ps) => for p in ps { res.push(check(&p)) }, Err(e) => res.push(format!("split err {e}")) }
        match scanpro_pdf::rotate(f, 90, &[], &out.join("r.pdf")) { Ok(_) => res.push(check(&out.join("r.pdf"))), Err(e) => res.push(format!("rotate err {e}")) }
        match scanpro_pdf::merge(&[f.clone(), f.clone()], &[0, 1], &out.join("m.pdf")) { Ok(_) => res.push(check(&out.join("m.pdf"))), Err(e) => res.push(format!("merge err {e}")) }
        println!("{name} {n}p {:?}: {}", t.elapsed(), res.join(" ; "));
    }
}
