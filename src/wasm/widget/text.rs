//! Every word the widget shows, in Chinese and English: one table, one line per text. A
//! refusal's reason is the contract's message for its code (src/error.rs).

use crate::error::Error;
use crate::terminal::card::Scheme;

/// The operator's language.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Locale {
    Zh,
    En,
}

impl Locale {
    /// From `mountWidget`'s `locale` option: English when asked, Chinese otherwise.
    pub(super) fn parse(locale: Option<&str>) -> Locale {
        match locale {
            Some("en") => Locale::En,
            _ => Locale::Zh,
        }
    }

    /// The HTML `lang` of the widget's root.
    pub(super) fn lang(self) -> &'static str {
        match self {
            Locale::Zh => "zh-CN",
            Locale::En => "en",
        }
    }
}

macro_rules! texts {
    ($($key:ident => $zh:literal, $en:literal;)*) => {
        /// A text of the widget, named by its key in the table below.
        #[derive(Clone, Copy, PartialEq, Eq)]
        #[allow(non_camel_case_types)]
        pub(super) enum T { $($key),* }
        /// A text in a language.
        pub(super) fn tr(locale: Locale, key: T) -> &'static str {
            match (locale, key) {
                $((Locale::Zh, T::$key) => $zh, (Locale::En, T::$key) => $en,)*
            }
        }
    };
}

