//! The problems a small form's answer came back with (`(input, message)` pairs, from an
//! error's problems), as its template shows them: next to an input, or above the form.

/// The messages at input `name`, joined.
pub fn at(errors: &[(String, String)], name: &str) -> Option<String> {
    errors
        .iter()
        .filter(|(input, _)| input == name)
        .map(|(_, m)| m.clone())
        .reduce(|a, b| format!("{a}; {b}"))
}

/// The problems at none of `inputs`, each with its path when it has one.
pub fn elsewhere(errors: &[(String, String)], inputs: &[&str]) -> Vec<String> {
    errors
        .iter()
        .filter(|(input, _)| !inputs.contains(&input.as_str()))
        .map(|(input, m)| {
            if input.is_empty() {
                m.clone()
            } else {
                format!("{input}: {m}")
            }
        })
        .collect()
}
