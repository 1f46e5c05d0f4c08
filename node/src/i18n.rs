//! Text for people, in the user's language. CLI messages follow the locale: `LC_ALL`,
//! then `LC_MESSAGES`, then `LANG`; a value starting with `zh` gives Chinese, anything
//! else English. Each message keeps both languages side by side, in one place.

use crate::config::ConfigError;
use crate::handle::NodeError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// The language the environment asks for.
    pub fn from_env() -> Lang {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Lang {
        for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Some(value) = get(name).filter(|v| !v.is_empty()) {
                return if value.starts_with("zh") {
                    Lang::Zh
                } else {
                    Lang::En
                };
            }
        }
        Lang::En
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, en: &'a str, zh: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

/// A node error, explained with what to do.
pub fn node_error(lang: Lang, error: &NodeError) -> String {
    match error {
        NodeError::UnknownAgenda(id) => match lang {
            Lang::En => format!("no agenda with id {id} on this node (list them with `confer agenda list`)"),
            Lang::Zh => format!("本节点没有编号为 {id} 的议题（用 `confer agenda list` 查看）"),
        },
        NodeError::NotInvited(id) => match lang {
            Lang::En => format!("no invitation to agenda {id} is waiting (`confer agenda list` marks invitations)"),
            Lang::Zh => format!("没有待接受的议题 {id} 邀请（`confer agenda list` 会标出邀请）"),
        },
        NodeError::UnknownBody(id) => match lang {
            Lang::En => format!("body {id} is not trusted here: add its node first (`confer peer add <its address>`, obtained through an official channel), then check the id in `confer status`"),
            Lang::Zh => format!("本节点尚未信任机构 {id}：请先添加该机构的节点（`confer peer add <经正式渠道获得的对方地址>`），再用 `confer status` 核对编号"),
        },
        NodeError::Refused { en, zh } => match lang {
            Lang::En => format!("refused: {en}"),
            Lang::Zh => format!("未执行：{zh}"),
        },
        NodeError::BadInput(detail) => match lang {
            Lang::En => format!("invalid input: {detail}"),
            Lang::Zh => format!("输入有误：{}", crate::i18n_input::bad_input_zh(detail)),
        },
        NodeError::BadAddress(detail) => match lang {
            Lang::En => format!("bad peer address: {detail} (expected e.g. /ip4/203.0.113.5/tcp/4646/p2p/12D3Koo…)"),
            Lang::Zh => format!("节点地址有误（格式如 /ip4/203.0.113.5/tcp/4646/p2p/12D3Koo…；以 LANG=C 重新运行可看到节点的英文原文）：{}", detail.split_whitespace().find(|w| w.starts_with('/') || w.starts_with("12D3")).unwrap_or_default()),
        },
        NodeError::Storage(detail) => match lang {
            Lang::En => format!("the node could not store the change: {detail}; nothing was changed, check the disk and the node log"),
            Lang::Zh => "节点无法保存修改；本次未作任何修改，请检查磁盘和节点日志（以 LANG=C 重新运行可看到英文详情）".to_owned(),
        },
        NodeError::Stopped => lang.pick("the node is shutting down; try again once it runs", "节点正在停止，请在其重新运行后再试").to_owned(),
    }
}

/// Why `confer run` refuses its configuration, and what to do.
pub fn config_error(lang: Lang, error: &ConfigError) -> String {
    match error {
        ConfigError::ApiNotLoopback(addr) => match lang {
            Lang::En => format!("--api {addr} is not a loopback address: the local API speaks plain HTTP, so its token and every agenda would travel unencrypted to anyone on that network; use --api 127.0.0.1:{port}, or add --api-insecure if you accept that", port = addr.port()),
            Lang::Zh => format!("--api {addr} 不是本机回环地址：本地 API 使用未加密的 HTTP，访问令牌和所有议题都会以明文经过该网络；请使用 --api 127.0.0.1:{port}，如确认接受此风险，请加上 --api-insecure", port = addr.port()),
        },
        ConfigError::UiNotLoopback(addr) => match lang {
            Lang::En => format!("--ui {addr} is not a loopback address and has no HTTPS: passwords and session cookies would travel unencrypted; give --ui-cert FILE --ui-key FILE, put a TLS reverse proxy in front (deploy/ui-proxy.nginx.conf) with --ui 127.0.0.1:{port}, or add --ui-insecure if you accept that", port = addr.port()),
            Lang::Zh => format!("--ui {addr} 不是本机回环地址且未启用 HTTPS：密码和会话 Cookie 会以明文传输；请提供 --ui-cert 证书文件 --ui-key 私钥文件，或在前面部署 TLS 反向代理（deploy/ui-proxy.nginx.conf）并使用 --ui 127.0.0.1:{port}，如确认接受此风险，请加上 --ui-insecure", port = addr.port()),
        },
        ConfigError::UiTlsIncomplete { missing } => match lang {
            Lang::En => format!("the web UI's HTTPS needs both a certificate (--ui-cert, or ui-cert in the configuration file) and its key (--ui-key, or ui-key); {missing} is missing"),
            Lang::Zh => format!("网页界面的 HTTPS 需要同时提供证书（--ui-cert，或配置文件中的 ui-cert）和私钥（--ui-key，或 ui-key）；缺少 {missing}"),
        },
        ConfigError::UiTlsWithoutUi => match lang {
            Lang::En => "a certificate and key for the web UI are given, but not where it listens: add --ui HOST:PORT (or ui in the configuration file)".to_owned(),
            Lang::Zh => "已提供网页界面的证书和私钥，但未指定其监听地址：请加上 --ui 主机:端口（或在配置文件中设置 ui）".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Lang::from_vars(env(&[("LANG", "zh_CN.UTF-8")])), Lang::Zh);
        assert_eq!(
            Lang::from_vars(env(&[("LANG", "zh_CN.UTF-8"), ("LC_ALL", "C")])),
            Lang::En
        );
        assert_eq!(
            Lang::from_vars(env(&[("LC_MESSAGES", "zh_TW"), ("LANG", "en_US")])),
            Lang::Zh
        );
        assert_eq!(Lang::from_vars(env(&[])), Lang::En);
        assert!(node_error(Lang::Zh, &NodeError::UnknownAgenda("x".into())).contains("议题"));
    }

    #[test]
    fn config_errors_name_the_address_and_the_flag() {
        let error = ConfigError::ApiNotLoopback("0.0.0.0:4647".parse().expect("address"));
        for lang in [Lang::En, Lang::Zh] {
            let text = config_error(lang, &error);
            assert!(text.contains("0.0.0.0:4647"), "{text}");
            assert!(text.contains("--api-insecure"), "{text}");
            assert!(text.contains("127.0.0.1:4647"), "{text}");
            assert!(!text.contains('\n'), "one line: {text}");
        }
        assert!(config_error(Lang::Zh, &error).contains("明文"));
    }
}
