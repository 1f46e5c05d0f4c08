//! `confer verify FILE`: checks an outcome bundle (`docs/outcome-bundle.md`) offline — no
//! data directory, no node, no network — and says plainly what holds: each body the
//! outcome lists, whether it signed and by whom, every problem, the verdict, and what an
//! offline check cannot know. The checking is `confer_protocol::model::bundle::verify`;
//! this module reads the file and words the report in the user's language.
//!
//! Exit status: [`EXIT_ADOPTED`] (0) only when the bundle is valid and every listed body
//! signed; [`EXIT_NOT_ADOPTED`] when it is valid but a body has not signed;
//! [`EXIT_INVALID`] when anything is wrong with it (malformed included); 1 when the file
//! cannot be read.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use confer_protocol::model::bundle::{
    self, BodyReport, OutcomeSummary, Problem, SignerReport, VerifyReport,
};
use confer_protocol::text::display_line;
use confer_protocol::BodyId;

use super::render::role_name;
use crate::i18n::Lang;

/// Valid, and every listed body signed.
pub const EXIT_ADOPTED: u8 = 0;
/// The file could not be read (as any other `confer` error).
pub const EXIT_UNREADABLE: u8 = 1;
/// Valid, but at least one listed body has not signed.
pub const EXIT_NOT_ADOPTED: u8 = 3;
/// Not a valid bundle: malformed, or a signature or certificate that does not hold.
pub const EXIT_INVALID: u8 = 4;

/// Appends one line to `out` (writing to a `String` cannot fail).
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

/// Runs `confer verify`: reads `file`, verifies it, prints the report (JSON with `json`,
/// with the signed text itself with `show_text`) and returns the exit status.
pub fn run(file: &Path, show_text: bool, json: bool, lang: Lang) -> ExitCode {
    let shown = display_line(&file.display().to_string()).into_owned();
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!(
                "confer: {}",
                display_line(&match lang {
                    Lang::En => format!("cannot read {shown}: {e}"),
                    Lang::Zh => format!("无法读取 {shown}：{e}"),
                })
            );
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    let report = bundle::verify(&bytes);
    let code = exit_code(&report);
    if json {
        match super::render::json(&json_view(&report, lang)) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("confer: {e}");
                return ExitCode::from(EXIT_UNREADABLE);
            }
        }
    } else if report.outcome.is_none() {
        // Not far enough to show anything: one line naming the file and what is wrong.
        let problems: Vec<String> = report.problems.iter().map(|p| problem(p, lang)).collect();
        eprintln!(
            "confer: {}",
            display_line(&match lang {
                Lang::En => format!(
                    "{shown} is not a valid outcome bundle: {}",
                    problems.join("; ")
                ),
                Lang::Zh => format!("{shown} 不是有效的成果文件包：{}", problems.join("；")),
            })
        );
    } else {
        print!("{}", human(&report, &shown, show_text, lang));
    }
    ExitCode::from(code)
}

/// The exit status for a report.
pub fn exit_code(report: &VerifyReport) -> u8 {
    match (report.valid, report.adopted) {
        (true, true) => EXIT_ADOPTED,
        (true, false) => EXIT_NOT_ADOPTED,
        (false, _) => EXIT_INVALID,
    }
}

/// The `--json` output: the report, each problem with a `message` in the user's language,
/// fields in a fixed order (verdict first).
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    valid: bool,
    adopted: bool,
    outcome: &'a Option<OutcomeSummary>,
    bodies: Vec<JsonBody<'a>>,
    problems: Vec<JsonProblem<'a>>,
}

#[derive(serde::Serialize)]
struct JsonBody<'a> {
    body: BodyId,
    name: &'a Option<String>,
    signed: bool,
    signers: &'a [SignerReport],
    problems: Vec<JsonProblem<'a>>,
}

#[derive(serde::Serialize)]
struct JsonProblem<'a> {
    #[serde(flatten)]
    problem: &'a Problem,
    message: String,
}

fn json_view(report: &VerifyReport, lang: Lang) -> JsonReport<'_> {
    fn problems(list: &[Problem], lang: Lang) -> Vec<JsonProblem<'_>> {
        list.iter()
            .map(|p| JsonProblem {
                problem: p,
                message: problem(p, lang),
            })
            .collect()
    }
    JsonReport {
        valid: report.valid,
        adopted: report.adopted,
        outcome: &report.outcome,
        bodies: report
            .bodies
            .iter()
            .map(|b| JsonBody {
                body: b.body,
                name: &b.name,
                signed: b.signed,
                signers: &b.signers,
                problems: problems(&b.problems, lang),
            })
            .collect(),
        problems: problems(&report.problems, lang),
    }
}

