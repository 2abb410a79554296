//! 997 / 999 received → [`FunctionalAck`].

use crate::model::{FunctionalAck, SetAck};
use crate::x12::ack::read_functional_ack;
use crate::x12::envelope::TransactionSet;

use super::MappingError;

/// Reads a 997 or 999.
pub fn read(set: &TransactionSet) -> Result<FunctionalAck, MappingError> {
    let a = read_functional_ack(set).ok_or_else(|| MappingError::Unsupported(set.id.clone()))?;
    if a.functional_id.is_empty() {
        return Err(MappingError::Missing("AK1"));
    }
    Ok(FunctionalAck {
        kind: a.kind,
        functional_id: a.functional_id,
        group_control_number: a.group_control_number,
        status: a.status,
        sets: a
            .sets
            .into_iter()
            .map(|s| SetAck {
                set_id: s.set_id,
                control_number: s.control_number,
                status: s.status,
                codes: s.codes,
            })
            .collect(),
        group_codes: a.group_codes,
    })
}
