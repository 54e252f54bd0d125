//! File sizes as people read them, for refusals and pages.

/// A size for people: `12.3 MB`, `5 MiB`, `512 bytes` (binary units when exact, else decimal).
pub fn human_size(bytes: u64) -> String {
    const BINARY: [(u64, &str); 4] = [
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    const DECIMAL: [(u64, &str); 4] = [
        (1_000_000_000_000, "TB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1_000, "KB"),
    ];
    if let Some((unit, name)) = BINARY
        .iter()
        .find(|(unit, _)| bytes >= *unit && bytes.is_multiple_of(*unit))
    {
        return format!("{} {name}", bytes / unit);
    }
    match DECIMAL.iter().find(|(unit, _)| bytes >= *unit) {
        Some((unit, name)) => format!("{:.1} {name}", bytes as f64 / *unit as f64),
        None => format!("{bytes} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(5 * 1024 * 1024), "5 MiB");
        assert_eq!(human_size(12_345_678), "12.3 MB");
        assert_eq!(human_size(5_242_881), "5.2 MB");
        assert_eq!(human_size(999), "999 bytes");
    }
}