/// The readable report.
fn human(report: &VerifyReport, file: &str, show_text: bool, lang: Lang) -> String {
    let mut out = String::new();
    put!(out, "{} {file}", lang.pick("Outcome bundle", "成果文件包"));
    if let Some(o) = &report.outcome {
        let kind = match lang {
            Lang::En => format!("{} ({})", o.kind.as_str().replace('-', " "), o.kind.zh()),
            Lang::Zh => o.kind.zh().to_owned(),
        };
        put!(
            out,
            "  {kind}{}{}",
            lang.pick(": ", "："),
            display_line(&o.title)
        );
        let ids = [
            (lang.pick("agenda:  ", "议题编号："), o.space.to_string()),
            (lang.pick("outcome: ", "成果编号："), o.outcome.to_string()),
            (
                lang.pick("SHA-256: ", "正文摘要（SHA-256）："),
                o.digest.clone(),
            ),
        ];
        for (label, id) in ids {
            put!(out, "  {label}{id}");
        }
        if show_text {
            put!(out, "{}", lang.pick("The text signed:", "所签署的正文："));
            for line in o.text.split('\n') {
                put!(out, "  │ {}", confer_protocol::text::display_text(line));
            }
        }
    }
    let signed = report.bodies.iter().filter(|b| b.signed).count();
    put!(
        out,
        "{}",
        match lang {
            Lang::En => format!(
                "Bodies that must sign: {}, signed: {signed}",
                report.bodies.len()
            ),
            Lang::Zh => format!(
                "须签署的机构：{} 个，已签署：{signed} 个",
                report.bodies.len()
            ),
        }
    );
    for b in &report.bodies {
        body_lines(&mut out, b, lang);
    }
    let others: Vec<&Problem> = report
        .problems
        .iter()
        .filter(|p| p.body().is_none())
        .collect();
    if !others.is_empty() {
        put!(out, "{}", lang.pick("Problems:", "问题："));
        for p in others {
            put!(out, "  - {}", display_line(&problem(p, lang)));
        }
    }
    put!(out, "{}", verdict(report, signed, lang));
    put!(
        out,
        "{}",
        lang.pick(
            "What this check cannot know (it works offline, from this file alone):\n  - whether a signer's key was revoked, or its right to sign withdrawn, after it signed: ask the body;\n  - who the bodies are: the ids above are what was signed, and a name is only what each body's own certificate says; compare the ids with those the committees gave you through official channels;\n  - whether these bodies are all the members of the joint agenda: only their signatures over this list of bodies vouch for it.",
            "本检查无法确认的事项（离线进行，仅依据本文件）：\n  - 签署人的密钥或签署权限在签署后是否被撤销：请向该机构核实；\n  - 各机构的真实身份：所签署的是上列编号，名称只是各机构证书的自述；请将编号与各政协经正式渠道提供的编号核对；\n  - 上列机构是否即该联动议题的全部成员：仅有这些机构对该机构列表的签署为此作证。"
        )
    );
    out
}

/// A body's lines: signed or not, by whom, and its problems.
fn body_lines(out: &mut String, b: &BodyReport, lang: Lang) {
    let name = b
        .name
        .as_deref()
        .map(|n| display_line(n).into_owned())
        .unwrap_or_else(|| {
            lang.pick("(name not in the bundle)", "（文件包中无名称）")
                .to_owned()
        });
    let mark = if b.signed {
        lang.pick("signed    ", "已签署  ")
    } else {
        lang.pick("NOT SIGNED", "未签署  ")
    };
    put!(out, "  [{mark}] {name}  {}", b.body);
    for s in &b.signers {
        let (who, role) = (display_line(&s.name), role_name(s.role, lang));
        match lang {
            Lang::En => put!(out, "      by {who} ({role}), key {}", s.key),
            Lang::Zh => put!(out, "      签署人：{who}（{role}），密钥 {}", s.key),
        }
    }
    for p in &b.problems {
        put!(
            out,
            "      {}{}",
            lang.pick("problem: ", "问题："),
            display_line(&problem(p, lang))
        );
    }
}

