//! Ids as people see and type them. Body, member and agenda ids are 64 hexadecimal
//! characters (32 bytes). Listings show at least [`SHORT_LEN`] of them — 64 bits, far too
//! many to grind a look-alike key for, where the 8 shown earlier (32 bits) took a laptop
//! minutes — and wherever an operator must check an id (the bodies in `confer status` and in
//! `agenda show`) the whole id is shown.
//!
//! As input, the CLI takes a full id or any prefix of at least [`MIN_PREFIX`] hexadecimal
//! characters that matches exactly one of the ids the node lists ([`resolve_prefix`]).

use std::borrow::Cow;
use std::collections::BTreeSet;

use confer_protocol::text::display_line;

use crate::i18n::Lang;

/// Hexadecimal characters shown of an id in listings.
pub const SHORT_LEN: usize = 16;
/// Fewest hexadecimal characters accepted as an id prefix.
pub const MIN_PREFIX: usize = 8;
/// Hexadecimal characters of a full id.
pub const FULL_LEN: usize = 64;

/// The first [`SHORT_LEN`] characters of `id`, followed by `…` if there were more; made
/// safe to print (an id from the node is hex, but this does not rely on it).
pub fn short(id: &str) -> String {
    match id.char_indices().nth(SHORT_LEN) {
        Some((end, _)) => format!("{}…", display_line(&id[..end])),
        None => display_line(id).into_owned(),
    }
}

/// The whole `id`, made safe to print.
pub fn full(id: &str) -> Cow<'_, str> {
    display_line(id)
}

/// Whether `s` is a full id: exactly [`FULL_LEN`] hexadecimal characters.
pub fn is_full(s: &str) -> bool {
    s.len() == FULL_LEN && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Why a typed id did not name exactly one id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrefixError {
    /// Something other than hexadecimal characters (or nothing at all).
    NotHex,
    /// Fewer than [`MIN_PREFIX`] characters.
    TooShort,
    /// No candidate starts with it.
    NoMatch,
    /// Several candidates start with it (all of them, sorted).
    Ambiguous(Vec<String>),
}

/// What kind of id was asked for, for the error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Agenda,
    /// A body trusted by this node, as `agenda new --with` needs.
    TrustedBody,
    /// A member key of this body on this node, as `--as` and `member revoke` take it.
    Member,
}

/// Whether `input` (surrounding whitespace ignored) can be an id prefix at all: only
/// hexadecimal characters, at least [`MIN_PREFIX`] of them. Lets the CLI refuse bad input
/// before it asks the node for candidates.
pub fn check_prefix(input: &str) -> Result<(), PrefixError> {
    let input = input.trim();
    if input.is_empty() || !input.bytes().all(|b| b.is_ascii_hexdigit()) {
        Err(PrefixError::NotHex)
    } else if input.len() < MIN_PREFIX {
        Err(PrefixError::TooShort)
    } else {
        Ok(())
    }
}

/// The one candidate that `input` (surrounding whitespace ignored, any case) is a prefix
/// of. Candidates are ids as the node lists them; the same id listed twice counts once.
pub fn resolve_prefix<'a>(
    input: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Result<&'a str, PrefixError> {
    check_prefix(input)?;
    let input = input.trim();
    let matches: BTreeSet<&'a str> = candidates
        .filter(|c| {
            c.get(..input.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(input))
        })
        .collect();
    let mut it = matches.iter();
    match (it.next(), it.next()) {
        (None, _) => Err(PrefixError::NoMatch),
        (Some(one), None) => Ok(one),
        (Some(_), Some(_)) => Err(PrefixError::Ambiguous(
            matches.iter().map(|m| (*m).to_owned()).collect(),
        )),
    }
}

