//! Content negotiation by `Accept` (RFC 9110 §12.5.1), just enough to tell a browser opening a
//! page from a program calling the API.

/// Whether `accept` prefers an HTML page to JSON: it names `text/html` (or `text/*`) with a
/// higher quality than the JSON it accepts (`application/json`, `application/problem+json`,
/// through their own ranges or `*/*`). No `Accept`, `*/*` alone, or a tie keep JSON — what
/// programs get unless they ask otherwise.
pub fn prefers_html(accept: Option<&str>) -> bool {
    let ranges: Vec<Range> = accept.map(parse).unwrap_or_default();
    let html = match best_match(&ranges, "text", "html") {
        Some((Specificity::Any, _)) | None => 0.0,
        Some((_, quality)) => quality,
    };
    let json = ["json", "problem+json"]
        .iter()
        .filter_map(|subtype| best_match(&ranges, "application", subtype))
        .map(|(_, quality)| quality)
        .fold(0.0, f32::max);
    html > 0.0 && html > json
}

/// How closely a media range names a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Specificity {
    /// `*/*`
    Any,
    /// `type/*`
    Family,
    /// `type/subtype`
    Exact,
}

/// One media range of an `Accept` header, in lower case, with its quality.
#[derive(Debug, Clone, PartialEq)]
struct Range {
    kind: String,
    subtype: String,
    quality: f32,
}

/// The ranges of an `Accept` value; ranges that are not `type/subtype` are left out, and a
/// quality that does not parse counts as 0.
fn parse(accept: &str) -> Vec<Range> {
    accept
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let range = parts.next()?.trim().to_ascii_lowercase();
            let (kind, subtype) = range.split_once('/')?;
            let quality = parts
                .filter_map(|p| p.trim().split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .map_or(1.0, |(_, q)| q.trim().parse::<f32>().unwrap_or(0.0))
                .clamp(0.0, 1.0);
            Some(Range {
                kind: kind.trim().to_owned(),
                subtype: subtype.trim().to_owned(),
                quality,
            })
        })
        .collect()
}

/// The quality of the most specific range that matches `kind/subtype`, with how specific it is.
fn best_match(ranges: &[Range], kind: &str, subtype: &str) -> Option<(Specificity, f32)> {
    ranges
        .iter()
        .filter_map(|range| {
            let specificity = match (range.kind.as_str(), range.subtype.as_str()) {
                ("*", "*") => Specificity::Any,
                (k, "*") if k == kind => Specificity::Family,
                (k, s) if k == kind && s == subtype => Specificity::Exact,
                _ => return None,
            };
            Some((specificity, range.quality))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROMIUM: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                            image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
    const FIREFOX: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    #[test]
    fn browsers_opening_a_page_prefer_html() {
        for accept in [
            CHROMIUM,
            FIREFOX,
            "TEXT/HTML",
            "text/*",
            "text/html;level=1",
        ] {
            assert!(prefers_html(Some(accept)), "{accept}");
        }
    }

    #[test]
    fn programs_get_json() {
        for accept in [
            None,
            Some(""),
            Some("*/*"),
            Some("application/json"),
            Some("application/problem+json"),
            Some("application/json, text/html"),
            Some("text/html;q=0.5, application/json"),
            Some("text/html;q=0, */*"),
            Some("text/html;q=oops"),
            Some("application/*, text/html;q=0.9"),
            Some("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"),
        ] {
            assert!(!prefers_html(accept), "{accept:?}");
        }
    }

    #[test]
    fn the_most_specific_range_decides() {
        // `text/html` refused outright, though `text/*` is welcome.
        assert!(!prefers_html(Some("text/*, text/html;q=0")));
        // JSON refused outright, though anything else is welcome.
        assert!(prefers_html(Some(
            "*/*, text/html;q=0.1, application/json;q=0, application/problem+json;q=0"
        )));
    }
}
