//! Builds a policy and its form fields together, so that no form field is left uncovered.

use std::fmt;
use std::time::SystemTime;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::PolicyError;
use super::condition::{Condition, ContentLengthRange, PolicyValue};
use super::document::PolicyDocument;
use super::field::{FieldName, Operator};

/// The form fields a browser sends with the file, in form order.
///
/// Serializes as a JSON object in the same order (what `createPresignedPost` calls `fields`).
/// All names and values are kept in one string, so adding a field allocates nothing once that
/// string has room for a policy's fields.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FormFields {
    /// Each field's name then its value, one after the other.
    text: String,
    /// Where each field's name ends and its value begins, and where its value ends, in `text`.
    ends: Vec<(usize, usize)>,
}

/// Room for a typical policy's fields, the base64 policy (~1.3 KB) among them.
const FIELDS_CAPACITY: usize = 2560;

impl FormFields {
    /// Appends a field; only the builder and the signer add fields.
    pub(crate) fn push(&mut self, name: &str, value: &str) {
        if self.text.capacity() == 0 {
            self.text.reserve(FIELDS_CAPACITY);
            self.ends.reserve(16);
        }
        self.text.push_str(name);
        let name_end = self.text.len();
        self.text.push_str(value);
        self.ends.push((name_end, self.text.len()));
    }

    /// The value of the field called `name` (compared case-insensitively, as S3 does).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// All fields in form order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&(_, end)| end));
        starts.zip(&self.ends).map(|(start, &(name_end, end))| {
            (&self.text[start..name_end], &self.text[name_end..end])
        })
    }
}

impl fmt::Debug for FormFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for FormFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.ends.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Collects conditions and form fields. A field can only be added together with the condition
/// that covers it, and the size range is required up front, so an uncovered field ("Extra input
/// fields") or a policy without `content-length-range` cannot be built.
///
/// Each condition is written as JSON into one buffer as it is added, so building the policy
/// copies no condition and `build` only wraps the buffer.
#[derive(Debug, Clone)]
pub struct PolicyBuilder {
    /// The `conditions` array's entries so far, as JSON, comma-separated.
    conditions: String,
    fields: FormFields,
}

/// Room for a typical policy's conditions (bucket, size, key, type, credentials, a few more).
const CONDITIONS_CAPACITY: usize = 1024;

impl PolicyBuilder {
    /// Starts a policy for `bucket` that accepts files within `size`.
    pub fn new(bucket: &str, size: ContentLengthRange) -> Result<Self, PolicyError> {
        let bucket_field = FieldName::parse("bucket")?;
        let bucket = PolicyValue::parse(&bucket_field, bucket)?;
        let mut builder = PolicyBuilder {
            conditions: String::with_capacity(CONDITIONS_CAPACITY),
            fields: FormFields::default(),
        };
        builder.write(Condition::new(bucket_field, Operator::Eq, bucket)?);
        builder.write(Condition::ContentLengthRange(size));
        Ok(builder)
    }

    /// Adds form field `name` whose value must be exactly `value`.
    pub fn exact(mut self, name: &str, value: &str) -> Result<Self, PolicyError> {
        let field = FieldName::parse(name)?;
        let policy_value = PolicyValue::parse(&field, value)?;
        self.write(Condition::new(field, Operator::Eq, policy_value)?);
        self.fields.push(name, value);
        Ok(self)
    }

    /// Adds form field `name` with `form_value`, accepting any value that starts with `prefix`.
    ///
    /// `form_value` may hold S3's `${filename}` variable after the prefix; the prefix itself is a
    /// policy value and may not.
    pub fn starts_with(
        mut self,
        name: &str,
        prefix: &str,
        form_value: &str,
    ) -> Result<Self, PolicyError> {
        let field = FieldName::parse(name)?;
        let policy_prefix = PolicyValue::parse(&field, prefix)?;
        if !form_value.starts_with(prefix) {
            return Err(PolicyError::OutsidePrefix {
                field: name.to_owned(),
            });
        }
        self.write(Condition::new(field, Operator::StartsWith, policy_prefix)?);
        self.fields.push(name, form_value);
        Ok(self)
    }

    /// Finishes the policy with its expiration, returning it with the fields it covers.
    pub fn build(self, expiration: SystemTime) -> (PolicyDocument, FormFields) {
        (
            PolicyDocument::new(expiration, &self.conditions),
            self.fields,
        )
    }

    /// Appends `condition` to the conditions' JSON.
    fn write(&mut self, condition: Condition<'_>) {
        if !self.conditions.is_empty() {
            self.conditions.push(',');
        }
        condition.write_json(&mut self.conditions);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_added_is_covered_by_a_condition() {
        let range = ContentLengthRange::new(0, 100).unwrap();
        let (doc, fields) = PolicyBuilder::new("b", range)
            .unwrap()
            .starts_with("key", "up/1/", "up/1/${filename}")
            .unwrap()
            .exact("Content-Type", "image/png")
            .unwrap()
            .build(SystemTime::UNIX_EPOCH);
        let json = doc.json();
        for (name, _) in fields.iter() {
            assert!(
                json.contains(&format!("\"{name}\"")) || json.contains(&format!("\"${name}\""))
            );
        }
        assert!(json.contains(r#"["starts-with","$key","up/1/"]"#));
        assert!(json.contains(r#"["content-length-range",0,100]"#));
        assert_eq!(fields.get("content-type"), Some("image/png"));
    }

    /// The JSON written piece by piece is one valid document, its values escaped, in order.
    #[test]
    fn the_policy_is_valid_json_with_every_condition_in_order() {
        let range = ContentLengthRange::new(1, 2).unwrap();
        let (doc, _) = PolicyBuilder::new("b", range)
            .unwrap()
            .exact("key", "up/\"quoted\" ünï/é.txt")
            .unwrap()
            .starts_with("x-amz-meta-tag", "a\u{2028}", "a\u{2028}b")
            .unwrap()
            .build(SystemTime::UNIX_EPOCH);
        let parsed: serde_json::Value = serde_json::from_str(doc.json()).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "expiration": "1970-01-01T00:00:00Z",
                "conditions": [
                    {"bucket": "b"},
                    ["content-length-range", 1, 2],
                    {"key": "up/\"quoted\" ünï/é.txt"},
                    ["starts-with", "$x-amz-meta-tag", "a\u{2028}"],
                ]
            })
        );
    }

    #[test]
    fn a_form_value_outside_its_prefix_is_refused() {
        let range = ContentLengthRange::new(0, 1).unwrap();
        let result = PolicyBuilder::new("b", range)
            .unwrap()
            .starts_with("key", "up/", "other/x");
        assert!(matches!(result, Err(PolicyError::OutsidePrefix { .. })));
    }
}
