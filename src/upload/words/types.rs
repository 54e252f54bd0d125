//! Media types in words: `image/png` is a "PNG image", `["image/png", "image/jpeg"]` are "PNG
//! or JPEG images". The exact media types are for the technical details, not the sentence.

/// How one media type (or pattern) reads: alone, and in a list of kinds of file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Kind {
    /// Alone: "PNG image", "PDF", "image".
    one: String,
    /// What tells it apart from others of its noun ("PNG", "PDF"); `None` for a whole family
    /// (`image/*`), which covers every other of its noun.
    qualifier: Option<String>,
    /// The plural noun it is listed under: "images", "files".
    many: &'static str,
}

/// Known media types: essence, qualifier, singular noun, plural noun. The singular reads
/// "QUALIFIER NOUN" ("PNG image"), or the qualifier alone when the noun is "file" and the
/// qualifier an abbreviation ("PDF").
const KNOWN: &[(&str, &str, &str, &str)] = &[
    ("image/png", "PNG", "image", "images"),
    ("image/jpeg", "JPEG", "image", "images"),
    ("image/gif", "GIF", "image", "images"),
    ("image/webp", "WebP", "image", "images"),
    ("image/avif", "AVIF", "image", "images"),
    ("image/heic", "HEIC", "image", "images"),
    ("image/svg+xml", "SVG", "image", "images"),
    ("image/tiff", "TIFF", "image", "images"),
    ("video/mp4", "MP4", "video", "videos"),
    ("video/webm", "WebM", "video", "videos"),
    ("video/quicktime", "QuickTime", "video", "videos"),
    ("audio/mpeg", "MP3", "audio file", "audio files"),
    ("audio/ogg", "Ogg", "audio file", "audio files"),
    ("audio/wav", "WAV", "audio file", "audio files"),
    ("text/plain", "text", "file", "files"),
    ("text/csv", "CSV", "file", "files"),
    ("text/markdown", "Markdown", "file", "files"),
    ("text/html", "HTML", "file", "files"),
    ("application/pdf", "PDF", "file", "files"),
    ("application/json", "JSON", "file", "files"),
    ("application/zip", "ZIP", "file", "files"),
    ("application/octet-stream", "binary", "file", "files"),
    ("binary/octet-stream", "binary", "file", "files"),
    ("application/msword", "Word", "document", "documents"),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word",
        "document",
        "documents",
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel",
        "spreadsheet",
        "spreadsheets",
    ),
];

/// Whole families (`type/*`): singular and plural.
const FAMILIES: &[(&str, &str, &str)] = &[
    ("image", "image", "images"),
    ("video", "video", "videos"),
    ("audio", "audio file", "audio files"),
    ("text", "text file", "text files"),
];

/// One media type or pattern in words: `image/png` → "PNG image", `application/pdf` → "PDF",
/// `text/plain` → "text file", `image/*` → "image"; an unknown type reads as its subtype in
/// capitals when that is a short word (`application/rtf` → "RTF"), else as itself.
pub fn type_in_words(media_type: &str) -> String {
    kind(media_type).one
}

/// Kinds of file in words, in the order given: "PNG or JPEG images", "PDF files or images";
/// "any file" for none or `*/*`.
pub fn types_in_words<T: AsRef<str>>(media_types: &[T]) -> String {
    let kinds: Vec<Kind> = media_types.iter().map(|t| kind(t.as_ref())).collect();
    if kinds.is_empty() || media_types.iter().any(|t| t.as_ref() == "*/*") {
        return "any file".to_owned();
    }
    let mut groups: Vec<(&str, Vec<Option<&str>>)> = Vec::new();
    for kind in &kinds {
        let qualifier = kind.qualifier.as_deref();
        match groups.iter_mut().find(|(many, _)| *many == kind.many) {
            Some((_, qualifiers)) if !qualifiers.contains(&qualifier) => qualifiers.push(qualifier),
            Some(_) => {}
            None => groups.push((kind.many, vec![qualifier])),
        }
    }
    let phrases: Vec<String> = groups
        .into_iter()
        .map(
            |(many, qualifiers)| match qualifiers.into_iter().collect::<Option<Vec<_>>>() {
                // A family (`image/*`) covers its named members.
                None => many.to_owned(),
                Some(names) => format!("{} {many}", either(&names)),
            },
        )
        .collect();
    either(&phrases)
}

/// "A", "A or B", "A, B or C".
fn either<T: AsRef<str>>(items: &[T]) -> String {
    match items {
        [] => String::new(),
        [only] => only.as_ref().to_owned(),
        [rest @ .., last] => {
            let rest: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{} or {}", rest.join(", "), last.as_ref())
        }
    }
}

fn kind(media_type: &str) -> Kind {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if let Some(&(_, qualifier, one, many)) = KNOWN.iter().find(|(t, ..)| *t == essence) {
        let abbreviation = qualifier.bytes().all(|b| b.is_ascii_uppercase());
        let one = if one == "file" && abbreviation {
            qualifier.to_owned()
        } else {
            format!("{qualifier} {one}")
        };
        return Kind {
            one,
            qualifier: Some(qualifier.to_owned()),
            many,
        };
    }
    let (family, subtype) = essence.split_once('/').unwrap_or((&essence, ""));
    if subtype == "*"
        && let Some(&(_, one, many)) = FAMILIES.iter().find(|(f, ..)| *f == family)
    {
        return Kind {
            one: one.to_owned(),
            qualifier: None,
            many,
        };
    }
    let word = subtype.strip_prefix("x-").unwrap_or(subtype);
    let name = if (2..=5).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_alphanumeric()) {
        word.to_ascii_uppercase()
    } else {
        essence.clone()
    };
    Kind {
        one: name.clone(),
        qualifier: Some(name),
        many: "files",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_type_reads_as_a_kind_of_file() {
        for (media_type, words) in [
            ("image/png", "PNG image"),
            ("image/jpeg", "JPEG image"),
            ("IMAGE/JPEG; q=1", "JPEG image"),
            ("image/*", "image"),
            ("application/pdf", "PDF"),
            ("text/plain", "text file"),
            ("text/plain; charset=utf-8", "text file"),
            ("video/*", "video"),
            ("application/rtf", "RTF"),
            ("binary/octet-stream", "binary file"),
            ("application/x-7z", "7Z"),
            (
                "application/vnd.ms-fontobject",
                "application/vnd.ms-fontobject",
            ),
            ("model/*", "model/*"),
        ] {
            assert_eq!(type_in_words(media_type), words, "{media_type}");
        }
    }

    #[test]
    fn several_types_read_as_a_list_of_kinds() {
        assert_eq!(types_in_words::<&str>(&[]), "any file");
        assert_eq!(types_in_words(&["*/*", "image/png"]), "any file");
        assert_eq!(types_in_words(&["application/pdf"]), "PDF files");
        assert_eq!(
            types_in_words(&["image/png", "image/jpeg"]),
            "PNG or JPEG images"
        );
        assert_eq!(
            types_in_words(&["image/png", "image/jpeg", "image/webp"]),
            "PNG, JPEG or WebP images"
        );
        assert_eq!(types_in_words(&["image/png", "image/*"]), "images");
        assert_eq!(
            types_in_words(&["text/plain", "image/*"]),
            "text files or images"
        );
        assert_eq!(
            types_in_words(&["application/pdf", "text/plain", "image/png", "image/png"]),
            "PDF or text files or PNG images"
        );
        assert_eq!(types_in_words(&["video/*"]), "videos");
    }
}
