//! Text that other bodies choose — body, member and role names, agenda titles and
//! summaries, refusal details — made safe to accept and to show.
//!
//! Such a string ends up on an operator's terminal and in log files. A control character
//! there can rewrite what the operator sees (`\x1b[2K\r` erases the line and starts over; a
//! newline forges a log line), and an invisible format character can make two different
//! names look the same (bidi overrides reorder text, zero-width characters hide inside
//! it). The characters treated as *hidden* here are the Unicode general categories
//! **Cc** (C0 and C1 controls, DEL; this includes `\n`, `\r`, `\t`), **Cf** (format:
//! bidi marks, embeddings, overrides and isolates U+061C, U+200E/U+200F, U+202A–U+202E,
//! U+2066–U+2069; zero-width U+200B–U+200D, U+2060, U+FEFF; soft hyphen, tag characters
//! and the rest of the category as of Unicode 16), **Zl** and **Zp** (U+2028, U+2029,
//! which some viewers break lines on).
//!
//! - [`is_clean_name`] decides whether a name may be put into a certificate at all.
//! - [`display_line`] makes any string safe for one line of output or a log field:
//!   every hidden character becomes a visible escape in Rust's notation, e.g. ESC becomes
//!   the six characters `\u{1b}`, so the operator sees that something was there and what.
//! - [`display_text`] does the same for multi-line text (an agenda summary) but keeps
//!   `\n` and `\t`; a `\r` directly before `\n` (a Windows line end) is dropped, any
//!   other `\r` is escaped.
//!
//! Both display functions borrow the input when nothing needs replacing. They are meant
//! for showing, not for round trips: a literal backslash is left alone, so the output
//! `\u{1b}` may also come from input that spelled it out — either way it is inert text.
//! They do nothing about look-alike letters (Latin `a` vs Cyrillic `а`); that is why ids
//! must be compared, not names.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Format characters (general category Cf) as of Unicode 16, plus the line and paragraph
/// separators (Zl, Zp). Sorted, non-overlapping, inclusive ranges.
const FORMAT_AND_SEPARATORS: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),   // soft hyphen
    (0x0600, 0x0605),   // Arabic number signs
    (0x061C, 0x061C),   // Arabic letter mark (bidi)
    (0x06DD, 0x06DD),   // Arabic end of ayah
    (0x070F, 0x070F),   // Syriac abbreviation mark
    (0x0890, 0x0891),   // Arabic pound / piastre mark above
    (0x08E2, 0x08E2),   // Arabic disputed end of ayah
    (0x180E, 0x180E),   // Mongolian vowel separator
    (0x200B, 0x200F),   // zero-width space, ZWNJ, ZWJ, LRM, RLM
    (0x2028, 0x202E),   // line/paragraph separator, bidi embeddings and overrides
    (0x2060, 0x2064),   // word joiner, invisible operators
    (0x2066, 0x206F),   // bidi isolates, deprecated format characters
    (0xFEFF, 0xFEFF),   // zero-width no-break space (BOM)
    (0xFFF9, 0xFFFB),   // interlinear annotation
    (0x110BD, 0x110BD), // Kaithi number sign
    (0x110CD, 0x110CD), // Kaithi number sign above
    (0x13430, 0x1343F), // Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3), // shorthand format controls
    (0x1D173, 0x1D17A), // musical symbol format controls
    (0xE0001, 0xE0001), // language tag
    (0xE0020, 0xE007F), // tag characters
];

/// Whether `c` is hidden: a control (Cc), format (Cf), line- or paragraph-separator
/// (Zl, Zp) character. See the module documentation.
pub fn is_hidden(c: char) -> bool {
    if c.is_control() {
        return true;
    }
    let c = u32::from(c);
    // The table is sorted: find the last range starting at or before `c`.
    let i = FORMAT_AND_SEPARATORS.partition_point(|&(start, _)| start <= c);
    i > 0 && FORMAT_AND_SEPARATORS[i - 1].1 >= c
}

