//! How a profile presents itself to people: a title for its page heading and the index, and an
//! optional description. Plain text: the pages escape it.

/// Longest title, in characters.
const MAX_TITLE: usize = 100;
/// Longest description, in characters.
const MAX_DESCRIPTION: usize = 500;

/// A profile's title and description, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    title: String,
    description: Option<String>,
}

impl Presentation {
    /// The `title` given (else a readable form of the profile's `name`) and `description`;
    /// a problem for each that is empty, too long or holds control characters.
    pub fn new(
        name: &str,
        title: Option<&str>,
        description: Option<&str>,
        problems: &mut Vec<String>,
    ) -> Self {
        let title = match title {
            Some(title) => checked("title", title, MAX_TITLE, problems),
            None => readable_name(name),
        };
        let description = description.map(|d| checked("description", d, MAX_DESCRIPTION, problems));
        Presentation { title, description }
    }

    /// The heading of the profile's page, and its name on the index.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// A sentence or two about what to upload, if given.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
}

/// `text` trimmed; a problem naming `setting` if it is empty, over `max` characters or holds
/// control characters (line breaks too: a heading is one line, and so is a description).
fn checked(setting: &str, text: &str, max: usize, problems: &mut Vec<String>) -> String {
    let text = text.trim();
    let length = text.chars().count();
    if text.is_empty() || length > max || text.chars().any(char::is_control) {
        problems.push(format!(
            "{setting} must be 1-{max} characters of text without control characters (it has {length})"
        ));
    }
    text.to_owned()
}

/// A profile name as a heading: `profile-photos` → "Profile photos", `any` → "Any".
pub fn readable_name(name: &str) -> String {
    let words = name.replace(['-', '_'], " ");
    let mut chars = words.trim().chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_title_the_name_reads_as_one() {
        let mut problems = Vec::new();
        let shown = Presentation::new("profile-photos", None, None, &mut problems);
        assert_eq!(shown.title(), "Profile photos");
        assert_eq!(shown.description(), None);
        assert_eq!(readable_name("tax_forms"), "Tax forms");
        assert!(problems.is_empty());
    }

    #[test]
    fn a_title_and_description_are_kept_trimmed_or_refused() {
        let mut problems = Vec::new();
        let shown = Presentation::new(
            "x",
            Some(" Receipts "),
            Some("For expenses."),
            &mut problems,
        );
        assert_eq!(
            (shown.title(), shown.description()),
            ("Receipts", Some("For expenses."))
        );
        assert!(problems.is_empty());
        let long = "a".repeat(MAX_TITLE + 1);
        for bad in [" ", "two\nlines", long.as_str()] {
            let mut problems = Vec::new();
            Presentation::new("x", Some(bad), None, &mut problems);
            assert!(problems[0].starts_with("title must be"), "{bad:?}");
        }
    }
}
