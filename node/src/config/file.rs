//! The configuration file (`confer run --config FILE`, or `CONFER_CONFIG`): TOML whose keys
//! are the names of `run`'s flags without `--` (`api = "127.0.0.1:4647"`,
//! `api-insecure = true`, `listen = ["/ip4/0.0.0.0/tcp/4646"]`; the repeatable flags take
//! lists). [`load`] reads it into one layer of [`Settings`]: every value is checked here,
//! an unknown key is refused (`deny_unknown_fields`), and a [`FileError`] names the file,
//! the line and column (from the `toml` crate's spans) and the problem, in either language
//! ([`FileError::say`]). Relative paths in the file (`data`, `ui-cert`, `ui-key`) are taken
//! from the file's own directory. `deploy/confer.toml` is the commented example.

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;
use serde::de::{self, Deserialize, Deserializer, Visitor};

use super::settings::Settings;
use crate::i18n::Lang;

/// The file as written: every key optional, none other allowed.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileSettings {
    data: Option<String>,
    listen: Option<Vec<Parsed<Multiaddr>>>,
    api: Option<Parsed<SocketAddr>>,
    api_insecure: Option<bool>,
    relay: Option<Vec<Parsed<RelayAddr>>>,
    mdns: Option<bool>,
    peer: Option<Vec<Parsed<PeerAddr>>>,
    ui: Option<Parsed<SocketAddr>>,
    ui_cert: Option<String>,
    ui_key: Option<String>,
    ui_insecure: Option<bool>,
    metrics: Option<Parsed<SocketAddr>>,
}

/// A value written as a string and parsed; `EXPECTED` is what serde's messages say it
/// should have been ("… expected {EXPECTED}"), `EXPECTED_ZH` the same in Chinese.
trait Setting: Sized {
    const EXPECTED: &'static str;
    const EXPECTED_ZH: &'static str;
    fn parse(text: &str) -> Option<Self>;
}

