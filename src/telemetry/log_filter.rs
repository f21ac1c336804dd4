//! `telemetry.log_level` and `RUST_LOG` as a tracing filter.
//!
//! tracing-subscriber 0.3.23 parses each comma-separated directive by the
//! character positions of its trimmed text but slices the untrimmed one, so a
//! directive with surrounding whitespace is misread (`info, app=debug` sets
//! target ` ap`, tokio-rs/tracing#2452) and, with a multi-byte character in
//! it, panics (found by the `config_load` fuzz target). Directives are
//! therefore trimmed here, and empty ones dropped, before tracing sees them.

use tracing_subscriber::EnvFilter;

/// The filter of `text` (comma-separated directives), or why it is not one.
pub fn parse(text: &str) -> Result<EnvFilter, String> {
    let directives = normalized(text);
    if directives.is_empty() {
        return Err("it is empty".to_owned());
    }
    EnvFilter::try_new(&directives).map_err(|e| e.to_string())
}

/// `text`'s directives, each trimmed, empty ones dropped, joined by commas.
fn normalized(text: &str) -> String {
    let directives: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    directives.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_around_directives_are_not_part_of_them() {
        assert_eq!(
            normalized(" info,  app=debug ,, \n x[y]=warn"),
            "info,app=debug,x[y]=warn"
        );
        let filter = parse("info, case_event_handler=debug").unwrap();
        assert_eq!(filter.to_string(), "case_event_handler=debug,info");
    }

    #[test]
    fn a_multibyte_character_after_a_space_is_an_error_or_a_filter_never_a_panic() {
        let fuzzed = "info, p\u{1d35a}x:ff_ms: 500, a\u{1d35a}[: 50,b=debug";
        assert!(parse(fuzzed).is_err());
        assert!(parse("info, caf\u{e9}=debug").is_ok());
    }

    #[test]
    fn nothing_but_commas_and_spaces_is_empty() {
        assert_eq!(parse(" , ,").unwrap_err(), "it is empty");
        assert!(parse("info,app=nonsense").is_err());
    }
}
