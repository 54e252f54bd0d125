//! The conditions of a POST policy and their exact JSON shapes.

use std::fmt::Write as _;

use super::PolicyError;
use super::field::{FieldName, Operator};

/// The largest object a single POST upload may carry: 5 GiB.
pub const MAX_POST_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// The allowed size of the uploaded file, in bytes: `min ≤ max ≤ 5 GiB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentLengthRange {
    min: u64,
    max: u64,
}

impl ContentLengthRange {
    /// A range S3 can enforce, or an error saying which bound is wrong.
    pub fn new(min: u64, max: u64) -> Result<Self, PolicyError> {
        if max > MAX_POST_SIZE {
            return Err(PolicyError::SizeTooLarge { max });
        }
        if min > max {
            return Err(PolicyError::SizeRangeInverted { min, max });
        }
        Ok(ContentLengthRange { min, max })
    }

    /// Smallest accepted size in bytes.
    pub fn min(&self) -> u64 {
        self.min
    }

    /// Largest accepted size in bytes.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Whether a file of `size` bytes fits.
    pub fn contains(&self, size: u64) -> bool {
        (self.min..=self.max).contains(&size)
    }
}

/// A string that may stand in a policy condition on every store.
///
/// AWS wants `$` and `\` escaped in policy values while other S3-compatible stores compare values
/// literally, so no escaping is right everywhere: such values are refused instead (as are control
/// characters, which no field value needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyValue<'a>(&'a str);

impl<'a> PolicyValue<'a> {
    /// Accepts `value` if it holds no `$`, `\` or control character.
    pub fn parse(field: &FieldName<'_>, value: &'a str) -> Result<Self, PolicyError> {
        // Nearly every value is printable ASCII: checked a byte at a time, without decoding.
        let plain = |b: &u8| matches!(b, b' '..=b'~') && !matches!(b, b'$' | b'\\');
        if value.as_bytes().iter().all(plain) {
            return Ok(PolicyValue(value));
        }
        if let Some(c) = value
            .chars()
            .find(|c| matches!(c, '$' | '\\') || c.is_control())
        {
            return Err(PolicyError::ForbiddenCharacter {
                field: field.to_string(),
                character: c,
            });
        }
        Ok(PolicyValue(value))
    }

    /// The value as text.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// One entry of a policy's `conditions` array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition<'a> {
    /// `{"field": "value"}` (or `["starts-with", "$field", "prefix"]`).
    Match {
        /// The form field compared.
        field: FieldName<'a>,
        /// How it is compared.
        operator: Operator,
        /// The value (or prefix) it is compared with.
        value: PolicyValue<'a>,
    },
    /// `["content-length-range", min, max]`.
    ContentLengthRange(ContentLengthRange),
}

impl<'a> Condition<'a> {
    /// A condition on `field`, provided S3 accepts `operator` for it.
    pub fn new(
        field: FieldName<'a>,
        operator: Operator,
        value: PolicyValue<'a>,
    ) -> Result<Self, PolicyError> {
        if !field.allows(operator) {
            return Err(PolicyError::OperatorNotAllowed {
                field: field.to_string(),
                operator: operator.as_str(),
            });
        }
        Ok(Condition::Match {
            field,
            operator,
            value,
        })
    }
}

impl Condition<'_> {
    /// Appends the condition as S3 reads it: `{"field":"value"}`,
    /// `["starts-with","$field","prefix"]` or `["content-length-range",min,max]`.
    ///
    /// No general JSON escaper is needed: a field name is letters, digits, `-` and `_`
    /// ([`FieldName::parse`]) and a value holds no `\` and no control character
    /// ([`PolicyValue::parse`]), so `"` is the only character to escape.
    pub fn write_json(&self, json: &mut String) {
        match self {
            Condition::Match {
                field,
                operator: Operator::Eq,
                value,
            } => {
                json.push_str("{\"");
                json.push_str(field.as_str());
                json.push_str("\":");
                push_json_string(json, value.as_str());
                json.push('}');
            }
            Condition::Match {
                field,
                operator: Operator::StartsWith,
                value,
            } => {
                json.push_str("[\"starts-with\",\"$");
                json.push_str(field.as_str());
                json.push_str("\",");
                push_json_string(json, value.as_str());
                json.push(']');
            }
            Condition::ContentLengthRange(range) => {
                // Writing to a `String` cannot fail.
                let _ = write!(
                    json,
                    "[\"content-length-range\",{},{}]",
                    range.min, range.max
                );
            }
        }
    }
}

