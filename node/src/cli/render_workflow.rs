//! Text for the workflow commands ([`super::workflow`]), in the user's language: the names
//! of records, fields and values, what a write did, the list of suggestions, the records
//! section of `agenda show`, and every error these commands explain themselves. Chinese
//! output is Chinese throughout (ids, flags and commands aside); every string another body
//! chose goes through [`render::text`] / [`render::block`] before it is printed.

use std::fmt::Write as _;
use std::path::Path;

use confer_protocol::model::{ModelError, AGENDA_SCHEMA};
use confer_protocol::text::display_line;

use super::ids::{self, PrefixError, MIN_PREFIX};
use super::records::Scope;
use super::render;
use crate::i18n::Lang;
use crate::views::{AgendaView, RecordView, ValueView};

/// Appends one line to `out` (writing to a `String` cannot fail).
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

/// What a record of `collection` is called.
pub fn collection(lang: Lang, name: &str) -> &str {
    let zh = match name {
        "round" => "协商轮次",
        "meeting" => "协商会议",
        "suggestion" => "意见建议",
        "outcome" => "协商成果",
        "finding" => "监督发现",
        "preselection" => "预选意见",
        "attestation" => "成果签署",
        "submission" => "报送记录",
        "instruction" => "领导批示",
        "handling" => "交办记录",
        "feedback" => "办理反馈",
        "evaluation" => "办理评价",
        "carry" => "转入次年视察计划",
        "expert" => "第三方专家",
        "assessment" => "专家评估",
        "topic" => "台账选题",
        "plan_item" => "年度计划事项",
        _ => "记录",
    };
    let en = match name {
        "handling" => "handling assignment",
        "carry" => "carry-over",
        "plan_item" => "plan item",
        other => other,
    };
    lang.pick(en, zh)
}

/// What a field is called.
pub fn field(lang: Lang, name: &str) -> String {
    let zh = match name {
        "number" => "序号",
        "from_outcome" => "上轮成果",
        "host" => "承办机构",
        "confirmed_on" => "确定日期",
        "confirmation" => "秘书长工作会议确定意见",
        "research" => "调研",
        "participants" => "参加人员",
        "form" => "协商形式",
        "date" => "日期",
        "place" => "地点",
        "notice" => "会议通知",
        "round" => "协商轮次",
        "meeting" => "协商会议",
        "minutes" => "会议记录",
        "attendance" => "出席情况",
        "text" => "内容",
        "proposer" => "提出人",
        "bodies" => "涉及机构",
        "disputed" => "存在争议",
        "decision" => "主席联席会议决定",
        "decided_on" => "决定日期",
        "from_suggestion" => "原意见建议",
        "kind" => "成果类型",
        "title" => "标题",
        "suggestions" => "所含意见建议",
        "suggestion" => "意见建议",
        "outcome" => "协商成果",
        "visit" => "监督方式",
        "severity" => "严重程度",
        "attachments" => "附件",
        "response" => "答复",
        "to" => "报送对象",
        "leader" => "批示领导",
        "copied_to" => "抄告单位",
        "unit" => "承办单位",
        "role" => "办理角色",
        "assigned" => "交办日期",
        "received" => "签收日期",
        "due" => "办理期限",
        "handed_back" => "退回日期",
        "handed_back_reason" => "退回理由",
        "extended_to" => "延期至",
        "extension_reason" => "延期理由",
        "handling" => "交办记录",
        "result" => "办理结果",
        "reason" => "理由",
        "satisfaction" => "满意程度",
        "year" => "年度",
        "note" => "备注",
        "summary" => "简介",
        "digest" => "文本摘要",
        "signature" => "签名",
        "data" => "数据",
        "media_type" => "文件类型",
        "sha256" => "SHA-256 校验值",
        "topic" => "选题",
        "topics" => "相关选题",
        "agenda" => "联动议题",
        "agendas" => "相关联动议题",
        "source" => "来源",
        "source_detail" => "来源说明",
        "urgency" => "紧急程度",
        "category" => "类别",
        "screening" => "筛选结论",
        "screening_reason" => "不予采用的理由",
        "screening_text" => "理由说明",
        "screened_on" => "筛选日期",
        "merged_into" => "并入选题",
        "expert" => "专家",
        "name" => "姓名",
        "field" => "专业领域",
        "affiliation" => "工作单位",
        "contact" => "联系方式",
        "pool_id" => "专家库编号",
        "rating" => "评价等级",
        _ => "",
    };
    match lang {
        Lang::Zh if !zh.is_empty() => zh.to_owned(),
        Lang::Zh => "字段".to_owned(),
        Lang::En => name.replace('_', " "),
    }
}

