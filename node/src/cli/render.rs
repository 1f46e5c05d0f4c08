//! Readable text for people, in their language; and JSON that is safe on a terminal.
//!
//! Every string another body chose — body and member names, titles, summaries — goes
//! through [`display_line`] (or [`display_text`] for a summary's lines) before it is
//! printed, so a name like `evil\x1b[2K\rname` shows as `evil\u{1b}[2K\u{d}name` instead
//! of rewriting the operator's screen. Ids are shown in full where an operator must check
//! one (this body and each peer's body in `status`, the bodies of an agenda in `agenda
//! show`) and with at least 16 hexadecimal characters elsewhere ([`ids`]).
//!
//! The functions build the text and return it; the caller prints it.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;

use confer_protocol::text::{display_line, display_text, is_hidden};
use serde::Serialize;

use super::ids;
use crate::i18n::Lang;
use crate::views::{
    AgendaSummary, AgendaView, BodyView, EquivocationView, MemberView, StatusView, ValueView,
};
use confer_protocol::Role;

/// Appends one line to `out` (writing to a `String` cannot fail).
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

/// A peer-chosen single-line string, safe to print.
pub(super) fn text(s: &str) -> Cow<'_, str> {
    display_line(s)
}

/// `name (0123456789abcdef…)`, or only the short id when the body has no known name.
pub(super) fn body_short(b: &BodyView) -> String {
    match &b.name {
        Some(name) => format!("{} ({})", text(name), ids::short(&b.id)),
        None => ids::short(&b.id),
    }
}

/// `name (<64 hex>)`, or only the full id when the body has no known name.
fn body_full(b: &BodyView) -> String {
    match &b.name {
        Some(name) => format!("{} ({})", text(name), ids::full(&b.id)),
        None => ids::full(&b.id).into_owned(),
    }
}

/// Multi-line `value` after a label: continuation lines are indented by `indent` and
/// marked with `│ `, so text in a value can never pass for a line of the listing itself.
pub(super) fn block(value: &str, indent: &str) -> String {
    let shown = display_text(value);
    let mut lines = shown.split('\n');
    let mut out = lines.next().unwrap_or_default().to_owned();
    for l in lines {
        out.push('\n');
        out.push_str(indent);
        out.push_str("│ ");
        out.push_str(l);
    }
    out
}

