//! Control numbers (ISA13, GS06, ST02) per partner, allocated inside the
//! caller's transaction: a rolled-back transaction gives its numbers back, a
//! committed one keeps them, so numbers are never reused and have no gaps.

use sqlx::{Any, Transaction};

use super::StoreError;

/// Largest ISA13 / GS06 (nine digits).
const MAX_CONTROL: i64 = 999_999_999;

/// Reserves `count` consecutive numbers of `kind` for `partner`; returns the first.
pub async fn allocate(tx: &mut Transaction<'_, Any>, partner: &str, kind: &str, count: i64) -> Result<i64, StoreError> {
    let (next,): (i64,) = sqlx::query_as(
        "INSERT INTO control_numbers (partner, kind, next_value) VALUES ($1, $2, 1 + $3) \
         ON CONFLICT (partner, kind) DO UPDATE SET next_value = control_numbers.next_value + $3 \
         RETURNING next_value",
    )
    .bind(partner)
    .bind(kind)
    .bind(count)
    .fetch_one(&mut **tx)
    .await?;
    let first = next - count;
    if next - 1 > MAX_CONTROL {
        return Err(StoreError::ControlNumbersExhausted {
            partner: partner.to_string(),
            kind: kind.to_string(),
        });
    }
    Ok(first)
}