/// A choice value as people read it (Chinese: the domain's term; English: as stored).
fn choice(lang: Lang, value: &str) -> Option<&'static str> {
    if lang == Lang::En {
        return None;
    }
    Some(match value {
        "symposium" => "座谈会",
        "hearing" => "听证会",
        "face-to-face" => "面对面协商",
        "open-space" => "开放空间会议",
        "online" => "网络协商",
        "resolution" => "会议决议",
        "joint-opinion" => "联合协商意见",
        "joint-report" => "联合协商情况反映",
        "proposal" => "建议案",
        "supervision-proposal" => "民主监督建议书",
        "adopted" => "采纳",
        "partly-adopted" => "部分采纳",
        "planned" => "列入计划",
        "for-reference" => "留作参考",
        "not-adopted" => "未予采纳",
        "satisfied" => "满意",
        "basically-satisfied" => "基本满意",
        "unsatisfied" => "不满意",
        "low" => "低",
        "medium" => "中",
        "high" => "高",
        "look-back" => "回头看",
        "return-visit" => "回访督查",
        "unannounced" => "明察暗访",
        "lead" => "主办",
        "co" => "协办",
        "yes" => "是",
        "no" => "否",
        _ => return None,
    })
}

/// The first 16 characters of an id: a prefix a person can type back.
fn head(id: &str) -> String {
    display_line(id.get(..ids::SHORT_LEN).unwrap_or(id)).into_owned()
}

/// What a write did: a new record, or an edit of one.
pub fn written(lang: Lang, name: &str, id: &str, agenda: &str, new: bool) -> String {
    let (label, id, agenda) = (collection(lang, name), display_line(id), head(agenda));
    match (lang, new) {
        (Lang::En, true) => format!("Saved new {label} {id} in agenda {agenda} (durable)"),
        (Lang::En, false) => format!("Saved {label} {id} in agenda {agenda} (durable)"),
        (Lang::Zh, true) => format!("已新建{label} {id}（议题 {agenda}），已保存"),
        (Lang::Zh, false) => format!("已保存{label} {id}（议题 {agenda}）"),
    }
}

/// The deadline `handling assign` set.
pub fn due_note(lang: Lang, due: &str, computed: bool) -> String {
    match (lang, computed) {
        (Lang::En, true) => {
            format!("due {due} (three months after assignment; --due sets another)")
        }
        (Lang::En, false) => format!("due {due}"),
        (Lang::Zh, true) => format!("办理期限 {due}（交办后三个月；可用 --due 另行指定）"),
        (Lang::Zh, false) => format!("办理期限 {due}"),
    }
}

/// Where a person finds the ids of a collection's records.
fn where_listed(lang: Lang, collection: &str, scope: Scope<'_>) -> String {
    let agenda = match scope {
        Scope::Agenda(id) => head(id),
        Scope::Node => lang.pick("AGENDA", "议题ID").to_owned(),
    };
    match collection {
        "suggestion" => format!("`confer suggestion list {agenda}`"),
        "topic" => "`confer topic list`".to_owned(),
        "plan_item" => "`confer plan list`".to_owned(),
        _ => format!("`confer agenda show {agenda}`"),
    }
}

