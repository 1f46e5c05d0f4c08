//! The test vector in `docs/outcome-bundle.md`, rebuilt with confer's own code.
//!
//! The page prints an outcome's rendering, its digest, the attestations' signed bytes and
//! signatures, the certificates and the whole bundle for fixed seeds; an independent
//! verifier is written from it (`docs/outcome-vector.py` recomputes and verifies the same
//! without confer's code). This test requires every string the page prints to be what
//! confer makes, so the page and the code cannot drift apart.

use std::path::Path;

use confer_protocol::model::bundle::{self, Bundle};
use confer_protocol::model::outcome::{
    Attestation, OutcomeId, OutcomeKind, OutcomeText, ATTESTATION_DOMAIN,
};
use confer_protocol::{BodyId, Certificate, Certificates, Role, SecretKey, SpaceId, Subject};

fn docs() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/outcome-bundle.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// 32 consecutive bytes starting at `first`: the page's `000102…1f` and the like.
fn run(first: u8) -> [u8; 32] {
    std::array::from_fn(|i| first + i as u8)
}

/// Everything the page prints, in the order it prints it, with a label for failures.
fn vector() -> Vec<(&'static str, String)> {
    let pinghu_key = SecretKey::from_seed(run(0x00));
    let pinghu = BodyId(pinghu_key.public());
    let li = SecretKey::from_seed(run(0x20));
    let jinshan_key = SecretKey::from_seed(run(0x40));
    let jinshan = BodyId(jinshan_key.public());
    let jinshan_new = SecretKey::from_seed(run(0x60));
    let wang = SecretKey::from_seed(run(0xa0));

    let li_cert = Certificate::issue(
        &pinghu_key,
        "平湖市政协",
        li.public(),
        Subject::Member {
            name: "李四".into(),
            role: Role::SecretaryGeneral,
            can_sign: true,
        },
        1_800_000_000,
    )
    .expect("李四's certificate");
    let rotation = Certificate::issue(
        &jinshan_key,
        "金山区政协",
        jinshan_new.public(),
        Subject::BodyKey,
        1_800_000_100,
    )
    .expect("金山's new body key");
    let wang_cert = Certificate::issue_for(
        jinshan,
        &jinshan_new,
        "金山区政协",
        wang.public(),
        Subject::Member {
            name: "王五".into(),
            role: Role::Chair,
            can_sign: true,
        },
        1_800_000_200,
    )
    .expect("王五's certificate");
    let mut certs = Certificates::new();
    assert!(certs
        .insert_all(vec![li_cert.clone(), rotation.clone(), wang_cert.clone()])
        .is_empty());

    let text = OutcomeText::new(
        SpaceId(run(0xc0)),
        OutcomeId([0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7]),
        OutcomeKind::JointOpinion,
        "关于跨界河道水环境联防联治的联合协商意见",
        "一、建立跨界河道水质联合监测机制，监测数据按月互通。\r\n二、开展联合执法，共同查处跨界违法排污行为。\r\n三、新建涉水项目由两地共同参与评审。\r\n",
        [pinghu, jinshan],
    )
    .expect("outcome");
    let rendering = text.render();
    let digest = text.digest();
    let by_li = Attestation::sign(pinghu, &li, digest);
    let by_wang = Attestation::sign(jinshan, &wang, digest);
    let message = |a: &Attestation| {
        let mut m = ATTESTATION_DOMAIN.0.to_vec();
        m.push(0);
        m.extend_from_slice(&Attestation::payload(&a.body, &a.digest));
        hex::encode(m)
    };
    let bundle = Bundle::build(&text, &[by_wang.clone(), by_li.clone()], &certs);
    let json = bundle.to_json();
    let report = bundle::verify(json.as_bytes());
    assert!(report.adopted, "{report:#?}");

    vec![
        ("平湖 body id", format!("`{pinghu}`")),
        ("李四's key", format!("`{}`", li.public())),
        ("金山 body id", format!("`{jinshan}`")),
        ("金山's new body key", format!("`{}`", jinshan_new.public())),
        ("王五's key", format!("`{}`", wang.public())),
        ("rendering", format!("```text\n{rendering}\n```")),
        (
            "rendering's length",
            format!("those {} bytes", rendering.len()),
        ),
        ("digest", format!("`{}`", hex::encode(digest))),
        ("李四's signed message", message(&by_li)),
        ("李四's signature", hex::encode(by_li.signature.0)),
        ("李四's compact attestation", by_li.encode()),
        ("王五's signed message", message(&by_wang)),
        ("王五's signature", hex::encode(by_wang.signature.0)),
        ("王五's compact attestation", by_wang.encode()),
        ("李四's certificate", hex::encode(li_cert.encode())),
        (
            "金山's body-key certificate",
            hex::encode(rotation.encode()),
        ),
        ("王五's certificate", hex::encode(wang_cert.encode())),
        ("bundle", format!("```json\n{json}\n```")),
    ]
}

#[test]
fn the_test_vector_in_the_docs_is_what_confer_makes() {
    let docs = docs();
    let missing: Vec<String> = vector()
        .into_iter()
        .filter(|(_, text)| !docs.contains(text.as_str()))
        .map(|(what, text)| format!("--- {what}:\n{text}"))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/outcome-bundle.md does not print what confer makes:\n{}",
        missing.join("\n")
    );
}
