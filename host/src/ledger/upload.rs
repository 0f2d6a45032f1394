//! R11 batch upload \[批上送\] (R19): the terminal's journal in one body, or in chunks that the
//! host keeps (`upload_chunks`, migration 0019) until the last one comes; then reconciled once,
//! the same way whichever it was.

use super::settlement::{no_batch, reconcile};
use super::{fingerprint, Answer, Session};
use crate::db::{BatchState, Scope, Tx};
use crate::error::{ApiError, ApiResult};
use crate::store::Store;
use softpos::error::ErrorCode;
use softpos::ids::BatchNo;
use softpos::protocol::{BatchTotals, JournalEntry, UploadProgress, UploadRequest};
use softpos::terminal::journal::{genesis_hash, verify_links};
use softpos::terminal::MAX_BATCH_ENTRIES;

/// What a chunk left: the host holds this many entries, or now the whole journal.
enum Taken {
    Received(u32),
    Whole(Vec<JournalEntry>),
}

/// A body of the upload, checked: where it starts in the journal, whether more follow, the
/// hash it ends on, and its R9 fingerprint.
struct Body {
    from: u32,
    more: bool,
    last: String,
    fp: String,
}

/// R19 on the body's own links (the first chunk's from the batch's genesis, a later one's from
/// its first entry: its link to the chunk before is checked against what the host holds), then
/// R9's fingerprint.
fn check(s: &Session, batch_no: u32, req: &UploadRequest) -> ApiResult<Body> {
    let genesis = genesis_hash(&s.terminal.merchant_id, &s.terminal.terminal_id, batch_no);
    let from = req.from.unwrap_or(0);
    let more = req.more.unwrap_or(false);
    let end = u32::try_from(req.entries.len())
        .ok()
        .and_then(|n| n.checked_add(from))
        // The most entries a journal can have: the terminal's largest `maxBatchEntries` (R11).
        .filter(|end| *end <= MAX_BATCH_ENTRIES)
        .ok_or_else(|| {
            ApiError::bad_request(format_args!(
                "a batch journal holds at most {MAX_BATCH_ENTRIES} entries"
            ))
        })?;
    let first_prev = match req.entries.first() {
        Some(e) if from > 0 => e.prev_hash.as_str(),
        None if from > 0 || more => {
            return Err(ApiError::bad_request(
                "a chunk of the journal carries at least one entry",
            ))
        }
        _ => genesis.as_str(),
    };
    verify_links(first_prev, from, &req.entries)?;
    // R9 on a verified chain (R19): its last hash covers every entry before it, so the request
    // id, the journal's length and that hash identify the journal without hashing it again,
    // however it was cut into chunks.
    let last = req.entries.last().map_or(genesis.as_str(), |e| &e.hash);
    let fp = fingerprint(&(batch_no, &req.request_id, end as usize, last))?;
    Ok(Body {
        from,
        more,
        last: last.to_owned(),
        fp,
    })
}

impl Store {
    /// `POST /v1/settlements/{batch_no}/upload` (R11, R19).
    pub async fn upload(
        &self,
        s: &Session,
        batch_no: u32,
        req: &UploadRequest,
    ) -> ApiResult<Answer> {
        let terminal = s.terminal.key();
        let body = check(s, batch_no, req)?;
        if !body.more {
            if let Some(a) = self
                .stored_answer(terminal, Scope::Upload, &req.request_id, &body.fp)
                .await?
            {
                return Ok(a);
            }
        }
        let mut tx = self.begin().await?;
        let open = tx.open_batch(terminal).await?;
        // A number out of range in the path names no batch, as an unknown one does.
        let batch = match BatchNo::try_from(batch_no) {
            Ok(n) => tx.batch_by_no(terminal, n).await?,
            Err(_) => None,
        }
        .ok_or_else(|| no_batch(batch_no))?;
        let merchant = terminal.merchant_id;
        let (terminal_totals, upload_answer) = tx.upload_state(merchant, batch.id).await?;
        let answer = if let Some(body) = upload_answer {
            // Answered already: that answer stands, for a chunk too.
            Answer { status: 200, body }
        } else if batch.status != BatchState::AwaitingUpload {
            return Err(ApiError::bad_request(format_args!(
                "batch {batch_no} is not waiting for an upload"
            )));
        } else {
            let chunk = body.from > 0 || body.more;
            let taken = if chunk {
                match take_chunk(&mut tx, merchant, batch.id, req, &body).await? {
                    Taken::Received(received) => {
                        tx.commit().await?;
                        let batch_no = batch.batch_no;
                        return Answer::ok(&UploadProgress { batch_no, received });
                    }
                    Taken::Whole(entries) => Some(entries),
                }
            } else {
                None
            };
            let terminal_totals: BatchTotals =
                serde_json::from_str(&terminal_totals.unwrap_or_default())
                    .map_err(ApiError::internal)?;
            let journal = taken.as_deref().unwrap_or(&req.entries);
            let answer =
                reconcile(&mut tx, s, journal, &batch, &terminal_totals, open.batch_no).await?;
            tx.drop_chunks(merchant, batch.id).await?;
            answer
        };
        if !body.more {
            let stored = answer.stored(&body.fp);
            tx.store_batch_answer(terminal, Scope::Upload, &req.request_id, &stored, batch.id)
                .await?;
        }
        tx.commit().await?;
        Ok(answer)
    }
}

/// A chunk of a batch awaiting its upload (R11): kept when it goes on from what the host holds,
/// acknowledged when it repeats a chunk held, ignored when it starts elsewhere (the answer says
/// where to go on); the last one gives the whole journal.
async fn take_chunk(
    tx: &mut Tx,
    merchant: &str,
    batch_id: i64,
    req: &UploadRequest,
    body: &Body,
) -> ApiResult<Taken> {
    let from = body.from;
    let mut held = tx.staged_chunks(merchant, batch_id).await?;
    if held.iter().any(|c| c.request_id != req.request_id.as_str()) {
        // Chunks of another upload of this batch, never finished: this upload replaces it.
        tx.drop_chunks(merchant, batch_id).await?;
        held.clear();
    }
    let received = held.last().map_or(0, |c| c.first_index + c.entry_count);
    // Bounded by MAX_BATCH_ENTRIES above.
    let count = req.entries.len() as u32;
    if from != received {
        if let Some(c) = held.iter().find(|c| c.first_index == from) {
            if c.entry_count != count || c.last_hash != body.last {
                return Err(ApiError::bad_request(format_args!(
                    "entries from {from} on differ from those received: the journal changed"
                )));
            }
        }
        return Ok(Taken::Received(received));
    }
    if let (Some(c), Some(first)) = (held.last(), req.entries.first()) {
        if first.prev_hash != c.last_hash {
            return Err(ApiError::detail(
                ErrorCode::JournalTampered,
                format_args!("the chain breaks at entry {}", from + 1),
            ));
        }
    }
    if body.more {
        tx.stage_chunk(merchant, batch_id, &req.request_id, from, &req.entries)
            .await?;
        return Ok(Taken::Received(from + count));
    }
    let mut whole = tx.staged_entries(merchant, batch_id).await?;
    whole.extend(req.entries.iter().cloned());
    Ok(Taken::Whole(whole))
}