/// Why a typed record id named no single record of `name`.
pub fn prefix_error(
    lang: Lang,
    e: &PrefixError,
    name: &str,
    input: &str,
    scope: Scope<'_>,
) -> String {
    let label = collection(lang, name);
    let input = display_line(input.trim());
    let list = where_listed(lang, name, scope);
    let len = confer_protocol::model::schema::ID_HEX_LEN;
    let place = match (scope, lang) {
        (Scope::Agenda(id), Lang::En) => format!("in agenda {}", head(id)),
        (Scope::Agenda(id), Lang::Zh) => format!("议题 {} 中", head(id)),
        (Scope::Node, Lang::En) => "on this node".to_owned(),
        (Scope::Node, Lang::Zh) => "本节点上".to_owned(),
    };
    match (e, lang) {
        (PrefixError::NotHex, Lang::En) => format!("\"{input}\" is not a {label} id: give its {len} hexadecimal characters, or at least the first {MIN_PREFIX} (see {list})"),
        (PrefixError::NotHex, Lang::Zh) => format!("“{input}”不是{label}编号：请给出完整的 {len} 位十六进制编号，或至少前 {MIN_PREFIX} 位（见 {list}）"),
        (PrefixError::TooShort, Lang::En) => format!("{label} id {input} is too short: give at least its first {MIN_PREFIX} hexadecimal characters (see {list})"),
        (PrefixError::TooShort, Lang::Zh) => format!("{label}编号 {input} 太短：请至少给出前 {MIN_PREFIX} 位十六进制字符（见 {list}）"),
        (PrefixError::NoMatch, Lang::En) => format!("no {label} {place} has an id starting with {input} (see {list})"),
        (PrefixError::NoMatch, Lang::Zh) => format!("{place}没有编号以 {input} 开头的{label}（见 {list}）"),
        (PrefixError::Ambiguous(all), Lang::En) => format!("{label} id {input} is ambiguous: it starts {} ids ({}); give more characters", all.len(), all.iter().map(|m| display_line(m)).collect::<Vec<_>>().join(", ")),
        (PrefixError::Ambiguous(all), Lang::Zh) => format!("{label}编号 {input} 不唯一：有 {} 个编号以此开头（{}）；请多给出几位", all.len(), all.iter().map(|m| display_line(m)).collect::<Vec<_>>().join("，")),
    }
}

pub fn no_round(lang: Lang, agenda: &str) -> String {
    let agenda = head(agenda);
    match lang {
        Lang::En => format!(
            "agenda {agenda} has no round yet: start the first with `confer round new {agenda}`"
        ),
        Lang::Zh => {
            format!("议题 {agenda} 尚无协商轮次：请先用 `confer round new {agenda}` 开始第一轮")
        }
    }
}

pub fn no_round_numbered(lang: Lang, agenda: &str, number: u32) -> String {
    let agenda = head(agenda);
    match lang {
        Lang::En => {
            format!("agenda {agenda} has no round {number} (see `confer agenda show {agenda}`)")
        }
        Lang::Zh => {
            format!("议题 {agenda} 没有第 {number} 轮协商（见 `confer agenda show {agenda}`）")
        }
    }
}

/// Several rounds carry the same number (started at the same time on two nodes).
pub fn rounds_alike(lang: Lang, agenda: &str, number: u32, rounds: &[&str]) -> String {
    let (agenda, n) = (head(agenda), rounds.len());
    match lang {
        Lang::En => format!("agenda {agenda} has {n} rounds numbered {number} (started at the same time on different nodes): name one with --round and its id ({})", rounds.join(", ")),
        Lang::Zh => format!("议题 {agenda} 有 {n} 个第 {number} 轮（在不同节点上同时开始）：请用 --round 加编号指明其一（{}）", rounds.join("，")),
    }
}

pub fn no_member_body(lang: Lang, view: &AgendaView, input: &str) -> String {
    let (agenda, input) = (head(&view.id), display_line(input));
    let bodies = view
        .members
        .iter()
        .map(render::body_short)
        .collect::<Vec<_>>()
        .join(lang.pick(", ", "、"));
    match lang {
        Lang::En => format!("no member body of agenda {agenda} is named {input} or has an id starting with it (its bodies: {bodies})"),
        Lang::Zh => format!("议题 {agenda} 的参与机构中，没有名为 {input} 或编号以其开头的机构（参与机构：{bodies}）"),
    }
}