/// `YYYY-MM-DD hh:mm:ss UTC` for a unix time in seconds.
pub(super) fn utc(secs: u64) -> String {
    // Days to a civil date (proleptic Gregorian), after Howard Hinnant's `civil_from_days`;
    // every quantity is non-negative from 1970 on, so unsigned arithmetic serves.
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

/// The alert for one equivocation: a first line that says what happened, then the
/// details, each line starting with `indent`.
fn equivocation(e: &EquivocationView, indent: &str, lang: Lang) -> String {
    let mut out = String::new();
    let key = ids::full(&e.author);
    let space = ids::full(&e.space);
    let seq = e.seq;
    let member = e.member_name.as_deref().map(text);
    let body_name = e.body.as_ref().and_then(|b| b.name.as_deref()).map(text);
    let body_id = e.body.as_ref().map(|b| ids::full(&b.id));
    match lang {
        Lang::En => {
            let who = match (&body_id, &member, &body_name) {
                (None, _, _) => "body unknown".to_owned(),
                (Some(id), m, n) => format!(
                    "{} @ {} ({id})",
                    m.as_deref().unwrap_or("unnamed member"),
                    n.as_deref().unwrap_or("unnamed body")
                ),
            };
            put!(out, "{indent}ALERT equivocation: member key {key} ({who}) signed two different entries at seq {seq} in agenda {space}");
        }
        Lang::Zh => {
            let who = match (&body_id, &member, &body_name) {
                (None, _, _) => "所属机构不明".to_owned(),
                (Some(id), m, n) => format!(
                    "{} {}，机构编号 {id}",
                    n.as_deref().unwrap_or("（无名称机构）"),
                    m.as_deref().unwrap_or("（无名称成员）")
                ),
            };
            put!(out, "{indent}分叉证据：成员密钥 {key}（{who}）在议题 {space} 中对序号 {seq} 签署了两条不同的条目");
        }
    }
    let hashes: Vec<Cow<'_, str>> = e
        .entries
        .iter()
        .map(|x| ids::full(&x.change_hash))
        .collect();
    put!(
        out,
        "{indent}    {} {}",
        lang.pick("change hashes:", "变更哈希："),
        hashes.join(lang.pick(", ", "、"))
    );
    match &e.resolved {
        Some(stands) => put!(
            out,
            "{indent}    {} {}",
            lang.pick(
                "resolved by its body; the entry that stands:",
                "已由其所属机构处理，保留的条目："
            ),
            ids::full(stands)
        ),
        None => put!(
            out,
            "{indent}    {}",
            lang.pick(
                "its body can resolve it: confer member resolve-fork KEY --agenda ID --keep CHANGE_HASH",
                "其所属机构可处理：confer member resolve-fork 密钥 --agenda 议题编号 --keep 变更哈希"
            )
        ),
    }
    match e.detected_at {
        Some(at) => put!(
            out,
            "{indent}    {} {}",
            lang.pick("detected:", "发现时间："),
            utc(at)
        ),
        None => put!(
            out,
            "{indent}    {}",
            lang.pick(
                "detected: unknown (stored by a version that did not record the time)",
                "发现时间：不详（证据由未记录时间的旧版本保存）"
            )
        ),
    }
    put!(
        out,
        "{indent}    {} GET /v1/agendas/{space}/equivocations",
        lang.pick(
            "this key is refused in that agenda; both signed entries are kept as evidence:",
            "本节点已在该议题中拒绝此密钥；两条签名条目均已留存为证据："
        )
    );
    out
}

pub fn initialised(name: &str, body_id: &str, peer: &str, data: &Path, lang: Lang) -> String {
    let dir = data.display().to_string();
    let dir = text(&dir);
    let name = text(name);
    let mut out = String::new();
    match lang {
        Lang::En => {
            put!(out, "Created body {name} in {dir}");
            put!(out, "  body id: {body_id}");
            put!(out, "  peer id: {peer}");
            put!(out, "Keys are in {dir}/keys (mode 0600). Back up keys/body.key offline; it is the committee's identity.");
            put!(out, "Next: confer run --data {dir}");
        }
        Lang::Zh => {
            put!(out, "已在 {dir} 创建机构 {name}");
            put!(out, "  机构编号: {body_id}");
            put!(out, "  节点编号: {peer}");
            put!(out, "密钥位于 {dir}/keys（权限 0600）。请离线备份 keys/body.key，它代表本委员会的身份。");
            put!(out, "下一步: confer run --data {dir}");
        }
    }
    out
}

pub fn status(s: &StatusView, lang: Lang) -> String {
    let mut out = String::new();
    let own_name = s
        .body
        .name
        .as_deref()
        .map_or_else(|| lang.pick("(no name)", "（无名称）").into(), text);
    put!(out, "{}  {own_name}", lang.pick("Body:   ", "本机构："));
    put!(
        out,
        "{}  {}",
        lang.pick("Body id:", "机构编号："),
        ids::full(&s.body.id)
    );
    if !s.region.is_empty() {
        put!(
            out,
            "{}  {}",
            lang.pick("Region: ", "地区："),
            text(&s.region)
        );
    }
    put!(
        out,
        "{}  {}",
        lang.pick("Member: ", "签名成员："),
        text(&s.member.name)
    );
    put!(
        out,
        "{}  {}",
        lang.pick("Peer id:", "节点编号："),
        text(&s.peer_id)
    );
    put!(out, "{}", lang.pick("Listening on:", "监听地址："));
    for a in &s.listen {
        put!(out, "  {}", text(a));
    }
    put!(
        out,
        "{} {}",
        lang.pick("Connected peers:", "已连接节点："),
        s.peers.len()
    );
    for p in &s.peers {
        let peer_id = text(&p.peer_id);
        match &p.body {
            None => put!(
                out,
                "  {peer_id}  {}",
                lang.pick("(not yet identified)", "（尚未验证）")
            ),
            Some(b) => {
                let name = b
                    .name
                    .as_deref()
                    .map_or_else(|| lang.pick("(no name)", "（无名称）").into(), text);
                let trust = if p.trusted {
                    ""
                } else {
                    lang.pick("  [not added here: untrusted]", "  [本节点未添加：未信任]")
                };
                put!(out, "  {peer_id}  {name}{trust}");
                put!(
                    out,
                    "      {} {}",
                    lang.pick("body id:", "机构编号："),
                    ids::full(&b.id)
                );
            }
        }
        for a in &p.addresses {
            put!(out, "      {} {}", lang.pick("via", "连接地址："), text(a));
        }
        if p.body.is_some() {
            put!(
                out,
                "      {}",
                super::peers::last_sync_words(p.last_sync, lang)
            );
        }
        if let Some(line) = p
            .software
            .as_ref()
            .and_then(|sw| super::ops::software_line(sw, lang))
        {
            put!(out, "      {line}");
        }
    }
    out.push_str(&super::peers::status_lines(&s.remembered_peers, lang));
    put!(
        out,
        "{} {}",
        lang.pick("Trusted bodies:", "受信任机构："),
        s.trusted.len()
    );
    for b in &s.trusted {
        put!(
            out,
            "  {}  {}",
            ids::full(&b.id),
            b.name.as_deref().map(text).unwrap_or_default()
        );
        put!(
            out,
            "      {}",
            super::peers::last_sync_words(s.last_sync_with(&b.id), lang)
        );
    }
    put!(
        out,
        "{} {}",
        lang.pick("Spaces:", "共享议题："),
        s.spaces.len()
    );
    let own = &s.body.id;
    for sp in &s.spaces {
        put!(
            out,
            "  {}  {}  [{}]",
            ids::full(&sp.id),
            text(&sp.title),
            sp.members
                .iter()
                .map(body_short)
                .collect::<Vec<_>>()
                .join(", ")
        );
        put!(out, "    {}", changes_in_words(sp, lang));
        for d in &sp.delivery {
            put!(out, "    {}", super::delivery::line(d, lang));
        }
        for m in sp
            .members
            .iter()
            .filter(|m| m.id != *own && !s.trusted.iter().any(|t| t.id == m.id))
        {
            put!(
                out,
                "    {} {}",
                lang.pick(
                    "member not trusted here (it can introduce nothing new; this agenda stays shared with it):",
                    "本节点未信任的成员机构（不能发起新议题；本议题仍与其共享）："
                ),
                ids::full(&m.id)
            );
        }
        // Keys refused without evidence listed below (its record was damaged).
        for e in sp.equivocators.iter().filter(|e| {
            !s.equivocations
                .iter()
                .any(|q| q.space == sp.id && q.author == **e)
        }) {
            put!(
                out,
                "    {} {}",
                lang.pick("WARNING equivocating key:", "警告：出现分叉签名的密钥"),
                ids::full(e)
            );
        }
    }
    for e in &s.equivocations {
        out.push_str(&equivocation(e, "", lang));
    }
    out.push_str(&super::ops::catch_up_lines(&s.catch_up, lang));
    out.push_str(&super::ops::progress_lines(&s.progress, &s.spaces, lang));
    let e = &s.traffic.entries;
    put!(
        out,
        "{} {} {}, {} {}, {} {}; {} {}",
        lang.pick("Entries from peers since start:", "启动以来收到的条目："),
        e.accepted,
        lang.pick("accepted", "已接受"),
        e.duplicates,
        lang.pick("already held", "已有"),
        e.rejected,
        lang.pick("refused", "已拒绝"),
        lang.pick("certificates held:", "持有证书："),
        s.certificates
    );
    for f in &s.foreign_use {
        match lang {
            Lang::En => put!(
                out,
                "ALERT member key {} of this body signed seq {} in agenda {} but not on this node (received from {}): someone else holds a copy of the key — revoke it (`confer member revoke`) — or this node was restored from an old backup",
                f.key, f.seq, f.space, text(&f.peer)
            ),
            Lang::Zh => put!(
                out,
                "警报：本机构的成员密钥 {} 在议题 {} 中签署了序号 {}，但并非本节点所签（来自 {}）：可能他人持有该密钥的副本——请撤销（`confer member revoke`）——或本节点是从旧备份恢复的",
                f.key, f.space, f.seq, text(&f.peer)
            ),
        }
    }
    if !s.damaged.is_empty() {
        put!(
            out,
            "{}",
            lang.pick(
                "WARNING damaged records in the data file, salvaged at start-up (what was dropped is fetched again from peers):",
                "警告：数据文件中有损坏的记录，启动时已跳过或截断（丢弃的内容会从其他节点重新获取；以下说明为英文）："
            )
        );
        for d in &s.damaged {
            put!(out, "  {}", text(d));
        }
    }
    out
}

/// A space's vector and pending entries in words: how many changes, by which bodies,
/// whether all are applied.
fn changes_in_words(sp: &crate::views::SpaceView, lang: Lang) -> String {
    let mut by_body: Vec<(String, u64)> = Vec::new();
    for a in &sp.authors {
        let label = a
            .body
            .as_ref()
            .map_or_else(|| ids::short(&a.author), body_short);
        match by_body.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += a.entries,
            None => by_body.push((label, a.entries)),
        }
    }
    let total: u64 = by_body.iter().map(|(_, n)| n).sum();
    let who = by_body
        .iter()
        .map(|(l, n)| format!("{l} {n}"))
        .collect::<Vec<_>>()
        .join(lang.pick(", ", "、"));
    let held = match lang {
        Lang::En if total == 0 => "no changes yet".to_owned(),
        Lang::En if total == 1 => format!("1 change applied ({who})"),
        Lang::En => format!("{total} changes applied ({who})"),
        Lang::Zh if total == 0 => "尚无修改".to_owned(),
        Lang::Zh => format!("已应用 {total} 条修改（{who}）"),
    };
    match (sp.pending, lang) {
        (0, Lang::En) => format!("{held}; all received changes applied"),
        (0, Lang::Zh) => format!("{held}；收到的修改已全部应用"),
        (n, Lang::En) => format!("{held}; {n} more received, waiting for earlier changes they build on (fetched from peers)"),
        (n, Lang::Zh) => format!("{held}；另有 {n} 条已收到，正在等待其所依赖的更早修改（会从其他节点获取）"),
    }
}

