//! The composite fields of the UnionPay dialect: their sub-fields as values, and back to the digit
//! or character text the codec carries (docs/architecture.md, "The acquirer codec").

use std::fmt;

/// A composite field's text is not what its layout says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field.
    pub field: u8,
    /// What is wrong.
    pub reason: &'static str,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field {}: {}", self.field, self.reason)
    }
}

impl std::error::Error for FieldError {}

/// 60.1, the message kind of each operation.
pub mod kind {
    /// Management: sign-in, settlement, batch upload, sign-off, echo.
    pub const MANAGEMENT: u8 = 0;
    /// Pre-authorisation.
    pub const PREAUTH: u8 = 10;
    /// Pre-authorisation void.
    pub const PREAUTH_VOID: u8 = 11;
    /// Pre-authorisation completion.
    pub const COMPLETION: u8 = 20;
    /// Completion void.
    pub const COMPLETION_VOID: u8 = 21;
    /// Sale.
    pub const SALE: u8 = 22;
    /// Void of a sale.
    pub const VOID: u8 = 23;
    /// Refund.
    pub const REFUND: u8 = 25;
}

/// 60.3, the network management code of management messages.
pub mod network {
    /// Sign-off (0820).
    pub const SIGN_OFF: u16 = 2;
    /// Sign-in (0800).
    pub const SIGN_IN: u16 = 3;
    /// Settlement (0500) and each batch upload (0320).
    pub const SETTLEMENT: u16 = 201;
    /// The batch upload that closes an unbalanced settlement (0320).
    pub const UPLOAD_CLOSE: u16 = 202;
    /// Echo (0820).
    pub const ECHO: u16 = 301;
}

/// Appends `n` as exactly `width` digits.
fn put(out: &mut String, n: u64, width: usize, err: FieldError) -> Result<(), FieldError> {
    let digits = format!("{n:0width$}");
    if digits.len() != width {
        return Err(err);
    }
    out.push_str(&digits);
    Ok(())
}

/// Reads sub-fields off the front of a composite field's text.
struct Cursor<'a> {
    rest: &'a str,
    field: u8,
}

impl<'a> Cursor<'a> {
    fn err(&self, reason: &'static str) -> FieldError {
        FieldError {
            field: self.field,
            reason,
        }
    }

    fn digits(&mut self, width: usize, reason: &'static str) -> Result<&'a str, FieldError> {
        let (head, tail) = self.rest.split_at_checked(width).ok_or(self.err(reason))?;
        if !head.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(reason));
        }
        self.rest = tail;
        Ok(head)
    }

    fn num(&mut self, width: usize, reason: &'static str) -> Result<u64, FieldError> {
        let digits = self.digits(width, reason)?;
        digits.parse().map_err(|_| self.err(reason))
    }

    /// A number of `width` digits that fits `T` (every width used here fits its type).
    fn int<T: TryFrom<u64>>(
        &mut self,
        width: usize,
        reason: &'static str,
    ) -> Result<T, FieldError> {
        let n = self.num(width, reason)?;
        T::try_from(n).map_err(|_| self.err(reason))
    }

    fn end(&self) -> Result<(), FieldError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.err("longer than its sub-fields"))
        }
    }
}

/// Field 60: 60.1 message kind n2, 60.2 batch number n6, 60.3 network code n3 (management only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field60 {
    /// 60.1, see [`kind`].
    pub kind: u8,
    /// 60.2, the batch number.
    pub batch: u32,
    /// 60.3, see [`network`]; only management messages carry it.
    pub network: Option<u16>,
}

impl Field60 {
    /// The field's digits (8, or 11 with 60.3).
    pub fn to_text(&self) -> Result<String, FieldError> {
        let err = |reason| FieldError { field: 60, reason };
        let mut out = String::with_capacity(11);
        put(&mut out, self.kind.into(), 2, err("60.1 is 2 digits"))?;
        put(&mut out, self.batch.into(), 6, err("60.2 is 6 digits"))?;
        if let Some(network) = self.network {
            put(&mut out, network.into(), 3, err("60.3 is 3 digits"))?;
        }
        Ok(out)
    }