/// Whether `s` may be a body, member or role name: not empty or only whitespace, no
/// whitespace at either end, and no hidden character (control, bidi, zero-width or other
/// format character, line or paragraph separator) anywhere.
pub fn is_clean_name(s: &str) -> bool {
    !s.trim().is_empty() && s.trim() == s && !s.chars().any(is_hidden)
}

/// `s` for one line of output or a log field: every hidden character, `\n` and `\t`
/// included, becomes a visible escape such as `\u{1b}`. Borrows `s` when it is clean.
pub fn display_line(s: &str) -> Cow<'_, str> {
    escape(s, |_, _| Action::Escape)
}

/// `s` as multi-line text: like [`display_line`], but `\n` and `\t` are kept and a `\r`
/// directly before `\n` is dropped. Borrows `s` when nothing needs replacing.
pub fn display_text(s: &str) -> Cow<'_, str> {
    escape(s, |c, next| match c {
        '\n' | '\t' => Action::Keep,
        '\r' if next == Some('\n') => Action::Drop,
        _ => Action::Escape,
    })
}

/// What to do with a hidden character.
enum Action {
    Keep,
    Drop,
    Escape,
}

/// Replaces the hidden characters of `s` as `decide` says (given the character and the
/// one after it); borrows when every hidden character is kept.
fn escape(s: &str, decide: impl Fn(char, Option<char>) -> Action) -> Cow<'_, str> {
    let mut chars = s.char_indices().peekable();
    let mut out: Option<String> = None;
    while let Some((i, c)) = chars.next() {
        let action = if is_hidden(c) {
            decide(c, chars.peek().map(|&(_, n)| n))
        } else {
            Action::Keep
        };
        match (action, &mut out) {
            (Action::Keep, Some(o)) => o.push(c),
            (Action::Keep, None) => {}
            (other, o) => {
                let o = o.get_or_insert_with(|| {
                    let mut o = String::with_capacity(s.len() + 8);
                    o.push_str(&s[..i]);
                    o
                });
                if let Action::Escape = other {
                    // Writing to a String cannot fail.
                    let _ = write!(o, "\\u{{{:x}}}", u32::from(c));
                }
            }
        }
    }
    match out {
        Some(o) => Cow::Owned(o),
        None => Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The characters the brief names explicitly, each of which must count as hidden.
    const NAMED: &[char] = &[
        '\0',
        '\x07',
        '\x08',
        '\t',
        '\n',
        '\x0b',
        '\x0c',
        '\r',
        '\x1b',
        '\x7f',
        '\u{80}',
        '\u{85}',
        '\u{9b}',
        '\u{9f}',
        '\u{61c}',
        '\u{200b}',
        '\u{200c}',
        '\u{200d}',
        '\u{200e}',
        '\u{200f}',
        '\u{202a}',
        '\u{202b}',
        '\u{202c}',
        '\u{202d}',
        '\u{202e}',
        '\u{2060}',
        '\u{2066}',
        '\u{2067}',
        '\u{2068}',
        '\u{2069}',
        '\u{feff}',
        '\u{2028}',
        '\u{2029}',
        '\u{ad}',
        '\u{e0041}',
    ];

    #[test]
    fn named_characters_are_hidden_and_ordinary_ones_are_not() {
        for &c in NAMED {
            assert!(is_hidden(c), "{:x} is hidden", u32::from(c));
        }
        for c in [
            'a',
            ' ',
            '\u{3000}',
            '平',
            '政',
            '协',
            'é',
            '\u{301}',
            '\u{fe0f}',
            '€',
            '😀',
            '\u{2027}',
            '\u{202f}',
            '\u{2065}',
            '\u{2070}',
            '\u{fffc}',
            '\u{e0080}',
        ] {
            assert!(!is_hidden(c), "{:x} is not hidden", u32::from(c));
        }
    }

    #[test]
    fn table_is_sorted_and_disjoint() {
        for w in FORMAT_AND_SEPARATORS.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:x?}");
        }
    }

    #[test]
    fn clean_names() {
        for ok in [
            "平湖市政协",
            "金山区政协 秘书处",
            "A",
            "Jinshan District CPPCC",
        ] {
            assert!(is_clean_name(ok), "{ok:?}");
        }
        for bad in [
            "",
            " ",
            "\u{3000}",
            " 平湖市政协",
            "平湖市政协 ",
            "平湖市政协\u{3000}",
            "evil\x1b[2K\rname",
            "line\nbreak",
            "tab\there",
            "del\x7f",
            "c1\u{9b}2K",
            "平湖\u{202e}协政市",
            "平湖\u{2067}x\u{2069}",
            "平湖\u{200b}市政协",
            "平湖\u{200d}市政协",
            "\u{feff}平湖市政协",
            "平湖\u{2028}市政协",
            "平湖\u{e0041}市政协",
        ] {
            assert!(!is_clean_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn display_line_escapes_visibly() {
        assert_eq!(
            display_line("evil\x1b[2K\rname"),
            "evil\\u{1b}[2K\\u{d}name"
        );
        assert_eq!(display_line("a\nb\tc"), "a\\u{a}b\\u{9}c");
        assert_eq!(display_line("平湖\u{202e}协政"), "平湖\\u{202e}协政");
        assert_eq!(display_line("\u{9b}"), "\\u{9b}");
        assert_eq!(display_line("x\u{e0041}"), "x\\u{e0041}");
        assert!(matches!(display_line("平湖市政协"), Cow::Borrowed(_)));
        assert!(matches!(display_line(""), Cow::Borrowed(_)));
    }

    #[test]
    fn display_text_keeps_lines_and_tabs() {
        assert_eq!(display_text("a\nb\tc"), "a\nb\tc");
        assert!(matches!(display_text("a\nb\tc"), Cow::Borrowed(_)));
        assert_eq!(display_text("a\r\nb\r\n"), "a\nb\n");
        assert_eq!(display_text("fake\rreal"), "fake\\u{d}real");
        assert_eq!(display_text("a\r\r\nb"), "a\\u{d}\nb");
        assert_eq!(display_text("end\r"), "end\\u{d}");
        assert_eq!(display_text("\x1b[31mred\n"), "\\u{1b}[31mred\n");
        assert_eq!(display_text("\u{2066}x\u{2028}"), "\\u{2066}x\\u{2028}");
    }

    /// Strings that mix ordinary text with hidden characters.
    fn mixed() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            3 => any::<char>().prop_map(String::from),
            2 => prop::sample::select(NAMED).prop_map(String::from),
            1 => Just("\r\n".to_owned()),
            1 => Just("平湖市政协".to_owned()),
        ];
        prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn display_line_output_has_no_hidden_character(s in mixed()) {
            let out = display_line(&s);
            prop_assert!(!out.chars().any(is_hidden), "{:?} -> {:?}", s, out);
            for &c in NAMED {
                prop_assert!(!out.contains(c));
            }
        }

        #[test]
        fn display_text_output_has_only_lines_and_tabs(s in mixed()) {
            let out = display_text(&s);
            prop_assert!(
                !out.chars().any(|c| is_hidden(c) && c != '\n' && c != '\t'),
                "{:?} -> {:?}", s, out
            );
            prop_assert!(!out.contains('\r'));
            prop_assert_eq!(out.matches('\n').count(), s.matches('\n').count());
        }

        #[test]
        fn clean_input_is_borrowed_unchanged(s in any::<String>()) {
            let s: String = s.chars().filter(|&c| !is_hidden(c)).collect();
            prop_assert!(matches!(display_line(&s), Cow::Borrowed(b) if b == s));
            prop_assert!(matches!(display_text(&s), Cow::Borrowed(b) if b == s));
        }

        #[test]
        fn clean_names_display_unchanged(s in any::<String>()) {
            if is_clean_name(&s) {
                prop_assert!(matches!(display_line(&s), Cow::Borrowed(_)));
            } else {
                prop_assert!(s.trim() != s || s.trim().is_empty() || s.chars().any(is_hidden));
            }
        }

        #[test]
        fn hidden_characters_are_escaped_not_lost(s in mixed()) {
            let hidden = s.chars().filter(|&c| is_hidden(c)).count();
            let out = display_line(&s);
            prop_assert_eq!(out.matches("\\u{").count(), hidden + s.matches("\\u{").count());
        }
    }
}
