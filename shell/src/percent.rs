//! How far along an operation is: a percentage kept exactly as the caller
//! gave it.

use std::fmt;
use std::hash::{Hash, Hasher};

/// A progress percentage, kept bit for bit as given (`12.5` stays `12.5`;
/// a runtime that reports `f32` percentages loses nothing; through a
/// journal, every `NaN` comes back as the standard one). Two percentages
/// are equal when their bits are, so every value, `NaN` included, equals
/// itself and hashes alike, as the machine's payloads must.
///
/// ```
/// use oplife_shell::Percent;
///
/// assert_eq!(Percent::from(50).get(), 50.0);
/// assert_eq!(Percent::new(12.5), Percent::new(12.5));
/// assert_eq!(Percent::new(f32::NAN), Percent::new(f32::NAN));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Percent(f32);

impl Percent {
    /// The percentage `value`, as given.
    pub const fn new(value: f32) -> Self {
        Percent(value)
    }

    /// The percentage as given.
    pub const fn get(self) -> f32 {
        self.0
    }
}

impl From<u8> for Percent {
    fn from(value: u8) -> Self {
        Percent(f32::from(value))
    }
}

impl From<f32> for Percent {
    fn from(value: f32) -> Self {
        Percent(value)
    }
}

impl PartialEq for Percent {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Percent {}

impl Hash for Percent {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// A finite percentage is a JSON number (a journal written when
/// percentages were whole numbers reads back unchanged); `NaN` and the
/// infinities, which JSON numbers cannot hold, are the strings `"NaN"`,
/// `"inf"` and `"-inf"`.
#[cfg(feature = "serde")]
mod serde_impl {
    use super::Percent;

    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(untagged)]
    enum Written<'a> {
        Number(f32),
        Text(std::borrow::Cow<'a, str>),
    }

    impl serde::Serialize for Percent {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let value = self.0;
            let written = if value.is_finite() {
                Written::Number(value)
            } else if value.is_nan() {
                Written::Text("NaN".into())
            } else if value > 0.0 {
                Written::Text("inf".into())
            } else {
                Written::Text("-inf".into())
            };
            written.serialize(serializer)
        }
    }

    impl<'de> serde::Deserialize<'de> for Percent {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            match Written::deserialize(deserializer)? {
                Written::Number(value) => Ok(Percent(value)),
                Written::Text(text) => match &*text {
                    "NaN" => Ok(Percent(f32::NAN)),
                    "inf" => Ok(Percent(f32::INFINITY)),
                    "-inf" => Ok(Percent(f32::NEG_INFINITY)),
                    other => Err(serde::de::Error::custom(format!("not a percentage: {other:?}"))),
                },
            }
        }
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::Percent;

    #[test]
    fn every_percentage_reads_back_bit_for_bit() {
        for value in [0.0, 12.5, 100.0, -0.0, f32::MIN_POSITIVE, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let json = serde_json::to_string(&Percent::new(value)).unwrap();
            let back: Percent = serde_json::from_str(&json).unwrap();
            assert_eq!(back.get().to_bits(), value.to_bits(), "{json}");
        }
        let whole: Percent = serde_json::from_str("50").unwrap();
        assert_eq!(whole, Percent::from(50));
        assert!(serde_json::from_str::<Percent>("\"half\"").is_err());
    }
}
