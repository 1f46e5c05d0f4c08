//! Where the data directory is, and what to say when the one a command uses holds no
//! node: how to name another (`--data DIR`, `CONFER_DATA`) and the default, so that a
//! forgotten `--data` is not mistaken for a new committee.

use std::path::{Path, PathBuf};

use crate::i18n::Lang;

/// The data directory when neither `--data` nor `CONFER_DATA` names one:
/// `$XDG_DATA_HOME/confer`, else `$HOME/.local/share/confer`, else `./confer`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("confer")
}

/// "pass --data DIR or set CONFER_DATA (default: PATH)", in the operator's language.
pub fn how_to_name(lang: Lang) -> String {
    let default = default_data_dir();
    let default = default.display();
    match lang {
        Lang::En => format!("pass --data DIR or set CONFER_DATA (default: {default})"),
        Lang::Zh => format!("请用 --data 目录 指定，或设置环境变量 CONFER_DATA（默认：{default}）"),
    }
}

/// `data` does not exist.
pub fn missing(lang: Lang, data: &Path) -> String {
    let dir = data.display();
    let name = how_to_name(lang);
    match lang {
        Lang::En => format!("no data directory at {dir}: {name}; a new body's is made with `confer init --data DIR --name <body name>`"),
        Lang::Zh => format!("{dir} 处没有数据目录：{name}；新机构的数据目录用 `confer init --data 目录 --name <机构名称>` 创建"),
    }
}

/// `data` exists but holds no identity (`confer init` never ran there).
pub fn not_initialised(lang: Lang, data: &Path) -> String {
    let dir = data.display();
    let name = how_to_name(lang);
    match lang {
        Lang::En => format!("{dir} is not a confer data directory (no identity.json): {name}, the directory `confer init` made"),
        Lang::Zh => format!("{dir} 不是 confer 数据目录（没有 identity.json）：{name}，即 `confer init` 创建的目录"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_flag_the_variable_and_the_default() {
        let default = default_data_dir().display().to_string();
        for lang in [Lang::En, Lang::Zh] {
            for text in [
                missing(lang, Path::new("/nowhere")),
                not_initialised(lang, Path::new("/tmp")),
            ] {
                assert!(text.contains("--data"), "{text}");
                assert!(text.contains("CONFER_DATA"), "{text}");
                assert!(text.contains(&default), "{text}");
                assert!(!text.contains('\n'), "{text}");
            }
        }
    }
}