fn verdict(report: &VerifyReport, signed: usize, lang: Lang) -> String {
    let total = report.bodies.len();
    match (report.valid, report.adopted, lang) {
        (true, true, Lang::En) => "Verdict: ADOPTED. Every listed body signed this exact text, each through a member its certificate allows to sign outcomes.".to_owned(),
        (true, true, Lang::Zh) => "结论：已通过。所列每个机构均已签署此正文，签署人均经本机构证书授权签署成果。".to_owned(),
        (true, false, Lang::En) => format!("Verdict: NOT ADOPTED. The signatures present are valid, but {} of {total} bodies have not signed.", total - signed),
        (true, false, Lang::Zh) => format!("结论：未通过。现有签署均有效，但 {total} 个机构中有 {} 个尚未签署。", total - signed),
        (false, _, Lang::En) => "Verdict: INVALID. Something in this bundle does not hold (see the problems above); do not rely on it.".to_owned(),
        (false, _, Lang::Zh) => "结论：无效。此文件包中有内容未通过校验（见上列问题），不可作为依据。".to_owned(),
    }
}

/// A problem in the user's language.
pub fn problem(p: &Problem, lang: Lang) -> String {
    if lang == Lang::En {
        return p.to_string();
    }
    match p {
        Problem::TooLarge { max } => format!("文件超过 {max} 字节，不可能是成果文件包"),
        Problem::NotJson { detail } => format!("不是 JSON：{detail}"),
        Problem::Format { found } => format!("不是 confer 成果文件包（format 为 {found}）"),
        Problem::Version { found } => format!("不支持文件包版本 {found}（本程序读取版本 1）"),
        Problem::Malformed { detail } => format!("文件包格式有误：{detail}"),
        Problem::TooMany { what, max } => {
            let what = if *what == "attestations" { "签署" } else { "证书" };
            format!("文件包中的{what}超过 {max} 项")
        }
        Problem::Rendering { detail } => format!("成果正文不是规范格式：{detail}"),
        Problem::Certificate { index, detail } => format!("第 {index} 号证书无效：{detail}"),
        Problem::UnauthorisedCertificate {
            index,
            body,
            signer,
        } => format!(
            "第 {index} 号证书由密钥 {signer} 签发，但文件包中没有任何密钥链授权该密钥代表机构 {body}"
        ),
        Problem::AttestationEncoding { index, field } => {
            format!("第 {index} 号签署的 {field} 字段不是长度正确的小写十六进制")
        }
        Problem::DuplicateAttestation {
            index,
            body,
            signer,
        } => format!("第 {index} 号签署与前一签署重复（机构 {body}，签署密钥 {signer}）"),
        Problem::BadSignature {
            index,
            body,
            signer,
        } => format!(
            "第 {index} 号签署（机构 {body}，密钥 {signer}）与此正文不符：签署的是其他内容，或正文已被改动"
        ),
        Problem::BodyNotListed { index, body, .. } => {
            format!("第 {index} 号签署代表机构 {body}，但该成果未列出此机构")
        }
        Problem::NoMemberCertificate {
            index,
            body,
            signer,
        } => format!(
            "第 {index} 号签署：文件包中没有机构 {body}（经其密钥链）为密钥 {signer} 签发的成员证书"
        ),
        Problem::CannotSign {
            index,
            body,
            signer,
            name,
        } => format!(
            "第 {index} 号签署：{name}（密钥 {signer}）无权代表机构 {body} 签署成果"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confer_protocol::PublicKey;

    #[test]
    fn every_problem_reads_in_both_languages_on_one_line() {
        let body = BodyId(PublicKey::from_bytes([1; 32]));
        let signer = PublicKey::from_bytes([2; 32]);
        let all = [
            Problem::TooLarge { max: 1 },
            Problem::NotJson { detail: "x".into() },
            Problem::Format {
                found: "\"x\"".into(),
            },
            Problem::Version { found: "2".into() },
            Problem::Malformed { detail: "x".into() },
            Problem::TooMany {
                what: "certificates",
                max: 1,
            },
            Problem::Rendering { detail: "x".into() },
            Problem::Certificate {
                index: 0,
                detail: "x".into(),
            },
            Problem::UnauthorisedCertificate {
                index: 0,
                body,
                signer,
            },
            Problem::AttestationEncoding {
                index: 0,
                field: "signer",
            },
            Problem::DuplicateAttestation {
                index: 0,
                body,
                signer,
            },
            Problem::BadSignature {
                index: 0,
                body,
                signer,
            },
            Problem::BodyNotListed {
                index: 0,
                body,
                signer,
            },
            Problem::NoMemberCertificate {
                index: 0,
                body,
                signer,
            },
            Problem::CannotSign {
                index: 0,
                body,
                signer,
                name: "李四".into(),
            },
        ];
        for p in &all {
            for lang in [Lang::En, Lang::Zh] {
                let text = problem(p, lang);
                assert!(!text.is_empty() && !text.contains('\n'), "{text}");
            }
            assert_ne!(problem(p, Lang::En), problem(p, Lang::Zh));
        }
    }
}
