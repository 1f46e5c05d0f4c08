//! `--help` in Chinese: the derived command's help texts, English in the source, are
//! replaced from [`TABLE`] when the locale asks for Chinese, and clap's own words (usage,
//! headings, help and version flags, defaults, possible values, environment variables)
//! are said in Chinese too. A help text missing from the table fails the test
//! `every_help_text_has_a_translation`, so a new option cannot ship English-only.

use clap::{Arg, ArgAction, Command};

/// The English help text of every command and option, and its Chinese.
#[rustfmt::skip]
const TABLE: &[(&str, &str)] = &[
    ("A body it concerns (repeatable; its name or a unique prefix of 8+ hex characters of its id). Default: every member body of the agenda", "涉及的机构（可重复；机构名称，或其编号的唯一前缀，至少 8 位十六进制）。默认：议题的全部成员机构"),
    ("A covering note", "附言"),
    ("A file to attach (repeatable; at most 512 KiB each): stored in the agenda by its SHA-256 and synced with it", "附件文件（可重复；每个至多 512 KiB）：按其 SHA-256 存入议题并随之同步"),
    ("A joint agenda it is carried out in (repeatable)", "落实该项的联动议题（可重复）"),
    ("A new title", "新标题"),
    ("A note", "备注"),
    ("A suggestion it contains (repeatable; id or unique prefix of 8+ hex characters)", "其包含的意见建议（可重复；编号或至少 8 位十六进制的唯一前缀）"),
    ("A topic of the ledger it takes up (repeatable)", "所采用的台账选题（可重复）"),
    ("Accept an invitation to an agenda whose member bodies this node does not all trust (check their ids with their committees first)", "接受议题邀请（该议题有本节点未信任的成员机构；请先与对方政协核对其编号）"),
    ("Accept it (default: screen it out, which needs --reason)", "予以采用（默认为不予采用，此时需给出 --reason）"),
    ("Add an expert to this body's pool (第三方专家库)", "向本机构的第三方专家库添加专家"),
    ("Add an item to the annual consultation plan (年度协商计划)", "向年度协商计划添加一项"),
    ("Agenda id, or a unique prefix of 8+ hex characters of it", "议题编号，或其至少 8 位十六进制的唯一前缀"),
    ("Allow --api on an address other than loopback, although the API token and data then travel unencrypted over the network", "允许 --api 使用非本机回环地址（访问令牌和数据将以明文经过网络）"),
    ("Also open the key (asking for the passphrase if it is encrypted) and check that it is this body's", "同时打开密钥（如已加密则询问口令），核对其确属本机构"),
    ("Also print the text that was signed", "同时显示所签署的文本"),
    ("Also write the new key's certificate to FILE, for `confer member import`", "同时将新密钥的证书写入 FILE，供 `confer member import` 使用"),
    ("Assess how an outcome was carried out (an expert's view, or this body's as the neighbouring third party)", "评估协商成果的落实情况（专家意见，或本机构作为相邻第三方的意见）"),
    ("Assign a suggestion to a unit (承办单位) with a deadline", "将意见建议交办给承办单位，并定办理期限"),
    ("Be reachable through this relay too (its address, ending in /p2p/RELAY_ID; repeatable): for a node behind NAT or a firewall that partners cannot dial", "同时经由该中继可达（中继地址，以 /p2p/RELAY_ID 结尾；可重复）：用于位于 NAT 或防火墙之后、合作方无法直接连接的节点"),
    ("Body id of a participating body (repeatable); a unique prefix of 8+ hex characters of a trusted, connected body's id will do", "参与机构的机构编号（可重复）；已信任且已连接的机构，给出其编号至少 8 位十六进制的唯一前缀即可"),
    ("Carry a suggestion not yet adopted into a year's inspection plan (列为专题视察计划)", "将尚未采纳的意见建议列为某年的专题视察计划"),
    ("Change an agenda's title or summary", "修改议题的标题或摘要"),
    ("Check this node and say what to fix: data directory and key permissions, ports, each remembered peer, free disk", "检查本节点并说明如何处理：数据目录和密钥文件权限、端口、每个已记录节点、磁盘剩余空间"),
    ("Check an outcome bundle (协商成果文件包) offline: who signed, whether every listed body did. Needs no data directory, node or network. Exit status 0: adopted; 3: valid but a body has not signed; 4: invalid; 1: the file cannot be read", "离线核验协商成果文件包：谁已签署、所列机构是否都已签署。无需数据目录、节点或网络。退出码 0：已通过；3：有效但尚有机构未签署；4：无效；1：无法读取文件"),
    ("Comments", "意见"),
    ("Consent as this member (name or key; default: the first who may sign)", "以该成员身份同意（名称或密钥；默认：第一位有签署权的成员）"),
    ("Consent, for this body, to a proposed change of an agenda's member bodies (see `agenda show`)", "代表本机构同意议题成员机构的待定变更（见 `agenda show`）"),
    ("Consultation meetings (协商会议) and their minutes", "协商会议及其纪要"),
    ("Consultation rounds of an agenda (协商轮次, 再协商) and their plans (协商方案)", "议题的协商轮次（含再协商）及其协商方案"),
    ("Count as of this date, YYYY-MM-DD (default: today)", "统计截至该日期，格式 YYYY-MM-DD（默认：今天）"),
    ("Count overdue days as of this date, YYYY-MM-DD (default: today)", "逾期天数计算截至该日期，格式 YYYY-MM-DD（默认：今天）"),
    ("Count overdue items as of this date, YYYY-MM-DD (default: today)", "逾期事项统计截至该日期，格式 YYYY-MM-DD（默认：今天）"),
    ("Create a joint agenda with other bodies", "与其他机构共建联动议题"),
    ("Create this body's identity: body key, first member key, node key", "创建本机构的身份：机构密钥、第一个成员密钥、节点密钥"),
    ("Data directory: keys, identity, the redb file, api.json (default: $XDG_DATA_HOME/confer, else ~/.local/share/confer)", "数据目录：密钥、身份、redb 数据文件、api.json（默认：$XDG_DATA_HOME/confer，否则 ~/.local/share/confer）"),
    ("Delete keys/body.key: at once if keys/body.key.enc holds the same key, otherwise only with --confirm (after you have copied it offline)", "删除 keys/body.key：如 keys/body.key.enc 中是同一密钥则立即删除，否则须加 --confirm（请先离线备份）"),
    ("Emergency topics take the fast track", "紧急选题走快速通道"),
    ("Encrypt keys/body.key with a passphrase into keys/body.key.enc, check that it opens, then delete keys/body.key", "用口令将 keys/body.key 加密为 keys/body.key.enc，确认可以打开后删除 keys/body.key"),
    ("Extend a unit's deadline (延期), with the reason", "延长承办单位的办理期限，并说明理由"),
    ("Federated sync of joint consultations between neighbouring committees (政协联动协商)", "相邻政协联动协商的联邦式同步"),
    ("Field of expertise", "专业领域"),
    ("Files attached to findings: write one out, its SHA-256 checked", "监督发现的附件：导出附件，并核对其 SHA-256"),
    ("Find and connect to confer nodes on the local network (mDNS). Off by default", "发现并连接局域网内的 confer 节点（mDNS）。默认关闭"),
    ("Following a suggestion up: submission, instructions, assignment to units, feedback, evaluation (建言报送 → 批示抄告 → 意见办理 → 结果反馈)", "意见建议的跟踪办理：建言报送 → 批示抄告 → 意见办理 → 结果反馈 → 评价"),
    ("Forget a remembered peer and disconnect it (its body stays trusted)", "移除已记录的节点并断开连接（其所属机构仍受信任）"),
    ("Forget the peer's other addresses: keep only this one", "移除该节点的其他地址，只保留此地址"),
    ("Give a person of this body a member key and certificate on this node", "在本节点为本机构人员签发成员密钥和证书"),
    ("Handling units past their deadline without feedback, in every agenda (督办)", "所有议题中已过办理期限却未反馈的承办单位（督办）"),
    ("How satisfied they are", "满意程度"),
    ("How serious it is", "严重程度"),
    ("How to reach the expert (kept in this body's ledger only)", "专家的联系方式（只保存在本机构台账中）"),
    ("How well the outcome was carried out", "成果落实的程度"),
    ("Import what `confer sign-request` signed (a member certificate or revocations)", "导入 `confer sign-request` 签署的结果（成员证书或撤销声明）"),
    ("Its address, e.g. /ip4/203.0.113.5/tcp/4646/p2p/12D3Koo…", "其地址，如 /ip4/203.0.113.5/tcp/4646/p2p/12D3Koo…"),
    ("Its text, a UTF-8 text file", "其正文，UTF-8 文本文件"),
    ("Its title", "其标题"),
    ("Joint agendas (联动协商议题)", "联动协商议题"),
    ("Keep the body key encrypted or offline (`run` never needs it)", "将机构密钥加密或离线保存（`run` 从不需要它）"),
    ("Leave an agenda: what this body wrote stays; it writes nothing more and is sent nothing new", "退出议题：本机构已写内容保留；此后不再写入，也不再收到新内容"),
    ("List an agenda's suggestions: id, proposer, first line, who entered it", "列出议题的意见建议：编号、提出者、首行、录入者"),
    ("List remembered and connected peers: state (connected, dialling, the last error and when), bodies and whether they are trusted", "列出已记录和已连接的节点：状态（已连接、正在连接、最近一次错误及时间）、所属机构及是否受信任"),
    ("List the agendas this node holds, and invitations waiting for acceptance", "列出本节点持有的议题，以及待接受的邀请"),
    ("List the ledger's topics", "列出台账中的选题"),
    ("List the plan's items, by year and category", "按年份和类别列出计划事项"),
    ("List the pool", "列出专家库"),
    ("List this body's member keys on this node, with role, signing right and state", "列出本节点上本机构的成员密钥，含角色、签署权和状态"),
    ("Listen address (repeatable). Default: TCP and QUIC on port 4646, all interfaces", "监听地址（可重复）。默认：所有网络接口的 4646 端口，TCP 和 QUIC"),
    ("Manage peers (nodes this node keeps connected to)", "管理节点（本节点保持连接的其他节点）"),
    ("Mark a suggestion disputed, with the joint chairs' meeting's decision (主席联席会议)", "将意见建议标为有争议，并记录主席联席会议的决定"),
    ("Markdown, or a printable HTML page (A4)", "Markdown，或可打印的 HTML 页面（A4）"),
    ("Merge a topic into a similar one; both keep their own origin", "将选题并入相近的选题；两者各自保留来源"),
    ("More about it", "补充说明"),
    ("Only this agenda (id or a unique prefix of 8+ hex characters)", "只看该议题（编号或至少 8 位十六进制的唯一前缀）"),
    ("Only this record's changes (its id or a unique prefix of 8+ hex characters)", "只看该记录的修改（编号或至少 8 位十六进制的唯一前缀）"),
    ("Only this year", "只看该年份"),
    ("Outcome documents (协商成果)", "协商成果"),
    ("Play a longer scenario instead: `pinghu-jinshan`, the joint supervision of cross-border pollution from the ledgers to the year-end report", "改为演示较长的情景：`pinghu-jinshan`，跨界污染联合监督，从台账到年终通报"),
    ("Print machine-readable JSON instead of text", "输出机器可读的 JSON 而非文本"),
    ("Propose adding a further body to an agenda (every member body must consent, each with a member who may sign for it); this body consents at once", "提议为议题增加机构（须每个成员机构由有签署权的成员同意）；本机构随即同意"),
    ("Propose removing another body from an agenda (every other member body must consent); this body consents at once", "提议将另一机构移出议题（须其他每个成员机构同意）；本机构随即同意"),
    ("Put a candidate topic in this body's ledger (台账)", "将候选选题列入本机构台账"),
    ("Record a consultation meeting (协商会议) of a round", "记录某一轮次的协商会议"),
    ("Record a leader's written instruction (批示) on a suggestion", "记录领导对意见建议的批示"),
    ("Record a suggestion (意见建议) raised in a round", "记录某一轮次中提出的意见建议"),
    ("Record a unit's feedback (办理反馈) on a suggestion this body assigned to it", "记录承办单位对本机构交办的意见建议的办理反馈"),
    ("Record that a unit handed its assignment back (退回), and why", "记录承办单位退回交办事项及理由"),
    ("Record that this body submitted a suggestion (建言报送) to a party committee or government", "记录本机构向党委或政府报送意见建议（建言报送）"),
    ("Record the date a unit received its assignment (签收)", "记录承办单位签收交办事项的日期"),
    ("Record the joint secretaries-general meeting's confirmation of the topic for a round (秘书长工作会议确定)", "记录秘书长工作会议对某一轮次议题的确定"),
    ("Record the members' evaluation of how a suggestion was handled", "记录委员对意见建议办理情况的评价"),
    ("Record the response to a finding", "记录对监督发现的回应"),
    ("Record the screening: accept a topic, or screen it out with a reason", "记录筛选结果：采用选题，或说明理由不予采用"),
    ("Record this body's chair meeting's preselection of the topic for a round (主席会议预选)", "记录本机构主席会议对某一轮次议题的预选"),
    ("Record what members found when checking how suggestions were carried out (监督发现)", "记录委员检查意见建议落实情况时的监督发现"),
    ("Region, e.g. 浙江省嘉兴市", "所在地区，如 浙江省嘉兴市"),
    ("Remember a peer and keep connected to it (address ends in /p2p/<peer id>). A peer already remembered at another address keeps both; the node dials all of them", "记录一个节点并保持连接（地址以 /p2p/<节点编号> 结尾）。已在其他地址记录的节点会保留全部地址，并同时尝试连接"),
    ("Replace an outcome's text (and title) before it is signed", "在签署前替换协商成果的正文（及标题）"),
    ("Replace the body key with a new one, certified by the current one (the body's id stays; partners honour the new key from this node's next hello). Where the body key is kept offline, run it there with --out and `confer member import` the file on the node", "更换机构密钥：新密钥由当前密钥认证（机构编号不变；合作方自本节点下次握手起认可新密钥）。机构密钥离线保存时，请在保存处加 --out 运行，再在节点上用 `confer member import` 导入该文件"),
    ("Resolve a fork: a member key of this body signed two different entries at one seq in an agenda (see `confer status`); name the one that stands. Every member node then keeps that side; the key writes nothing more there", "处理分叉：本机构的某个成员密钥在议题中对同一序号签署了两条不同的条目（见 `confer status`）；指定保留的一条。此后各成员节点都保留该条，该密钥在该议题中不再写入"),
    ("Revoke a member key: its entries so far stay, nothing later counts, on every node", "撤销成员密钥：其已有条目保留，此后的一律无效，在所有节点上都如此"),
    ("Revoke one of this body's nodes (its key lost or stolen): partners refuse it and disconnect it. Run it on another node of the body", "撤销本机构的某个节点（其密钥丢失或被盗）：合作方将拒绝并断开它。请在本机构的另一节点上运行"),
    ("Run a relay for partners behind NAT or firewalls, until SIGINT or SIGTERM. It carries their encrypted traffic and sees nothing of it; it needs no `init`", "为位于 NAT 或防火墙之后的合作方运行中继，直到收到 SIGINT 或 SIGTERM。中继只转发加密流量，看不到其内容；无需 `init`"),
    ("Set the body hosting a round (轮流承办)", "设定某一轮次的承办机构（轮流承办）"),
    ("Share an expert into a joint agenda (name, field and affiliation; not the contact)", "将专家共享到联动议题（姓名、领域和单位；不含联系方式）"),
    ("Show a topic, its screening, what was merged into it and its joint agenda", "显示选题、其筛选结果、并入的选题及其联动议题"),
    ("Show an agenda: every field and workflow record, who wrote it, whether the signatures verify", "显示议题：每个字段和工作记录、撰写者、签名是否验证通过"),
    ("Every change, not only the latest 100 (`--json` always gives every one)", "显示全部修改，而不只是最近 100 项（`--json` 总是给出全部）"),
    ("List only these kinds of record, comma-separated (\"suggestion,handling\"); \"\" lists none. Without it every record is listed, or, above 200, a count of each kind", "只列出这些类别的记录，以逗号分隔（如“suggestion,handling”）；“\"\"”表示不列出。不指定时列出全部记录，超过 200 条则按类别计数"),
    ("Show an outcome: whether it is adopted, and each member body's signature against the current text", "显示协商成果：是否已通过，以及各成员机构对当前文本的签署情况"),
    ("Show this node: body, peer id, addresses, peers, spaces", "显示本节点：机构、节点编号、地址、已连接节点、共享议题"),
    ("Show where this data directory keeps the body key: plaintext, encrypted or offline", "显示本数据目录如何保存机构密钥：明文、加密或离线"),
    ("Sign a request file made by `member add --request` or `member revoke --request`, on the machine that holds the body key", "在保存机构密钥的机器上签署由 `member add --request` 或 `member revoke --request` 生成的请求文件"),
    ("Sign as this member (name or key; default: the first who may sign)", "以该成员身份签署（名称或密钥；默认：第一位有签署权的成员）"),
    ("Sign the outcome's current text for this body (needs a member who may sign: `member add --can-sign`)", "代表本机构签署协商成果的当前文本（需有签署权的成员：`member add --can-sign`）"),
    ("Sign without asking (the request is still shown); without it, a terminal is asked", "不经询问直接签署（仍会显示请求内容）；不加此项则在终端上询问"),
    ("Start a round of consultation on an agenda; a further round (再协商) follows up the last one's outcome (--from)", "在议题上开始一轮协商；再协商承接上一轮的成果（--from）"),
    ("Start three bodies on loopback and show a joint agenda syncing between two of them", "在本机启动三个机构，演示联动议题在其中两个之间同步"),
    ("Store the body key encrypted (keys/body.key.enc) under a passphrase read from CONFER_PASSPHRASE or the terminal, instead of in plaintext (keys/body.key)", "以口令加密保存机构密钥（keys/body.key.enc），口令取自 CONFER_PASSPHRASE 或终端输入，而非明文保存（keys/body.key）"),
    ("Suggestions (意见建议) raised in a round", "某一轮次中提出的意见建议"),
    ("Supervision findings (民主监督) and the responses to them", "民主监督发现及对其的回应"),
    ("Take back this body's consent to a proposed change of an agenda's member bodies that has not taken effect (see `agenda show`); this body may then consent to another", "撤回本机构对议题成员机构某项尚未生效的变更的同意（见 `agenda show`）；此后本机构可同意其他变更"),
    ("The agenda (id or a unique prefix of 8+ hex characters)", "议题（编号或至少 8 位十六进制的唯一前缀）"),
    ("The agenda (id, or a unique prefix of 8+ hex characters)", "议题（编号，或至少 8 位十六进制的唯一前缀）"),
    ("The agenda holding it (id or a unique prefix of 8+ hex characters)", "其所在的议题（编号或至少 8 位十六进制的唯一前缀）"),
    ("The agenda's summary (default with --from-topic: the topic's)", "议题摘要（用 --from-topic 时默认取该选题的摘要）"),
    ("The agenda's title (default with --from-topic: the topic's)", "议题标题（用 --from-topic 时默认取该选题的标题）"),
    ("The assessment", "评估意见"),
    ("The attachment's id, or a unique prefix of 8+ hex characters of it", "附件编号，或其至少 8 位十六进制的唯一前缀"),
    ("The body hosting this round (轮流承办): its name, or a unique prefix of 8+ hex characters of its id", "本轮的承办机构（轮流承办）：机构名称，或其编号至少 8 位十六进制的唯一前缀"),
    ("The body id (64 hex characters)", "机构编号（64 位十六进制）"),
    ("The body id (64 hex characters, or a unique prefix of 8+ of a trusted body's)", "机构编号（64 位十六进制，或受信任机构编号至少 8 位的唯一前缀）"),
    ("The body key has been copied offline: delete keys/body.key even though no encrypted copy stays here", "机构密钥已离线备份：即使本地不留加密副本也删除 keys/body.key"),
    ("The body key is on another machine: write what it must sign to FILE", "机构密钥在另一台机器上：将需其签署的内容写入 FILE"),
    ("The body key is on another machine: write what it must sign to FILE (then run `confer sign-request FILE` there and `confer member import` here)", "机构密钥在另一台机器上：将需其签署的内容写入 FILE（然后在那台机器上运行 `confer sign-request FILE`，再在本机运行 `confer member import`）"),
    ("The body key is on another machine: write what it must sign to FILE. The key stops writing on this node at once", "机构密钥在另一台机器上：将需其签署的内容写入 FILE。该成员密钥在本节点上立即停止写入"),
    ("The body to add (its full id, or a unique prefix of a trusted body's id)", "要加入的机构（完整编号，或受信任机构编号的唯一前缀）"),
    ("The body to remove: its name, its id, or a unique prefix of 8+ hex characters of it", "要移除的机构：机构名称、编号，或其至少 8 位十六进制的唯一前缀"),
    ("The body's name, e.g. 平湖市政协", "机构名称，如 平湖市政协"),
    ("The bundle file (JSON, `docs/outcome-bundle.md`)", "成果文件包（JSON，见 `docs/outcome-bundle.md`）"),
    ("The change hash of the entry that stands (as `confer status` lists it; a unique prefix of 8+ hex characters will do)", "保留条目的变更哈希（见 `confer status`；至少 8 位十六进制的唯一前缀即可）"),
    ("The change's id (a prefix of 8+ hex characters will do)", "变更编号（至少 8 位十六进制的前缀即可）"),
    ("The date it was handed back, YYYY-MM-DD", "退回日期，格式 YYYY-MM-DD"),
    ("The date of assignment, YYYY-MM-DD (default: today)", "交办日期，格式 YYYY-MM-DD（默认：今天）"),
    ("The date of receipt, YYYY-MM-DD", "签收日期，格式 YYYY-MM-DD"),
    ("The date of submission, YYYY-MM-DD", "报送日期，格式 YYYY-MM-DD"),
    ("The date of the consultation, YYYY-MM-DD", "协商日期，格式 YYYY-MM-DD"),
    ("The date of the decision, YYYY-MM-DD", "决定日期，格式 YYYY-MM-DD"),
    ("The date of the evaluation, YYYY-MM-DD (default: today)", "评价日期，格式 YYYY-MM-DD（默认：今天）"),
    ("The date of the feedback, YYYY-MM-DD (default: today)", "反馈日期，格式 YYYY-MM-DD（默认：今天）"),
    ("The date of the instruction, YYYY-MM-DD", "批示日期，格式 YYYY-MM-DD"),
    ("The date of the visit, YYYY-MM-DD", "视察日期，格式 YYYY-MM-DD"),
    ("The day it came in, YYYY-MM-DD (default: today)", "收到日期，格式 YYYY-MM-DD（默认：今天）"),
    ("The day it was raised, YYYY-MM-DD (default: today); the year-end report counts it in that year", "提出日期，格式 YYYY-MM-DD（默认：今天）；年终通报按该年份统计"),
    ("The day, YYYY-MM-DD (default: today)", "日期，格式 YYYY-MM-DD（默认：今天）"),
    ("The deadline, YYYY-MM-DD (default: three calendar months after --assigned, on the month's last day where it is shorter)", "办理期限，格式 YYYY-MM-DD（默认：--assigned 之后三个自然月；该月较短时取月末）"),
    ("The earlier suggestion it takes up again (再协商; id or a unique prefix of 8+ hex characters, in the same agenda)", "其再协商的先前意见建议（同一议题中的编号或至少 8 位十六进制的唯一前缀）"),
    ("The expert giving it (an expert shared into the agenda; default: this body)", "给出评估的专家（已共享到议题的专家；默认：本机构）"),
    ("The expert's id, or a unique prefix of 8+ hex characters of it", "专家编号，或其至少 8 位十六进制的唯一前缀"),
    ("The expert's name", "专家姓名"),
    ("The finding's id, or a unique prefix of 8+ hex characters of it", "监督发现编号，或其至少 8 位十六进制的唯一前缀"),
    ("The first member's (or role's) name", "第一位成员（或岗位）的名称"),
    ("The form it took", "采用的形式"),
    ("The form of the consultation", "协商形式"),
    ("The hosting body: its name, or a unique prefix of 8+ hex characters of its id", "承办机构：机构名称，或其编号至少 8 位十六进制的唯一前缀"),
    ("The instruction", "批示内容"),
    ("The item's field", "该项的类别"),
    ("The item's title", "该项的标题"),
    ("The key may sign joint outcomes for the body", "该密钥可代表本机构签署联合成果"),
    ("The kind of document", "文件类别"),
    ("The kind of visit it comes from", "来源的视察类别"),
    ("The leader who gave it", "作出批示的领导"),
    ("The ledger topic it comes from (id or a unique prefix of 8+ hex characters); the topic records the agenda", "其来源的台账选题（编号或至少 8 位十六进制的唯一前缀）；该选题会记录此议题"),
    ("The meeting it was raised at (its id, or a unique prefix of 8+ hex characters)", "提出该建议的会议（编号，或至少 8 位十六进制的唯一前缀）"),
    ("The meeting's date, YYYY-MM-DD", "会议日期，格式 YYYY-MM-DD"),
    ("The meeting's id, or a unique prefix of 8+ hex characters of it", "会议编号，或其至少 8 位十六进制的唯一前缀"),
    ("The member's name, or its key (a unique prefix of 8+ hex characters will do)", "成员名称，或其密钥（至少 8 位十六进制的唯一前缀即可）"),
    ("The minutes, a UTF-8 text file", "会议纪要，UTF-8 文本文件"),
    ("The new deadline, YYYY-MM-DD (not before the current one)", "新的办理期限，格式 YYYY-MM-DD（不早于当前期限）"),
    ("The new summary", "新摘要"),
    ("The new text, a UTF-8 text file", "新正文，UTF-8 文本文件"),
    ("The new title (one line)", "新标题（一行）"),
    ("The node's peer id (12D3Koo…)", "该节点的节点编号（12D3Koo…）"),
    ("The notice sent to all participants in advance", "事先发给全体参加者的通知"),
    ("The outcome it concerns (id or unique prefix of 8+ hex characters)", "涉及的协商成果（编号或至少 8 位十六进制的唯一前缀）"),
    ("The outcome this round follows up (its id, or a unique prefix of 8+ hex characters)", "本轮承接的协商成果（编号，或至少 8 位十六进制的唯一前缀）"),
    ("The outcome's id, or a unique prefix of 8+ hex characters of it", "协商成果编号，或其至少 8 位十六进制的唯一前缀"),
    ("The peer id (12D3Koo…)", "节点编号（12D3Koo…）"),
    ("The person's name (unique within the body), e.g. 张三", "人员姓名（在本机构内唯一），如 张三"),
    ("The plan's year", "计划年份"),
    ("The reason in words (required with --reason other)", "理由说明（--reason other 时必填）"),
    ("The request file", "请求文件"),
    ("The research done beforehand (调研)", "事先开展的调研"),
    ("The response", "回应内容"),
    ("The round: its number or id (default: the latest)", "轮次：序号或编号（默认：最新一轮）"),
    ("The round: its number, or its id (a unique prefix of 8+ hex characters)", "轮次：序号，或其编号（至少 8 位十六进制的唯一前缀）"),
    ("The signed file", "已签署的文件"),
    ("The suggestion", "意见建议内容"),
    ("The suggestion it concerns (id or unique prefix of 8+ hex characters)", "涉及的意见建议（编号或至少 8 位十六进制的唯一前缀）"),
    ("The suggestion's id, or a unique prefix of 8+ hex characters of it", "意见建议编号，或其至少 8 位十六进制的唯一前缀"),
    ("The topic", "议题内容"),
    ("The topic it merges into", "并入的目标选题"),
    ("The topic merged away", "被并入的选题"),
    ("The topic's field", "选题的类别"),
    ("The topic's id, or a unique prefix of 8+ hex characters of it", "选题编号，或其至少 8 位十六进制的唯一前缀"),
    ("The unit co-handles it (协办) rather than leading (主办)", "该单位为协办而非主办"),
    ("The unit that must act on it", "须办理的单位"),
    ("The unit, as it was assigned", "承办单位（与交办时一致）"),
    ("The units it was copied to (抄告)", "抄告的单位"),
    ("The year of the inspection plan", "视察计划的年份"),
    ("The year reported on", "通报的年份"),
    ("The year-end report (年终通报): meetings, suggestions, adoption and completion rates, overdue and carried-over items, findings — per agenda and body", "年终通报：会议、意见建议、采纳率和办结率、逾期及结转事项、监督发现——按议题和机构"),
    ("This body's annual consultation plan (年度协商计划)", "本机构的年度协商计划"),
    ("This body's expert pool (第三方专家库), and sharing experts into joint agendas", "本机构的第三方专家库，以及向联动议题共享专家"),
    ("This body's ledger of candidate topics (台账) and their screening", "本机构的候选选题台账及其筛选"),
    ("This body's nodes: revoke one whose key is lost or stolen", "本机构的节点：撤销密钥丢失或被盗的节点"),
    ("This body's people: member keys, roles, signing rights, revocation", "本机构的人员：成员密钥、角色、签署权、撤销"),
    ("To whom it was submitted", "报送对象"),
    ("Trust a body: it may introduce joint agendas here. Give its full id, as its committee sent it by official letter; needs no connection", "信任一个机构：其可在本节点发起联动议题。请给出对方政协正式来函中的完整编号；无需连接"),
    ("What became of the suggestion", "意见建议的办理结果"),
    ("What the joint chairs' meeting decided", "主席联席会议的决定"),
    ("What the meeting decided", "会议的决定"),
    ("What the unit did", "承办单位的办理情况"),
    ("What was found", "发现的问题"),
    ("Where it came from", "来源"),
    ("Where it takes place", "举行地点"),
    ("Where it took place", "举行地点"),
    ("Where the expert works", "专家所在单位"),
    ("Where to write it", "写入位置"),
    ("Where to write the bundle (JSON)", "文件包（JSON）的写入位置"),
    ("Where to write the signed answer (take it back and run `confer member import`)", "已签署答复的写入位置（带回后运行 `confer member import`）"),
    ("Who attended", "出席人员"),
    ("Who changed what, when, in an agenda, read from its signed entries", "议题中谁在何时修改了什么，取自其已签名的条目"),
    ("Who or which station proposed it", "提出者或提出的联络站"),
    ("Who proposed it", "提出者"),
    ("Who takes part: members, officials, the public, third-party experts", "参加者：委员、政府部门人员、群众、第三方专家"),
    ("Why", "理由"),
    ("Why (required with --result not-adopted)", "理由（--result not-adopted 时必填）"),
    ("Why it is screened out", "不予采用的理由"),
    ("Withdraw trust from a body: it introduces nothing new here; agendas it shares stay", "取消对某机构的信任：其不能再在本节点发起新议题；已共享的议题保留"),
    ("Write a meeting's minutes from a UTF-8 text file", "从 UTF-8 文本文件写入会议纪要"),
    ("Write a round's consultation plan (协商方案); only the parts given change", "写入某一轮次的协商方案；只修改给出的部分"),
    ("Write a round's outcome document (协商成果) from a UTF-8 text file", "从 UTF-8 文本文件写入某一轮次的协商成果"),
    ("Write an attachment's bytes to a file", "将附件内容写入文件"),
    ("Write as this member (name or key; default: the first member)", "以该成员身份写入（名称或密钥；默认：第一位成员）"),
    ("Write the outcome's self-contained bundle (text, signatures, certificate chains) for anyone to check offline with `confer verify`", "导出协商成果的自包含文件包（正文、签名、证书链），任何人都可用 `confer verify` 离线核验"),
    ("libp2p listen address (repeatable). Default: TCP and QUIC on port 4646, all interfaces", "libp2p 监听地址（可重复）。默认：所有网络接口的 4646 端口，TCP 和 QUIC"),
    ("member (委员), staff (工作人员), secretary-general (秘书长), chair (主席) or vice-chair (副主席)", "角色：委员、工作人员、秘书长、主席或副主席"),
    ("提与落: one suggestion across rounds and bodies — submissions, instructions, each unit's handling and feedback, evaluations, findings", "提与落：一条意见建议跨轮次、跨机构的全过程——报送、批示、各承办单位的办理和反馈、评价、监督发现"),
    ("Serve the web UI on this address (none: no UI). Loopback, or HTTPS (--ui-cert, --ui-key), or --ui-insecure", "在此地址提供网页界面（不填则没有网页界面）。须为本机回环地址，或启用 HTTPS（--ui-cert、--ui-key），或加 --ui-insecure"),
    ("PEM certificate chain for the UI's HTTPS", "网页界面 HTTPS 的 PEM 证书链"),
    ("PEM private key for the UI's HTTPS", "网页界面 HTTPS 的 PEM 私钥"),
    ("Allow --ui on an address other than loopback without HTTPS, although passwords and session cookies then travel unencrypted", "允许在非回环地址上不用 HTTPS 提供网页界面（密码和会话凭据将以明文传输）"),
    ("Web UI accounts: each person's login, bound to one of this body's member keys", "网页界面账户：每人一个登录账户，绑定本机构的一把成员密钥"),
    ("Make an account bound to a member key; prints its one-time password, which must be changed at the first login", "创建绑定成员密钥的账户；输出一次性密码，首次登录时必须修改"),
    ("The login name, e.g. zhang.san", "登录名，例如 zhang.san"),
    ("The member key the person signs as (full hex, or a unique prefix of 8+ characters; see `confer member list`)", "此人签名所用的成员密钥（完整十六进制，或至少 8 位的唯一前缀；见 `confer member list`）"),
    ("May manage accounts in the UI", "可在网页界面中管理账户"),
    ("Every account, its member key and state", "所有账户及其成员密钥和状态"),
    ("Give an account a new one-time password", "为账户重新生成一次性密码"),
    ("The account's login name", "账户的登录名"),
    ("Remove an account", "删除账户"),
    ("Serve Prometheus metrics (GET /metrics, no token) on this address for a monitoring server. It exposes counts only, so any address is allowed. Default: off", "在此地址为监控服务器提供监控指标（GET /metrics，无需令牌）。只含计数，因此允许任何地址。默认：不提供"),
];

