//! What the scenario writes: the two bodies' ledgers, the plan and the meeting, the 43
//! suggestions of the first round, the handling of the chosen ones by each side's units,
//! the findings of the look-back visit and the second round. Drawn from 平湖市政协's account
//! of its joint supervision with 金山区政协 (`/shared/seeds/000_*`): cross-border water and
//! air pollution, joint monitoring, joint enforcement, emergency response, information
//! sharing and the review of new projects. People are named by role only; units are the
//! kind of department that handles such suggestions.

/// Which committee writes a record (on its own node) or is concerned by a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Pinghu,
    Jinshan,
}

/// The bodies a suggestion concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Concern {
    Both,
    Only(Side),
}

/// A suggestion of the first round: its text, who proposed it (written by that side's
/// node), the bodies concerned.
pub(super) struct Proposal {
    pub(super) text: &'static str,
    pub(super) proposer: &'static str,
    pub(super) side: Side,
    pub(super) concern: Concern,
}

const fn p(text: &'static str, proposer: &'static str, side: Side, concern: Concern) -> Proposal {
    Proposal {
        text,
        proposer,
        side,
        concern,
    }
}

use Concern::{Both, Only};
use Side::{Jinshan as J, Pinghu as P};

/// The 43 suggestions of the first round's meeting (2025-04-22).
#[rustfmt::skip]
pub(super) const SUGGESTIONS: [Proposal; 43] = [
    // Cross-border rivers (跨界水环境).
    p("建立平湖、金山交界河道联合河长制，明确上海塘、掘石港等跨界河道的共管责任、巡河频次和问题交办流程。", "张委员（平湖市政协）", P, Both),
    p("书面明确广陈镇与廊下镇交界河道的保洁范围以及河面、河岸保洁职责，推行“一河一档”。", "陆委员（平湖市政协）", P, Both),
    p("在独山港镇与金山卫镇交界断面增设水质自动监测站，对高锰酸盐指数、氨氮、总磷实行实时监测。", "平湖市政协人口资源环境委员会", P, Both),
    p("对交界区域 26 条河道开展一次联合底泥和水质本底调查，作为两地考核的共同基准。", "第三方专家（环境监测）", P, Both),
    p("加快金山卫镇沿线雨污分流改造，杜绝初期雨水直排流入平湖境内河道。", "沈委员（平湖市政协）", P, Only(J)),
    p("完善独山港经济开发区污水管网，开展管网破损排查和修复，做到应接尽接。", "顾委员（金山区政协）", J, Only(P)),
    p("交界河道水葫芦等漂浮物由两地按月轮流集中打捞，费用按河段长度分担。", "徐委员（平湖市政协）", P, Both),
    p("对沿河农村生活污水处理设施开展运维评估，出水不达标的限期整改。", "陈委员（金山区政协）", J, Both),
    p("将交界断面水质纳入两地河长制考核，实行上下游责任共担。", "金山区政协人口资源环境建设委员会", J, Both),
    p("建立跨界河道生态补偿机制，按交界断面水质达标情况实行双向补偿。", "朱委员（平湖市政协）", P, Both),
    // Joint monitoring and warning (联合监测、预警).
    p("两地共建交界区域大气特征污染物监测网络，在化工园区周边布设挥发性有机物（VOCs）监测点。", "平湖市政协人口资源环境委员会", P, Both),
    p("统一两地监测方法、采样频次和数据质控要求，做到监测数据互认。", "第三方专家（环境监测）", P, Both),
    p("绘制交界区域异味投诉“溯源图”，结合风向和监测数据快速锁定排放源。", "王委员（金山区政协）", J, Both),
    p("上海化学工业区重点企业在线监测数据向平湖方面实时开放。", "张委员（平湖市政协）", P, Only(J)),
    p("对交界区域重点排污企业实行两地联合飞行监测，监测结果互认互通。", "蒋委员（金山区政协）", J, Both),
    p("制定交界区域污染预警分级标准，达到橙色预警时两地同步启动响应。", "陈委员（金山区政协）", J, Both),
    p("每季度联合发布交界区域水环境、大气环境质量状况，接受群众监督。", "陆委员（平湖市政协）", P, Both),
    // Joint enforcement (联合执法).
    p("建立两地生态环境执法人员交叉检查机制，每半年至少开展一次联合执法行动。", "金山区政协人口资源环境建设委员会", J, Both),
    p("对跨界偷排、偷倒固体废物案件实行线索互移、案件协查、结果互告。", "顾委员（金山区政协）", J, Both),
    p("统一两地环境行政处罚裁量基准，避免同案不同罚。", "第三方专家（环境法）", J, Both),
    p("在交界道路设立危险废物运输车辆联合检查点，核查转移联单。", "沈委员（平湖市政协）", P, Both),
    p("对群众反复投诉的企业实行两地联合挂牌督办，整改情况向投诉人反馈。", "王委员（金山区政协）", J, Both),
    p("推动两地公安、检察机关建立环境犯罪案件办理协作机制。", "第三方专家（环境法）", J, Both),
    p("在夜间和节假日开展联合突击检查，重点查处超标排放和偷排行为。", "徐委员（平湖市政协）", P, Both),
    // Information sharing (信息共享).
    p("建设平湖—金山生态环境信息共享平台，实现监测、执法、信访数据“一网通查”。", "朱委员（平湖市政协）", P, Both),
    p("建立两地环保信访件互转机制，跨界投诉 48 小时内转办、7 日内回复。", "蒋委员（金山区政协）", J, Both),
    p("交界区域新建、改建、扩建涉污项目的环评受理和审批信息相互通报。", "陈委员（金山区政协）", J, Both),
    p("每月互通交界区域重点企业排污许可执行情况。", "陆委员（平湖市政协）", P, Both),
    p("建立两地生态环境部门联络员制度，明确专人对接、定期会商。", "金山区政协人口资源环境建设委员会", J, Both),
    p("在两地政务服务平台开设交界区域环境问题“随手拍”举报入口。", "王委员（金山区政协）", J, Both),
    // Emergency response (应急联动).
    p("制定交界区域突发环境事件联合应急预案，每年开展一次联合演练。", "平湖市政协人口资源环境委员会", P, Both),
    p("建立应急物资储备共享清单，围油栏、吸附材料等就近调用。", "顾委员（金山区政协）", J, Both),
    p("明确跨界水污染事件中闸坝联合调度规则，防止污染团下移。", "沈委员（平湖市政协）", P, Both),
    p("建立多部门参与的应急联动处置机制，生态环境、水务（水利）、应急、消防同步响应。", "蒋委员（金山区政协）", J, Both),
    // New projects and industry (新建项目评审、产业).
    p("对交界区域新建化工项目实行两地联合环评“一票否决”。", "张委员（平湖市政协）", P, Both),
    p("邀请对方生态环境部门和政协委员共同参与交界区域新建项目评审。", "金山区政协人口资源环境建设委员会", J, Both),
    p("在上海化学工业区与平湖交界一侧建设不少于 500 米的生态隔离带。", "徐委员（平湖市政协）", P, Only(J)),
    p("推动独山港、金山卫两地化工企业开展大气污染防治精密智控试点，交流共享经验。", "陈委员（金山区政协）", J, Both),
    // Air and solid waste (大气、固废).
    p("联合整治交界区域露天焚烧秸秆和垃圾问题。", "朱委员（平湖市政协）", P, Both),
    p("建立一般工业固体废物跨区域转移联单互查机制。", "第三方专家（环境法）", J, Both),
    p("推进交界区域建筑垃圾消纳场所共建共享，防止乱倒乱堆。", "王委员（金山区政协）", J, Both),
    // Public participation (公众参与).
    p("聘请两地群众担任交界区域环境监督员，定期参加联合巡查。", "陆委员（平湖市政协）", P, Both),
    p("由两地政协互为“第三方”，每年对协作机制落实情况开展联动民主监督评议。", "平湖市政协人口资源环境委员会", P, Both),
];

