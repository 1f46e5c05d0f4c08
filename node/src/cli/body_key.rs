//! `confer body-key …`: keeping the body key encrypted or off the node's machine, the
//! passphrase prompt, and the operator-facing text of identity errors.
//!
//! `confer run` never reads the body key; only commands that sign with it (certifying
//! members and nodes) do, through [`identity::load_body_key`]. A passphrase comes from
//! `CONFER_PASSPHRASE` when that is set (scripts, tests), else from the terminal without
//! echo; it is never taken from a command-line argument, where other users could see it.

use std::path::Path;

use clap::Subcommand;

use super::print_json;
use crate::i18n::Lang;
use crate::identity::keyfile::{KeyFileError, Passphrase};
use crate::identity::{self, IdentityError};

/// The environment variable a passphrase is read from before the terminal is asked.
pub const PASSPHRASE_ENV: &str = "CONFER_PASSPHRASE";
/// The shortest new passphrase accepted, in characters.
const MIN_PASSPHRASE_CHARS: usize = 8;

#[derive(Debug, Subcommand)]
pub enum BodyKeyCommand {
    /// Show where this data directory keeps the body key: plaintext, encrypted or offline.
    Status {
        /// Also open the key (asking for the passphrase if it is encrypted) and check that
        /// it is this body's.
        #[arg(long)]
        verify: bool,
    },
    /// Encrypt keys/body.key with a passphrase into keys/body.key.enc, check that it opens,
    /// then delete keys/body.key.
    Encrypt,
    /// Delete keys/body.key: at once if keys/body.key.enc holds the same key, otherwise
    /// only with --confirm (after you have copied it offline).
    Remove {
        /// The body key has been copied offline: delete keys/body.key even though no
        /// encrypted copy stays here.
        #[arg(long)]
        confirm: bool,
    },
    /// Replace the body key with a new one, certified by the current one (the body's id
    /// stays; partners honour the new key from this node's next hello). Where the body
    /// key is kept offline, run it there with --out and `confer member import` the file
    /// on the node.
    Rotate {
        /// Also write the new key's certificate to FILE, for `confer member import`.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
}

pub fn execute(data: &Path, command: BodyKeyCommand, json: bool, lang: Lang) -> Result<(), String> {
    let explain = |e: IdentityError| explain(lang, &e);
    if !data.is_dir() {
        return Err(explain(IdentityError::NotInitialised {
            path: data.to_owned(),
        }));
    }
    match command {
        BodyKeyCommand::Status { verify } => status(data, verify, json, lang),
        BodyKeyCommand::Rotate { out } => {
            let here = identity::body_key_here(data);
            if here.plain && here.encrypted {
                return Err(lang
                    .pick(
                        "both keys/body.key and keys/body.key.enc are here: rotating would replace only one of them; delete one first (`confer body-key remove` deletes the plaintext one)",
                        "本机同时有 keys/body.key 和 keys/body.key.enc：更换只会替换其中一个；请先删除其一（`confer body-key remove` 删除明文的那个）",
                    )
                    .to_owned());
            }
            let passphrase = if !here.plain && here.encrypted {
                Some(passphrase(lang, &identity::body_key_enc_path(data))?)
            } else {
                None
            };
            let cert =
                identity::rotate_body_key(data, passphrase.as_ref(), crate::runtime::unix_now())
                    .map_err(explain)?;
            if let Some(out) = &out {
                let file = crate::identity::members::SignedFile {
                    confer: "signed".into(),
                    version: 1,
                    signed: crate::identity::members::Signed::BodyKey {
                        certificate: hex::encode(cert.encode()),
                    },
                };
                let text = serde_json::to_vec_pretty(&file).map_err(|e| e.to_string())?;
                std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))?;
            }
            if json {
                return print_json(&serde_json::json!({
                    "body": cert.body.to_string(),
                    "body_key": cert.key.to_string(),
                    "out": out.as_ref().map(|p| p.display().to_string()),
                }));
            }
            match lang {
                Lang::En => println!(
                    "The body key of body {} is now {} (certified by the previous key, which no longer is on this machine). Members and nodes certified before stay valid.",
                    cert.body, cert.key
                ),
                Lang::Zh => println!(
                    "机构 {} 的机构密钥已更换为 {}（由原密钥认证，原密钥已不在本机）。此前认证的成员和节点仍然有效。",
                    cert.body, cert.key
                ),
            }
            Ok(())
        }
        BodyKeyCommand::Encrypt => {
            let here = identity::body_key_here(data);
            if here.encrypted {
                return Err(explain(IdentityError::AlreadyEncrypted {
                    path: identity::body_key_enc_path(data),
                }));
            }
            if !here.plain {
                return Err(explain(IdentityError::BodyKeyOffline {
                    dir: data.to_owned(),
                }));
            }
            // Refuse a damaged or foreign key before asking for a passphrase.
            identity::load_body_key(data, None).map_err(explain)?;
            let passphrase = new_passphrase(lang)?;
            let done = identity::encrypt_body_key(data, &passphrase).map_err(explain)?;
            if json {
                return print_json(&done);
            }
            let (body, enc, plain) = (done.body, done.encrypted.display(), done.removed.display());
            match lang {
                Lang::En => {
                    println!("Encrypted the body key of body {body} into {enc},");
                    println!("checked that it opens with the passphrase, and deleted {plain}.");
                    println!("Keep the passphrase apart from the file: without it the key cannot be used. `confer run` needs neither.");
                }
                Lang::Zh => {
                    println!("已将机构 {body} 的机构密钥加密保存为 {enc}，");
                    println!("已核对可用该口令解开，并已删除 {plain}。");
                    println!("请将口令与该文件分开保管：没有口令就无法使用该密钥。`confer run` 两者都不需要。");
                }
            }
            Ok(())
        }
        BodyKeyCommand::Remove { confirm } => {
            let done = identity::remove_body_key(data, confirm).map_err(explain)?;
            if json {
                return print_json(&done);
            }
            let (body, plain) = (done.body, done.removed.display());
            match (&done.encrypted_copy, lang) {
                (Some(enc), Lang::En) => println!(
                    "Deleted {plain} (body {body}). The encrypted copy {} stays here; the passphrase opens it.",
                    enc.display()
                ),
                (Some(enc), Lang::Zh) => println!(
                    "已删除 {plain}（机构 {body}）。加密副本 {} 仍在本机，用口令可以解开。",
                    enc.display()
                ),
                (None, Lang::En) => println!(
                    "Deleted {plain} (body {body}). The body key is no longer on this machine: keep your offline copy safe, it is needed to certify new members and nodes."
                ),
                (None, Lang::Zh) => println!(
                    "已删除 {plain}（机构 {body}）。本机上已没有机构密钥：请妥善保管离线副本，认证新成员和新节点时需要它。"
                ),
            }
            Ok(())
        }
    }
}