texts! {
    unactivated => "未激活", "Not activated";
    signed_off => "未签到", "Signed off";
    signed_in => "已签到", "Signed in";
    busy => "处理中", "Working";
    activate_title => "激活终端", "Activate this terminal";
    activation_code => "激活码", "Activation code";
    activate => "激活", "Activate";
    sign_in_title => "操作员签到", "Operator sign-in";
    operator => "操作员", "Operator";
    password => "密码", "Password";
    sign_in => "签到", "Sign in";
    sale => "消费", "Sale";
    journal => "流水", "Journal";
    refund => "退货", "Refund";
    totals => "汇总", "Totals";
    settle => "结算", "Settle";
    sign_off => "签退", "Sign off";
    amount => "金额", "Amount";
    card_number => "卡号", "Card number";
    expiry => "有效期", "Expiry";
    charge => "收款", "Charge";
    pay => "支付", "Pay";
    card_ok => "卡号有效", "Card number valid";
    card_bad => "卡号无效", "Card number not valid";
    expiry_ok => "有效期有效", "Expiry valid";
    expiry_bad => "有效期无效（MM/YY）", "Expiry not valid (MM/YY)";
    approved => "交易成功", "Approved";
    declined => "交易拒绝", "Declined";
    trace => "流水号", "Trace";
    time => "时间", "Time";
    batch => "批次", "Batch";
    rrn => "参考号", "RRN";
    auth_code => "授权码", "Auth code";
    card => "卡号", "Card";
    kind => "类型", "Type";
    status => "状态", "Status";
    void => "撤销", "Void";
    preauth => "预授权", "Pre-authorisation";
    preauth_void => "预授权撤销", "Pre-authorisation void";
    completion => "预授权完成", "Completion";
    completion_void => "预授权完成撤销", "Completion void";
    preauth_tab => "预授权", "Pre-auth";
    preauth_rrn => "原预授权参考号", "RRN of the pre-authorisation";
    preauth_auth_code => "原预授权授权码", "Auth code of the pre-authorisation";
    held_amount => "预授权金额", "Amount held";
    completion_amount => "完成金额", "Completion amount";
    completion_hint => "不超过预授权金额的115%", "At most 115 % of the amount held";
    completion_trace => "原完成交易流水号", "Trace of the completion";
    lost_preauth => "主机无应答：本笔预授权将自动冲正，顾客资金不会被冻结", "No answer from the host: the pre-authorisation will be reversed automatically; nothing stays held on the card";
    supervisor_password => "主管密码", "Supervisor password";
    confirm => "确认", "Confirm";
    cancel => "取消", "Cancel";
    close => "关闭", "Close";
    count => "笔数", "Count";
    net => "净额", "Net";
    domestic_cards => "内卡", "Domestic cards (UnionPay)";
    foreign_cards => "外卡", "Foreign cards";
    print => "打印", "Print";
    empty_journal => "本批次暂无交易", "No transactions in this batch yet";
    x_report => "本批次汇总", "Batch totals (X report)";
    slip => "结算单", "Settlement slip";
    balanced => "对账平", "Balanced";
    unbalanced => "对账不平", "Unbalanced";
    terminal_side => "终端", "Terminal";
    host_side => "主机", "Host";
    discrepancies => "差错明细", "Discrepancies";
    missing_on_terminal => "终端无此笔", "Missing on the terminal";
    missing_on_host => "主机无此笔", "Missing on the host";
    amount_mismatch => "金额不符", "Amount differs";
    status_mismatch => "状态不符", "Status differs";
    next_batch => "新批次", "Next batch";
    acquirer_balanced => "收单行对账：平", "Acquirer: balanced";
    acquirer_unbalanced => "收单行对账：不平", "Acquirer: unbalanced";
    acquirer_error => "收单行对账：失败", "Acquirer: failed";
    acquirer_pending => "收单行对账：待确认", "Acquirer: pending";
    pending_reversals => "待冲正", "Reversals pending";
    processing => "处理中，请稍候…", "Processing, please wait…";
    recovery_not_signed_off => "上次营业未签退", "The last session was never signed off";
    recovery_not_settled => "有未结算的批次", "A batch was left unsettled";
    step_sign_in => "签到", "Sign in";
    step_review => "核对汇总", "Review the totals";
    step_settle => "结算", "Settle";
    step_sign_off => "签退", "Sign off";
    checkout_total => "应付金额", "Amount due";
    order => "订单号", "Order";
    checkout_not_ready => "收银台暂未就绪：商户尚未签到", "Checkout is not ready: the merchant has not signed in";
    paid => "支付成功", "Payment approved";
    not_paid => "支付未成功", "Payment declined";
    try_again => "换卡重试", "Try another card";
    signed_off_done => "已签退", "Signed off";
    activated_done => "终端已激活，请签到", "Terminal activated; please sign in";
    voided => "已撤销", "Voided";
    reversed => "已冲正", "Reversed";
    not_reversed => "未冲正，原交易有效", "Not reversed; the transaction stands";
    unknown => "结果未知", "Unknown";
    keypad => "数字键盘", "Keypad";
    clear => "清除", "Clear";
    lost_sale => "主机无应答：本笔交易将自动冲正，顾客不会被扣款", "No answer from the host: the sale will be reversed automatically; the customer is not charged";
    lost_other => "主机无应答：本笔交易将自动冲正，原交易不变", "No answer from the host: this will be reversed automatically; the original sale is unchanged";
    reversal_still_pending => "冲正尚未完成，正在重试；本笔交易未发送", "A reversal is still pending, trying again; this transaction was not sent";
    unreachable => "无法连接主机：未发送任何交易，请检查网络后重试", "The host cannot be reached: nothing was sent. Check the connection and try again";
    settlement_unanswered => "主机未应答结算：下次操作前将先完成本次结算，不会重复结算", "The host did not answer the settlement: it is finished first next time, never twice";
    bad_activation_code => "激活码错误或已使用", "Wrong or already used activation code";
    wrong_supervisor => "主管密码错误", "Wrong supervisor password";
    enter_supervisor => "请输入主管密码", "Enter the supervisor password";
    unknown_response => "未知应答码", "Unknown response code";
    confirm_amount_title => "请确认金额", "Confirm the amount";
    confirm_charge => "确认收款", "Charge this amount";
    amount_in_words => "大写金额", "In words";
    find_sale => "查找原交易", "Find the sale";
    find_hint => "凭证号、参考号或卡号后四位", "Trace, RRN or the card's last 4 digits";
    find => "查找", "Find";
    this_batch => "本批次", "This batch";
    history => "历史交易", "Earlier batches";
    no_match => "没有符合的交易", "No matching sale";
    refundable => "可退金额", "Refundable";
    change_sale => "重新选择", "Choose another sale";
    refund_amount => "退货金额", "Refund amount";
    query_tab => "查询", "Query";
    query_label => "查询交易", "Find a transaction";
    query_hint => "凭证号、参考号、金额（如 12.50）或卡号后四位", "Trace, RRN, amount (like 12.50) or the card's last 4 digits";
    query_bad => "请输入凭证号、12 位参考号、金额或卡号后四位", "Enter a trace number, a 12-digit RRN, an amount or the card's last 4 digits";
    complete => "完成", "Complete";
    slip_title => "签购单", "Card slip";
    merchant_copy => "商户存根 MERCHANT COPY", "MERCHANT COPY";
    cardholder_copy => "持卡人存根 CARDHOLDER COPY", "CARDHOLDER COPY";
    reprint_mark => "重打印 REPRINT", "REPRINT";
    merchant_name => "商户名称", "Merchant";
    merchant_id => "商户编号", "Merchant ID";
    terminal_id => "终端编号", "Terminal ID";
    scheme => "发卡组织", "Card scheme";
    voucher => "凭证号", "Trace no.";
    date_time => "日期时间", "Date/time";
    original_trace => "原凭证号", "Original trace";
    original_rrn => "原参考号", "Original RRN";
    signature => "持卡人签名", "Cardholder signature";
    acknowledge => "本人确认以上交易，同意将其记入本卡账户", "I acknowledge the transaction above and agree to its being charged to my card";
    printed_at => "打印时间", "Printed";
    business_date => "营业日", "Business date";
    discrepancy_count => "差错笔数", "Discrepancies";
    reprint => "重打印", "Reprint";
    reprint_hint => "凭证号（空为最后一笔）", "Trace no. (empty: the last one)";
    no_slip => "本批次没有这笔交易", "No such transaction in this batch";
    z_history => "结算历史", "Settled batches (Z reports)";
    no_history => "暂无结算记录", "No settled batches yet";
    history_unreachable => "主机暂不可达，仅显示本机保存的记录", "The host cannot be reached: showing what this browser kept";
    unionpay => "银联", "UnionPay";
    amex => "美国运通", "American Express";
    other_scheme => "其他", "Other";
    open_elsewhere => "此终端已在另一个标签页或窗口中打开，请先在那里关闭，再刷新本页", "This terminal is open in another tab or window; close it there, then reload this page";
}