/// Suggestions referred to below, by index into [`SUGGESTIONS`].
pub(super) const RIVER_CHIEF: usize = 0;
pub(super) const STATION: usize = 2;
pub(super) const VOC: usize = 10;
pub(super) const STANDARDS: usize = 11;
pub(super) const OPEN_DATA: usize = 13;
pub(super) const JOINT_ENFORCEMENT: usize = 17;
pub(super) const PLATFORM: usize = 24;
pub(super) const PETITIONS: usize = 25;
pub(super) const EMERGENCY: usize = 33;
/// The disputed one: a veto for either side, which the joint chairs' meeting replaced.
pub(super) const VETO: usize = 34;
pub(super) const JOINT_REVIEW: usize = 35;
pub(super) const BUFFER: usize = 36;
pub(super) const MUTUAL: usize = 42;

/// The suggestions the joint opinion takes up.
pub(super) const CHOSEN: [usize; 12] = [
    RIVER_CHIEF,
    STATION,
    VOC,
    STANDARDS,
    OPEN_DATA,
    JOINT_ENFORCEMENT,
    PLATFORM,
    PETITIONS,
    EMERGENCY,
    JOINT_REVIEW,
    BUFFER,
    MUTUAL,
];

/// The joint chairs' meeting's decision on [`VETO`].
pub(super) const DECISION: &str = "两地政协主席联席会议决定：不设单方“一票否决”，改为邀请对方生态环境部门和政协委员共同参与交界区域新建项目评审，评审意见相互通报（并入第 36 条建议办理）。";
pub(super) const DECIDED_ON: &str = "2025-05-15";

