//! The head of a form upload — every field, then the `file` part's headers — read from the
//! start of a `multipart/form-data` body, and written back in one canonical shape — pure.
//!
//! The front door checks the fields (key, coverage) and then hands `s3s` its own rewrite of
//! them, with a fresh boundary no value contains: `s3s` then reads exactly the fields that were
//! checked, whatever quirks the client's encoding had.

/// The `boundary` parameter of a `multipart/form-data` content type, if that is what it is.
pub fn boundary(content_type: &str) -> Option<String> {
    let (essence, params) = content_type.split_once(';')?;
    if !is_form_data(essence) {
        return None;
    }
    params.split(';').find_map(|param| {
        let (name, value) = param.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

/// Whether a content type is `multipart/form-data` (with or without parameters).
pub fn is_form_data(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// The fields of a form and the headers of its `file` part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormHead {
    /// Field names (as sent) and values, in order.
    pub fields: Vec<(String, String)>,
    /// The `filename` of the file part, if it has one.
    pub file_name: Option<String>,
    /// The `Content-Type` of the file part, if it has one.
    pub file_content_type: Option<String>,
    /// Where the file's bytes start in the body.
    pub len: usize,
}

/// What the start of a body says so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// The file part's headers are not all there yet.
    Incomplete,
    /// Every field and the file part's headers.
    Complete(FormHead),
    /// Not a form this store reads.
    Malformed(&'static str),
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(haystack.get(from..)?, needle).map(|i| i + from)
}

/// Reads the fields and the file part's headers from the start of a body.
pub fn parse_head(body: &[u8], boundary: &str) -> Head {
    let opening = format!("--{boundary}\r\n");
    let delimiter = format!("\r\n--{boundary}\r\n");
    let mut at = if body.starts_with(opening.as_bytes()) {
        opening.len()
    } else if body.starts_with(&delimiter.as_bytes()[..body.len().min(delimiter.len())]) {
        if body.len() < delimiter.len() {
            return Head::Incomplete;
        }
        delimiter.len()
    } else if opening.as_bytes().starts_with(body) {
        return Head::Incomplete;
    } else {
        return Head::Malformed("the body does not start with its boundary");
    };
    let mut fields = Vec::new();
    loop {
        let Some(headers_end) = find(body, b"\r\n\r\n", at) else {
            return Head::Incomplete;
        };
        let Ok(headers) = std::str::from_utf8(&body[at..headers_end]) else {
            return Head::Malformed("a part's headers are not UTF-8");
        };
        let part = match PartHeaders::parse(headers) {
            Ok(part) => part,
            Err(why) => return Head::Malformed(why),
        };
        let value_start = headers_end + 4;
        if part.name.eq_ignore_ascii_case("file") {
            return Head::Complete(FormHead {
                fields,
                file_name: part.file_name,
                file_content_type: part.content_type,
                len: value_start,
            });
        }
        let Some(value_end) = find(body, delimiter.as_bytes(), value_start) else {
            return Head::Incomplete;
        };
        let Ok(value) = std::str::from_utf8(&body[value_start..value_end]) else {
            return Head::Malformed("a field's value is not UTF-8");
        };
        fields.push((part.name, value.to_owned()));
        at = value_end + delimiter.len();
    }
}

/// The headers of one part that matter here.
struct PartHeaders {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
}

impl PartHeaders {
    fn parse(headers: &str) -> Result<Self, &'static str> {
        let mut disposition = None;
        let mut content_type = None;
        for line in headers.split("\r\n") {
            let (name, value) = line.split_once(':').ok_or("a part header has no ':'")?;
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("content-disposition") {
                if disposition.replace(value).is_some() {
                    return Err("a part has two Content-Disposition headers");
                }
            } else if name.eq_ignore_ascii_case("content-type") {
                content_type = Some(value.to_owned());
            }
        }
        let params = disposition_params(disposition.ok_or("a part has no Content-Disposition")?)?;
        let param = |wanted: &str| {
            let mut values = params
                .iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case(wanted));
            match (values.next(), values.next()) {
                (_, Some(_)) => Err("a Content-Disposition parameter appears twice"),
                (value, None) => Ok(value.map(|(_, v)| v.clone())),
            }
        };
        let name = param("name")?
            .filter(|n| !n.is_empty())
            .ok_or("a part has no name")?;
        Ok(PartHeaders {
            name,
            file_name: param("filename")?,
            content_type,
        })
    }
}

/// `form-data; name="a"; filename="b;c.txt"` → `[("name", "a"), ("filename", "b;c.txt")]`.
/// Quoted values end at the next `"` (browsers percent-encode quotes in names).
fn disposition_params(value: &str) -> Result<Vec<(String, String)>, &'static str> {
    let (kind, mut rest) = value.split_once(';').unwrap_or((value, ""));
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return Err("a part is not form-data");
    }
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return Ok(params);
        }
        let (name, after) = rest
            .split_once('=')
            .ok_or("a Content-Disposition parameter has no value")?;
        let after = after.trim_start();
        let (value, remainder) = match after.strip_prefix('"') {
            Some(quoted) => quoted
                .split_once('"')
                .ok_or("a Content-Disposition value has no closing quote")?,
            None => after.split_once(';').unwrap_or((after, "")),
        };
        params.push((name.trim().to_owned(), value.trim().to_owned()));
        rest = remainder;
    }
}