fn status(data: &Path, verify: bool, json: bool, lang: Lang) -> Result<(), String> {
    let explain = |e: IdentityError| explain(lang, &e);
    let body = identity::body_of(data).map_err(explain)?;
    let here = identity::body_key_here(data);
    let (plain, enc) = (
        identity::body_key_path(data),
        identity::body_key_enc_path(data),
    );
    if here.encrypted {
        let sealed = identity::sealed_body(data).map_err(explain)?;
        // After `body-key rotate`, the sealed key is the body's current key, not its id.
        let current = identity::current_body_key(data).map_err(explain)?;
        if sealed.0 != current {
            return Err(explain(IdentityError::WrongBodyKey {
                path: enc,
                found: sealed,
                expected: body,
            }));
        }
    }
    if verify {
        let passphrase = if here.plain || here.offline() {
            None
        } else {
            Some(passphrase(lang, &enc)?)
        };
        identity::load_body_key(data, passphrase.as_ref()).map_err(explain)?;
    }
    if json {
        return print_json(&serde_json::json!({
            "body": body.to_string(),
            "plain": here.plain.then(|| plain.display().to_string()),
            "encrypted": here.encrypted.then(|| enc.display().to_string()),
            "verified": verify,
        }));
    }
    let (plain, enc) = (plain.display(), enc.display());
    let keys = identity::keys_dir(data);
    let keys = keys.display();
    match lang {
        Lang::En => {
            println!("Body {body}");
            match (here.plain, here.encrypted) {
                (true, false) => println!("The body key is here in plaintext: {plain}. To keep it safer, run `confer body-key encrypt`, or copy it offline and run `confer body-key remove --confirm`."),
                (false, true) => println!("The body key is here, encrypted: {enc} (the passphrase is needed to use it)."),
                (true, true) => println!("The body key is here in plaintext ({plain}) and encrypted ({enc}); delete the plaintext with `confer body-key remove`."),
                (false, false) => println!("The body key is kept offline (not in {keys}). `confer run` does not need it; certify new members and nodes on the machine that holds it."),
            }
            if verify {
                println!("Checked: the key opens and is this body's key.");
            }
        }
        Lang::Zh => {
            println!("机构 {body}");
            match (here.plain, here.encrypted) {
                (true, false) => println!("机构密钥以明文保存在本机：{plain}。为更安全，可运行 `confer body-key encrypt` 加密，或离线备份后运行 `confer body-key remove --confirm`。"),
                (false, true) => println!("机构密钥已加密保存在本机：{enc}（使用时需要口令）。"),
                (true, true) => println!("机构密钥在本机既有明文（{plain}）又有加密副本（{enc}）；请用 `confer body-key remove` 删除明文。"),
                (false, false) => println!("机构密钥已离线保存（不在 {keys} 中）。`confer run` 不需要它；认证新成员和新节点请在保存该密钥的机器上进行。"),
            }
            if verify {
                println!("已核对：密钥可以解开，且属于本机构。");
            }
        }
    }
    Ok(())
}