/// A handling unit assigned by one side, and how it ends.
pub(super) struct Unit {
    pub(super) side: Side,
    pub(super) suggestion: usize,
    pub(super) unit: &'static str,
    pub(super) role: &'static str,
    pub(super) assigned: &'static str,
    pub(super) received: &'static str,
    pub(super) due: &'static str,
    /// A later extension: new deadline and reason.
    pub(super) extension: Option<(&'static str, &'static str)>,
    /// Result, text, reason (for "not-adopted"), date; none: still open.
    pub(super) feedback: Option<(&'static str, &'static str, &'static str, &'static str)>,
}

/// Each side's handling units for the chosen suggestions.
#[rustfmt::skip]
pub(super) const UNITS: [Unit; 14] = [
    Unit { side: P, suggestion: RIVER_CHIEF, unit: "平湖市水利局", role: "lead", assigned: "2025-06-03", received: "2025-06-04", due: "2025-09-30", extension: None,
        feedback: Some(("adopted", "已与金山区水务局签订交界河道联合河长制协议，明确 14 条跨界河道共管责任和每月联合巡河制度。", "", "2025-09-10")) },
    Unit { side: P, suggestion: RIVER_CHIEF, unit: "广陈镇人民政府", role: "co", assigned: "2025-06-03", received: "2025-06-05", due: "2025-09-30", extension: None,
        feedback: Some(("adopted", "广陈镇与廊下镇已书面明确交界河道保洁范围和河面、河岸保洁职责。", "", "2025-09-12")) },
    Unit { side: P, suggestion: STATION, unit: "嘉兴市生态环境局平湖分局", role: "lead", assigned: "2025-06-03", received: "2025-06-04", due: "2025-09-30", extension: None,
        feedback: Some(("partly-adopted", "交界断面水质自动站已立项，预计 2026 年 6 月建成；建成前高锰酸盐指数、氨氮实行人工加密监测。", "", "2025-09-26")) },
    Unit { side: P, suggestion: PLATFORM, unit: "平湖市大数据发展管理局", role: "lead", assigned: "2025-06-03", received: "2025-06-06", due: "2025-08-31",
        extension: Some(("2025-10-31", "需与上海方面统一数据接口标准，申请延期两个月。")),
        feedback: Some(("planned", "生态环境信息共享平台已列入 2026 年数字化改革项目，接口标准已与金山方面商定。", "", "2025-10-28")) },
    Unit { side: P, suggestion: EMERGENCY, unit: "平湖市应急管理局", role: "lead", assigned: "2025-06-03", received: "2025-06-04", due: "2025-09-30", extension: None,
        feedback: Some(("adopted", "已与金山区应急管理局建立应急联动处置机制，9 月联合开展交界河道突发水污染事件演练。", "", "2025-09-18")) },
    Unit { side: P, suggestion: VOC, unit: "平湖市经济和信息化局", role: "lead", assigned: "2025-06-03", received: "2025-06-05", due: "2025-11-30", extension: None,
        feedback: None },
    Unit { side: P, suggestion: STANDARDS, unit: "嘉兴市生态环境局平湖分局", role: "lead", assigned: "2025-06-03", received: "2025-06-04", due: "2025-09-30", extension: None,
        feedback: Some(("for-reference", "两地监测均执行国家标准方法，今后开展比对监测时参考采纳。", "", "2025-09-29")) },
    Unit { side: J, suggestion: RIVER_CHIEF, unit: "金山区水务局", role: "lead", assigned: "2025-06-05", received: "2025-06-06", due: "2025-09-30", extension: None,
        feedback: Some(("adopted", "已与平湖市水利局签订联合河长制协议，交界河道实行联合巡河、问题互交。", "", "2025-09-08")) },
    Unit { side: J, suggestion: OPEN_DATA, unit: "金山区生态环境局", role: "lead", assigned: "2025-06-05", received: "2025-06-06", due: "2025-09-30", extension: None,
        feedback: Some(("partly-adopted", "21 家重点企业在线监测数据已通过长三角生态环境数据共享渠道向平湖开放，其余企业分批接入。", "", "2025-09-22")) },
    Unit { side: J, suggestion: JOINT_ENFORCEMENT, unit: "金山区生态环境局", role: "lead", assigned: "2025-06-05", received: "2025-06-06", due: "2025-09-30", extension: None,
        feedback: Some(("adopted", "两地已建立执法人员交叉检查机制，7 月、9 月各开展一次联合执法行动。", "", "2025-09-25")) },
    Unit { side: J, suggestion: PETITIONS, unit: "金山区信访办", role: "lead", assigned: "2025-06-05", received: "2025-06-09", due: "2025-09-30", extension: None,
        feedback: Some(("adopted", "跨界环保信访件互转机制已运行，48 小时内转办。", "", "2025-08-29")) },
    Unit { side: J, suggestion: BUFFER, unit: "上海化学工业区管理委员会", role: "lead", assigned: "2025-06-05", received: "2025-06-10", due: "2025-10-31", extension: None,
        feedback: Some(("not-adopted", "生态隔离带建设暂不具备条件。", "涉及园区总体规划调整和用地指标，须报市级部门审批，近期难以实施。", "2025-10-20")) },
    Unit { side: J, suggestion: JOINT_REVIEW, unit: "金山区生态环境局", role: "lead", assigned: "2025-06-05", received: "2025-06-06", due: "2025-09-30", extension: None,
        feedback: Some(("adopted", "交界区域新建项目环评评审已邀请平湖方面生态环境部门和政协委员参加。", "", "2025-09-15")) },
    Unit { side: J, suggestion: EMERGENCY, unit: "金山区应急管理局", role: "co", assigned: "2025-06-05", received: "2025-06-06", due: "2025-09-30", extension: None,
        feedback: Some(("planned", "已纳入 2026 年区突发环境事件应急预案修订。", "", "2025-09-28")) },
];

