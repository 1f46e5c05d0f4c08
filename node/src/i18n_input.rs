//! The node's `bad_input` details in Chinese. The node says why it refused input in
//! English (`NodeError::BadInput`, which the API sends as is); the CLI shows Chinese
//! output entirely in Chinese, so each detail the node can give is recognised here by its
//! fixed words and said again in Chinese, ids and values kept. A detail not recognised
//! (one added later without a translation here) is never shown in English inside a
//! Chinese message: the operator is told to look at it with `--json`.

/// `detail` in Chinese.
pub fn bad_input_zh(detail: &str) -> String {
    let d = detail.trim();
    if let Some(id) = d.split_once(" is not a body id").map(|(id, _)| id) {
        return format!("{id} 不是机构编号（应为 64 位十六进制字符，即对方政协正式来函中的编号；亦见 `confer status`）");
    }
    if let Some(k) = d.split_once(" is not a member key").map(|(k, _)| k) {
        return format!("{k} 不是成员密钥（应为 64 位十六进制字符，见 `confer member list`）");
    }
    if let Some(key) = d
        .strip_prefix("no member key ")
        .and_then(|r| r.strip_suffix(" of this body on this node"))
    {
        return format!("本节点没有本机构的成员密钥 {key}（见 `confer member list`）");
    }
    if let Some((change, space)) = d
        .strip_prefix("no proposed change ")
        .and_then(|r| r.split_once(" in agenda "))
    {
        return format!("议题 {space} 中没有待定变更 {change}（见 `confer agenda show`）");
    }
    if let Some((head, rest)) = d.split_once(" proposed changes in agenda ") {
        if let Some((space, tail)) = rest.split_once(" start with ") {
            let (change, list) = tail.split_once(": ").unwrap_or((tail, ""));
            let list = list
                .split("; ")
                .next()
                .unwrap_or_default()
                .replace(", ", "、");
            return format!("议题 {space} 中有 {head} 个待定变更的编号以 {change} 开头：{list}；请多给出几位编号（见 `confer agenda show`）");
        }
    }
    if let Some(s) = d
        .strip_prefix("no suggestion ")
        .and_then(|r| r.strip_suffix(" in this agenda"))
    {
        return format!("该议题中没有意见建议 {s}");
    }
    if let Some((what, got)) = d.split_once(": expected a date YYYY-MM-DD, got ") {
        return format!("{what}：日期格式应为 YYYY-MM-DD，收到的是 {got}");
    }
    if let Some(got) = d.strip_prefix("year: expected 1900–9999, got ") {
        return format!("年份应在 1900–9999 之间，收到的是 {got}");
    }
    match d {
        "an agenda needs a title" => return "议题需要标题".into(),
        "nothing to change: give a title or a summary" => {
            return "没有要修改的内容：请给出标题或摘要".into()
        }
        "change: give its id (at least 8 hexadecimal characters)" => {
            return "请给出变更编号（至少 8 位十六进制字符）".into()
        }
        "this node's own body cannot be untrusted" => return "不能取消对本机构自身的信任".into(),
        _ => {}
    }
    if d.starts_with("request body:") || d.starts_with("path:") {
        return "请求格式有误（以 LANG=C 重新运行可看到节点的英文原文）".into();
    }
    "节点认为输入有误（其说明只有英文，以 LANG=C 重新运行可看到）".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Latin letters in `s` outside the given ids, values and commands.
    fn english_left(s: &str, allowed: &[&str]) -> bool {
        let mut rest = s.to_owned();
        for a in allowed {
            rest = rest.replace(a, "");
        }
        rest.chars().any(|c| c.is_ascii_alphabetic())
    }

    #[test]
    fn every_detail_the_node_gives_is_said_in_chinese() {
        let id = "194b3a70";
        let cases = [
            (format!("{id} is not a body id (64 hexadecimal characters, see `confer status` on that body's node)"), vec![id, "confer status"]),
            (format!("{id} is not a member key (64 hexadecimal characters)"), vec![id, "confer member list"]),
            (format!("no member key {id} of this body on this node"), vec![id, "confer member list"]),
            (format!("no proposed change {id} in agenda abcd"), vec![id, "abcd", "confer agenda show"]),
            (format!("2 proposed changes in agenda abcd start with {id}: {id}aa, {id}bb; give more of its id"), vec!["194b3a70aa", "194b3a70bb", id, "abcd", "confer agenda show"]),
            ("received: expected a date YYYY-MM-DD, got \"x\"".to_owned(), vec!["received", "YYYY-MM-DD", "\"x\""]),
            ("an agenda needs a title".to_owned(), vec![]),
            ("something new".to_owned(), vec!["LANG=C"]),
        ];
        for (en, allowed) in cases {
            let zh = bad_input_zh(&en);
            assert!(!english_left(&zh, &allowed), "{en} → {zh}");
        }
    }
}
