//! The Chinese of the help texts of `backup`, `restore`, `catch-up`, `sync` and of `run`'s
//! settings (`--config`, `--api`, `--peer`), for the
//! locale-following `--help` (`cli/help_zh.rs` looks a text up here when its own table
//! lacks it; its test lists any help text without a translation in either).

/// English help text → Chinese.
#[rustfmt::skip]
pub(crate) const TABLE: &[(&str, &str)] = &[
    ("Write a backup of the running node — its store, as one consistent moment, and its keys — to a new file, readable by its owner only (docs/backup.md)", "将运行中节点的备份——同一时刻的一致数据库副本及密钥——写入一个仅本用户可读的新文件（docs/backup.md）"),
    ("The file to write (must not exist yet)", "要写入的文件（须尚不存在）"),
    ("Restore a backup into an empty or absent data directory (--data). The restored node takes no edits in an agenda until it has synced with that agenda's partners", "将备份恢复到空的或尚不存在的数据目录（--data）。恢复后的节点须先与议题的伙伴同步，才能修改该议题"),
    ("The backup file (`confer backup`)", "备份文件（`confer backup` 所写）"),
    ("Show what a node restored from a backup waits for before it takes edits", "显示从备份恢复的节点在可以修改之前仍在等待的同步"),
    ("Stop waiting and take edits now in every agenda, at the risk of signing again what the node signed after the backup (partners then refuse the key)", "停止等待，立即允许在所有议题中修改；风险是重复签署节点在备份之后已签署的内容（伙伴随即拒绝该密钥）"),
    ("Sync with a partner that has no network path to this node, through files (docs/sync-files.md)", "通过文件与网络不通的伙伴同步（docs/sync-files.md）"),
    ("Write what a partner body lacks of the agendas it shares with this body (signed entries, certificates, consents, revocations) to a file, to carry over approved media where there is no network path (网闸, 内外网)", "将伙伴机构在双方共同议题中尚缺的内容（已签名的条目、证书、同意、撤销声明）写入文件，经批准的介质带到网络不通的对方（网闸、内外网）"),
    ("The partner body (its full id, or a unique prefix of a trusted body's id)", "伙伴机构（其完整编号，或受信任机构编号的唯一前缀）"),
    ("The receipt that body sent back after its last import: the file then holds only what it lacks beyond it", "该机构上次导入后寄回的回执：文件只包含回执之后对方所缺的内容"),
    ("Import a partner's sync file (checked as entries from a peer are) and write the receipt to carry back", "导入伙伴的同步文件（与来自网络的条目同样校验），并写出带回的回执"),
    ("The sync file", "同步文件"),
    ("Where to write the receipt (default: FILE.receipt.json)", "回执的写入位置（默认：FILE.receipt.json）"),
    ("Configuration file (TOML; deploy/confer.toml is the commented example): `run`'s settings, and the data directory for every command. Flags and environment win over it", "配置文件（TOML 格式；带注释的示例见 deploy/confer.toml）：`run` 的各项设置，以及所有命令使用的数据目录。命令行参数和环境变量优先于它"),
    ("Run the node in the foreground until SIGINT or SIGTERM. Settings come from the flags, their environment variables, the configuration file (--config) and the defaults, in that order", "在前台运行节点，直到收到 SIGINT 或 SIGTERM。设置依次取自命令行参数、对应的环境变量、配置文件（--config）和默认值"),
    ("Local API address (plain HTTP): loopback only, unless --api-insecure. Default: 127.0.0.1:4647", "本地 API 地址（未加密的 HTTP）：仅限本机回环地址，除非加 --api-insecure。默认：127.0.0.1:4647"),
    ("Remember this partner node and keep it connected, as `confer peer add` does (its address, ending in /p2p/PEER_ID; repeatable)", "记住该合作方节点并保持连接，与 `confer peer add` 相同（其地址，以 /p2p/PEER_ID 结尾；可重复）"),
];

/// The Chinese for `en`, if this table has it.
pub(crate) fn zh(en: &str) -> Option<&'static str> {
    TABLE.iter().find(|(e, _)| *e == en).map(|(_, z)| *z)
}