/// To whom and when each side submits the joint opinion's suggestions.
pub(super) const SUBMITTED_TO: [(Side, &str, &str); 2] = [
    (P, "中共平湖市委、平湖市人民政府", "2025-05-20"),
    (J, "中共金山区委、金山区人民政府", "2025-05-22"),
];

/// Leaders' instructions: side, suggestion, leader, date, text, copied to.
pub(super) const INSTRUCTIONS: [(Side, usize, &str, &str, &str, &str); 6] = [
    (
        P,
        RIVER_CHIEF,
        "平湖市人民政府市长",
        "2025-05-28",
        "请市水利局牵头，会同广陈镇抓好落实，9 月底前反馈。",
        "平湖市水利局、广陈镇人民政府",
    ),
    (
        P,
        STATION,
        "平湖市人民政府分管副市长",
        "2025-05-28",
        "请生态环境分局尽快立项，建成前加密人工监测。",
        "嘉兴市生态环境局平湖分局",
    ),
    (
        P,
        VOC,
        "中共平湖市委书记",
        "2025-05-27",
        "群众反映强烈，请经信局会同生态环境分局抓紧布点。",
        "平湖市经济和信息化局、嘉兴市生态环境局平湖分局",
    ),
    (
        J,
        OPEN_DATA,
        "金山区人民政府区长",
        "2025-05-30",
        "请区生态环境局推动重点企业数据开放。",
        "金山区生态环境局",
    ),
    (
        J,
        JOINT_ENFORCEMENT,
        "金山区人民政府分管副区长",
        "2025-05-30",
        "联合执法要形成常态，每半年至少一次。",
        "金山区生态环境局",
    ),
    (
        J,
        BUFFER,
        "中共金山区委书记",
        "2025-05-29",
        "请化工区管委会研究可行性，提出意见。",
        "上海化学工业区管理委员会",
    ),
];