    /// The sub-fields of 8 or 11 digits.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let mut c = Cursor {
            rest: text,
            field: 60,
        };
        let kind = c.int(2, "60.1 is 2 digits")?;
        let batch = c.int(6, "60.2 is 6 digits")?;
        let network = if c.rest.is_empty() {
            None
        } else {
            Some(c.int(3, "60.3 is 3 digits")?)
        };
        c.end()?;
        Ok(Self {
            kind,
            batch,
            network,
        })
    }
}

/// Field 61, the original transaction: 61.1 batch n6, 61.2 trace n6, 61.3 date MMDD n4
/// (refunds only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field61 {
    /// 61.1, the original's batch number.
    pub batch: u32,
    /// 61.2, the original's trace number.
    pub trace: u32,
    /// 61.3, the original's date `MMDD` (the settlement date, field 15, of its answer).
    pub date: Option<String>,
}

impl Field61 {
    /// The field's digits (12, or 16 with 61.3).
    pub fn to_text(&self) -> Result<String, FieldError> {
        let err = |reason| FieldError { field: 61, reason };
        let mut out = String::with_capacity(16);
        put(&mut out, self.batch.into(), 6, err("61.1 is 6 digits"))?;
        put(&mut out, self.trace.into(), 6, err("61.2 is 6 digits"))?;
        if let Some(date) = &self.date {
            if date.len() != 4 || !date.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("61.3 is 4 digits"));
            }
            out.push_str(date);
        }
        Ok(out)
    }

    /// The sub-fields of 12 or 16 digits.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let mut c = Cursor {
            rest: text,
            field: 61,
        };
        let batch = c.int(6, "61.1 is 6 digits")?;
        let trace = c.int(6, "61.2 is 6 digits")?;
        let date = if c.rest.is_empty() {
            None
        } else {
            Some(c.digits(4, "61.3 is 4 digits")?.to_owned())
        };
        c.end()?;
        Ok(Self { batch, trace, date })
    }
}

/// Field 63 for an operator: 63.1, the operator id left-justified in 3 characters (`01 `).
pub fn operator_text(operator: &str) -> Result<String, FieldError> {
    if operator.is_empty()
        || operator.len() > 3
        || !operator.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(FieldError {
            field: 63,
            reason: "63.1 is 1 to 3 letters or digits",
        });
    }
    Ok(format!("{operator:<3}"))
}

/// The operator in field 63 (63.1 without its padding); whatever follows 63.1 is not read.
pub fn operator(text: &str) -> Result<&str, FieldError> {
    let err = FieldError {
        field: 63,
        reason: "63.1 is 3 characters",
    };
    let id = text.get(..3).ok_or(err.clone())?.trim_end_matches(' ');
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(err);
    }
    Ok(id)
}

/// The domestic half of field 48 in 0500 / 0510: what the batch holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Sales and completions less their voids, minor units (n12).
    pub debit_amount: u64,
    /// Their count (n3).
    pub debit_count: u16,
    /// Refunds, minor units (n12).
    pub credit_amount: u64,
    /// Their count (n3).
    pub credit_count: u16,
}

/// The acquirer's verdict on a settlement: the 31st digit of field 48 in 0510.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    /// `1`: the totals agree.
    Balanced,
    /// `2`: they do not; the batch upload follows.
    Unbalanced,
    /// `3`: the acquirer could not compare.
    Error,
}

/// Field 48 of a settlement: 62 digits. The totals (30 digits), then the verdict digit (`0` in
/// the 0500, see [`Balance`] in the 0510), then 31 digits of the unused foreign-card half.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// The domestic totals.
    pub totals: Totals,
    /// `None` in the request (digit `0`), the acquirer's verdict in the answer.
    pub balance: Option<Balance>,
}

