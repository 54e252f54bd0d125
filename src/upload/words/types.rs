//! Media types in words: `image/png` is a "PNG image", `["image/png", "image/jpeg"]` are "PNG
//! or JPEG images". A type without a common name never shows as itself: it reads as "certain
//! kinds of file", and the page lists the exact media types in its technical details.

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
    ("image/bmp", "BMP", "image", "images"),
    ("video/mp4", "MP4", "video", "videos"),
    ("video/webm", "WebM", "video", "videos"),
    ("video/quicktime", "QuickTime", "video", "videos"),
    ("audio/mpeg", "MP3", "audio file", "audio files"),
    ("audio/ogg", "Ogg", "audio file", "audio files"),
    ("audio/wav", "WAV", "audio file", "audio files"),
    ("audio/flac", "FLAC", "audio file", "audio files"),
    ("audio/aac", "AAC", "audio file", "audio files"),
    ("text/plain", "text", "file", "files"),
    ("text/csv", "CSV", "file", "files"),
    ("text/markdown", "Markdown", "file", "files"),
    ("text/html", "HTML", "file", "files"),
    ("text/xml", "XML", "file", "files"),
    ("application/xml", "XML", "file", "files"),
    ("application/pdf", "PDF", "file", "files"),
    ("application/json", "JSON", "file", "files"),
    ("application/octet-stream", "binary", "file", "files"),
    ("binary/octet-stream", "binary", "file", "files"),
    ("application/zip", "ZIP", "archive", "archives"),
    (
        "application/x-7z-compressed",
        "7-Zip",
        "archive",
        "archives",
    ),
    ("application/gzip", "gzip", "archive", "archives"),
    ("application/x-tar", "TAR", "archive", "archives"),
    ("application/epub+zip", "EPUB", "book", "books"),
    ("application/rtf", "RTF", "document", "documents"),
    ("application/msword", "Word", "document", "documents"),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word",
        "document",
        "documents",
    ),
    (
        "application/vnd.oasis.opendocument.text",
        "OpenDocument",
        "document",
        "documents",
    ),
    (
        "application/vnd.ms-excel",
        "Excel",
        "spreadsheet",
        "spreadsheets",
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel",
        "spreadsheet",
        "spreadsheets",
    ),
    (
        "application/vnd.oasis.opendocument.spreadsheet",
        "OpenDocument",
        "spreadsheet",
        "spreadsheets",
    ),
    (
        "application/vnd.ms-powerpoint",
        "PowerPoint",
        "presentation",
        "presentations",
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "PowerPoint",
        "presentation",
        "presentations",
    ),
    ("font/ttf", "TrueType", "font", "fonts"),
    ("font/otf", "OpenType", "font", "fonts"),
    ("font/woff", "WOFF", "font", "fonts"),
    ("font/woff2", "WOFF2", "font", "fonts"),
    ("application/vnd.ms-fontobject", "EOT", "font", "fonts"),
];

/// Whole families (`type/*`): singular and plural.
const FAMILIES: &[(&str, &str, &str)] = &[
    ("image", "image", "images"),
    ("video", "video", "videos"),
    ("audio", "audio file", "audio files"),
    ("text", "text file", "text files"),
    ("font", "font", "fonts"),
];

/// One media type or pattern in words: `image/png` → "PNG image", `application/pdf` → "PDF",
/// `text/plain` → "text file", `image/*` → "image"; `None` for a type without a common name,
/// which no sentence shows as itself.
pub fn type_in_words(media_type: &str) -> Option<String> {
    kind(media_type).map(|kind| kind.one)
}

/// One media type with its article, as in "saved as a PDF", "an MP3 audio file", "an image";
/// `None` for a type without a common name.
pub fn a_type_in_words(media_type: &str) -> Option<String> {
    let words = type_in_words(media_type)?;
    let first_word = words.split(' ').next().unwrap_or_default();
    let abbreviation = first_word.len() > 1 && first_word.bytes().all(|b| !b.is_ascii_lowercase());
    // An abbreviation is read letter by letter: "an MP3", "an SVG image", "a PDF".
    let vowel_sound = if abbreviation {
        first_word.starts_with([
            'A', 'E', 'F', 'H', 'I', 'L', 'M', 'N', 'O', 'R', 'S', 'X', '8',
        ])
    } else {
        first_word.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U'])
    };
    let article = if vowel_sound { "an" } else { "a" };
    Some(format!("{article} {words}"))
}

/// Whether every one of `media_types` has a common name, so that [`types_in_words`] names
/// them all; else it speaks of "certain kinds of file", and the exact types must be shown.
pub fn names_every_type<T: AsRef<str>>(media_types: &[T]) -> bool {
    media_types.iter().all(|t| kind(t.as_ref()).is_some())
}

