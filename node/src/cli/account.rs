//! `confer account add|list|reset|remove`: web UI accounts, kept in the data directory
//! (`ui-accounts.json`, see [`crate::ui::accounts`]). The `confer run` flags that start
//! the UI are with the others in [`super::run_args`].

use std::path::Path;

use clap::Subcommand;

use super::print_json;
use crate::i18n::Lang;
use crate::ui::accounts;

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Make an account bound to a member key; prints its one-time password, which must be
    /// changed at the first login.
    Add {
        /// The login name, e.g. zhang.san.
        name: String,
        /// The member key the person signs as (full hex, or a unique prefix of 8+
        /// characters; see `confer member list`).
        #[arg(long)]
        member: String,
        /// May manage accounts in the UI.
        #[arg(long)]
        admin: bool,
    },
    /// Every account, its member key and state.
    List,
    /// Give an account a new one-time password.
    Reset {
        /// The account's login name
        name: String,
    },
    /// Remove an account.
    Remove {
        /// The account's login name
        name: String,
    },
}

pub fn execute(data: &Path, command: AccountCommand, json: bool, lang: Lang) -> Result<(), String> {
    if !crate::identity::initialised(data) {
        return Err(match lang {
            Lang::En => format!("data directory {} holds no identity; create it with `confer init --data {} --name <body name>`", data.display(), data.display()),
            Lang::Zh => format!("数据目录 {} 中没有身份信息；请先运行 `confer init --data {} --name <机构名称>`", data.display(), data.display()),
        });
    }
    let err = |e: accounts::AccountError| e.say(lang);
    match command {
        AccountCommand::Add {
            name,
            member,
            admin,
        } => {
            let password = accounts::add(data, &name, &member, admin).map_err(err)?;
            if json {
                print_json(&serde_json::json!({ "password": password }))
            } else {
                println!(
                    "{}",
                    lang.pick(
                        "Account created. One-time password (shown once; it must be changed at the first login):",
                        "账户已创建。一次性密码（仅显示一次，首次登录时须修改）："
                    )
                );
                println!("  {password}");
                Ok(())
            }
        }
        AccountCommand::Reset { name } => {
            let password = accounts::reset(data, &name).map_err(err)?;
            if json {
                print_json(&serde_json::json!({ "password": password }))
            } else {
                println!(
                    "{}",
                    lang.pick(
                        "New one-time password (it must be changed at the next login; a running node ends the account's sessions at its next request):",
                        "新的一次性密码（下次登录时须修改；运行中的节点会在该账户的下一次请求时结束其会话）："
                    )
                );
                println!("  {password}");
                Ok(())
            }
        }
        AccountCommand::Remove { name } => {
            accounts::remove(data, &name).map_err(err)?;
            if json {
                print_json(&serde_json::json!({ "removed": name }))
            } else {
                println!("{} {name}", lang.pick("Removed account", "已删除账户"));
                Ok(())
            }
        }
        AccountCommand::List => {
            let all = accounts::load(data).map_err(err)?;
            if json {
                let list: Vec<serde_json::Value> = all
                    .iter()
                    .map(|a| {
                        serde_json::json!({
                            "name": a.name,
                            "member": a.member,
                            "admin": a.admin,
                            "must_change": a.must_change,
                        })
                    })
                    .collect();
                return print_json(&list);
            }
            if all.is_empty() {
                println!(
                    "{}",
                    lang.pick(
                        "No account yet: confer account add NAME --member KEY --admin",
                        "尚无账户：confer account add 账户名 --member 成员密钥 --admin"
                    )
                );
            }
            for a in &all {
                let mut flags = Vec::new();
                if a.admin {
                    flags.push(lang.pick("admin", "管理员"));
                }
                if a.must_change {
                    flags.push(lang.pick("one-time password", "一次性密码"));
                }
                println!(
                    "{}  {}  {}",
                    confer_protocol::text::display_line(&a.name),
                    a.member,
                    flags.join(", ")
                );
            }
            Ok(())
        }
    }
}