/// Why the terminal refused, in the operator's language.
pub(super) fn error_text(locale: Locale, e: &Error) -> String {
    match locale {
        Locale::Zh => e.code.message_zh().to_owned(),
        // The host's English may carry a detail (seconds of a lock, what is left to refund).
        Locale::En if e.message.is_empty() => e.code.message_en().to_owned(),
        Locale::En => e.message.clone(),
    }
}

/// A response code's meaning in the operator's language, from the terminal's own table: the
/// host's text is English and may be an acquirer's.
pub(super) fn response_text(locale: Locale, code: &str) -> &'static str {
    crate::terminal::response::response_text(code, locale == Locale::Zh)
        .unwrap_or_else(|| tr(locale, T::unknown_response))
}

/// The name of a transaction's kind (its wire name, `sale`, `void` …) in the operator's
/// language, on screen and on slips (R21): one line per kind. An unknown kind shows as its
/// wire name.
pub(super) fn kind_name(locale: Locale, kind: &str) -> &str {
    const KINDS: &[(&str, &str, &str)] = &[
        ("sale", "消费", "Sale"),
        ("void", "撤销", "Void"),
        ("refund", "退货", "Refund"),
        ("reversal", "冲正", "Reversal"),
        ("preauth", "预授权", "Pre-authorisation"),
        ("preauth_void", "预授权撤销", "Pre-authorisation void"),
        ("completion", "预授权完成", "Pre-authorisation completion"),
        ("completion_void", "预授权完成撤销", "Completion void"),
    ];
    KINDS
        .iter()
        .find(|(wire, _, _)| *wire == kind)
        .map_or(kind, |(_, zh, en)| match locale {
            Locale::Zh => zh,
            Locale::En => en,
        })
}

/// A card scheme's name as the slip and the card field's hint say it (银联 in Chinese).
pub(super) fn scheme_name(locale: Locale, scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::UnionPay => tr(locale, T::unionpay),
        Scheme::Visa => "Visa",
        Scheme::Mastercard => "Mastercard",
        Scheme::Amex => tr(locale, T::amex),
        Scheme::Jcb => "JCB",
        Scheme::Other => tr(locale, T::other_scheme),
    }
}