/// Kinds of file in words, in the order given: "PNG or JPEG images", "PDF files or images";
/// "any file" for none or `*/*`; types without a common name as "certain (other) kinds of
/// file", never as themselves.
pub fn types_in_words<T: AsRef<str>>(media_types: &[T]) -> String {
    if media_types.is_empty() || media_types.iter().any(|t| t.as_ref() == "*/*") {
        return "any file".to_owned();
    }
    let kinds: Vec<Kind> = media_types
        .iter()
        .filter_map(|t| kind(t.as_ref()))
        .collect();
    let mut groups: Vec<(&str, Vec<Option<&str>>)> = Vec::new();
    for kind in &kinds {
        let qualifier = kind.qualifier.as_deref();
        match groups.iter_mut().find(|(many, _)| *many == kind.many) {
            Some((_, qualifiers)) if !qualifiers.contains(&qualifier) => qualifiers.push(qualifier),
            Some(_) => {}
            None => groups.push((kind.many, vec![qualifier])),
        }
    }
    let mut phrases: Vec<String> = groups
        .into_iter()
        .map(
            |(many, qualifiers)| match qualifiers.into_iter().collect::<Option<Vec<_>>>() {
                // A family (`image/*`) covers its named members.
                None => many.to_owned(),
                Some(names) => format!("{} {many}", either(&names)),
            },
        )
        .collect();
    if !names_every_type(media_types) {
        phrases.push(if phrases.is_empty() {
            "certain kinds of file".to_owned()
        } else {
            "certain other kinds of file".to_owned()
        });
    }
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

/// The kind `media_type` names, if it has a common name: a known type, or a known family.
fn kind(media_type: &str) -> Option<Kind> {
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
        return Some(Kind {
            one,
            qualifier: Some(qualifier.to_owned()),
            many,
        });
    }
    let (family, subtype) = essence.split_once('/')?;
    let &(_, one, many) = FAMILIES.iter().find(|(f, ..)| *f == family)?;
    (subtype == "*").then(|| Kind {
        one: one.to_owned(),
        qualifier: None,
        many,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_type_reads_as_a_kind_of_file() {
        for (media_type, words) in [
            ("image/png", Some("PNG image")),
            ("image/jpeg", Some("JPEG image")),
            ("IMAGE/JPEG; q=1", Some("JPEG image")),
            ("image/*", Some("image")),
            ("application/pdf", Some("PDF")),
            ("text/plain", Some("text file")),
            ("text/plain; charset=utf-8", Some("text file")),
            ("video/*", Some("video")),
            ("application/rtf", Some("RTF document")),
            ("binary/octet-stream", Some("binary file")),
            ("application/x-7z-compressed", Some("7-Zip archive")),
            ("application/vnd.ms-fontobject", Some("EOT font")),
            ("application/vnd.ms-excel", Some("Excel spreadsheet")),
            ("application/epub+zip", Some("EPUB book")),
            ("application/x-7z", None),
            ("application/vnd.example", None),
            ("model/*", None),
            ("image/x-unknown", None),
        ] {
            let words = words.map(str::to_owned);
            assert_eq!(type_in_words(media_type), words, "{media_type}");
        }
    }

    #[test]
    fn one_type_takes_its_article() {
        for (media_type, words) in [
            ("application/pdf", "a PDF"),
            ("audio/mpeg", "an MP3 audio file"),
            ("image/svg+xml", "an SVG image"),
            ("image/jpeg", "a JPEG image"),
            ("image/*", "an image"),
            ("application/vnd.ms-excel", "an Excel spreadsheet"),
            ("application/msword", "a Word document"),
            ("text/html", "an HTML"),
            ("application/x-7z-compressed", "a 7-Zip archive"),
        ] {
            assert_eq!(a_type_in_words(media_type).as_deref(), Some(words));
        }
        assert_eq!(a_type_in_words("application/vnd.example"), None);
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
        assert_eq!(
            types_in_words(&["application/zip", "application/x-7z-compressed"]),
            "ZIP or 7-Zip archives"
        );
    }

    #[test]
    fn types_without_a_common_name_never_show_as_themselves() {
        let unnamed = ["application/vnd.example", "model/x-thing"];
        assert_eq!(types_in_words(&unnamed), "certain kinds of file");
        assert!(!names_every_type(&unnamed));
        assert_eq!(
            types_in_words(&["image/png", "application/vnd.example"]),
            "PNG images or certain other kinds of file"
        );
        assert!(names_every_type(&["image/png", "font/*"]));
    }
}
