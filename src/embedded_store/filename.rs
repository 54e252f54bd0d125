//! S3's `${filename}` variable for form uploads — pure.
//!
//! S3 replaces `${filename}` in every form field with the uploaded file's name (the part after
//! the last `/` or `\`) before checking the policy. The embedded store does not, so its front
//! door rewrites the fields, which all come before the `file` part.

/// The file part's position and name, once its headers are in `prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePart {
    /// Offset of the `--boundary` line that opens the file part.
    pub start: usize,
    /// The file name as S3 would use it: after the last `/` or `\`.
    pub file_name: String,
}

/// The multipart boundary from a `Content-Type: multipart/form-data; boundary=…` value.
pub fn boundary(content_type: &str) -> Option<String> {
    let (essence, params) = content_type.split_once(';')?;
    if !essence.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|param| {
        let (name, value) = param.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Finds the part named `file` in the start of a multipart body, if all its headers are there.
pub fn file_part(prefix: &[u8], boundary: &str) -> Option<FilePart> {
    let delimiter = format!("--{boundary}\r\n");
    let mut at = 0;
    while let Some(start) = find(prefix, delimiter.as_bytes(), at) {
        let headers_start = start + delimiter.len();
        let headers_end = find(prefix, b"\r\n\r\n", headers_start)?;
        let headers = String::from_utf8_lossy(&prefix[headers_start..headers_end]);
        for line in headers.split("\r\n") {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            if !name.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            let parameter = |key: &str| {
                let marker = format!("{key}=\"");
                let begin = value.find(&marker)? + marker.len();
                let end = value[begin..].find('"')? + begin;
                Some(value[begin..end].to_owned())
            };
            if parameter(" name").as_deref() == Some("file")
                || parameter(";name").as_deref() == Some("file")
            {
                let full = parameter("filename").unwrap_or_default();
                let file_name = full
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                return Some(FilePart { start, file_name });
            }
        }
        at = headers_end;
    }
    None
}

/// Replaces `${filename}` in the fields before the file part.
pub fn expand(prefix: &[u8], part: &FilePart) -> Vec<u8> {
    let (fields, rest) = prefix.split_at(part.start);
    let fields = String::from_utf8_lossy(fields).replace("${filename}", &part.file_name);
    let mut expanded = fields.into_bytes();
    expanded.extend_from_slice(rest);
    expanded
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nup/1/${filename}\r\n\
        --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\docs\\\\a b.txt\"\r\n\
        Content-Type: text/plain\r\n\r\nhello ${filename}\r\n--XyZ--\r\n";

    #[test]
    fn boundary_is_read_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=XyZ").as_deref(),
            Some("XyZ")
        );
        assert_eq!(
            boundary("Multipart/Form-Data; charset=x; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("application/json"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn filename_is_expanded_in_fields_only() {
        let part = file_part(BODY.as_bytes(), "XyZ").unwrap();
        assert_eq!(part.file_name, "a b.txt");
        let expanded = String::from_utf8(expand(BODY.as_bytes(), &part)).unwrap();
        assert!(expanded.contains("\r\nup/1/a b.txt\r\n"));
        assert!(
            expanded.contains("hello ${filename}"),
            "file contents are untouched"
        );
    }

    #[test]
    fn an_incomplete_prefix_has_no_file_part_yet() {
        let cut = BODY.find("Content-Type: text/plain").unwrap();
        assert_eq!(file_part(&BODY.as_bytes()[..cut], "XyZ"), None);
    }
}
