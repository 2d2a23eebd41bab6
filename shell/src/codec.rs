//! The one byte format of everything the registry stores (feature
//! `serde`): snapshots, journal records and compacted images. A value is
//! JSON behind a frame: the body's length (4 bytes) and its FNV-1a 64-bit
//! checksum (8 bytes), both little-endian. A cut-off frame is told apart
//! from an altered one: the length says the first, the checksum the second
//! (which detects accidental damage, not tampering).

use thiserror::Error;

/// Bytes of the frame before the body.
const FRAME: usize = 12;

/// Why bytes are not a value [`encode`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum CodecError {
    /// Fewer bytes than the frame says (or than a frame).
    #[error("cut short: {have} bytes, the frame says {need}")]
    CutShort { have: usize, need: usize },
    /// More bytes than the frame says.
    #[error("{extra} bytes after the end the frame says")]
    Trailing { extra: usize },
    /// The body does not match its checksum.
    #[error("checksum mismatch")]
    Altered,
    /// The body is not the JSON of the value (or the value cannot be
    /// written as JSON).
    #[error("{0}")]
    Json(String),
}

/// FNV-1a, 64 bits.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// `value` as JSON behind its frame.
pub(crate) fn encode<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    let body = serde_json::to_vec(value).map_err(|e| CodecError::Json(e.to_string()))?;
    let length = u32::try_from(body.len()).map_err(|_| CodecError::Json(format!("{} bytes", body.len())))?;
    let mut bytes = Vec::with_capacity(FRAME + body.len());
    bytes.extend_from_slice(&length.to_le_bytes());
    bytes.extend_from_slice(&checksum(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// The value [`encode`] wrote, or why `bytes` are not one.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let cut = |need| CodecError::CutShort { have: bytes.len(), need };
    let (frame, body) = bytes.split_at_checked(FRAME).ok_or(cut(FRAME))?;
    let (length, sum) = frame.split_at(4);
    let length = u32::from_le_bytes(length.try_into().map_err(|_| cut(FRAME))?) as usize;
    let sum = u64::from_le_bytes(sum.try_into().map_err(|_| cut(FRAME))?);
    match body.len().cmp(&length) {
        std::cmp::Ordering::Less => return Err(cut(FRAME + length)),
        std::cmp::Ordering::Greater => return Err(CodecError::Trailing { extra: body.len() - length }),
        std::cmp::Ordering::Equal => {}
    }
    if checksum(body) != sum {
        return Err(CodecError::Altered);
    }
    serde_json::from_slice(body).map_err(|e| CodecError::Json(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_comes_back_and_damage_is_named() {
        let bytes = encode(&vec![1u32, 2, 3]).unwrap_or_default();
        assert_eq!(decode::<Vec<u32>>(&bytes), Ok(vec![1, 2, 3]));
        assert_eq!(decode::<Vec<u32>>(&bytes[..5]), Err(CodecError::CutShort { have: 5, need: 12 }));
        assert_eq!(
            decode::<Vec<u32>>(&bytes[..bytes.len() - 1]),
            Err(CodecError::CutShort { have: bytes.len() - 1, need: bytes.len() })
        );
        let mut longer = bytes.clone();
        longer.push(b' ');
        assert_eq!(decode::<Vec<u32>>(&longer), Err(CodecError::Trailing { extra: 1 }));
        let mut altered = bytes.clone();
        if let Some(last) = altered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(decode::<Vec<u32>>(&altered), Err(CodecError::Altered));
        assert!(matches!(decode::<String>(&bytes), Err(CodecError::Json(_))));
    }
}
