//! Readable text for people, in their language.

use std::path::Path;

use crate::i18n::Lang;
use crate::views::{AgendaSummary, AgendaView, BodyView, StatusView, ValueView};

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn body(b: &BodyView) -> String {
    match &b.name {
        Some(name) => format!("{name} ({}…)", short(&b.id)),
        None => format!("{}…", short(&b.id)),
    }
}

pub fn initialised(name: &str, body_id: &str, peer: &str, data: &Path, lang: Lang) {
    let dir = data.display();
    match lang {
        Lang::En => {
            println!("Created body {name} in {dir}");
            println!("  body id: {body_id}");
            println!("  peer id: {peer}");
            println!("Keys are in {dir}/keys (mode 0600). Back up keys/body.key offline; it is the committee's identity.");
            println!("Next: confer run --data {dir}");
        }
        Lang::Zh => {
            println!("已在 {dir} 创建机构 {name}");
            println!("  机构编号: {body_id}");
            println!("  节点编号: {peer}");
            println!("密钥位于 {dir}/keys（权限 0600）。请离线备份 keys/body.key，它代表本委员会的身份。");
            println!("下一步: confer run --data {dir}");
        }
    }
}

pub fn status(s: &StatusView, lang: Lang) {
    println!("{}  {}", lang.pick("Body:   ", "本机构："), body(&s.body));
    println!("{}  {}", lang.pick("Body id:", "机构编号："), s.body.id);
    if !s.region.is_empty() {
        println!("{}  {}", lang.pick("Region: ", "地区："), s.region);
    }
    println!("{}  {}", lang.pick("Member: ", "签名成员："), s.member.name);
    println!("{}  {}", lang.pick("Peer id:", "节点编号："), s.peer_id);
    println!("{}", lang.pick("Listening on:", "监听地址："));
    for a in &s.listen {
        println!("  {a}");
    }
    println!(
        "{} {}",
        lang.pick("Connected peers:", "已连接节点："),
        s.peers.len()
    );
    for p in &s.peers {
        let who = p.body.as_ref().map_or_else(
            || lang.pick("(not yet identified)", "（尚未验证）").to_owned(),
            body,
        );
        let trust = match (&p.body, p.trusted) {
            (Some(_), false) => {
                lang.pick("  [not added here: untrusted]", "  [本节点未添加：未信任]")
            }
            _ => "",
        };
        println!("  {}  {who}{trust}", p.peer_id);
    }
    if !s.remembered.is_empty() {
        println!("{}", lang.pick("Remembered peers:", "已记录节点："));
        for r in &s.remembered {
            println!("  {r}");
        }
    }
    println!("{} {}", lang.pick("Spaces:", "共享议题："), s.spaces.len());
    for sp in &s.spaces {
        println!(
            "  {}  {}  [{}]",
            sp.id,
            sp.title,
            sp.members.iter().map(body).collect::<Vec<_>>().join(", ")
        );
        let vector: Vec<String> = sp
            .vector
            .iter()
            .map(|(a, n)| format!("{}…:{n}", short(a)))
            .collect();
        println!(
            "    {} {{{}}}  {} {}  {} {}",
            lang.pick("vector", "版本向量"),
            vector.join(", "),
            lang.pick("entries", "条目"),
            sp.entries,
            lang.pick("pending", "待补依赖"),
            sp.pending
        );
        for e in &sp.equivocators {
            println!(
                "    {} {}",
                lang.pick("WARNING equivocating key:", "警告：出现分叉签名的密钥"),
                e
            );
        }
    }
}

pub fn agenda_list(list: &[AgendaSummary], lang: Lang) {
    if list.is_empty() {
        println!(
            "{}",
            lang.pick(
                "No agendas yet. Create one with `confer agenda new --title … --with <body id>`.",
                "暂无议题。可用 `confer agenda new --title … --with <机构编号>` 创建。"
            )
        );
        return;
    }
    for a in list {
        println!(
            "{}  {}  [{}]  {} {}",
            a.id,
            a.title,
            a.members.iter().map(body).collect::<Vec<_>>().join(", "),
            a.entries,
            lang.pick("entries", "条")
        );
    }
}

fn author(v: &ValueView, lang: Lang) -> String {
    let who = v
        .member_name
        .clone()
        .unwrap_or_else(|| format!("{}…", short(&v.author)));
    let of = v.body.as_ref().map_or_else(
        || lang.pick("uncertified key", "未认证密钥").to_owned(),
        body,
    );
    format!("{who} @ {of}")
}

pub fn agenda(view: &AgendaView, lang: Lang) {
    println!("{} {}", lang.pick("Agenda", "议题"), view.id);
    println!(
        "  {} {}",
        lang.pick("created by", "发起机构"),
        body(&view.created_by)
    );
    println!(
        "  {} {}",
        lang.pick("bodies    ", "参与机构"),
        view.members.iter().map(body).collect::<Vec<_>>().join(", ")
    );
    for f in &view.fields {
        let label = match (f.name.as_str(), lang) {
            ("title", Lang::Zh) => "标题",
            ("summary", Lang::Zh) => "摘要",
            (name, _) => name,
        };
        match &f.current {
            Some(v) => println!(
                "  {label}: {}\n      {} {}",
                v.value,
                lang.pick("written by", "撰写者"),
                author(v, lang)
            ),
            None => println!("  {label}: —"),
        }
        for c in &f.conflicts {
            println!(
                "      {} \"{}\" {} {}",
                lang.pick("concurrent value", "并发修改值"),
                c.value,
                lang.pick("by", "来自"),
                author(c, lang)
            );
        }
    }
    if view.all_signatures_verified {
        println!(
            "  {} {}",
            lang.pick("signatures: all verified —", "签名：全部验证通过 —"),
            view.signatures_verified
        );
    } else {
        println!(
            "  {} {:?}",
            lang.pick("signatures: FAILED for", "签名：验证失败"),
            view.signatures_failed
        );
    }
    for e in &view.equivocators {
        println!(
            "  {} {e}",
            lang.pick("WARNING equivocating key:", "警告：出现分叉签名的密钥")
        );
    }
}
