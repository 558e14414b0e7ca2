//! The one page-selection syntax every tool uses.
//!
//! A selection is a comma-separated list of terms, resolved against a page count:
//! - `5` one page; `-1` the last page, `-2` the one before (negative counts from the end); `last`.
//! - `1-3` a range (inclusive, may run backwards: `3-1`), `8-` to the end, `-3--1` the last three.
//! - `even`, `odd`, `all` (or `*`).
//!
//! Parsing checks the syntax; [`PageSelection::resolve`] checks the numbers against a real page
//! count. Both fail with a message that quotes the bad term.

use std::fmt;

/// A parsed page selection, not yet tied to a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSelection {
    terms: Vec<Term>,
    source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageRef {
    /// 1-based from the start.
    Start(u32),
    /// 1-based from the end: `End(1)` is the last page.
    End(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Term {
    Page(PageRef),
    Range(PageRef, Option<PageRef>),
    Even,
    Odd,
    All,
}

/// What is wrong with a selection; the message quotes the offending term.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageSelectionError {
    #[error("page selection is empty")]
    Empty,
    #[error("the document has no pages")]
    NoPages,
    /// One term does not parse, or names a page the document does not have.
    #[error("\"{term}\": {problem}")]
    Term { term: String, problem: TermProblem },
}

/// What is wrong with one term of a selection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermProblem {
    #[error("empty term (two commas in a row?)")]
    Empty,
    #[error("unexpected \"{0}\"")]
    Unexpected(String),
    #[error("expected a page number, \"last\", \"even\", \"odd\" or \"all\"")]
    NotAPage,
    #[error("page number is too large")]
    TooLarge(#[source] std::num::ParseIntError),
    #[error("pages are numbered from 1")]
    PageZero,
    #[error("page {page} is beyond the last page ({count})")]
    BeyondLast { page: u32, count: u32 },
    #[error("-{back} counts back past the first page (the document has {count})")]
    BeforeFirst { back: u32, count: u32 },
}

impl PageSelection {
    /// Every page.
    pub fn all() -> Self {
        Self { terms: vec![Term::All], source: "all".into() }
    }

    pub fn parse(input: &str) -> Result<Self, PageSelectionError> {
        let source = input.trim();
        if source.is_empty() {
            return Err(PageSelectionError::Empty);
        }
        let terms = source
            .split(',')
            .map(|raw| {
                parse_term(raw.trim())
                    .map_err(|problem| PageSelectionError::Term { term: raw.trim().to_owned(), problem })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { terms, source: source.to_owned() })
    }

    /// The pages selected, 1-based, in the order written, without repeats.
    pub fn resolve(&self, page_count: u32) -> Result<Vec<u32>, PageSelectionError> {
        let mut seen = vec![false; page_count as usize + 1];
        let mut pages = Vec::new();
        for group in self.resolve_groups(page_count)? {
            for page in group {
                if !std::mem::replace(&mut seen[page as usize], true) {
                    pages.push(page);
                }
            }
        }
        Ok(pages)
    }

    /// One group of pages per comma-separated term, in order (repeats kept): the shape `split` needs.
    pub fn resolve_groups(&self, page_count: u32) -> Result<Vec<Vec<u32>>, PageSelectionError> {
        if page_count == 0 {
            return Err(PageSelectionError::NoPages);
        }
        self.terms.iter().map(|term| resolve_term(*term, page_count)).collect()
    }

    /// A JSON Schema `pattern` (ECMA-262) matching the syntax [`Self::parse`] reads, in any case,
    /// so that a form can check a selection as it is typed. Whether the pages exist is known only
    /// against a document, and numbers beyond `u32` are refused by the parser alone.
    pub fn pattern() -> String {
        fn any_case(word: &str) -> String {
            word.chars().map(|c| format!("[{}{c}]", c.to_ascii_uppercase())).collect()
        }
        let reference = format!("(?:-?[0-9]*[1-9][0-9]*|{})", any_case("last"));
        let range = format!("{reference}(?:\\s*-\\s*(?:{reference})?)?");
        let term = format!("(?:{}|{}|{}|\\*|{range})", any_case("all"), any_case("even"), any_case("odd"));
        format!("^\\s*{term}(?:\\s*,\\s*{term})*\\s*$")
    }

    /// The selection as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for PageSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for PageSelection {
    type Err = PageSelectionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn parse_term(term: &str) -> Result<Term, TermProblem> {
    match term.to_ascii_lowercase().as_str() {
        "" => return Err(TermProblem::Empty),
        "even" => return Ok(Term::Even),
        "odd" => return Ok(Term::Odd),
        "all" | "*" => return Ok(Term::All),
        _ => {}
    }
    let (first, rest) = take_ref(term)?;
    if rest.is_empty() {
        return Ok(Term::Page(first));
    }
    let Some(after_dash) = rest.strip_prefix('-') else {
        return Err(TermProblem::Unexpected(rest.to_owned()));
    };
    if after_dash.trim().is_empty() {
        return Ok(Term::Range(first, None));
    }
    let (last, tail) = take_ref(after_dash.trim())?;
    if !tail.is_empty() {
        return Err(TermProblem::Unexpected(tail.to_owned()));
    }
    Ok(Term::Range(first, Some(last)))
}

/// Reads one page reference (`7`, `-2`, `last`) from the front of `s`.
fn take_ref(s: &str) -> Result<(PageRef, &str), TermProblem> {
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("last") {
        return Ok((PageRef::End(1), s[4..].trim_start()));
    }
    let (negative, digits_on) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let digits_len = digits_on.bytes().take_while(u8::is_ascii_digit).count();
    if digits_len == 0 {
        return Err(TermProblem::NotAPage);
    }
    let number: u32 = digits_on[..digits_len].parse().map_err(TermProblem::TooLarge)?;
    if number == 0 {
        return Err(TermProblem::PageZero);
    }
    let page = if negative { PageRef::End(number) } else { PageRef::Start(number) };
    Ok((page, digits_on[digits_len..].trim_start()))
}

fn resolve_ref(page: PageRef, count: u32) -> Result<u32, TermProblem> {
    match page {
        PageRef::Start(n) if n <= count => Ok(n),
        PageRef::Start(n) => Err(TermProblem::BeyondLast { page: n, count }),
        PageRef::End(n) if n <= count => Ok(count + 1 - n),
        PageRef::End(n) => Err(TermProblem::BeforeFirst { back: n, count }),
    }
}

fn resolve_term(term: Term, count: u32) -> Result<Vec<u32>, PageSelectionError> {
    let describe = |problem| PageSelectionError::Term { term: term.to_string(), problem };
    Ok(match term {
        Term::All => (1..=count).collect(),
        Term::Even => (2..=count).step_by(2).collect(),
        Term::Odd => (1..=count).step_by(2).collect(),
        Term::Page(p) => vec![resolve_ref(p, count).map_err(describe)?],
        Term::Range(from, to) => {
            let from = resolve_ref(from, count).map_err(describe)?;
            let to = match to {
                Some(to) => resolve_ref(to, count).map_err(describe)?,
                None => count,
            };
            if from <= to { (from..=to).collect() } else { (to..=from).rev().collect() }
        }
    })
}

/// The term as written, normalised (`8-`, `-3--1`, `even`).
impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = |p: PageRef| match p {
            PageRef::Start(n) => n.to_string(),
            PageRef::End(n) => format!("-{n}"),
        };
        match *self {
            Term::All => write!(f, "all"),
            Term::Even => write!(f, "even"),
            Term::Odd => write!(f, "odd"),
            Term::Page(p) => write!(f, "{}", r(p)),
            Term::Range(a, None) => write!(f, "{}-", r(a)),
            Term::Range(a, Some(b)) => write!(f, "{}-{}", r(a), r(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(sel: &str, count: u32) -> Vec<u32> {
        PageSelection::parse(sel).unwrap().resolve(count).unwrap()
    }

    #[test]
    fn resolves_every_form() {
        assert_eq!(pages("1-3,5,8-", 10), vec![1, 2, 3, 5, 8, 9, 10]);
        assert_eq!(pages("even", 5), vec![2, 4]);
        assert_eq!(pages("odd", 5), vec![1, 3, 5]);
        assert_eq!(pages("last", 7), vec![7]);
        assert_eq!(pages("-1", 7), vec![7]);
        assert_eq!(pages("-3--1", 7), vec![5, 6, 7]);
        assert_eq!(pages("3-1", 7), vec![3, 2, 1]);
        assert_eq!(pages("1-last", 3), vec![1, 2, 3]);
        assert_eq!(pages(" 2 , 2, all ", 3), vec![2, 1, 3]);
        assert_eq!(pages("*", 2), vec![1, 2]);
    }

    #[test]
    fn groups_follow_terms() {
        let sel = PageSelection::parse("1-3,5,8-").unwrap();
        assert_eq!(sel.resolve_groups(9).unwrap(), vec![vec![1, 2, 3], vec![5], vec![8, 9]]);
    }

    #[test]
    fn syntax_errors_quote_the_term() {
        for (bad, quoted) in
            [("1-3,x", "\"x\""), ("1,,2", "\"\""), ("0", "\"0\""), ("2-3-4", "\"2-3-4\""), ("", "empty")]
        {
            let err = PageSelection::parse(bad).unwrap_err().to_string();
            assert!(err.contains(quoted), "{bad}: {err}");
        }
    }

    #[test]
    fn out_of_range_names_the_page_and_the_count() {
        let err = PageSelection::parse("1-3,12").unwrap().resolve(10).unwrap_err().to_string();
        assert_eq!(err, "\"12\": page 12 is beyond the last page (10)");
        let err = PageSelection::parse("-11").unwrap().resolve(10).unwrap_err().to_string();
        assert!(err.contains("-11"), "{err}");
    }

    #[test]
    fn the_pattern_accepts_what_the_parser_reads() {
        let pattern = regex::Regex::new(&PageSelection::pattern()).unwrap();
        let accepted = [
            "1",
            "1-3",
            "5-",
            "last",
            "LAST",
            "-2",
            "2--1",
            "last-3",
            " 1 , 3 - 5 ,last ",
            "all",
            "Odd",
            "EVEN",
            "*",
            "007",
            "3-1",
        ];
        let refused = ["", "0", "1,,2", "x", "1-x", "all-3", "- 2", "1 2", "-last", "lastx", "1-2-3", ",1", "0-3"];
        for text in accepted {
            assert!(PageSelection::parse(text).is_ok(), "the parser reads {text:?}");
            assert!(pattern.is_match(text), "the pattern matches {text:?}");
        }
        for text in refused {
            assert!(PageSelection::parse(text).is_err(), "the parser refuses {text:?}");
            assert!(!pattern.is_match(text), "the pattern refuses {text:?}");
        }
    }

    #[test]
    fn errors_say_which_term_and_why() {
        let err = PageSelection::parse("1, 2-x").unwrap_err();
        assert_eq!(err, PageSelectionError::Term { term: "2-x".into(), problem: TermProblem::NotAPage });
        assert_eq!(err.to_string(), "\"2-x\": expected a page number, \"last\", \"even\", \"odd\" or \"all\"");
        let err = PageSelection::parse("99999999999").unwrap_err();
        let PageSelectionError::Term { problem: TermProblem::TooLarge(overflow), .. } = &err else { panic!("{err:?}") };
        assert_eq!(err.to_string(), "\"99999999999\": page number is too large");
        assert_eq!(*overflow.kind(), std::num::IntErrorKind::PosOverflow);
        let err = PageSelection::parse("8-").unwrap().resolve(5).unwrap_err().to_string();
        assert_eq!(err, "\"8-\": page 8 is beyond the last page (5)");
        assert_eq!(PageSelection::parse("1").unwrap().resolve(0), Err(PageSelectionError::NoPages));
    }
}
