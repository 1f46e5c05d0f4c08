//! `confer verify FILE`: the real binary on bundles built with the library — adopted, not
//! adopted, tampered, malformed, unreadable — with no data directory, node or network
//! (HOME points at a directory that does not exist).

use confer_protocol::model::bundle::Bundle;
use confer_protocol::model::outcome::{Attestation, OutcomeId, OutcomeKind, OutcomeText};
use confer_protocol::{BodyId, Certificate, Certificates, Role, SecretKey, SpaceId, Subject};

use super::*;

const PINGHU: u8 = 1;
const JINSHAN: u8 = 2;

fn body_key(n: u8) -> SecretKey {
    SecretKey::from_seed([n; 32])
}

fn body(n: u8) -> BodyId {
    BodyId(body_key(n).public())
}

fn signer(n: u8) -> SecretKey {
    SecretKey::from_seed([n + 100; 32])
}

fn name(n: u8) -> &'static str {
    if n == PINGHU {
        "平湖市政协"
    } else {
        "金山区政协"
    }
}

fn certs() -> Certificates {
    let mut certs = Certificates::new();
    for (n, member) in [(PINGHU, "李四"), (JINSHAN, "王五")] {
        let subject = Subject::Member {
            name: member.into(),
            role: Role::SecretaryGeneral,
            can_sign: true,
        };
        let cert = Certificate::issue(&body_key(n), name(n), signer(n).public(), subject, 0)
            .expect("member certificate");
        assert!(certs.insert(cert));
    }
    certs
}

fn outcome() -> OutcomeText {
    OutcomeText::new(
        SpaceId([0x5a; 32]),
        OutcomeId([0xab; 8]),
        OutcomeKind::JointOpinion,
        "关于跨界河道水环境联防联治的联合协商意见",
        "一、建立跨界联合监测机制。\n二、开展联合执法。",
        [body(PINGHU), body(JINSHAN)],
    )
    .expect("outcome")
}

fn bundle(signers: &[u8]) -> Bundle {
    let text = outcome();
    let attestations: Vec<Attestation> = signers
        .iter()
        .map(|&n| Attestation::sign(body(n), &signer(n), text.digest()))
        .collect();
    Bundle::build(&text, &attestations, &certs())
}

/// `confer verify ARGS…` with `LANG=lang`, no `--data`, and a HOME that does not exist.
fn verify(root: &Path, lang: &str, args: &[&str]) -> Out {
    let mut cmd = Command::new(BIN);
    cmd.arg("verify")
        .args(args)
        .env("RUST_LOG", "warn")
        .env("LANG", lang)
        .env("HOME", root.join("no-home"))
        .env_remove("XDG_DATA_HOME")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("CONFER_DATA")
        .stdin(Stdio::null());
    let what = format!("LANG={lang} confer verify {}", args.join(" "));
    finish(cmd, what, CLI_TIMEOUT)
}

fn write(root: &Path, file: &str, bytes: &[u8]) -> String {
    let path = root.join(file);
    fs::write(&path, bytes).expect("write bundle");
    path.display().to_string()
}

#[test]
fn verify_says_who_signed_and_exits_by_verdict() {
    let root = TempDir::new().expect("tempdir");
    let root = root.path();

    // Adopted: exit 0, both bodies, their signers and the verdict, in English and Chinese.
    let adopted = write(
        root,
        "adopted.json",
        bundle(&[PINGHU, JINSHAN]).to_json().as_bytes(),
    );
    let out = verify(root, "C", &[&adopted]);
    assert_eq!(out.status.code(), Some(0), "{}", out.describe());
    for expected in [
        "ADOPTED",
        "平湖市政协",
        "金山区政协",
        "李四 (secretary-general)",
        "王五",
        &body(PINGHU).to_string(),
        "cannot know",
    ] {
        assert!(
            out.stdout.contains(expected),
            "{expected}: {}",
            out.describe()
        );
    }
    let out = verify(root, "zh_CN.UTF-8", &[&adopted, "--text"]);
    assert_eq!(out.status.code(), Some(0), "{}", out.describe());
    for expected in [
        "已通过",
        "联合协商意见",
        "李四（秘书长）",
        "二、开展联合执法。",
        "无法确认",
    ] {
        assert!(
            out.stdout.contains(expected),
            "{expected}: {}",
            out.describe()
        );
    }
    let json = verify(root, "C", &[&adopted, "--json"]).json();
    assert_eq!(json["valid"], true);
    assert_eq!(json["adopted"], true);
    assert_eq!(json["problems"], serde_json::json!([]));
    assert_eq!(json["bodies"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["outcome"]["kind"], "joint-opinion");
    assert_eq!(json["outcome"]["digest"], hex::encode(outcome().digest()));

    // One body has not signed: exit 3, and it says which.
    let partial = write(root, "partial.json", bundle(&[PINGHU]).to_json().as_bytes());
    let out = verify(root, "C", &[&partial]);
    assert_eq!(out.status.code(), Some(3), "{}", out.describe());
    assert!(out.stdout.contains("NOT SIGNED") && out.stdout.contains("NOT ADOPTED"));
    let out = verify(root, "C", &[&partial, "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", out.describe());
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(
        (json["valid"].clone(), json["adopted"].clone()),
        (true.into(), false.into())
    );
    let jinshan = json["bodies"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["body"] == body(JINSHAN).to_string()))
        .expect("金山 listed");
    assert_eq!(jinshan["signed"], false);

    // Tampered text: exit 4, both signatures fail, said in the user's language.
    let mut tampered = bundle(&[PINGHU, JINSHAN]);
    tampered.rendering = tampered.rendering.replace("联合执法", "单方执法");
    let tampered = write(root, "tampered.json", tampered.to_json().as_bytes());
    let out = verify(root, "C", &[&tampered]);
    assert_eq!(out.status.code(), Some(4), "{}", out.describe());
    assert!(out.stdout.contains("INVALID") && out.stdout.contains("does not verify"));
    let out = verify(root, "zh_CN.UTF-8", &[&tampered, "--json"]);
    assert_eq!(out.status.code(), Some(4), "{}", out.describe());
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(
        (json["valid"].clone(), json["adopted"].clone()),
        (false.into(), false.into())
    );
    let problems = json["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 2);
    assert!(problems.iter().all(|p| p["problem"] == "bad-signature"
        && p["message"]
            .as_str()
            .is_some_and(|m| m.contains("正文已被改动"))));

    // Not a bundle at all: exit 4, one line naming the file and the problem.
    let garbage = write(root, "garbage.json", b"{\"format\": \"something else\"}");
    let out = verify(root, "C", &[&garbage]);
    assert_eq!(out.status.code(), Some(4), "{}", out.describe());
    assert!(out.stdout.is_empty(), "{}", out.describe());
    assert!(
        out.stderr.contains("garbage.json") && out.stderr.contains("not a confer outcome bundle")
    );
    let json = verify(root, "C", &[&garbage, "--json"]);
    assert_eq!(json.status.code(), Some(4), "{}", json.describe());
    assert!(json.stdout.contains("\"format\""), "{}", json.describe());

    // Unreadable: exit 1, naming the file.
    let missing = root.join("missing.json").display().to_string();
    let out = verify(root, "C", &[&missing]);
    assert_eq!(out.status.code(), Some(1), "{}", out.describe());
    assert!(out.stderr.contains("missing.json") && out.stderr.contains("cannot read"));
    assert!(
        !root.join("no-home").exists(),
        "verify created no data directory"
    );
}