/// The Chinese for `en`, if this table or the operations commands' has it.
fn zh(en: &str) -> Option<&'static str> {
    TABLE
        .iter()
        .find(|(e, _)| *e == en)
        .map(|(_, z)| *z)
        .or_else(|| super::help_zh_ops::zh(en))
}

const TEMPLATE: &str = "{about-with-newline}\n用法：{usage}\n\n{all-args}{after-help}";

/// `cmd` with every help text in Chinese.
pub fn localize(cmd: Command) -> Command {
    let cmd = localize_one(cmd, true);
    cmd.disable_version_flag(true).arg(
        Arg::new("version")
            .short('V')
            .long("version")
            .action(ArgAction::Version)
            .help("显示版本")
            .help_heading("选项"),
    )
}

fn localize_one(mut cmd: Command, root: bool) -> Command {
    if let Some(about) = cmd.get_about().map(|a| a.to_string()) {
        if let Some(t) = zh(&about) {
            cmd = cmd.about(t);
        }
    }
    cmd = cmd.long_about(None);
    let ids: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    for id in ids {
        cmd = cmd.mut_arg(id, localize_arg);
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |s| localize_one(s, false));
    }
    let _ = root;
    cmd.help_template(TEMPLATE)
        .subcommand_help_heading("命令")
        .subcommand_value_name("命令")
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("显示帮助")
                .help_heading("选项"),
        )
}