pub fn bodies_named_alike(lang: Lang, agenda: &str, input: &str, bodies: &[&str]) -> String {
    let (agenda, input, n) = (head(agenda), display_line(input), bodies.len());
    match lang {
        Lang::En => format!(
            "{input} names {n} member bodies of agenda {agenda}: give more of the id ({})",
            bodies.join(", ")
        ),
        Lang::Zh => format!(
            "{input} 对应议题 {agenda} 的 {n} 个参与机构：请给出更多位编号（{}）",
            bodies.join("，")
        ),
    }
}

pub fn not_assigned(lang: Lang, suggestion: &str, unit: &str) -> String {
    let (s, unit) = (display_line(suggestion), display_line(unit.trim()));
    match lang {
        Lang::En => format!("this body has not assigned suggestion {s} to the unit \"{unit}\" (or the unit handed it back): assign it first with `confer handling assign {s} --unit \"{unit}\"`"),
        Lang::Zh => format!("本机构未将意见建议 {s} 交由“{unit}”办理（或该单位已退回）：请先用 `confer handling assign {s} --unit \"{unit}\"` 交办"),
    }
}

pub fn already_assigned(lang: Lang, suggestion: &str, unit: &str, handling: &str) -> String {
    let (s, unit) = (display_line(suggestion), display_line(unit.trim()));
    match lang {
        Lang::En => format!("this body already assigned suggestion {s} to the unit \"{unit}\" (handling assignment {handling}); to move its deadline use `confer handling extend`"),
        Lang::Zh => format!("本机构已将意见建议 {s} 交由“{unit}”办理（交办记录 {handling}）；如需延期请用 `confer handling extend`"),
    }
}

/// A date a later one may not precede.
#[derive(Debug, Clone, Copy)]
pub enum Earlier {
    /// The handling record's date of assignment.
    Assigned,
    /// The handling record's deadline.
    Due,
    /// The date this body submitted the suggestion.
    Submitted,
}

/// A date given with `flag` lies before the date it may not precede.
pub fn date_before(lang: Lang, flag: &str, date: &str, earlier: Earlier, on: &str) -> String {
    let (en, zh) = match earlier {
        Earlier::Assigned => ("the date of assignment", "交办日期"),
        Earlier::Due => ("the current deadline", "现有办理期限"),
        Earlier::Submitted => (
            "the date this body submitted the suggestion",
            "本机构报送该意见建议的日期",
        ),
    };
    match lang {
        Lang::En => format!("{flag} {date} is before {en} ({on})"),
        Lang::Zh => format!("{flag} {date} 早于{zh}（{on}）"),
    }
}

pub fn reason_needed(lang: Lang) -> String {
    lang.pick(
        "--result not-adopted needs --reason: say why the suggestion cannot be adopted",
        "--result not-adopted 须同时给出 --reason，说明不予采纳的理由",
    )
    .to_owned()
}

pub fn nothing_to_change(lang: Lang, flags: &str) -> String {
    match lang {
        Lang::En => format!("nothing to change: give at least one of {flags}"),
        Lang::Zh => format!("没有要修改的内容：请至少给出 {flags} 中的一项"),
    }
}

pub fn blank(lang: Lang, name: &str) -> String {
    let label = field(lang, name);
    match lang {
        Lang::En => format!("the {label} must not be empty"),
        Lang::Zh => format!("{label}不能为空"),
    }
}

/// A value the schema refuses (the CLI checks dates, choices and ids itself, so what is
/// left is length and line breaks).
pub fn bad_value(lang: Lang, name: &str, e: &ModelError) -> String {
    let label = field(lang, name);
    match (e, lang) {
        (ModelError::TooLong { max, .. }, Lang::En) => {
            format!("the {label} is longer than {max} bytes")
        }
        (ModelError::TooLong { max, .. }, Lang::Zh) => format!("{label}超过 {max} 字节的上限"),
        (ModelError::BadValue { .. }, Lang::En) => {
            format!("the {label} must be one line, without control characters")
        }
        (ModelError::BadValue { .. }, Lang::Zh) => format!("{label}须为单行文字，不含控制字符"),
        (other, Lang::En) => format!("the {label}: {other}"),
        (_, Lang::Zh) => format!("{label}取值无效"),
    }
}