impl Settlement {
    /// The 62 digits.
    pub fn to_text(&self) -> Result<String, FieldError> {
        let err = |reason| FieldError { field: 48, reason };
        let t = &self.totals;
        let mut out = String::with_capacity(62);
        put(
            &mut out,
            t.debit_amount,
            12,
            err("the debit amount is 12 digits"),
        )?;
        put(
            &mut out,
            t.debit_count.into(),
            3,
            err("the debit count is 3 digits"),
        )?;
        put(
            &mut out,
            t.credit_amount,
            12,
            err("the credit amount is 12 digits"),
        )?;
        put(
            &mut out,
            t.credit_count.into(),
            3,
            err("the credit count is 3 digits"),
        )?;
        out.push(match self.balance {
            None => '0',
            Some(Balance::Balanced) => '1',
            Some(Balance::Unbalanced) => '2',
            Some(Balance::Error) => '3',
        });
        out.push_str(&"0".repeat(31));
        Ok(out)
    }

    /// The totals and verdict of 62 digits; the foreign-card half is not read.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let mut c = Cursor {
            rest: text,
            field: 48,
        };
        let debit_amount = c.num(12, "the debit amount is 12 digits")?;
        let debit_count = c.int(3, "the debit count is 3 digits")?;
        let credit_amount = c.num(12, "the credit amount is 12 digits")?;
        let credit_count = c.int(3, "the credit count is 3 digits")?;
        let balance = match c.digits(1, "the verdict is 1 digit")? {
            "0" => None,
            "1" => Some(Balance::Balanced),
            "2" => Some(Balance::Unbalanced),
            "3" => Some(Balance::Error),
            _ => return Err(c.err("the verdict is 0, 1, 2 or 3")),
        };
        c.digits(31, "the foreign half is 31 digits")?;
        c.end()?;
        let totals = Totals {
            debit_amount,
            debit_count,
            credit_amount,
            credit_count,
        };
        Ok(Self { totals, balance })
    }
}

/// At most this many records go in one 0320.
pub const MAX_UPLOAD_RECORDS: usize = 8;

/// One transaction of a batch upload (no card data): the acquirer compares by trace and amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    /// Its 60.1 message kind, see [`kind`] (n2).
    pub kind: u8,
    /// Its trace number (n6).
    pub trace: u32,
    /// Its amount, minor units (n12).
    pub amount: u64,
    /// Its retrieval reference number, 12 digits.
    pub rrn: String,
}

/// Field 48 of a 0320: the record count n2, then 32 digits a record (at most 8; none, `00`, in
/// the closing 0320 of an upload).
pub fn upload_text(records: &[UploadRecord]) -> Result<String, FieldError> {
    let err = |reason| FieldError { field: 48, reason };
    if records.len() > MAX_UPLOAD_RECORDS {
        return Err(err("a batch upload holds at most 8 records"));
    }
    let mut out = String::with_capacity(2 + 32 * records.len());
    put(
        &mut out,
        records.len() as u64,
        2,
        err("the count is 2 digits"),
    )?;
    for r in records {
        put(
            &mut out,
            r.kind.into(),
            2,
            err("a record's kind is 2 digits"),
        )?;
        put(
            &mut out,
            r.trace.into(),
            6,
            err("a record's trace is 6 digits"),
        )?;
        put(
            &mut out,
            r.amount,
            12,
            err("a record's amount is 12 digits"),
        )?;
        if r.rrn.len() != 12 || !r.rrn.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("a record's RRN is 12 digits"));
        }
        out.push_str(&r.rrn);
    }
    Ok(out)
}

/// The records of a 0320's field 48.
pub fn parse_upload(text: &str) -> Result<Vec<UploadRecord>, FieldError> {
    let mut c = Cursor {
        rest: text,
        field: 48,
    };
    let count = c.num(2, "the count is 2 digits")?;
    if count > MAX_UPLOAD_RECORDS as u64 {
        return Err(c.err("a batch upload holds at most 8 records"));
    }
    let mut records = Vec::new();
    for _ in 0..count {
        let kind = c.int(2, "a record's kind is 2 digits")?;
        let trace = c.int(6, "a record's trace is 6 digits")?;
        let amount = c.num(12, "a record's amount is 12 digits")?;
        let rrn = c.digits(12, "a record's RRN is 12 digits")?.to_owned();
        records.push(UploadRecord {
            kind,
            trace,
            amount,
            rrn,
        });
    }
    c.end()?;
    Ok(records)
}
