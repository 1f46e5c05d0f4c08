//! The fuzz corpora and crashers, replayed as an ordinary test on stable.
//!
//! Every file under `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/` goes through the
//! same check as the fuzz target of that name (`fuzz/src/checks.rs`, included here as is):
//! the decoder must not panic, and what decodes must re-encode to the same bytes. A
//! committed crasher therefore fails `cargo test` until the decoder is fixed.
//!
//! The seeds in `fuzz/corpus/<target>/seed-*` are real encodings built from the shared
//! fixtures; after a format change, rewrite them with
//! `cargo test -p confer-protocol --test protocol write_fuzz_seed_corpus -- --ignored`.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use confer_protocol::model::bundle::Bundle;
use confer_protocol::model::outcome::{Attestation, OutcomeId, OutcomeKind, OutcomeText};
use confer_protocol::{Certificate, Certificates, Entry, Role, SecretKey, Space, Subject};

use crate::support::{self, POOL};

#[path = "../../../fuzz/src/checks.rs"]
mod checks;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files directly in `dir`, sorted; none if `dir` does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = read
        .map(|e| e.expect("read directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-text panic)".into())
}

#[test]
fn fuzz_corpus_and_crashers_replay_without_panics() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (target, check) in checks::TARGETS {
        let corpus_dir = fuzz_dir().join("corpus").join(target);
        let corpus = files_in(&corpus_dir);
        assert!(
            !corpus.is_empty(),
            "no corpus for fuzz target `{target}` in {} (missing or empty)",
            corpus_dir.display()
        );
        let crashers = files_in(&fuzz_dir().join("artifacts").join(target));
        let mut decoded = 0;
        for file in corpus.iter().chain(&crashers) {
            let data = fs::read(file).expect("read corpus file");
            replayed += 1;
            match catch_unwind(AssertUnwindSafe(|| check(&data))) {
                Ok(true) => decoded += 1,
                Ok(false) => {}
                Err(panic) => failures.push(format!(
                    "{target}: {}: {}",
                    file.display(),
                    panic_text(&*panic)
                )),
            }
        }
        // Otherwise the canonical re-encoding checks would never run.
        assert!(
            decoded > 0,
            "no input in {} decodes for `{target}`",
            corpus_dir.display()
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {replayed} fuzz inputs panicked:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The automerge change inside an entry, as it was signed.
fn change_bytes(entry: &Entry) -> Vec<u8> {
    let bytes = entry.bytes();
    bytes[1 + 32 + 32 + 4..bytes.len() - 64].to_vec()
}

/// Writes `fuzz/corpus/<target>/seed-*`: real encodings of every decoded type, built from
/// the shared fixtures. Deterministic: running it again rewrites the same bytes.
#[test]
#[ignore = "writes the seed corpus into fuzz/corpus; run by hand after a format change"]
fn write_fuzz_seed_corpus() {
    let pool = &*POOL;
    let mut seeds: Vec<(&str, String, Vec<u8>)> = Vec::new();

    for (i, cert) in [
        support::member_cert(1),
        support::member_cert(2),
        support::node_cert(1),
    ]
    .iter()
    .enumerate()
    {
        seeds.push(("certificate", format!("seed-{i}"), cert.encode()));
    }

    for (i, genesis) in [
        pool.genesis.clone(),
        support::genesis(2, &[], 0),
        support::genesis(3, &[1, 2, 4, 5], 9),
    ]
    .iter()
    .enumerate()
    {
        seeds.push(("genesis", format!("seed-{i}"), genesis.encode()));
    }

    // A large change, which automerge would compress: its uncompressed form is the
    // canonical one; the compressed form must be refused.
    let mut space = Space::new(pool.genesis.clone());
    let long_summary = "跨界河道水环境联防联治".repeat(40);
    let large = support::local_edit(
        &mut space,
        1,
        5_000,
        &support::edit(Some("标题"), Some(&long_summary)),
    );
    let mut entries: Vec<Entry> = pool.entries.iter().take(4).cloned().collect();
    entries.push(large.clone());
    for (i, entry) in entries.iter().enumerate() {
        seeds.push(("entry", format!("seed-{i}"), entry.bytes().to_vec()));
        seeds.push(("change_chunk", format!("seed-{i}"), change_bytes(entry)));
    }
    let mut change = large
        .clone()
        .take_change()
        .expect("a signed entry's change");
    let compressed = change.bytes().into_owned();
    assert_ne!(
        compressed,
        change_bytes(&large),
        "the large change compresses"
    );
    seeds.push(("change_chunk", "seed-compressed".into(), compressed));

    for (i, message) in support::sample_messages().iter().enumerate() {
        seeds.push(("message", format!("seed-{i:02}"), message.encode()));
        if let confer_protocol::Message::Revoke { revocations, .. } = message {
            for (j, r) in revocations.iter().enumerate() {
                seeds.push(("revocation", format!("seed-{j}"), r.encode()));
            }
        }
        if let confer_protocol::Message::Membership { consents, .. } = message {
            for (j, c) in consents.iter().enumerate() {
                seeds.push(("consent", format!("seed-{j}"), c.encode()));
            }
        }
    }

    // Workflow changes: a record made, a record edited, a body's own record.
    {
        use confer_protocol::model::{AgendaAction, ModelAction, RecordId, RecordKey, RecordWrite};
        let genesis = support::genesis(1, &[2], 0);
        let mut space = Space::new(genesis);
        let write = |collection: &'static str,
                     own: bool,
                     n: u64,
                     create: bool,
                     fields: &[(&'static str, &str)]| {
            ModelAction::Agenda(AgendaAction::Write(RecordWrite {
                key: RecordKey {
                    collection,
                    body: own.then(|| support::body_id(1)),
                    id: RecordId::from_bytes(n.to_be_bytes()),
                },
                create,
                fields: fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            }))
        };
        let r = RecordId::from_bytes(1u64.to_be_bytes()).to_string();
        let s = RecordId::from_bytes(2u64.to_be_bytes()).to_string();
        for (i, action) in [
            write("round", false, 1, true, &[("number", "1")]),
            write(
                "suggestion",
                false,
                2,
                true,
                &[("round", &r), ("text", "建立联合河长制")],
            ),
            write(
                "suggestion",
                false,
                2,
                false,
                &[("text", "建立跨界联合河长制")],
            ),
            write(
                "handling",
                true,
                3,
                true,
                &[
                    ("suggestion", &s),
                    ("unit", "水利局"),
                    ("role", "lead"),
                    ("assigned", "2026-01-01"),
                    ("due", "2026-04-01"),
                ],
            ),
        ]
        .iter()
        .enumerate()
        {
            let entry = space
                .local_change(
                    &support::member_secret(1),
                    support::body_id(1),
                    i as i64,
                    |tx| action.apply(tx),
                )
                .expect("a workflow change")
                .expect("it changed something");
            seeds.push(("model_change", format!("seed-{i}"), change_bytes(&entry)));
        }
    }

    for (i, bytes) in bundle_seeds().into_iter().enumerate() {
        seeds.push(("bundle", format!("seed-{i}"), bytes));
    }

    for (target, name, bytes) in seeds {
        let dir = fuzz_dir().join("corpus").join(target);
        fs::create_dir_all(&dir).expect("create corpus directory");
        fs::write(dir.join(name), bytes).expect("write seed");
    }
}

/// Seeds of the `bundle` target: an adopted bundle of bodies 1 and 2 (body 2 through a
/// rotated key), one with a signature missing, a bare rendering and a compact attestation.
fn bundle_seeds() -> Vec<Vec<u8>> {
    let mut certs = Certificates::new();
    let new_key = SecretKey::from_seed([0xee; 32]);
    let rotation = Certificate::issue(
        &support::body_secret(2),
        &support::body_name(2),
        new_key.public(),
        Subject::BodyKey,
        1,
    )
    .expect("body-key certificate");
    assert!(certs.insert(rotation));
    for (n, signer) in [(1, support::body_secret(1)), (2, new_key)] {
        let subject = Subject::Member {
            name: format!("委员 {n}"),
            role: Role::Chair,
            can_sign: true,
        };
        let cert = Certificate::issue_for(
            support::body_id(n),
            &signer,
            &support::body_name(n),
            support::member_secret(n).public(),
            subject,
            2,
        )
        .expect("member certificate");
        assert!(certs.insert(cert));
    }
    let text = OutcomeText::new(
        POOL.genesis.id(),
        OutcomeId([1; 8]),
        OutcomeKind::Resolution,
        "会议决议",
        "一、同意。\n二、\t共同推进。",
        [support::body_id(1), support::body_id(2)],
    )
    .expect("outcome");
    let attest = |n: u8| {
        Attestation::sign(
            support::body_id(n),
            &support::member_secret(n),
            text.digest(),
        )
    };
    vec![
        Bundle::build(&text, &[attest(1), attest(2)], &certs)
            .to_json()
            .into_bytes(),
        Bundle::build(&text, &[attest(2)], &certs)
            .to_json()
            .into_bytes(),
        text.render().into_bytes(),
        attest(1).encode().into_bytes(),
    ]
}