/// Members' evaluations: side, suggestion, satisfaction, text, date.
pub(super) const EVALUATIONS: [(Side, usize, &str, &str, &str); 6] = [
    (
        P,
        RIVER_CHIEF,
        "satisfied",
        "联合巡河已见成效。",
        "2025-11-05",
    ),
    (
        P,
        STATION,
        "basically-satisfied",
        "自动站建设进度需加快。",
        "2025-11-05",
    ),
    (
        P,
        PLATFORM,
        "basically-satisfied",
        "平台建设须有明确时间表。",
        "2025-11-06",
    ),
    (
        J,
        RIVER_CHIEF,
        "satisfied",
        "两地河长协作顺畅。",
        "2025-11-07",
    ),
    (
        J,
        OPEN_DATA,
        "basically-satisfied",
        "应尽快实现全部重点企业接入。",
        "2025-11-07",
    ),
    (
        J,
        BUFFER,
        "unsatisfied",
        "隔离带问题未解决，建议列入明年专题视察。",
        "2025-11-08",
    ),
];

/// Findings of the look-back visit (回头看): suggestion, visit, date, text, severity,
/// attachments, response.
pub(super) const FINDINGS: [(usize, &str, &str, &str, &str, &str, &str); 3] = [
    (
        RIVER_CHIEF,
        "look-back",
        "2025-11-12",
        "上海塘支流交界段联合巡河记录不全，9 月以来两地巡河台账未按月互通。",
        "medium",
        "巡河台账照片 6 张",
        "两地河长办约定每月 5 日前互通巡河台账，2025 年 12 月起执行。",
    ),
    (
        VOC,
        "look-back",
        "2025-11-12",
        "独山港经济开发区 VOCs 监测点尚未布设，交界区域夜间异味投诉仍有发生。",
        "high",
        "夜间现场记录 3 份",
        "平湖市经济和信息化局、生态环境分局承诺 2026 年 3 月底前完成布点并接入两地平台。",
    ),
    (
        PETITIONS,
        "return-visit",
        "2025-11-13",
        "信访件互转已运行，但个别转办件回复超过 7 日。",
        "low",
        "",
        "两地信访部门已将回复时限纳入月度通报。",
    ),
];

/// The second round's suggestions (2026-04-23): text, proposer, side, the suggestion of
/// the first round it continues.
pub(super) const ROUND_TWO: [(&str, &str, Side, Option<usize>); 5] = [
    ("VOCs 监测点已于 2026 年 3 月布设，建议将监测数据接入异味投诉溯源图，并设定超标联合响应阈值。", "王委员（金山区政协）", J, Some(VOC)),
    ("生态隔离带暂难整体实施，建议先在交界一侧 200 米范围内开展绿化隔离试点。", "徐委员（平湖市政协）", P, Some(BUFFER)),
    ("交界断面水质自动站建成后，监测数据同步纳入两地河长制考核。", "平湖市政协人口资源环境委员会", P, Some(STATION)),
    ("将雨季前交界河道联合排查列为两地常态化工作。", "顾委员（金山区政协）", J, None),
    ("建立两地环境监督员年度联合培训制度。", "陆委员（平湖市政协）", P, None),
];

/// Chinese ordinal for item `n` (1-based) of a numbered list, up to 99.
pub(super) fn ordinal(n: usize) -> String {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => DIGITS[n].to_owned(),
        10 => "十".to_owned(),
        11..=19 => format!("十{}", DIGITS[n - 10]),
        20..=99 => format!("{}十{}", DIGITS[n / 10], DIGITS[n % 10]),
        _ => n.to_string(),
    }
}

/// A candidate topic in a body's ledger.
pub(super) struct Topic {
    pub(super) title: &'static str,
    pub(super) summary: &'static str,
    pub(super) source: &'static str,
    pub(super) source_detail: &'static str,
    pub(super) urgency: &'static str,
    pub(super) category: &'static str,
    pub(super) date: &'static str,
}

