//! The shapes of the identifiers and addresses that several layers check: stable keys
//! (contact types, extra fields) and e-mail addresses (users, contacts, e-mail fields).

/// Checks a stable key: lowercase ASCII letters, digits and `_`, starting with a letter.
pub fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && key.len() <= 63
}

/// A new stable key from `input` (trimmed), or the error at `key` that says its shape.
pub fn check_key(input: &str) -> crate::Result<String> {
    let key = input.trim();
    if valid_key(key) {
        Ok(key.to_owned())
    } else {
        Err(crate::Error::invalid(
            "key",
            "must start with a lowercase letter and contain only a-z, 0-9 and _ (at most 63)",
        ))
    }
}

/// Checks the shape of an email address: one `@`, something on both sides, a dot in the
/// domain, no spaces. Deliverability is the mail server's business.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.len() <= 254
}