impl FormHead {
    /// The fields and file part headers as one canonical body start, delimited by `boundary`;
    /// `None` if a name or value contains `--boundary` or a character that cannot be written
    /// back (a quote in a name, a line break in a header).
    pub fn write(&self, boundary: &str) -> Option<Vec<u8>> {
        let marker = format!("--{boundary}");
        let header_safe = |s: &str| !s.contains(['"', '\r', '\n']) && !s.contains(&marker);
        let mut out = String::new();
        for (name, value) in &self.fields {
            if !header_safe(name) || value.contains(&marker) {
                return None;
            }
            out.push_str(&format!(
                "{marker}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        out.push_str(&format!(
            "{marker}\r\nContent-Disposition: form-data; name=\"file\""
        ));
        if let Some(file_name) = self.file_name.as_deref().filter(|n| !n.is_empty()) {
            if !header_safe(file_name) {
                return None;
            }
            out.push_str(&format!("; filename=\"{file_name}\""));
        }
        out.push_str("\r\n");
        if let Some(content_type) = &self.file_content_type {
            if !header_safe(content_type) {
                return None;
            }
            out.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        out.push_str("\r\n");
        Some(out.into_bytes())
    }

    /// The value of the field `name` (compared case-insensitively, as S3 does), if any.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first field name that appears twice (case-insensitively), if any.
    pub fn repeated_field(&self) -> Option<&str> {
        self.fields.iter().enumerate().find_map(|(i, (name, _))| {
            self.fields[..i]
                .iter()
                .any(|(earlier, _)| earlier.eq_ignore_ascii_case(name))
                .then_some(name.as_str())
        })
    }
}

/// What closes a body after the file: `\r\n--boundary--\r\n`.
pub fn closing(boundary: &str) -> Vec<u8> {
    format!("\r\n--{boundary}--\r\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nup/1/${filename}\r\n\
        --XyZ\r\ncontent-disposition: form-data; name=\"Policy\"\r\n\r\nline one\r\nline two\r\n\
        --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\docs\\\\a;b.txt\"\r\n\
        Content-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n";

    fn head(body: &str) -> FormHead {
        match parse_head(body.as_bytes(), "XyZ") {
            Head::Complete(head) => head,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn boundary_is_read_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=XyZ").as_deref(),
            Some("XyZ")
        );
        assert_eq!(
            boundary("Multipart/Form-Data;charset=x;boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("application/json; boundary=x"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        assert!(is_form_data(" multipart/FORM-data"));
        assert!(!is_form_data("multipart/mixed; boundary=x"));
    }

    #[test]
    fn fields_and_the_file_part_are_read() {
        let head = head(BODY);
        assert_eq!(
            head.fields,
            [
                ("key".to_owned(), "up/1/${filename}".to_owned()),
                ("Policy".to_owned(), "line one\r\nline two".to_owned()),
            ]
        );
        assert_eq!(head.field("policy"), Some("line one\r\nline two"));
        assert_eq!(head.file_name.as_deref(), Some("C:\\\\docs\\\\a;b.txt"));
        assert_eq!(head.file_content_type.as_deref(), Some("text/plain"));
        assert_eq!(&BODY[head.len..head.len + 5], "hello");
    }

    #[test]
    fn a_body_may_open_with_an_empty_line() {
        assert_eq!(head(&format!("\r\n{BODY}")).fields.len(), 2);
    }

    #[test]
    fn every_prefix_of_a_head_is_incomplete_or_the_head() {
        let end = head(BODY).len;
        for cut in 0..end {
            assert_eq!(
                parse_head(&BODY.as_bytes()[..cut], "XyZ"),
                Head::Incomplete,
                "{cut}"
            );
        }
        assert_eq!(head(&BODY[..end]), head(BODY));
    }

    #[test]
    fn strange_forms_are_malformed() {
        let bodies: [&[u8]; 9] = [
            b"--Other\r\n",
            b"junk",
            b"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ\r\n",
            b"--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ\r\n",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--XyZ\r\n",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ\r\n",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\nx\r\n--XyZ\r\n",
            b"--XyZ\r\nno colon\r\n\r\nx\r\n--XyZ\r\n",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\r\n--XyZ\r\n",
        ];
        for body in bodies {
            assert!(
                matches!(parse_head(body, "XyZ"), Head::Malformed(_)),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn a_head_written_back_reads_the_same() {
        let original = head(BODY);
        let written = original.write("fresh").unwrap();
        let mut again = match parse_head(&written, "fresh") {
            Head::Complete(head) => head,
            other => panic!("{other:?}"),
        };
        assert_eq!(again.len, written.len());
        again.len = original.len;
        assert_eq!(again, original);
    }

    #[test]
    fn a_value_holding_the_new_boundary_cannot_be_written() {
        let mut head = head(BODY);
        assert!(head.write("fresh").is_some());
        head.fields[0].1 = "a\r\n--fresh\r\nb".into();
        assert_eq!(head.write("fresh"), None);
    }

    #[test]
    fn repeated_fields_are_found() {
        let mut head = head(BODY);
        assert_eq!(head.repeated_field(), None);
        head.fields.push(("KEY".into(), "other".into()));
        assert_eq!(head.repeated_field(), Some("KEY"));
    }
}