/// A body's ledger: the topic taken up, a similar one merged into it, one screened out
/// (reason, text), and the date of the screening.
pub(super) struct Ledger {
    pub(super) kept: Topic,
    pub(super) merged: Topic,
    pub(super) rejected: Topic,
    pub(super) reason: &'static str,
    pub(super) reason_text: &'static str,
    pub(super) screened_on: &'static str,
    /// The chair meeting's preselection (date, text).
    pub(super) preselection: (&'static str, &'static str),
}

pub(super) const PINGHU_LEDGER: Ledger = Ledger {
    kept: Topic {
        title: "金山区化工企业废气异味及交界河道水污染影响平湖群众",
        summary: "独山港镇、广陈镇群众反映交界区域夜间异味和河道水质变差，跨界投诉多、处理慢。",
        source: "liaison-station",
        source_detail: "独山港镇“独山港+金山卫”毗邻联动民情站",
        urgency: "emergency",
        category: "livelihood",
        date: "2025-01-08",
    },
    merged: Topic {
        title: "广陈镇与廊下镇交界河道保洁责任不清",
        summary: "交界河道漂浮物无人打捞，两镇保洁范围不明。",
        source: "grassroots-visit",
        source_detail: "广陈镇政协联络室走访山塘村",
        urgency: "routine",
        category: "livelihood",
        date: "2025-01-15",
    },
    rejected: Topic {
        title: "某村民与化工企业环境污染损害赔偿纠纷",
        summary: "村民要求企业赔偿鱼塘损失。",
        source: "online",
        source_detail: "网络征题",
        urgency: "routine",
        category: "livelihood",
        date: "2025-01-20",
    },
    reason: "litigation",
    reason_text: "已进入诉讼程序，涉法涉诉，不宜作为协商议题。",
    screened_on: "2025-02-10",
    preselection: (
        "2025-02-20",
        "市政协主席会议预选“长三角区域污染防治协作机制落实情况”为 2025 年跨区域联动协商议题，建议与金山区政协联合开展。",
    ),
};

pub(super) const JINSHAN_LEDGER: Ledger = Ledger {
    kept: Topic {
        title: "长三角区域污染防治协作机制落实情况",
        summary: "区委交办：围绕交界区域水、气、固废污染防治，检视与平湖方面协作机制的落实。",
        source: "party-government",
        source_detail: "中共金山区委交办",
        urgency: "routine",
        category: "major-decision",
        date: "2025-01-10",
    },
    merged: Topic {
        title: "金山卫镇与独山港镇交界区域夜间异味投诉",
        summary: "委员反映交界区域夜间异味投诉集中。",
        source: "member",
        source_detail: "区政协委员",
        urgency: "emergency",
        category: "livelihood",
        date: "2025-01-12",
    },
    rejected: Topic {
        title: "某企业排污问题信访复查",
        summary: "信访人对处理结果不服，申请复查。",
        source: "member-recommended",
        source_detail: "委员荐题",
        urgency: "routine",
        category: "livelihood",
        date: "2025-01-16",
    },
    reason: "petition",
    reason_text: "已纳入信访程序办理。",
    screened_on: "2025-02-12",
    preselection: (
        "2025-02-25",
        "区政协主席会议同意与平湖市政协就长三角区域污染防治协作机制落实情况开展联动协商和联动民主监督。",
    ),
};

pub(super) const AGENDA_TITLE: &str = "长三角区域污染防治协作机制落实情况联动协商";
pub(super) const AGENDA_SUMMARY: &str = "平湖市政协与金山区政协按照“协商统筹、责任共担、信息共享、联防联控”的原则，就交界区域水环境、大气环境、固体废物污染防治开展联动协商和联动民主监督。";