/// `value` as a JSON string, for a value [`PolicyValue::parse`] accepted (no `\`, no control
/// character): only its `"` are escaped.
fn push_json_string(json: &mut String, value: &str) {
    json.push('"');
    let mut parts = value.split('"');
    json.push_str(parts.next().unwrap_or_default());
    for part in parts {
        json.push_str("\\\"");
        json.push_str(part);
    }
    json.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> FieldName<'_> {
        FieldName::parse(name).unwrap()
    }

    fn value<'a>(f: &'a str, v: &'a str) -> PolicyValue<'a> {
        PolicyValue::parse(&field(f), v).unwrap()
    }

    fn json(condition: Condition<'_>) -> String {
        let mut json = String::new();
        condition.write_json(&mut json);
        json
    }

    #[test]
    fn conditions_are_written_in_s3_shapes() {
        let eq = Condition::new(field("bucket"), Operator::Eq, value("bucket", "b")).unwrap();
        let sw = Condition::new(field("key"), Operator::StartsWith, value("key", "u/")).unwrap();
        let range =
            Condition::ContentLengthRange(ContentLengthRange::new(1, MAX_POST_SIZE).unwrap());
        assert_eq!(json(eq), r#"{"bucket":"b"}"#);
        assert_eq!(json(sw), r#"["starts-with","$key","u/"]"#);
        assert_eq!(json(range), r#"["content-length-range",1,5368709120]"#);
    }

    /// Whatever a value holds that the policy accepts, its JSON reads back as the same text and
    /// is what `serde_json` writes: over every printable ASCII character, quotes at every
    /// position, and non-ASCII text.
    #[test]
    fn every_accepted_value_reads_back_as_itself() {
        let mut values: Vec<String> = (b' '..=b'~').map(|b| char::from(b).to_string()).collect();
        values.extend(
            [
                "",
                "\"",
                "\"\"",
                "a\"b",
                "\"a",
                "a\"",
                "ünï \"côdé\" (1).txt",
                "\u{2028}\u{2029}",
                "日本語/ファイル.png",
                "emoji 🎉\"",
            ]
            .map(String::from),
        );
        for text in &values {
            let Ok(accepted) = PolicyValue::parse(&field("key"), text) else {
                assert!(text == "$" || text == "\\", "{text:?} refused");
                continue;
            };
            for operator in [Operator::Eq, Operator::StartsWith] {
                let condition = Condition::new(field("key"), operator, accepted).unwrap();
                let read: serde_json::Value = serde_json::from_str(&json(condition)).unwrap();
                let read_value = match operator {
                    Operator::Eq => &read["key"],
                    Operator::StartsWith => &read[2],
                };
                assert_eq!(read_value.as_str(), Some(text.as_str()), "{text:?}");
                // Byte for byte what a general JSON writer gives (the text that gets signed).
                let general = match operator {
                    Operator::Eq => serde_json::json!({ "key": text }),
                    Operator::StartsWith => serde_json::json!(["starts-with", "$key", text]),
                };
                assert_eq!(json(condition), general.to_string(), "{text:?}");
            }
        }
    }

    #[test]
    fn size_range_is_bounded_and_ordered() {
        assert!(ContentLengthRange::new(0, MAX_POST_SIZE).is_ok());
        assert!(ContentLengthRange::new(0, MAX_POST_SIZE + 1).is_err());
        assert!(ContentLengthRange::new(10, 9).is_err());
        let range = ContentLengthRange::new(2, 4).unwrap();
        assert!(!range.contains(1) && range.contains(2) && range.contains(4) && !range.contains(5));
    }

    #[test]
    fn starts_with_on_an_eq_only_field_is_refused() {
        let result = Condition::new(field("bucket"), Operator::StartsWith, value("bucket", "b"));
        assert!(matches!(
            result,
            Err(PolicyError::OperatorNotAllowed { .. })
        ));
    }

    #[test]
    fn dollar_backslash_and_control_characters_never_reach_a_policy() {
        for bad in ["a$b", "a\\b", "a\nb", "a\u{0}b", "${filename}"] {
            assert!(PolicyValue::parse(&field("key"), bad).is_err(), "{bad:?}");
        }
        assert!(PolicyValue::parse(&field("key"), "ünï côdé %20 (1).txt").is_ok());
    }
}
