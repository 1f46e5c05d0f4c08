//! The words people read for the model's stored values, in both languages.

use crate::i18n::Lang;

/// (stored value, English, Chinese) for every choice the forms offer.
pub(crate) const OUTCOME_KINDS: &[(&str, &str, &str)] = &[
    ("joint-opinion", "Joint opinion", "联合意见"),
    ("resolution", "Resolution", "决议"),
    ("joint-report", "Joint situation report", "联合情况报告"),
    ("proposal", "Proposal", "提案"),
    ("supervision-proposal", "Supervision proposal", "监督建议"),
];

pub(crate) const RESULTS: &[(&str, &str, &str)] = &[
    ("adopted", "Adopted", "采纳"),
    ("partly-adopted", "Partly adopted", "部分采纳"),
    ("planned", "Planned", "列入计划"),
    ("for-reference", "For reference", "留作参考"),
    ("not-adopted", "Not adopted", "未采纳"),
];

pub(crate) const ROLES: &[(&str, &str, &str)] = &[
    ("lead", "Lead unit", "主办单位"),
    ("co", "Co-handling unit", "协办单位"),
];

pub(crate) const VISITS: &[(&str, &str, &str)] = &[
    ("look-back", "Look-back", "回头看"),
    ("return-visit", "Return visit", "回访督查"),
    ("unannounced", "Unannounced visit", "明察暗访"),
];

pub(crate) const SEVERITIES: &[(&str, &str, &str)] = &[
    ("low", "Low", "低"),
    ("medium", "Medium", "中"),
    ("high", "High", "高"),
];

/// The label of `value` among `choices` (the value itself if unknown).
pub(crate) fn label<'a>(
    lang: Lang,
    choices: &'a [(&'a str, &'a str, &'a str)],
    value: &'a str,
) -> &'a str {
    choices
        .iter()
        .find(|(v, _, _)| *v == value)
        .map_or(value, |(_, en, zh)| lang.pick(en, zh))
}

/// The options of a select.
pub(crate) fn options(lang: Lang, choices: &[(&str, &str, &str)]) -> Vec<(String, String)> {
    choices
        .iter()
        .map(|(v, en, zh)| ((*v).to_owned(), lang.pick(en, zh).to_owned()))
        .collect()
}

/// Whether `value` is one of `choices`.
pub(crate) fn valid(choices: &[(&str, &str, &str)], value: &str) -> bool {
    choices.iter().any(|(v, _, _)| *v == value)
}
