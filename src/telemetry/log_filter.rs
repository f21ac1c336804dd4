//! `telemetry.log_level` and `RUST_LOG` as a tracing filter.
//!
//! tracing-subscriber 0.3.23 parses each comma-separated directive by the
//! character positions of its trimmed text but slices the untrimmed one, so a
//! directive with surrounding whitespace is misread (`info, app=debug` sets
//! target ` ap`, tokio-rs/tracing#2452) and, with a multi-byte character in
//! it, panics (found by the `config_load` fuzz target). Directives are
//! therefore trimmed here, and empty ones dropped, before tracing sees them.
//!
//! Span field values match as literal text, not as regular expressions: a
//! value pattern is compiled into a dense DFA, whose construction is
//! exponential in the pattern (a 600-byte config took 25 s, found by the same
//! target), and a config must never be able to stall start-up or a reload.

use tracing_subscriber::EnvFilter;

/// The filter of `text` (comma-separated directives), or why it is not one.
pub fn parse(text: &str) -> Result<EnvFilter, String> {
    let directives = normalized(text);
    if directives.is_empty() {
        return Err("it is empty".to_owned());
    }
    EnvFilter::builder()
        .with_regex(false)
        .parse(&directives)
        .map_err(|e| e.to_string())
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

    /// Events of target `x` at debug inside span `s` with `f = value`.
    fn debug_events_inside(filter: EnvFilter, value: &str) -> usize {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use tracing_subscriber::layer::{Context, SubscriberExt};

        struct Count(Arc<AtomicUsize>);
        impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
            fn on_event(&self, _: &tracing::Event<'_>, _: Context<'_, S>) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let seen = Arc::new(AtomicUsize::new(0));
        let subscriber = tracing_subscriber::registry()
            .with(filter)
            .with(Count(seen.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(target: "x", "s", f = value);
            let _inside = span.enter();
            tracing::debug!(target: "x", "inside");
        });
        seen.load(Ordering::Relaxed)
    }

    /// Guards the 25 s stall config_load fuzzing found (its input is
    /// `fuzz/artifacts/config_load/timeout-2ed630a3…`, replayed with a 10 s
    /// limit by `make fuzz-ci`): a field value compiled as a regular
    /// expression would match `abc` here.
    #[test]
    fn a_span_field_value_matches_as_text_never_as_a_regular_expression() {
        let directives = "info,x[s{f=.*}]=debug";
        let as_regex = EnvFilter::builder().with_regex(true).parse(directives);
        assert_eq!(debug_events_inside(as_regex.unwrap(), "abc"), 1);
        assert_eq!(debug_events_inside(parse(directives).unwrap(), "abc"), 0);
    }
}
