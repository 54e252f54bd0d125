//! How uploads are stored for browsers to show or download: `Content-Disposition`.

/// The `Content-Disposition` an upload is stored with; the file name is added per upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Browsers show the object.
    Inline,
    /// Browsers download the object under its original name.
    Attachment,
}

impl Disposition {
    /// `inline` or `attachment`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "inline" => Some(Disposition::Inline),
            "attachment" => Some(Disposition::Attachment),
            _ => None,
        }
    }

    /// `inline` or `attachment`: the header value without a file name (the HTML form's, which
    /// cannot know the name before the file is sent).
    pub fn kind(self) -> &'static str {
        match self {
            Disposition::Inline => "inline",
            Disposition::Attachment => "attachment",
        }
    }

    /// The header value for a file name: `attachment; filename*=UTF-8''…` (RFC 6266).
    pub fn header(self, file_name: &str) -> String {
        const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'!')
            .remove(b'#')
            .remove(b'&')
            .remove(b'+')
            .remove(b'-')
            .remove(b'.')
            .remove(b'^')
            .remove(b'_')
            .remove(b'|')
            .remove(b'~');
        let kind = self.kind();
        let encoded = percent_encoding::utf8_percent_encode(file_name, ATTR_CHAR);
        format!("{kind}; filename*=UTF-8''{encoded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_carries_the_name_encoded() {
        assert_eq!(
            Disposition::Attachment.header("rapport été (1).pdf"),
            "attachment; filename*=UTF-8''rapport%20%C3%A9t%C3%A9%20%281%29.pdf"
        );
    }
}