pub fn unreadable(lang: Lang, path: &Path, e: &std::io::Error) -> String {
    let path = display_line(&path.display().to_string()).into_owned();
    match lang {
        Lang::En => format!("cannot read {path}: {e}"),
        Lang::Zh => {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "文件不存在",
                std::io::ErrorKind::PermissionDenied => "没有读取权限",
                std::io::ErrorKind::IsADirectory => "这是一个目录",
                _ => "读取失败",
            };
            format!("无法读取 {path}：{why}")
        }
    }
}

pub fn not_utf8(lang: Lang, path: &Path, valid_up_to: usize) -> String {
    let path = display_line(&path.display().to_string()).into_owned();
    match lang {
        Lang::En => format!("{path} is not UTF-8 text (invalid from byte {valid_up_to}): save it as UTF-8 and try again"),
        Lang::Zh => format!("{path} 不是 UTF-8 编码的文本（自第 {valid_up_to} 字节起无效）：请另存为 UTF-8 后重试"),
    }
}

pub fn file_too_long(lang: Lang, path: &Path, max: u64) -> String {
    let path = display_line(&path.display().to_string()).into_owned();
    match lang {
        Lang::En => format!("{path} is longer than {max} bytes, the most a record's text may hold"),
        Lang::Zh => format!("{path} 超过 {max} 字节，超出记录正文的上限"),
    }
}

/// Who made a record: `name @ body`.
fn maker(r: &RecordView, lang: Lang) -> String {
    r.created_by
        .as_ref()
        .map_or_else(|| "?".to_owned(), |v| render::author(v, lang))
}

/// `confer suggestion list`: id, proposer, the text's first line, who entered it.
pub fn suggestion_list(view: &AgendaView, lang: Lang) -> String {
    let mut out = String::new();
    let list = view.records("suggestion");
    if list.is_empty() {
        let agenda = head(&view.id);
        put!(
            out,
            "{}",
            match lang {
                Lang::En => format!("No suggestions in agenda {agenda} yet; add one with `confer suggestion add {agenda} --text …`."),
                Lang::Zh => format!("议题 {agenda} 暂无意见建议；可用 `confer suggestion add {agenda} --text …` 添加。"),
            }
        );
        return out;
    }
    for s in list {
        let proposer = match s.get("proposer") {
            "" => "—".into(),
            p => render::text(p),
        };
        let first = s.get("text").lines().next().unwrap_or_default();
        let disputed = if s.get("disputed") == "yes" {
            lang.pick("  [disputed]", "  ［有争议］")
        } else {
            ""
        };
        put!(
            out,
            "{}  {proposer}  {}{disputed}",
            display_line(&s.id),
            render::text(first)
        );
        put!(
            out,
            "    {} {}",
            lang.pick("entered by", "录入："),
            maker(s, lang)
        );
    }
    out
}

/// A field's value as people read it: body ids as body names, choices in the user's
/// language, text made safe (continuation lines indented by `indent`).
fn value(view: &AgendaView, name: &str, v: &str, indent: &str, lang: Lang) -> String {
    if matches!(name, "host" | "bodies") {
        return v
            .split(',')
            .map(|id| {
                view.members
                    .iter()
                    .chain(&view.membership.removed)
                    .find(|b| b.id == id)
                    .map_or_else(|| ids::short(id), render::body_short)
            })
            .collect::<Vec<_>>()
            .join(lang.pick(", ", "、"));
    }
    match choice(lang, v) {
        Some(term) => term.to_owned(),
        None => render::block(v, indent),
    }
}

/// The records section of `agenda show`: each record, by collection in the schema's order,
/// with who made it and, for a field someone else wrote, who wrote that.
/// Most records `agenda show` lists without being asked for a collection: above it, a
/// count per collection (a joint agenda at the workflow's size holds thousands).
pub const LIST_ALL_UP_TO: usize = 200;

