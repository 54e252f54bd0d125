//! A client's file name, made safe for a key.

use super::{KeyError, MAX_FILENAME_BYTES};

/// A file name as a client sent it, checked and sanitized for use in a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    /// Checks a client's file name and makes it safe.
    ///
    /// Refused: empty, over 255 bytes, control characters, `/`, or a `..` segment. Kept: letters
    /// and digits of any script, space, `-`, `_`, `.`, `(`, `)`. Everything else (`$`, `\`, `%`,
    /// `#`, quotes, …) becomes `_`. Leading dots and trailing dots or spaces are dropped, so the
    /// name is never hidden and never `.` or `..`.
    pub fn sanitize(name: &str) -> Result<Self, KeyError> {
        if name.trim().is_empty() {
            return Err(KeyError::Empty);
        }
        if name.len() > MAX_FILENAME_BYTES {
            return Err(KeyError::TooLong {
                limit: MAX_FILENAME_BYTES,
                len: name.len(),
            });
        }
        if name.chars().any(char::is_control) {
            return Err(KeyError::ControlCharacter);
        }
        if name.contains('/') || name.split('\\').any(|s| s.trim() == "..") {
            return Err(KeyError::Path);
        }
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '(' | ')') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let trimmed = safe
            .trim_start_matches(['.', ' '])
            .trim_end_matches(['.', ' ']);
        if trimmed.is_empty() {
            return Ok(FileName("file".to_owned()));
        }
        Ok(FileName(trimmed.to_owned()))
    }

    /// The sanitized name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_characters_are_replaced() {
        let cases = [
            ("a$b\\c%d.txt", "a_b_c_d.txt"),
            ("résumé 日本.pdf", "résumé 日本.pdf"),
            ("..hidden", "hidden"),
            ("name.  ", "name"),
            ("$$$", "___"),
            ("...", "file"),
            ("a\u{202e}gpj.exe", "a_gpj.exe"),
            ("C:\\Users\\me\\x.txt", "C__Users_me_x.txt"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                FileName::sanitize(input).unwrap().as_str(),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn paths_empty_long_and_control_names_are_refused() {
        assert_eq!(FileName::sanitize(""), Err(KeyError::Empty));
        assert_eq!(FileName::sanitize("   "), Err(KeyError::Empty));
        assert_eq!(FileName::sanitize("../../etc/passwd"), Err(KeyError::Path));
        assert_eq!(FileName::sanitize("..\\..\\boot.ini"), Err(KeyError::Path));
        assert_eq!(FileName::sanitize(".."), Err(KeyError::Path));
        assert_eq!(FileName::sanitize("a/b.txt"), Err(KeyError::Path));
        assert_eq!(FileName::sanitize("a\0b"), Err(KeyError::ControlCharacter));
        assert!(matches!(
            FileName::sanitize(&"x".repeat(256)),
            Err(KeyError::TooLong { .. })
        ));
        assert!(FileName::sanitize(&"é".repeat(127)).is_ok());
    }
}