impl Setting for SocketAddr {
    const EXPECTED: &'static str = "an address HOST:PORT in quotes, e.g. \"127.0.0.1:4647\"";
    const EXPECTED_ZH: &'static str = "用引号括起的“主机:端口”地址，如 \"127.0.0.1:4647\"";
    fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl Setting for Multiaddr {
    const EXPECTED: &'static str = "a libp2p address in quotes, e.g. \"/ip4/0.0.0.0/tcp/4646\"";
    const EXPECTED_ZH: &'static str = "用引号括起的 libp2p 地址，如 \"/ip4/0.0.0.0/tcp/4646\"";
    fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

/// A peer's or relay's address: it must name the node (`…/p2p/PEER_ID`), since a node is
/// known by its id, not by where it happens to be.
fn ends_in_p2p(text: &str) -> Option<Multiaddr> {
    let addr: Multiaddr = text.parse().ok()?;
    matches!(addr.iter().last(), Some(Protocol::P2p(_))).then_some(addr)
}

struct PeerAddr(Multiaddr);

impl Setting for PeerAddr {
    const EXPECTED: &'static str =
        "a peer's libp2p address ending in /p2p/PEER_ID, e.g. \"/ip4/203.0.113.5/tcp/4646/p2p/12D3Koo…\"";
    const EXPECTED_ZH: &'static str =
        "以 /p2p/节点ID 结尾的 libp2p 地址，如 \"/ip4/203.0.113.5/tcp/4646/p2p/12D3Koo…\"";
    fn parse(text: &str) -> Option<Self> {
        ends_in_p2p(text).map(PeerAddr)
    }
}

struct RelayAddr(Multiaddr);

impl Setting for RelayAddr {
    const EXPECTED: &'static str =
        "a relay's libp2p address ending in /p2p/RELAY_ID, e.g. \"/ip4/203.0.113.9/tcp/4646/p2p/12D3Koo…\"";
    const EXPECTED_ZH: &'static str =
        "以 /p2p/中继ID 结尾的 libp2p 地址，如 \"/ip4/203.0.113.9/tcp/4646/p2p/12D3Koo…\"";
    fn parse(text: &str) -> Option<Self> {
        ends_in_p2p(text).map(RelayAddr)
    }
}

#[derive(Debug)]
struct Parsed<T>(T);

struct PhantomVisitor<T>(PhantomData<T>);

impl<'de, T: Setting> Visitor<'de> for PhantomVisitor<T> {
    type Value = Parsed<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(T::EXPECTED)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Parsed<T>, E> {
        T::parse(text)
            .map(Parsed)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

impl<'de, T: Setting> Deserialize<'de> for Parsed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(PhantomVisitor(PhantomData))
    }
}

impl std::fmt::Debug for PeerAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Debug for RelayAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What the Chinese message says a value should have been, from the English "expected …"
/// of serde's message (the built-in types' words, and each [`Setting`]'s).
fn expected_zh(message: &str) -> Option<&'static str> {
    let (_, expected) = message.rsplit_once("expected ")?;
    let known: [(&str, &str); 7] = [
        ("a boolean", "不加引号的 `true` 或 `false`"),
        ("a string", "用双引号括起的文字"),
        ("a sequence", "方括号中的列表，如 [\"…\", \"…\"]"),
        (SocketAddr::EXPECTED, SocketAddr::EXPECTED_ZH),
        (Multiaddr::EXPECTED, Multiaddr::EXPECTED_ZH),
        (PeerAddr::EXPECTED, PeerAddr::EXPECTED_ZH),
        (RelayAddr::EXPECTED, RelayAddr::EXPECTED_ZH),
    ];
    known
        .iter()
        .find(|(en, _)| *en == expected)
        .map(|(_, zh)| *zh)
}

/// Why a configuration file was refused: which file, where in it, and what is wrong.
#[derive(Debug)]
pub struct FileError {
    pub path: PathBuf,
    /// Line and column (from 1) and the text of that line, when the problem has a place.
    pub at: Option<(usize, usize, String)>,
    pub problem: Problem,
}

#[derive(Debug)]
pub enum Problem {
    /// The file cannot be read.
    Unreadable(std::io::Error),
    NotUtf8,
    /// Not TOML at all (the `toml` crate's message).
    Syntax(String),
    /// A key that is not a setting; the known keys, as serde listed them.
    UnknownKey {
        key: String,
        known: Vec<String>,
    },
    /// A value of the wrong type (`wrong_value`: of the right type but not valid), with
    /// serde's message and, when known, what was expected in Chinese.
    WrongType {
        message: String,
        expected_zh: Option<&'static str>,
    },
    WrongValue {
        message: String,
        expected_zh: Option<&'static str>,
    },
    /// Anything else serde said.
    Other(String),
}

/// Reads the configuration file at `path` into one layer of settings.
pub fn load(path: &Path) -> Result<Settings, FileError> {
    let fail = |at, problem| FileError {
        path: path.to_owned(),
        at,
        problem,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(None, Problem::Unreadable(e)))?;
    let text = String::from_utf8(bytes).map_err(|_| fail(None, Problem::NotUtf8))?;
    let place = |e: &toml::de::Error| e.span().map(|span| position(&text, span.start));
    let document = toml::de::Deserializer::parse(&text)
        .map_err(|e| fail(place(&e), Problem::Syntax(e.message().to_owned())))?;
    let file =
        FileSettings::deserialize(document).map_err(|e| fail(place(&e), classify(e.message())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let path_in = |p: String| base.join(p);
    let list = |l: Option<Vec<Parsed<Multiaddr>>>| l.map(|l| l.into_iter().map(|p| p.0).collect());
    Ok(Settings {
        data: file.data.map(path_in),
        listen: list(file.listen),
        api: file.api.map(|p| p.0),
        api_insecure: file.api_insecure,
        relay: file.relay.map(|l| l.into_iter().map(|p| p.0 .0).collect()),
        mdns: file.mdns,
        peer: file.peer.map(|l| l.into_iter().map(|p| p.0 .0).collect()),
        ui: file.ui.map(|p| p.0),
        ui_cert: file.ui_cert.map(path_in),
        ui_key: file.ui_key.map(path_in),
        ui_insecure: file.ui_insecure,
        metrics: file.metrics.map(|p| p.0),
    })
}

/// Line and column (from 1, the column in characters) of byte `offset`, and that line.
fn position(text: &str, offset: usize) -> (usize, usize, String) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    let rest = text.get(line_start..).unwrap_or("");
    let source: String = rest
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .chars()
        .take(120)
        .collect();
    (line, column, source)
}

/// serde's message, sorted by kind (its wording is serde's own and stable).
fn classify(message: &str) -> Problem {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (key, known) = rest.split_once('`').unwrap_or((rest, ""));
        let known = known
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        return Problem::UnknownKey {
            key: key.to_owned(),
            known,
        };
    }
    let expected_zh = expected_zh(message);
    let message = message.to_owned();
    if message.starts_with("invalid type: ") {
        Problem::WrongType {
            message,
            expected_zh,
        }
    } else if message.starts_with("invalid value: ") {
        Problem::WrongValue {
            message,
            expected_zh,
        }
    } else {
        Problem::Other(message)
    }
}

/// Keys as code: `data`, `listen`, …
fn quoted_keys(keys: &[String], separator: &str) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(separator)
}

