//! Media types a client declares and the patterns a profile allows (`image/png`, `image/*`).

use std::fmt;

/// Why a media type or pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a media type of the form `type/subtype` (optionally with `; parameters`)")]
pub struct MalformedContentType(pub String);

/// A syntactically valid media type such as `text/plain; charset=utf-8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType(String);

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#&-^_.+".contains(&b))
}

impl ContentType {
    /// Accepts `type/subtype` tokens with optional `; name=value` parameters, at most 255 bytes.
    ///
    /// Refuses commas (S3 reads a comma-separated Content-Type as a list), anything outside
    /// visible ASCII and space (tabs, line breaks, U+0085…), `$` and `\\` anywhere (stores
    /// escape them differently in a policy), and anything else that is not a plain RFC 9110
    /// token or quoted string.
    pub fn parse(text: &str) -> Result<Self, MalformedContentType> {
        let bad = || MalformedContentType(text.to_owned());
        let visible = text.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
        if text.len() > 255 || !visible || text.contains(['$', '\\']) {
            return Err(bad());
        }
        let mut parts = text.split(';');
        let essence = parts.next().unwrap_or_default().trim();
        let (kind, subtype) = essence.split_once('/').ok_or_else(bad)?;
        if !is_token(kind) || !is_token(subtype) {
            return Err(bad());
        }
        for parameter in parts {
            let (name, value) = parameter.trim().split_once('=').ok_or_else(bad)?;
            let quoted = value.len() >= 2
                && value.starts_with('"')
                && value.ends_with('"')
                && value[1..value.len() - 1].bytes().all(|b| {
                    b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b',') || b == b' '
                });
            if !is_token(name) || !(is_token(value) || quoted) {
                return Err(bad());
            }
        }
        Ok(ContentType(text.trim().to_owned()))
    }

    /// `type/subtype` in lower case, without parameters.
    pub fn essence(&self) -> String {
        self.0
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }

    /// The media type as declared.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An allowed media type in a profile: `image/png`, `image/*` or `*/*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentTypePattern(String);

impl ContentTypePattern {
    /// Accepts `type/subtype`, `type/*` or `*/*`.
    pub fn parse(text: &str) -> Result<Self, MalformedContentType> {
        let lower = text.trim().to_ascii_lowercase();
        let ok = match lower.split_once('/') {
            Some(("*", "*")) => true,
            Some((kind, "*")) => is_token(kind),
            Some((kind, subtype)) => is_token(kind) && is_token(subtype),
            None => false,
        };
        if ok {
            Ok(ContentTypePattern(lower))
        } else {
            Err(MalformedContentType(text.to_owned()))
        }
    }

    /// Whether `content_type` is one this pattern allows (parameters are ignored).
    pub fn matches(&self, content_type: &ContentType) -> bool {
        let essence = content_type.essence();
        match self.0.strip_suffix("/*") {
            Some("*") => true,
            Some(kind) => essence.split_once('/').is_some_and(|(k, _)| k == kind),
            None => essence == self.0,
        }
    }
}

impl fmt::Display for ContentTypePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(s: &str) -> ContentType {
        ContentType::parse(s).unwrap()
    }

    #[test]
    fn parses_media_types_and_refuses_lists_and_junk() {
        for good in [
            "image/png",
            "text/plain; charset=utf-8",
            "application/vnd.api+json",
            "a/b; x=\"y z\"",
        ] {
            assert!(ContentType::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "image",
            "image/",
            "/png",
            "image/png,text/html",
            "text/plain; charset",
            "a b/c",
            "image/$x",
            "a/b\\c",
            "text/plain; a=\"$\"",
            "text/plain; a=\"\\\\\"",
            "text/plain;\ta=b",
            "text/plain\t",
            "\ttext/plain",
            "text/plain; a=b\r\n",
            "text/plain;\r\n a=b",
            "text/plain; a=\"\u{85}\"",
            "text/plain\u{85}",
            "text/plain; a=\"é\"",
        ] {
            assert!(ContentType::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns_match_by_essence_with_wildcards() {
        let png = ContentTypePattern::parse("image/PNG").unwrap();
        let images = ContentTypePattern::parse("image/*").unwrap();
        let any = ContentTypePattern::parse("*/*").unwrap();
        assert!(png.matches(&ct("Image/Png")));
        assert!(!png.matches(&ct("image/jpeg")));
        assert!(images.matches(&ct("image/webp; q=1")));
        assert!(!images.matches(&ct("imagex/webp")));
        assert!(any.matches(&ct("text/html")));
        assert!(ContentTypePattern::parse("*/png").is_err());
        assert!(ContentTypePattern::parse("image").is_err());
    }
}
