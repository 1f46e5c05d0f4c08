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

pub(crate) const FORMS: &[(&str, &str, &str)] = &[
    ("symposium", "Symposium", "座谈会/百姓说事会"),
    ("hearing", "Hearing", "听证会/民主评议会"),
    ("face-to-face", "Face-to-face consultation", "面对面协商"),
    ("open-space", "Open-space meeting", "开放空间会议"),
    ("online", "Online consultation", "网络协商"),
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

/// Why a topic is screened out of the ledger (its `screening_reason`).
pub(crate) const SCREENING_REASONS: &[(&str, &str, &str)] = &[
    ("litigation", "Involves litigation", "涉法涉诉"),
    ("petition", "Belongs to petitions", "纳入信访"),
    ("unrepresentative", "Not representative", "不具有代表性"),
    ("other", "Another reason", "其他"),
];

/// Member roles as certificates state them.
pub(crate) const MEMBER_ROLES: &[(&str, &str, &str)] = &[
    ("member", "Member", "委员"),
    ("staff", "Staff", "工作人员"),
    ("secretary-general", "Secretary-general", "秘书长"),
    ("chair", "Chair", "主席"),
    ("vice-chair", "Vice-chair", "副主席"),
];

/// What a record of each collection is called (history, dashboard).
pub(crate) const COLLECTIONS: &[(&str, &str, &str)] = &[
    ("round", "round", "协商轮次"),
    ("meeting", "meeting", "会议"),
    ("suggestion", "suggestion", "意见建议"),
    ("outcome", "outcome", "协商成果"),
    ("finding", "finding", "监督发现"),
    ("attestation", "signature", "签署"),
    ("preselection", "preselection", "预选"),
    ("submission", "submission", "报送"),
    ("instruction", "instruction", "批示"),
    ("handling", "handling unit", "交办"),
    ("feedback", "feedback", "办理反馈"),
    ("evaluation", "evaluation", "委员评价"),
    ("carry", "carried over", "转入下年"),
    ("expert", "expert", "专家"),
    ("assessment", "assessment", "成效评估"),
    ("attachment", "attachment", "附件"),
    ("title", "title", "标题"),
    ("summary", "summary", "简介"),
    ("kind", "kind", "类型"),
    ("topic", "topic", "台账选题"),
    ("plan_item", "plan item", "年度计划项"),
];

/// What a history item wrote to: a root field or a record's collection, for people.
pub(crate) fn target(lang: Lang, target: &str) -> &str {
    let collection = target.split('/').rev().nth(1).unwrap_or(target);
    label(lang, COLLECTIONS, collection)
}

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