/// A new passphrase: `CONFER_PASSPHRASE` if set, else asked twice on the terminal.
pub fn new_passphrase(lang: Lang) -> Result<Passphrase, String> {
    let passphrase = match from_env(lang)? {
        Some(p) => p,
        None => {
            let first = from_terminal(
                lang,
                lang.pick(
                    "New passphrase for the body key: ",
                    "请设置机构密钥的口令：",
                ),
            )?;
            let second = from_terminal(lang, lang.pick("Repeat it: ", "请再输入一次："))?;
            if first.as_bytes() != second.as_bytes() {
                return Err(lang
                    .pick(
                        "the two passphrases differ; nothing was changed",
                        "两次输入的口令不一致；未作任何修改",
                    )
                    .to_owned());
            }
            first
        }
    };
    if passphrase.chars() < MIN_PASSPHRASE_CHARS {
        return Err(match lang {
            Lang::En => format!("the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters; nothing was changed"),
            Lang::Zh => format!("口令至少需要 {MIN_PASSPHRASE_CHARS} 个字符；未作任何修改"),
        });
    }
    Ok(passphrase)
}

/// The passphrase of the existing file `path`: `CONFER_PASSPHRASE` if set, else asked once.
pub fn passphrase(lang: Lang, path: &Path) -> Result<Passphrase, String> {
    if let Some(p) = from_env(lang)? {
        return Ok(p);
    }
    let prompt = match lang {
        Lang::En => format!("Passphrase for {}: ", path.display()),
        Lang::Zh => format!("请输入 {} 的口令：", path.display()),
    };
    from_terminal(lang, &prompt)
}

fn from_env(lang: Lang) -> Result<Option<Passphrase>, String> {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(text) => Ok(Some(Passphrase::new(text))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(match lang {
            Lang::En => format!("{PASSPHRASE_ENV} is not valid UTF-8"),
            Lang::Zh => format!("{PASSPHRASE_ENV} 不是有效的 UTF-8 文本"),
        }),
    }
}