/// How many records each collection holds, for an agenda too large to list whole, and how
/// to list one collection.
pub fn record_counts(view: &AgendaView, lang: Lang) -> String {
    let mut out = String::new();
    let total: usize = view.record_counts.values().sum();
    put!(
        out,
        "  {}",
        match lang {
            Lang::En => format!(
                "records: {total} in all, too many to list here (more than {LIST_ALL_UP_TO}); list some with --records COLLECTION[,COLLECTION…]:"
            ),
            Lang::Zh => format!(
                "工作记录：共 {total} 条，超过 {LIST_ALL_UP_TO} 条，此处不逐条列出；用 --records 类别[,类别…] 列出："
            ),
        }
    );
    for c in AGENDA_SCHEMA.collections {
        let n = view.record_counts.get(c.name).copied().unwrap_or(0);
        if n > 0 {
            // The count first: a name's width on a terminal is not its length in characters.
            let name = collection(lang, c.name);
            let label = if name == c.name {
                name.to_owned()
            } else {
                format!("{name} ({})", c.name)
            };
            put!(out, "    {n:>6}  {label}");
        }
    }
    out
}

/// The collections a `--records` list names, checked against the agenda's layout.
pub fn record_collections(lang: Lang, list: &str) -> Result<Vec<&'static str>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            AGENDA_SCHEMA.collection(c).map(|c| c.name).ok_or_else(|| {
                let known: Vec<&str> = AGENDA_SCHEMA.collections.iter().map(|c| c.name).collect();
                let c = display_line(&c.chars().take(40).collect::<String>()).into_owned();
                match lang {
                    Lang::En => format!(
                        "--records: {c} is not a kind of record of an agenda (known: {})",
                        known.join(", ")
                    ),
                    Lang::Zh => format!(
                        "--records：{c} 不是议题的记录类别（可用：{}）",
                        known.join("、")
                    ),
                }
            })
        })
        .collect()
}

pub fn records(view: &AgendaView, lang: Lang) -> String {
    let mut out = String::new();
    if view.records.values().all(Vec::is_empty) {
        return out;
    }
    put!(out, "  {}", lang.pick("records:", "工作记录："));
    for c in AGENDA_SCHEMA.collections {
        // What the view lists (all, or the kinds `--records` asked for).
        for r in view.records.get(c.name).map_or(&[][..], Vec::as_slice) {
            let area = match (&r.area, lang) {
                (Some(b), Lang::En) => format!(" [{}]", render::body_short(b)),
                (Some(b), Lang::Zh) => format!("［{}］", render::body_short(b)),
                (None, _) => String::new(),
            };
            put!(
                out,
                "    {} {}{area}  {} {}",
                collection(lang, c.name),
                display_line(&r.id),
                lang.pick("made by", "创建者"),
                maker(r, lang)
            );
            let made_by = r.created_by.as_ref().map(|v| v.author.as_str());
            for f in &r.fields {
                let Some(current) = &f.current else { continue };
                let by = written_by(current, made_by, lang);
                put!(
                    out,
                    "        {}{}{}{by}",
                    field(lang, &f.name),
                    lang.pick(": ", "："),
                    value(view, &f.name, &current.value, "          ", lang)
                );
                for c in &f.conflicts {
                    put!(
                        out,
                        "          {} {} {} {}",
                        lang.pick("concurrent value", "并发修改值"),
                        value(view, &f.name, &c.value, "            ", lang),
                        lang.pick("by", "来自"),
                        render::author(c, lang)
                    );
                }
            }
        }
    }
    out
}

/// ` (by NAME @ BODY)` when someone other than the record's maker wrote the value.
fn written_by(v: &ValueView, made_by: Option<&str>, lang: Lang) -> String {
    if made_by == Some(v.author.as_str()) {
        return String::new();
    }
    match lang {
        Lang::En => format!("  (by {})", render::author(v, lang)),
        Lang::Zh => format!("（{}）", render::author(v, lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confer_protocol::model::agenda::AGENDA_SCHEMA;
    use confer_protocol::model::ledger::LEDGER_SCHEMA;

    #[test]
    fn every_field_of_every_schema_has_a_chinese_name() {
        let mut missing = Vec::new();
        for schema in [&AGENDA_SCHEMA, &LEDGER_SCHEMA] {
            let fields = schema
                .root
                .iter()
                .chain(schema.collections.iter().flat_map(|c| c.fields.iter()));
            for f in fields {
                if field(Lang::Zh, f.name) == "字段" {
                    missing.push(f.name);
                }
            }
        }
        missing.sort_unstable();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "fields without a Chinese name: {missing:?}"
        );
    }
}