/// The first round: confirmation by the joint secretaries-general meeting and the plan.
pub(super) const ROUND_ONE: [(&str, &str); 8] = [
    ("confirmed_on", "2025-03-05"),
    ("confirmation", "平湖、金山两地政协秘书长工作会议确认以“长三角区域污染防治协作机制落实情况”为 2025 年联动协商主题，第一轮由平湖市政协承办。"),
    ("research", "2025 年 3 月至 4 月，两地政协组织委员分三组赴独山港镇、金山卫镇、广陈镇、廊下镇交界河道和化工园区周边联合调研，走访企业 12 家、村（社区）9 个，形成联合调研报告。"),
    ("participants", "两地政协委员 34 名；两地生态环境、水务（水利）、综合执法、应急管理部门负责人；上海化学工业区、独山港经济开发区管委会；第三方专家 4 名（环境监测、环境法、化工安全）；群众代表 6 名。"),
    ("form", "hearing"),
    ("date", "2025-04-22"),
    ("place", "平湖市独山港镇浙沪毗邻联动民情站"),
    ("notice", "2025 年 4 月 8 日向全体参加人员书面通报协商议题、联合调研报告和议程。"),
];

/// The first round's meeting: date, place, form, minutes, attendance.
pub(super) const MEETING_ONE: [(&str, &str); 5] = [
    ("date", "2025-04-22"),
    ("place", "平湖市独山港镇浙沪毗邻联动民情站"),
    ("form", "hearing"),
    ("minutes", "会议由平湖市政协主持。两地生态环境部门通报交界区域污染防治协作情况；委员、专家和群众代表围绕跨界河道治理、联合监测、联合执法、信息共享、应急联动和新建项目评审发言，共提出意见建议 43 条。关于新建化工项目“一票否决”的建议存在较大分歧，提交两地政协主席联席会议研究。"),
    ("attendance", "平湖市政协委员 18 名，金山区政协委员 16 名，两地政府部门负责人 9 名，第三方专家 4 名，群众代表 6 名。"),
];

pub(super) const OUTCOME_TITLE: &str = "关于深化平湖金山交界区域污染联防联治的联合协商意见";

/// The joint opinion's text over the chosen suggestions, numbered.
pub(super) fn outcome_text(total: usize) -> String {
    let mut text = format!(
        "平湖市政协、金山区政协于 2025 年 4 月 22 日在平湖市独山港镇联合召开“长三角区域污染防治协作机制落实情况”联动协商民主评议会，围绕交界区域水环境、大气环境和固体废物污染联防联治提出意见建议 {total} 条。经两地政协主席联席会议研究，形成联合协商意见如下：\n"
    );
    for (n, &i) in CHOSEN.iter().enumerate() {
        text.push_str(&format!("{}、{}\n", ordinal(n + 1), SUGGESTIONS[i].text));
    }
    text.push_str("两地政协将对上述意见的办理落实情况开展联动民主监督，并于 2026 年开展再协商。");
    text
}

/// The second round, a year later, hosted by 金山区政协 (hosting rotates).
pub(super) const ROUND_TWO_PLAN: [(&str, &str); 8] = [
    ("confirmed_on", "2026-03-12"),
    (
        "confirmation",
        "两地政协秘书长工作会议确认就联合协商意见落实情况开展再协商，第二轮由金山区政协承办。",
    ),
    (
        "research",
        "2026 年 3 月，两地委员对照联合协商意见逐条核查落实情况，听取承办单位汇报。",
    ),
    (
        "participants",
        "两地政协委员 28 名；承办单位负责人 11 名；第三方专家 3 名；群众代表 4 名。",
    ),
    ("form", "symposium"),
    ("date", "2026-04-23"),
    ("place", "金山区金山卫镇浙沪毗邻联动民情站"),
    (
        "notice",
        "2026 年 4 月 9 日向全体参加人员通报落实情况汇总和议程。",
    ),
];

pub(super) const MEETING_TWO: [(&str, &str); 5] = [
    ("date", "2026-04-23"),
    ("place", "金山区金山卫镇浙沪毗邻联动民情站"),
    ("form", "symposium"),
    ("minutes", "再协商会议由金山区政协主持。承办单位逐条通报联合协商意见落实情况，委员对照“提”与“落”发言，对未落实事项提出后续建议，承办单位对原建议提出修正意见。"),
    ("attendance", "两地政协委员 28 名，承办单位负责人 11 名，第三方专家 3 名，群众代表 4 名。"),
];

/// Where the item not adopted goes: next year's inspection plan.
pub(super) const CARRY_NOTE: &str = "列入金山区政协 2026 年专题视察计划。";
pub(super) const PLAN_2026_TITLE: &str = "专题视察：上海化学工业区周边生态隔离带建设";
