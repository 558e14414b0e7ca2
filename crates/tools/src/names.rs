//! Output file names from the user's file names. They end up on disks and in
//! `Content-Disposition` headers, so only letters, digits, `-`, `_` and `.` survive.

use std::collections::HashSet;

/// Longest stem kept, in characters: room for suffixes within common 255-byte name limits.
const MAX_STEM_CHARS: usize = 80;

/// `"Quarterly report (final).PDF"` → `"Quarterly_report_final"`; `"../x"` → `"x"`; nothing
/// usable → `"document"`.
pub(crate) fn safe_stem(filename: &str) -> String {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = match base.rsplit_once('.') {
        Some((stem, _extension)) if !stem.is_empty() => stem,
        _ => base,
    };
    let mut clean = String::new();
    for c in stem.chars() {
        let c = if c.is_alphanumeric() || matches!(c, '-' | '.') { c } else { '_' };
        if !(c == '_' && clean.ends_with('_')) {
            clean.push(c);
        }
    }
    let clean: String = clean.trim_matches(['_', '.', '-']).chars().take(MAX_STEM_CHARS).collect();
    if clean.is_empty() { "document".into() } else { clean }
}

/// Hands out names, adding `_2`, `_3`… before the extension when one is taken, so outputs of
/// inputs with the same name do not overwrite each other.
#[derive(Default)]
pub(crate) struct UniqueNames(HashSet<String>);

impl UniqueNames {
    pub(crate) fn claim(&mut self, stem: &str, extension: &str) -> String {
        let mut name = format!("{stem}{extension}");
        let mut copy = 1;
        while !self.0.insert(name.clone()) {
            copy += 1;
            name = format!("{stem}_{copy}{extension}");
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe() {
        assert_eq!(safe_stem("Quarterly report (final).PDF"), "Quarterly_report_final");
        assert_eq!(safe_stem("../../etc/passwd"), "passwd");
        assert_eq!(safe_stem("C:\\Users\\me\\scan.pdf"), "scan");
        assert_eq!(safe_stem("naïve résumé.pdf"), "naïve_résumé");
        assert_eq!(safe_stem("a\"b;c\r\n.pdf"), "a_b_c");
        assert_eq!(safe_stem(".hidden"), "hidden");
        assert_eq!(safe_stem("???.pdf"), "document");
        assert_eq!(safe_stem(""), "document");
        assert_eq!(safe_stem(&"x".repeat(300)).len(), MAX_STEM_CHARS);
    }

    #[test]
    fn names_do_not_collide() {
        let mut names = UniqueNames::default();
        assert_eq!(names.claim("a_rotated", ".pdf"), "a_rotated.pdf");
        assert_eq!(names.claim("a_rotated", ".pdf"), "a_rotated_2.pdf");
        assert_eq!(names.claim("a_rotated", ".pdf"), "a_rotated_3.pdf");
    }
}