fn from_terminal(lang: Lang, prompt: &str) -> Result<Passphrase, String> {
    rpassword::prompt_password(prompt)
        .map(Passphrase::new)
        .map_err(|e| match lang {
            Lang::En => format!("cannot read a passphrase from the terminal ({e}); run this in a terminal or set {PASSPHRASE_ENV}"),
            Lang::Zh => format!("无法从终端读取口令（{e}）；请在终端中运行，或设置环境变量 {PASSPHRASE_ENV}"),
        })
}

/// An identity error in the operator's language, saying what to do.
pub fn explain(lang: Lang, error: &IdentityError) -> String {
    use IdentityError as E;
    if lang == Lang::En {
        return match error {
            E::NoPlainBodyKey {
                path,
                encrypted: true,
            } => format!(
                "there is no plaintext body key at {} (the body key is kept encrypted in keys/body.key.enc); nothing was changed",
                path.display()
            ),
            E::NoPlainBodyKey {
                path,
                encrypted: false,
            } => format!(
                "there is no plaintext body key at {} (the body key is kept offline); nothing was changed",
                path.display()
            ),
            other => other.to_string(),
        };
    }
    match error {
        E::NotInitialised { path } => {
            format!("{} 中没有 confer 身份（请先运行 `confer init`）", path.display())
        }
        E::KeyFileTooOpen { path, mode } => format!(
            "{0} 可被其他用户读取或写入（权限 {mode:04o}）；密钥文件只能由节点的运行用户访问：请执行 `chmod 600 {0}` 后重新启动",
            path.display()
        ),
        E::BodyKeyOffline { dir } => format!(
            "机构密钥已离线保存（{} 中没有 keys/body.key 或 keys/body.key.enc）；请在保存该密钥的机器上执行此操作",
            dir.display()
        ),
        E::PassphraseNeeded { path } => format!("{} 已加密：需要口令", path.display()),
        E::WrongPassphrase { path } => format!(
            "{} 的口令不正确（或文件已被改动）；未作任何修改",
            path.display()
        ),
        E::KeyFile { path, source } => {
            let reason = match source {
                KeyFileError::NotAKeyFile => "不是 confer 的加密密钥文件".to_owned(),
                KeyFileError::UnknownVersion(v) => {
                    format!("文件格式版本 {v} 无法识别（本程序只读取版本 1），可能由更新版本的 confer 写入")
                }
                KeyFileError::WrongLength { len, expected } => {
                    format!("文件已截断或有多余内容：{len} 字节，版本 1 应为 {expected} 字节")
                }
                KeyFileError::WrongPassphrase => "口令不正确（或文件已被改动）".to_owned(),
                other => other.to_string(),
            };
            format!("{}：{reason}", path.display())
        }
        E::AlreadyEncrypted { path } => format!(
            "{} 已存在：机构密钥已在本机加密保存（如 keys/body.key 也在，请用 `confer body-key remove` 删除）；未作任何修改",
            path.display()
        ),
        E::NoPlainBodyKey {
            path,
            encrypted: true,
        } => format!(
            "{} 处没有明文机构密钥（机构密钥已加密保存在 keys/body.key.enc）；未作任何修改",
            path.display()
        ),
        E::NoPlainBodyKey {
            path,
            encrypted: false,
        } => format!(
            "{} 处没有明文机构密钥（机构密钥已离线保存）；未作任何修改",
            path.display()
        ),
        E::OnlyCopy { path } => format!(
            "{0} 是本机上机构密钥的唯一副本；请先离线备份（或用 `confer body-key encrypt` 加密），再运行 `confer body-key remove --confirm`",
            path.display()
        ),
        E::WrongBodyKey {
            path,
            found,
            expected,
        } => format!(
            "{} 中是机构 {found} 的密钥，而 identity.json 属于机构 {expected}",
            path.display()
        ),
        E::TooManyRotations { max } => format!(
            "本机构的机构密钥已更换 {max} 次，这是节点握手所能证明的上限；请另建新机构"
        ),
        other => other.to_string(),
    }
}