impl FileError {
    /// The error in one line, in `lang`; the Chinese holds no English word but the file's
    /// own text (its path, keys and the line quoted).
    pub fn say(&self, lang: Lang) -> String {
        let path = self.path.display();
        let place = match (&self.at, lang) {
            (Some((line, column, _)), Lang::En) => {
                format!("configuration file {path}, line {line}, column {column}")
            }
            (Some((line, column, _)), Lang::Zh) => {
                format!("配置文件 {path} 第 {line} 行第 {column} 列")
            }
            (None, Lang::En) => format!("configuration file {path}"),
            (None, Lang::Zh) => format!("配置文件 {path}"),
        };
        let quoted = match (&self.at, lang) {
            (Some((_, _, source)), Lang::En) if !source.is_empty() => {
                format!(" (the line reads: `{source}`)")
            }
            (Some((_, _, source)), Lang::Zh) if !source.is_empty() => {
                format!("（该行内容：`{source}`）")
            }
            _ => String::new(),
        };
        let zh_expected = |what: &str, expected: Option<&str>| match expected {
            Some(e) => format!("{what}，应为{e}"),
            None => what.to_owned(),
        };
        match (&self.problem, lang) {
            (Problem::Unreadable(e), Lang::En) => {
                format!("cannot read {place}: {e} (check --config or CONFER_CONFIG)")
            }
            (Problem::Unreadable(e), Lang::Zh) => {
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => "文件不存在",
                    std::io::ErrorKind::PermissionDenied => "没有读取权限",
                    std::io::ErrorKind::IsADirectory => "这是一个目录，不是文件",
                    _ => "系统拒绝读取",
                };
                format!("无法读取{place}：{why}（请检查 --config 或 CONFER_CONFIG）")
            }
            (Problem::NotUtf8, Lang::En) => format!("{place} is not UTF-8 text"),
            (Problem::NotUtf8, Lang::Zh) => format!("{place} 不是 UTF-8 编码的文本"),
            (Problem::Syntax(m), Lang::En) => format!("{place}: not valid TOML: {m}{quoted}"),
            (Problem::Syntax(_), Lang::Zh) => {
                format!("{place}：不符合 TOML 语法（请检查引号、等号、方括号，以及是否有重复的设置项）{quoted}")
            }
            (Problem::UnknownKey { key, known }, Lang::En) => format!(
                "{place}: unknown setting `{key}`; the settings are: {}{quoted}",
                quoted_keys(known, ", ")
            ),
            (Problem::UnknownKey { key, known }, Lang::Zh) => format!(
                "{place}：未知的设置项“{key}”；可用的设置项：{}{quoted}",
                quoted_keys(known, "、")
            ),
            (Problem::WrongType { message, .. }, Lang::En)
            | (Problem::WrongValue { message, .. }, Lang::En)
            | (Problem::Other(message), Lang::En) => format!("{place}: {message}{quoted}"),
            (Problem::WrongType { expected_zh, .. }, Lang::Zh) => {
                format!(
                    "{place}：{}{quoted}",
                    zh_expected("值的类型不对", *expected_zh)
                )
            }
            (Problem::WrongValue { expected_zh, .. }, Lang::Zh) => {
                format!("{place}：{}{quoted}", zh_expected("值无效", *expected_zh))
            }
            (Problem::Other(_), Lang::Zh) => format!("{place}：设置有误{quoted}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Settings, FileError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("confer.toml");
        std::fs::write(&path, text).expect("write");
        load(&path)
    }

    fn refused(text: &str) -> FileError {
        match load_text(text) {
            Ok(s) => panic!("accepted {text:?} as {s:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn every_key_is_read() {
        let text = r#"
            data = "/var/lib/confer"
            listen = ["/ip4/0.0.0.0/tcp/4646", "/ip4/0.0.0.0/udp/4646/quic-v1"]
            api = "127.0.0.1:5000"
            api-insecure = false
            relay = ["/ip4/203.0.113.9/tcp/4646/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"]
            mdns = true
            peer = ["/ip4/203.0.113.5/tcp/4646/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"]
            ui = "0.0.0.0:8443"
            ui-cert = "ui.pem"
            ui-key = "/etc/confer/ui.key"
            ui-insecure = false
            metrics = "127.0.0.1:9646"
        "#;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("confer.toml");
        std::fs::write(&path, text).expect("write");
        let s = load(&path).expect("valid");
        assert_eq!(s.data, Some(PathBuf::from("/var/lib/confer")));
        assert_eq!(s.listen.as_ref().map(Vec::len), Some(2));
        assert_eq!(s.api, Some("127.0.0.1:5000".parse().expect("addr")));
        assert_eq!(s.api_insecure, Some(false));
        assert_eq!(s.relay.as_ref().map(Vec::len), Some(1));
        assert_eq!(s.mdns, Some(true));
        assert_eq!(s.peer.as_ref().map(Vec::len), Some(1));
        assert_eq!(s.ui, Some("0.0.0.0:8443".parse().expect("addr")));
        assert_eq!(
            s.ui_cert,
            Some(dir.path().join("ui.pem")),
            "relative to the file"
        );
        assert_eq!(s.ui_key, Some(PathBuf::from("/etc/confer/ui.key")));
        assert_eq!(s.ui_insecure, Some(false));
        assert_eq!(s.metrics, Some("127.0.0.1:9646".parse().expect("addr")));
        // Nothing said is nothing set.
        assert_eq!(
            load_text("# only a comment\n").expect("valid"),
            Settings::default()
        );
    }

    #[test]
    fn the_example_file_is_valid() {
        let example = include_str!("../../../deploy/confer.toml");
        let settings = load_text(example).expect("deploy/confer.toml loads");
        assert!(settings.into_config("/d".into()).is_ok(), "and starts");
    }

    #[test]
    fn an_unknown_key_is_refused_at_its_line() {
        let e = refused("api = \"127.0.0.1:4647\"\n\nmdsn = true\n");
        assert!(
            matches!(&e.problem, Problem::UnknownKey { key, known } if key == "mdsn" && known.iter().any(|k| k == "mdns")),
            "{e:?}"
        );
        assert_eq!(e.at.as_ref().map(|a| (a.0, a.1)), Some((3, 1)));
        let en = e.say(Lang::En);
        assert!(
            en.contains("line 3, column 1") && en.contains("`mdsn`") && en.contains("`mdns`,"),
            "{en}"
        );
        let zh = e.say(Lang::Zh);
        assert!(
            zh.contains("第 3 行第 1 列") && zh.contains("未知的设置项“mdsn”"),
            "{zh}"
        );
    }

    #[test]
    fn a_wrong_type_or_value_is_refused_saying_what_was_expected() {
        for (text, line, expected_zh) in [
            ("mdns = \"yes\"\n", 1, "`true` 或 `false`"),
            ("\n  api = 4647\n", 2, "主机:端口"),
            ("listen = \"/ip4/0.0.0.0/tcp/4646\"\n", 1, "列表"),
        ] {
            let e = refused(text);
            assert!(
                matches!(e.problem, Problem::WrongType { .. }),
                "{text}: {e:?}"
            );
            assert_eq!(e.at.as_ref().map(|a| a.0), Some(line), "{text}");
            let zh = e.say(Lang::Zh);
            assert!(
                zh.contains("值的类型不对") && zh.contains(expected_zh),
                "{zh}"
            );
            assert!(!zh.contains("expected") && !zh.contains("invalid"), "{zh}");
            assert!(e.say(Lang::En).contains("expected"), "{}", e.say(Lang::En));
        }
        for text in [
            "api = \"localhost\"\n",
            "listen = [\"/ip4/0.0.0.0/tcp/4646\", \"tcp:4646\"]\n",
            "peer = [\"/ip4/203.0.113.5/tcp/4646\"]\n",
        ] {
            let e = refused(text);
            assert!(
                matches!(
                    &e.problem,
                    Problem::WrongValue {
                        expected_zh: Some(_),
                        ..
                    }
                ),
                "{text}: {e:?}"
            );
            assert!(
                e.say(Lang::Zh).contains("值无效，应为"),
                "{}",
                e.say(Lang::Zh)
            );
        }
    }

    #[test]
    fn syntax_errors_and_unreadable_files_are_said_in_both_languages() {
        let e = refused("api = \"127.0.0.1:4647\"\napi = \"127.0.0.1:4648\"\n");
        assert!(matches!(e.problem, Problem::Syntax(_)), "{e:?}");
        assert_eq!(e.at.as_ref().map(|a| a.0), Some(2), "the duplicate");
        let e = refused("api = \"127.0.0.1:4647\n");
        assert!(matches!(e.problem, Problem::Syntax(_)), "{e:?}");
        assert!(
            e.say(Lang::Zh).contains("不符合 TOML 语法"),
            "{}",
            e.say(Lang::Zh)
        );

        let e = load(Path::new("/nonexistent/confer.toml")).expect_err("no file");
        assert!(e.say(Lang::En).contains("/nonexistent/confer.toml"));
        assert!(
            e.say(Lang::Zh).contains("文件不存在"),
            "{}",
            e.say(Lang::Zh)
        );
    }
}