/// A role's name for people: 委员, 工作人员, 秘书长, 主席, 副主席.
pub fn role_name(role: Role, lang: Lang) -> &'static str {
    match role {
        Role::Member => lang.pick("member", "委员"),
        Role::Staff => lang.pick("staff", "工作人员"),
        Role::SecretaryGeneral => lang.pick("secretary-general", "秘书长"),
        Role::Chair => lang.pick("chair", "主席"),
        Role::ViceChair => lang.pick("vice-chair", "副主席"),
    }
}

/// `confer member list`: one line per member key of this body on this node.
pub fn member_list(list: &[MemberView], lang: Lang) -> String {
    let mut out = String::new();
    for (i, m) in list.iter().enumerate() {
        let role = m
            .role
            .parse::<Role>()
            .map(|r| role_name(r, lang))
            .unwrap_or(m.role.as_str());
        let mut notes = Vec::new();
        if i == 0 {
            notes.push(lang.pick(
                "first member, writes by default",
                "首位成员，默认以其身份写入",
            ));
        }
        if m.can_sign {
            notes.push(lang.pick("may sign outcomes", "可代表本机构签署成果"));
        }
        if m.revoked {
            notes.push(lang.pick("REVOKED: writes nothing more", "已撤销：不能再写入"));
        }
        put!(
            out,
            "{}  {}  {role}{}{}",
            m.key,
            text(&m.name),
            if notes.is_empty() {
                ""
            } else {
                lang.pick("  (", "（")
            },
            if notes.is_empty() {
                String::new()
            } else {
                format!(
                    "{}{}",
                    notes.join(lang.pick("; ", "；")),
                    lang.pick(")", "）")
                )
            }
        );
    }
    out
}