fn localize_arg(mut arg: Arg) -> Arg {
    let mut help = arg
        .get_help()
        .map(|h| h.to_string())
        .map(|h| zh(&h).map_or(h, str::to_owned))
        .unwrap_or_default();
    let takes_values = arg.get_action().takes_values();
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if takes_values && !defaults.is_empty() && !arg.is_hide_default_value_set() {
        help.push_str(&format!("［默认值：{}］", defaults.join("、")));
    }
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_owned())
        .collect();
    if takes_values && !values.is_empty() && !arg.is_hide_possible_values_set() {
        help.push_str(&format!("［可选值：{}］", values.join("、")));
    }
    if let Some(env) = arg.get_env() {
        help.push_str(&format!("［环境变量：{}］", env.to_string_lossy()));
    }
    arg = arg.help(help).long_help(None).hide_env(true);
    if takes_values {
        arg = arg.hide_default_value(true).hide_possible_values(true);
    }
    if arg.is_positional() {
        arg.help_heading("参数")
    } else {
        arg.help_heading("选项")
    }
}

/// A command-line error (clap's words are English) said in Chinese, naming the argument
/// and value concerned; `None` for what is not an error (help, version).
pub fn error_zh(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let get = |kind: ContextKind| match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join("、"),
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        Some(ContextValue::StyledStrs(v)) => v
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("、"),
        Some(ContextValue::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let arg = get(ContextKind::InvalidArg);
    let value = get(ContextKind::InvalidValue);
    let text = match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => return None,
        ErrorKind::InvalidValue => {
            let valid = get(ContextKind::ValidValue);
            if valid.is_empty() {
                format!("{arg} 的值“{value}”无效")
            } else {
                format!("{arg} 的值“{value}”无效［可选值：{valid}］")
            }
        }
        ErrorKind::ValueValidation => format!("{arg} 的值“{value}”格式有误"),
        ErrorKind::UnknownArgument => match get(ContextKind::SuggestedArg) {
            s if s.is_empty() => format!("不认识的参数“{arg}”"),
            s => format!("不认识的参数“{arg}”；是否想用 {s}？"),
        },
        ErrorKind::InvalidSubcommand => {
            let sub = get(ContextKind::InvalidSubcommand);
            match get(ContextKind::SuggestedSubcommand) {
                s if s.is_empty() => format!("没有“{sub}”这个命令"),
                s => format!("没有“{sub}”这个命令；是否想用 {s}？"),
            }
        }
        ErrorKind::MissingRequiredArgument => format!("缺少必需的参数：{arg}"),
        ErrorKind::MissingSubcommand => "缺少命令".to_owned(),
        ErrorKind::ArgumentConflict => {
            format!("{arg} 不能与 {} 同时使用", get(ContextKind::PriorArg))
        }
        ErrorKind::NoEquals => format!("{arg} 的值须用等号给出"),
        ErrorKind::TooManyValues => format!("{arg} 的值过多（“{value}”）"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("{arg} 的值个数不对")
        }
        ErrorKind::InvalidUtf8 => "参数中含有无效的 UTF-8".to_owned(),
        _ => "命令行参数有误".to_owned(),
    };
    let usage = get(ContextKind::Usage);
    let usage = usage.trim().trim_start_matches("Usage:").trim();
    Some(if usage.is_empty() {
        format!("{text}（`--help` 显示用法）")
    } else {
        format!("{text}\n用法：{usage}\n（`--help` 显示详细说明）")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn walk(c: &Command, path: &str, out: &mut Vec<String>) {
        let path = format!("{path} {}", c.get_name());
        if let Some(about) = c.get_about() {
            if zh(&about.to_string()).is_none() {
                out.push(format!("{path}: {about}"));
            }
        }
        for arg in c.get_arguments() {
            match arg.get_help() {
                None => out.push(format!("{path} {}: no help line", arg.get_id())),
                Some(h) if zh(&h.to_string()).is_none() => {
                    out.push(format!("{path} {}: {h}", arg.get_id()))
                }
                Some(_) => {}
            }
        }
        for s in c.get_subcommands() {
            walk(s, &path, out);
        }
    }

    #[test]
    fn every_help_text_has_a_translation() {
        let mut missing = Vec::new();
        walk(&crate::cli::Cli::command(), "", &mut missing);
        assert!(
            missing.is_empty(),
            "add these to TABLE:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn the_localized_command_still_parses_what_the_derived_one_does() {
        use clap::FromArgMatches;
        let cmd = localize(crate::cli::Cli::command());
        cmd.clone().debug_assert();
        let matches = cmd
            .try_get_matches_from([
                "confer",
                "--data",
                "/x",
                "agenda",
                "show",
                "0123456789abcdef",
            ])
            .expect("parses");
        let cli = crate::cli::Cli::from_arg_matches(&matches).expect("into Cli");
        assert_eq!(cli.data.as_deref(), Some(std::path::Path::new("/x")));
    }
}