impl PrefixError {
    /// One line saying what was wrong with `input` and what to do, in `lang`.
    pub fn explain(&self, lang: Lang, kind: IdKind, input: &str) -> String {
        let input = display_line(input.trim());
        let (a_en, what_en, what_zh, list) = match kind {
            IdKind::Agenda => ("an", "agenda id", "议题编号", "`confer agenda list`"),
            IdKind::TrustedBody => ("a", "body id", "机构编号", "`confer status`"),
            IdKind::Member => ("a", "member key", "成员密钥", "`confer member list`"),
        };
        match (self, lang) {
            (PrefixError::NotHex, Lang::En) => format!("\"{input}\" is not {a_en} {what_en}: give its {FULL_LEN} hexadecimal characters, or at least the first {MIN_PREFIX} (see {list})"),
            (PrefixError::NotHex, Lang::Zh) => format!("“{input}”不是{what_zh}：请给出完整的 {FULL_LEN} 位十六进制编号，或至少前 {MIN_PREFIX} 位（见 {list}）"),
            (PrefixError::TooShort, Lang::En) => format!("{what_en} {input} is too short: give at least its first {MIN_PREFIX} hexadecimal characters (see {list})"),
            (PrefixError::TooShort, Lang::Zh) => format!("{what_zh} {input} 太短：请至少给出前 {MIN_PREFIX} 位十六进制字符（见 {list}）"),
            (PrefixError::NoMatch, Lang::En) => match kind {
                IdKind::Agenda => format!("no agenda id on this node starts with {input} (list them with `confer agenda list`)"),
                IdKind::TrustedBody => format!("no trusted body connected now has an id starting with {input}: check the id in `confer status`, or give all {FULL_LEN} characters of it (a body is trusted once you add one of its nodes with `confer peer add`)"),
                IdKind::Member => format!("no member of this body on this node is named {input} or has a key starting with it (list them with `confer member list`)"),
            },
            (PrefixError::NoMatch, Lang::Zh) => match kind {
                IdKind::Agenda => format!("本节点没有以 {input} 开头的议题编号（用 `confer agenda list` 查看）"),
                IdKind::TrustedBody => format!("当前已连接的受信任机构中，没有编号以 {input} 开头的：请用 `confer status` 核对编号，或给出完整的 {FULL_LEN} 位编号（用 `confer peer add` 添加某机构的节点后，即信任该机构）"),
                IdKind::Member => format!("本节点上本机构没有名为 {input} 或密钥以其开头的成员（用 `confer member list` 查看）"),
            },
            (PrefixError::Ambiguous(all), Lang::En) => format!("{what_en} {input} is ambiguous: it starts {} ids ({}); give more characters", all.len(), all.iter().map(|m| full(m)).collect::<Vec<_>>().join(", ")),
            (PrefixError::Ambiguous(all), Lang::Zh) => format!("{what_zh} {input} 不唯一：有 {} 个编号以此开头（{}）；请多给出几位", all.len(), all.iter().map(|m| full(m)).collect::<Vec<_>>().join("，")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const B: &str = "0123456789abcdef11111111111111111111111111111111111111111111111f";
    const C: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

    fn all() -> impl Iterator<Item = &'static str> {
        [A, B, C].into_iter()
    }

    #[test]
    fn unique_prefixes_resolve() {
        assert_eq!(resolve_prefix("fedcba98", all()), Ok(C));
        assert_eq!(resolve_prefix("FEDCBA98", all()), Ok(C));
        assert_eq!(resolve_prefix("  fedcba9876 ", all()), Ok(C));
        assert_eq!(resolve_prefix("0123456789abcdef0", all()), Ok(A));
        assert_eq!(resolve_prefix("0123456789abcdef1", all()), Ok(B));
        assert_eq!(resolve_prefix(A, all()), Ok(A));
        // The same id listed twice (a body seen through two nodes) is one match.
        assert_eq!(resolve_prefix("fedcba98", [C, A, C].into_iter()), Ok(C));
    }

    #[test]
    fn errors() {
        assert_eq!(resolve_prefix("fedcba9", all()), Err(PrefixError::TooShort));
        assert_eq!(resolve_prefix("", all()), Err(PrefixError::NotHex));
        assert_eq!(resolve_prefix("   ", all()), Err(PrefixError::NotHex));
        assert_eq!(resolve_prefix("not-hex!", all()), Err(PrefixError::NotHex));
        assert_eq!(resolve_prefix("fedcba9g", all()), Err(PrefixError::NotHex));
        assert_eq!(
            resolve_prefix("0x012345678", all()),
            Err(PrefixError::NotHex)
        );
        // Non-ASCII input must not split a character or panic.
        assert_eq!(
            resolve_prefix("平湖市政协", all()),
            Err(PrefixError::NotHex)
        );
        assert_eq!(resolve_prefix("aaaaaaaa", all()), Err(PrefixError::NoMatch));
        assert_eq!(
            resolve_prefix("aaaaaaaa", std::iter::empty()),
            Err(PrefixError::NoMatch)
        );
        let longer = format!("{A}0");
        assert_eq!(resolve_prefix(&longer, all()), Err(PrefixError::NoMatch));
        assert_eq!(
            resolve_prefix("0123456789", [B, C, A].into_iter()),
            Err(PrefixError::Ambiguous(vec![A.to_owned(), B.to_owned()]))
        );
        // A candidate that is not ASCII does not panic either.
        assert_eq!(
            resolve_prefix("01234567", ["0123456平湖"].into_iter()),
            Err(PrefixError::NoMatch)
        );
    }

    #[test]
    fn explanations_follow_the_language_and_list_the_matches() {
        let amb = PrefixError::Ambiguous(vec![A.to_owned(), B.to_owned()]);
        let en = amb.explain(Lang::En, IdKind::Agenda, "0123456789");
        assert!(
            en.contains("ambiguous") && en.contains(A) && en.contains(B),
            "{en}"
        );
        let zh = amb.explain(Lang::Zh, IdKind::Agenda, "0123456789");
        assert!(
            zh.contains("不唯一") && zh.contains(A) && zh.contains(B),
            "{zh}"
        );
        let en = PrefixError::TooShort.explain(Lang::En, IdKind::TrustedBody, "abc");
        assert!(en.contains("too short") && en.contains('8'), "{en}");
        assert!(PrefixError::TooShort
            .explain(Lang::Zh, IdKind::TrustedBody, "abc")
            .contains("太短"));
        let en = PrefixError::NoMatch.explain(Lang::En, IdKind::TrustedBody, "abcdef01");
        assert!(
            en.contains("abcdef01") && en.contains("confer status"),
            "{en}"
        );
        let en = PrefixError::NoMatch.explain(Lang::En, IdKind::Agenda, "abcdef01");
        assert!(en.contains("confer agenda list"), "{en}");
        assert!(PrefixError::NoMatch
            .explain(Lang::Zh, IdKind::Agenda, "abcdef01")
            .contains("议题"));
        // Typed input is echoed, but never with its control characters.
        let en = PrefixError::NotHex.explain(Lang::En, IdKind::Agenda, "x\x1b[2K\ry");
        assert!(!en.contains('\x1b') && !en.contains('\r'), "{en:?}");
        assert!(en.contains("is not an agenda id"), "{en}");
        let en = PrefixError::NotHex.explain(Lang::En, IdKind::TrustedBody, "not-hex");
        assert!(en.contains("\"not-hex\" is not a body id"), "{en}");
    }

    #[test]
    fn short_and_full_forms() {
        assert_eq!(short(A), "0123456789abcdef…");
        assert_eq!(short("abc"), "abc");
        assert_eq!(short("0123456789abcdef"), "0123456789abcdef");
        assert_eq!(full(A), A);
        assert!(!short("\x1b[2K\r0123456789abcdef").contains('\x1b'));
        assert!(is_full(A) && !is_full(&A[1..]) && !is_full(&format!("{}g", &A[1..])));
    }
}
