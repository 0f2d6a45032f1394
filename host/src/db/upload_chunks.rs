//! R11: the chunks of a batch upload received so far (`upload_chunks`, migration 0019).

use super::{bad_row, Tx};
use crate::error::{ApiError, ApiResult};
use softpos::ids::RequestId;
use softpos::protocol::JournalEntry;
use sqlx::Row;

/// A chunk the host holds: where it starts, how many entries, and the hash it ends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedChunk {
    /// The upload's request id.
    pub request_id: String,
    /// Position of its first entry in the journal (0-based).
    pub first_index: u32,
    /// Its entries.
    pub entry_count: u32,
    /// Its last entry's hash.
    pub last_hash: String,
}

fn index(row: &sqlx::any::AnyRow, column: &'static str) -> ApiResult<u32> {
    let n: i64 = row.try_get(column)?;
    u32::try_from(n).map_err(|_| bad_row(column, &n.to_string()))
}

impl Tx {
    /// The chunks held for a batch, in journal order.
    pub async fn staged_chunks(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
    ) -> ApiResult<Vec<StagedChunk>> {
        let rows = sqlx::query(
            "SELECT request_id, first_index, entry_count, last_hash FROM upload_chunks \
             WHERE merchant_id = $1 AND batch_id = $2 ORDER BY first_index",
        )
        .bind(merchant_id)
        .bind(batch_id)
        .fetch_all(&mut **self)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StagedChunk {
                    request_id: row.try_get("request_id")?,
                    first_index: index(row, "first_index")?,
                    entry_count: index(row, "entry_count")?,
                    last_hash: row.try_get("last_hash")?,
                })
            })
            .collect()
    }

    /// Keeps a chunk whose chain and link were checked (R19).
    pub async fn stage_chunk(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
        request_id: &RequestId,
        first_index: u32,
        entries: &[JournalEntry],
    ) -> ApiResult<()> {
        let last_hash = entries.last().map_or("", |e| e.hash.as_str());
        let count = i64::try_from(entries.len()).map_err(ApiError::internal)?;
        sqlx::query(
            "INSERT INTO upload_chunks (merchant_id, batch_id, request_id, first_index, \
             entry_count, last_hash, entries) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(merchant_id)
        .bind(batch_id)
        .bind(request_id.as_str())
        .bind(i64::from(first_index))
        .bind(count)
        .bind(last_hash)
        .bind(serde_json::to_string(entries).map_err(ApiError::internal)?)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Every entry held for a batch, in journal order.
    pub async fn staged_entries(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
    ) -> ApiResult<Vec<JournalEntry>> {
        let rows = sqlx::query(
            "SELECT entries FROM upload_chunks WHERE merchant_id = $1 AND batch_id = $2 \
             ORDER BY first_index",
        )
        .bind(merchant_id)
        .bind(batch_id)
        .fetch_all(&mut **self)
        .await?;
        let mut all = Vec::new();
        for row in rows {
            let text: String = row.try_get("entries")?;
            let chunk: Vec<JournalEntry> =
                serde_json::from_str(&text).map_err(|_| bad_row("upload_chunks.entries", ""))?;
            all.extend(chunk);
        }
        Ok(all)
    }

    /// Drops what is held for a batch: its upload was answered, or started again.
    pub async fn drop_chunks(&mut self, merchant_id: &str, batch_id: i64) -> ApiResult<()> {
        sqlx::query("DELETE FROM upload_chunks WHERE merchant_id = $1 AND batch_id = $2")
            .bind(merchant_id)
            .bind(batch_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }
}
