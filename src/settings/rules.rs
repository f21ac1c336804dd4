//! Small reusable checks for validation.

/// Inclusive range check with a message quoting the bounds.
pub(crate) fn in_range<T: PartialOrd + std::fmt::Display>(
    value: T,
    min: T,
    max: T,
) -> Result<(), String> {
    if value >= min && value <= max {
        Ok(())
    } else {
        Err(format!("must be between {min} and {max} (got {value})"))
    }
}

/// Lowercase identifiers: letters, digits and the given punctuation.
pub(crate) fn name_like(name: &str, punctuation: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || punctuation.contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "must be non-empty lowercase letters, digits or `{punctuation}`"
        ))
    }
}

/// Kafka's rules: 1–249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub(crate) fn topic_name(topic: &str) -> Result<(), String> {
    let ok = (1..=249).contains(&topic.len())
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && topic != "."
        && topic != "..";
    if ok {
        Ok(())
    } else {
        Err(format!("`{topic}` is not a valid Kafka topic name"))
    }
}

/// Checks that `{placeholders}` are balanced and among `allowed`.
pub(crate) fn template(text: &str, allowed: &[&str]) -> Result<(), String> {
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        let close = rest[open..].find('}').map(|i| open + i);
        let Some(close) = close.filter(|_| rest.as_bytes()[open] == b'{') else {
            return Err("has an unbalanced `{` or `}`".into());
        };
        let name = &rest[open + 1..close];
        if !allowed.contains(&name) {
            let allowed: Vec<String> = allowed.iter().map(|a| format!("{{{a}}}")).collect();
            return Err(format!(
                "unknown placeholder `{{{name}}}`; allowed: {}",
                allowed.join(", ")
            ));
        }
        rest = &rest[close + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert!(template("{topic}.dlq.{flavor}", &["topic", "flavor"]).is_ok());
        assert!(template("x.{bogus}", &["flavor"]).is_err());
        assert!(template("x.{flavor", &["flavor"]).is_err());
        assert!(template("x}", &["flavor"]).is_err());
    }

    #[test]
    fn topic_names() {
        assert!(topic_name("case-events.dlq.notify").is_ok());
        assert!(topic_name("..").is_err());
        assert!(topic_name("a b").is_err());
        assert!(topic_name("").is_err());
    }
}