pub fn agenda_list(list: &[AgendaSummary], lang: Lang) -> String {
    let mut out = String::new();
    if list.is_empty() {
        put!(
            out,
            "{}",
            lang.pick(
                "No agendas yet. Create one with `confer agenda new --title … --with <body id>`.",
                "暂无议题。可用 `confer agenda new --title … --with <机构编号>` 创建。"
            )
        );
        return out;
    }
    for a in list {
        if a.invited {
            put!(
                out,
                "{}  {}  [{}]",
                ids::full(&a.id),
                lang.pick(
                    "INVITED, not accepted: nothing is received or sent",
                    "待接受的邀请：接受前不收发任何内容"
                ),
                a.members
                    .iter()
                    .map(body_short)
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            for body in &a.untrusted {
                put!(
                    out,
                    "    {} {}  {}",
                    lang.pick("not trusted here:", "本节点未信任："),
                    ids::full(&body.id),
                    body.name.as_deref().map(text).unwrap_or_default()
                );
            }
            put!(
                out,
                "    {} confer agenda accept {}",
                lang.pick(
                    "check these ids with their committees, then:",
                    "请先与相关政协核对上述编号，然后执行："
                ),
                a.id
            );
            continue;
        }
        put!(
            out,
            "{}  {}  [{}]  {} {}",
            ids::full(&a.id),
            text(&a.title),
            a.members
                .iter()
                .map(body_short)
                .collect::<Vec<_>>()
                .join(", "),
            a.entries,
            lang.pick("entries", "条")
        );
    }
    out
}

pub(super) fn author(v: &ValueView, lang: Lang) -> String {
    let who = v
        .member_name
        .as_deref()
        .map_or_else(|| ids::short(&v.author), |n| text(n).into_owned());
    let of = v.body.as_ref().map_or_else(
        || lang.pick("uncertified key", "未认证密钥").to_owned(),
        body_short,
    );
    let revoked = if v.author_revoked {
        lang.pick(" (key revoked since)", "（其密钥此后已撤销）")
    } else {
        ""
    };
    format!("{who} @ {of}{revoked}")
}

pub fn agenda(view: &AgendaView, lang: Lang) -> String {
    let mut out = String::new();
    put!(
        out,
        "{} {}",
        lang.pick("Agenda", "议题"),
        ids::full(&view.id)
    );
    put!(
        out,
        "  {} {}",
        lang.pick("created by", "发起机构"),
        body_full(&view.created_by)
    );
    put!(out, "  {}", lang.pick("bodies:", "参与机构："));
    for b in &view.members {
        put!(out, "      {}", body_full(b));
    }
    for b in &view.membership.removed {
        put!(
            out,
            "      {} {}",
            body_full(b),
            lang.pick(
                "(left or removed: what it wrote stays, it is sent nothing new)",
                "（已退出或被移除：已写内容保留，不再收到新内容）"
            )
        );
    }
    for p in &view.membership.pending {
        let what = match (p.op.as_str(), lang) {
            ("add", Lang::En) => "add",
            ("add", Lang::Zh) => "加入",
            (_, Lang::En) => "remove",
            (_, Lang::Zh) => "移除",
        };
        let list = |bodies: &[BodyView]| {
            bodies
                .iter()
                .map(body_short)
                .collect::<Vec<_>>()
                .join(lang.pick(", ", "、"))
        };
        put!(
            out,
            "  {} {what} {}  {} {}\n      {} {}\n      {} {}",
            lang.pick("proposed change:", "待定变更："),
            body_full(&p.body),
            lang.pick("id", "编号"),
            ids::full(&p.id),
            lang.pick("agreed:", "已同意："),
            list(&p.consented),
            lang.pick("waiting for:", "尚待同意："),
            list(&p.missing)
        );
        for c in &p.cutoffs {
            put!(
                out,
                "      {} {} {} {}",
                lang.pick("keeps member key", "保留成员密钥"),
                ids::full(&c.key),
                lang.pick("up to seq", "至序号"),
                c.up_to
            );
        }
    }
    if !view.delivery.is_empty() {
        put!(out, "  {}", lang.pick("delivery:", "送达情况："));
        for d in &view.delivery {
            put!(out, "      {}", super::delivery::line(d, lang));
        }
    }
    for f in &view.fields {
        let label = match (f.name.as_str(), lang) {
            ("title", Lang::Zh) => "标题".into(),
            ("summary", Lang::Zh) => "摘要".into(),
            (name, _) => text(name),
        };
        match &f.current {
            Some(v) => put!(
                out,
                "  {label}: {}\n      {} {}",
                block(&v.value, "    "),
                lang.pick("written by", "撰写者"),
                author(v, lang)
            ),
            None => put!(out, "  {label}: —"),
        }
        for c in &f.conflicts {
            put!(
                out,
                "      {} \"{}\" {} {}",
                lang.pick("concurrent value", "并发修改值"),
                block(&c.value, "        "),
                lang.pick("by", "来自"),
                author(c, lang)
            );
        }
    }
    if view.all_signatures_verified {
        put!(
            out,
            "  {} {}",
            lang.pick("signatures: all verified —", "签名：全部验证通过 —"),
            view.signatures_verified
        );
    } else {
        put!(
            out,
            "  {} {}",
            lang.pick("signatures: FAILED for", "签名：验证失败"),
            view.signatures_failed
                .iter()
                .map(|s| text(s))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for e in view
        .equivocators
        .iter()
        .filter(|e| !view.equivocations.iter().any(|q| q.author == **e))
    {
        put!(
            out,
            "  {} {}",
            lang.pick("WARNING equivocating key:", "警告：出现分叉签名的密钥"),
            ids::full(e)
        );
    }
    for e in &view.equivocations {
        out.push_str(&equivocation(e, "  ", lang));
    }
    out
}

/// `value` as pretty JSON in which no hidden character (see
/// [`confer_protocol::text`]) appears raw: serde_json escapes only the C0 controls, so
/// DEL, the C1 controls, bidi and zero-width characters are written as `\uXXXX` here.
/// The JSON means exactly the same; only its spelling differs.
pub fn json<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let mut bytes = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut bytes, SafeFormatter::default());
    value.serialize(&mut ser)?;
    String::from_utf8(bytes)
        .map_err(|e| serde::ser::Error::custom(format!("serde_json wrote invalid UTF-8: {e}")))
}

/// serde_json's pretty formatter, escaping hidden characters inside strings.
#[derive(Default)]
struct SafeFormatter(serde_json::ser::PrettyFormatter<'static>);

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_hidden(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(w)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use crate::views::CutoffView;
    use std::collections::BTreeMap;

    use super::*;
    use crate::views::{
        EvidenceEntryView, FieldView, MemberView, MembershipView, PeerView, PendingChangeView,
        SpaceView, TrafficView,
    };

    const EVIL: &str = "evil\x1b[2K\rname";
    const OWN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const PEER_BODY: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    const SPACE: &str = "5555555555555555aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const MEMBER: &str = "7777777777777777bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn body(id: &str, name: &str) -> BodyView {
        BodyView {
            id: id.into(),
            name: Some(name.into()),
        }
    }

    fn evil_status() -> StatusView {
        StatusView {
            body: body(OWN, "平湖市政协"),
            region: "浙江省嘉兴市".into(),
            member: MemberView {
                key: MEMBER.into(),
                name: "秘书处".into(),
                role: "staff".into(),
                can_sign: false,
                revoked: false,
            },
            peer_id: "12D3KooWOwn".into(),
            listen: vec!["/ip4/127.0.0.1/tcp/4646/p2p/12D3KooWOwn".into()],
            peers: vec![
                PeerView {
                    peer_id: "12D3KooWEvil".into(),
                    addresses: vec!["/ip4/198.51.100.7/tcp/4646".into()],
                    body: Some(body(PEER_BODY, EVIL)),
                    trusted: true,
                    software: None,
                    last_sync: Some(1_795_428_900),
                    clock: None,
                },
                PeerView {
                    peer_id: "12D3KooWStranger".into(),
                    addresses: vec![],
                    body: Some(body(PEER_BODY, "\u{202e}协政市湖平")),
                    trusted: false,
                    software: None,
                    last_sync: None,
                    clock: None,
                },
            ],
            remembered: vec![],
            remembered_peers: Vec::new(),
            last_sync: vec![crate::views::LastSyncView {
                body: body(PEER_BODY, EVIL),
                at: 1_795_428_900,
                peer: "12D3KooWEvil".into(),
            }],
            spaces: vec![SpaceView {
                id: SPACE.into(),
                kind: "agenda".into(),
                title: "title\x1b]0;pwned\x07\n".into(),
                members: vec![body(OWN, "平湖市政协"), body(PEER_BODY, EVIL)],
                vector: BTreeMap::from([(MEMBER.to_owned(), 3)]),
                entries: 3,
                pending: 0,
                equivocators: vec![],
                authors: vec![crate::views::AuthorCount {
                    author: MEMBER.into(),
                    body: Some(body(PEER_BODY, EVIL)),
                    entries: 3,
                }],
                delivery: vec![crate::views::DeliveryView {
                    body: body(PEER_BODY, EVIL),
                    state: "refused".into(),
                    missing: 0,
                    reason: Some("invalid".into()),
                    detail: Some(EVIL.into()),
                    at: Some(0),
                }],
            }],
            trusted: vec![body(PEER_BODY, EVIL)],
            traffic: TrafficView::default(),
            certificates: 4,
            damaged: vec![format!("space 5555555555555555…: {EVIL}")],
            foreign_use: vec![],
            equivocations: vec![],
            catch_up: vec![],
            progress: vec![],
            store_commits: Default::default(),
        }
    }

    const HASH_1: &str = "1111111111111111cccccccccccccccccccccccccccccccccccccccccccccccc";
    const HASH_2: &str = "2222222222222222dddddddddddddddddddddddddddddddddddddddddddddddd";

    /// `MEMBER`, named by the peer's body (itself named `EVIL`) with an evil name, signed
    /// two entries at seq 3 of `SPACE`, detected 2026-11-23 10:15:00 UTC.
    fn evil_equivocation() -> EquivocationView {
        let entry = |hash: &str| EvidenceEntryView {
            change_hash: hash.into(),
            entry_hash: hash.replace('c', "e").replace('d', "f"),
            body: body(PEER_BODY, EVIL),
            bytes: None,
        };
        EquivocationView {
            space: SPACE.into(),
            author: MEMBER.into(),
            body: Some(body(PEER_BODY, EVIL)),
            member_name: Some(format!("{EVIL}\u{202e}")),
            seq: 3,
            entries: vec![entry(HASH_1), entry(HASH_2)],
            detected_at: Some(1_795_428_900),
            certificate: None,
            resolved: None,
        }
    }

    fn assert_inert(out: &str) {
        assert!(!out.contains('\x1b'), "{out:?}");
        assert!(!out.contains('\r'), "{out:?}");
        assert!(!out.contains('\x07'), "{out:?}");
        assert!(!out.contains('\u{202e}'), "{out:?}");
    }

    #[test]
    fn an_evil_peer_name_never_reaches_the_terminal() {
        for lang in [Lang::En, Lang::Zh] {
            let out = status(&evil_status(), lang);
            assert_inert(&out);
            assert!(out.contains("evil\\u{1b}[2K\\u{d}name"), "{out}");
            // The title's newline did not start a line of its own.
            assert!(out.contains("title\\u{1b}]0;pwned\\u{7}\\u{a}"), "{out}");
            // Full ids for this body and the peers' bodies, 16 characters in listings.
            assert!(out.contains(OWN), "{out}");
            // Two connected peers of that body, and the trusted-bodies list.
            assert_eq!(out.matches(PEER_BODY).count(), 3, "{out}");
            assert!(out.contains("fedcba9876543210…"), "{out}");
            // The vector in words, by body (the evil name escaped there too).
            assert!(
                out.contains(lang.pick("3 changes applied (", "已应用 3 条修改（")),
                "{out}"
            );
            // Salvage lines are shown under a warning, escaped like everything else.
            assert!(
                out.contains("  space 5555555555555555…: evil\\u{1b}"),
                "{out}"
            );
            assert!(
                out.contains(lang.pick("damaged records", "损坏的记录")),
                "{out}"
            );
            // When each partner last synced: the trusted body and the peer that did, and
            // the peer that did not.
            let synced = lang.pick(
                "last sync: 2026-11-23 10:15:00 UTC",
                "最近同步：2026-11-23 10:15:00 UTC",
            );
            assert_eq!(out.matches(synced).count(), 2, "{out}");
            assert!(
                out.contains(lang.pick(
                    "last sync: none since this node started",
                    "最近同步：本节点启动以来尚未同步"
                )),
                "{out}"
            );
        }
    }

    #[test]
    fn json_output_escapes_the_evil_name_and_keeps_its_meaning() {
        let status = evil_status();
        let out = json(&status).expect("serialises");
        assert_inert(&out);
        assert!(
            !out.contains('\u{202e}') && out.contains("\\u202e"),
            "{out}"
        );
        let back: StatusView = serde_json::from_str(&out).expect("parses back");
        assert_eq!(back.peers[0].body, status.peers[0].body);
        assert_eq!(back.spaces[0].title, status.spaces[0].title);
        // Characters outside the BMP are written as surrogate pairs and come back whole.
        let tag = json(&"x\u{e0041}\u{85}\u{7f}y").expect("serialises");
        assert_eq!(tag, "\"x\\udb40\\udc41\\u0085\\u007fy\"");
        assert_eq!(
            serde_json::from_str::<String>(&tag).expect("parses"),
            "x\u{e0041}\u{85}\u{7f}y"
        );
        // Pretty layout as before.
        assert_eq!(
            json(&serde_json::json!({"a": [1, 2]})).expect("serialises"),
            serde_json::to_string_pretty(&serde_json::json!({"a": [1, 2]})).expect("serialises")
        );
    }

    #[test]
    fn agenda_shows_full_member_ids_and_quotes_multi_line_values() {
        let evil_value = ValueView {
            value: "line one\r\nline two\n      written by 平湖市政协\x1b[1A".into(),
            author: MEMBER.into(),
            body: Some(body(PEER_BODY, EVIL)),
            member_name: Some("张三\u{200b}".into()),
            author_revoked: false,
        };
        let view = AgendaView {
            id: SPACE.into(),
            created_by: body(PEER_BODY, EVIL),
            created_at: 0,
            members: vec![body(OWN, "平湖市政协"), body(PEER_BODY, EVIL)],
            fields: vec![
                FieldView {
                    name: "title".into(),
                    current: Some(ValueView {
                        value: "T\rX".into(),
                        ..evil_value.clone()
                    }),
                    conflicts: vec![],
                },
                FieldView {
                    name: "summary".into(),
                    current: Some(evil_value.clone()),
                    conflicts: vec![evil_value],
                },
            ],
            entries: 2,
            signatures_verified: 2,
            signatures_failed: vec![],
            all_signatures_verified: true,
            equivocators: vec![],
            vector: BTreeMap::new(),
            equivocations: vec![],
            membership: MembershipView {
                removed: vec![body(OWN, EVIL)],
                pending: vec![PendingChangeView {
                    id: SPACE.into(),
                    op: "add".into(),
                    body: body(PEER_BODY, EVIL),
                    cutoffs: vec![CutoffView {
                        key: MEMBER.into(),
                        up_to: 3,
                    }],
                    consented: vec![body(OWN, EVIL)],
                    missing: vec![body(PEER_BODY, EVIL)],
                }],
            },
            records: BTreeMap::new(),
            record_counts: Default::default(),
            records_listed: None,
            outcomes: Vec::new(),
            delivery: Vec::new(),
        };
        for lang in [Lang::En, Lang::Zh] {
            let out = agenda(&view, lang);
            assert_inert(&out);
            assert!(!out.contains('\u{200b}'), "{out:?}");
            assert!(out.contains(OWN) && out.contains(PEER_BODY), "{out}");
            // Every line the summary brought is marked as part of it.
            assert!(out.contains("    │ line two\n"), "{out}");
            assert!(
                out.contains("    │       written by 平湖市政协\\u{1b}[1A"),
                "{out}"
            );
            assert!(out.contains("T\\u{d}X"), "{out}");
        }
        let list = agenda_list(
            &[AgendaSummary {
                id: SPACE.into(),
                title: EVIL.into(),
                members: view.members.clone(),
                entries: 2,
                invited: false,
                untrusted: vec![],
            }],
            Lang::En,
        );
        assert_inert(&list);
        assert!(
            list.contains(SPACE) && list.contains("fedcba9876543210…"),
            "{list}"
        );
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_428_900), "2026-11-23 10:15:00 UTC");
        assert_eq!(utc(4_107_542_399), "2100-02-28 23:59:59 UTC");
        assert_eq!(utc(4_107_542_400), "2100-03-01 00:00:00 UTC");
        // Whatever a node sends, the arithmetic does not overflow.
        assert!(utc(u64::MAX).ends_with(" UTC"));
    }

    #[test]
    fn status_and_agenda_alert_on_equivocation_evidence_in_both_languages() {
        const SHOWN: &str = "evil\\u{1b}[2K\\u{d}name\\u{202e}";
        let mut s = evil_status();
        s.spaces[0].equivocators = vec![MEMBER.into(), OWN.into()];
        s.equivocations = vec![evil_equivocation()];
        let mut view = AgendaView {
            id: SPACE.into(),
            created_by: body(OWN, "平湖市政协"),
            created_at: 0,
            members: vec![body(OWN, "平湖市政协"), body(PEER_BODY, EVIL)],
            fields: vec![],
            entries: 4,
            signatures_verified: 4,
            signatures_failed: vec![],
            all_signatures_verified: true,
            equivocators: s.spaces[0].equivocators.clone(),
            vector: BTreeMap::new(),
            equivocations: s.equivocations.clone(),
            membership: MembershipView::default(),
            records: BTreeMap::new(),
            record_counts: Default::default(),
            records_listed: None,
            outcomes: Vec::new(),
            delivery: Vec::new(),
        };
        for lang in [Lang::En, Lang::Zh] {
            for (out, indent) in [(status(&s, lang), ""), (agenda(&view, lang), "  ")] {
                assert_inert(&out);
                let start = format!(
                    "{indent}{}",
                    lang.pick("ALERT equivocation: ", "分叉证据：")
                );
                let alert = out
                    .lines()
                    .find(|l| l.starts_with(&start))
                    .unwrap_or_else(|| panic!("no alert line in {out}"));
                // Who (full key, escaped names, full body id), where, which seq.
                assert!(alert.contains(MEMBER), "{alert}");
                assert!(alert.contains(PEER_BODY), "{alert}");
                assert!(alert.contains(SPACE), "{alert}");
                assert!(alert.contains(SHOWN), "{alert}");
                assert!(
                    alert.contains(lang.pick("at seq 3 ", "对序号 3 ")),
                    "{alert}"
                );
                assert!(out.contains(HASH_1) && out.contains(HASH_2), "{out}");
                assert!(out.contains("2026-11-23 10:15:00 UTC"), "{out}");
                assert!(
                    out.contains(&format!("GET /v1/agendas/{SPACE}/equivocations")),
                    "{out}"
                );
                // The key with evidence is not listed again on its own; a refused key
                // without evidence (its record damaged) still is.
                let plain = lang.pick("WARNING equivocating key:", "警告：出现分叉签名的密钥");
                assert!(!out.contains(&format!("{plain} {MEMBER}")), "{out}");
                assert!(out.contains(&format!("{plain} {OWN}")), "{out}");
            }
        }
        // The Chinese alert has no English in it (ids, hashes, the escaped peer names and
        // the API path aside).
        let zh = status(&s, Lang::Zh);
        let lines: Vec<&str> = zh
            .lines()
            .skip_while(|l| !l.starts_with("分叉证据"))
            .take(5)
            .collect();
        assert_eq!(lines.len(), 5, "{zh}");
        for line in lines {
            let rest = [
                MEMBER,
                PEER_BODY,
                SPACE,
                HASH_1,
                HASH_2,
                SHOWN,
                "evil\\u{1b}[2K\\u{d}name",
                "UTC",
                "GET /v1/agendas//equivocations",
                // The command to type, with its options.
                "confer member resolve-fork",
                "--agenda",
                "--keep",
            ]
            .iter()
            .fold(line.to_owned(), |l, known| l.replace(known, ""));
            assert!(
                !rest.chars().any(|c| c.is_ascii_alphabetic()),
                "English in the Chinese alert: {line} ({rest})"
            );
        }
        // An unknown time and an unknown body are said so.
        view.equivocations[0].detected_at = None;
        view.equivocations[0].body = None;
        let en = agenda(&view, Lang::En);
        assert!(en.contains("detected: unknown"), "{en}");
        assert!(en.contains("(body unknown)"), "{en}");
        let zh = agenda(&view, Lang::Zh);
        assert!(zh.contains("发现时间：不详"), "{zh}");
        assert!(zh.contains("所属机构不明"), "{zh}");
        // JSON keeps the evidence whole, escaped like every other peer string, without
        // the entries' bytes (only the evidence route sends them).
        let out = json(&s).expect("serialises");
        assert_inert(&out);
        let back: StatusView = serde_json::from_str(&out).expect("parses back");
        assert_eq!(back.equivocations, s.equivocations);
        assert!(!out.contains("\"bytes\""), "{out}");
        assert!(!out.contains("\"certificate\""), "{out}");
    }

    #[test]
    fn initialised_echoes_the_name_inertly() {
        let out = initialised(EVIL, OWN, "12D3KooW", Path::new("/tmp/x"), Lang::En);
        assert_inert(&out);
        assert!(out.contains(OWN), "{out}");
    }
}
