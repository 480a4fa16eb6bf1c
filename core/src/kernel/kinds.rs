//! The one vocabulary of kinds: what a field holds ([`FieldKind`]) and what happened with
//! a contact ([`ActivityKind`]).
//!
//! # Field kinds
//!
//! [`FieldKind`] is both the kind of an admin-defined extra field (the fourteen of
//! [`FieldKind::FIELDS`]) and the kind of anything a filter condition can be on, as
//! plugins see it (`plugins/wit`, `field-kind`): the same fourteen plus four *reference*
//! kinds that no field definition has — `activity` (`activity.<kind>`), `location`,
//! `segment` and `contact_type`. One enum, so a field's kind reaches a plugin as itself:
//! there is no conversion to get wrong, and no fallback when a name doesn't parse.
//!
//! Two readings of a name, because two audiences write them:
//! - [`FieldKind::parse_field`]: a field definition's kind, exactly as stored and as the
//!   fields API takes it (`long_text`); the reference kinds are refused, since no field is
//!   of kind `segment`.
//! - [`FieldKind::parse`]: any kind, as a plugin author or the operator try-out names it;
//!   also accepts the contract's spelling with dashes (`long-text`).
//!
//! The alternative, a field-only enum nested in a larger one (`Field(FieldKind)`,
//! `Activity`, ...), would keep the reference kinds out of field definitions by type,
//! but every filter, catalogue and plugin match would spell each kind through the
//! wrapper; the field definitions already refuse them where they are read, which is the
//! one place they could enter.
//!
//! # Activity kinds
//!
//! A closed list: recording an activity of another kind is refused. Stored kinds are
//! their names ([`ActivityKind::as_str`]); a name the list doesn't hold (a row older than
//! a rename) still reads, as its words ([`activity_label`]).

/// The kind of an extra field, or of what a filter condition is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    Text,
    LongText,
    Number,
    Integer,
    Money,
    Date,
    Datetime,
    Boolean,
    Select,
    Multiselect,
    Email,
    Phone,
    Url,
    Geo,
    /// `activity.<kind>` (a reference: no field has it).
    Activity,
    /// `location` (a reference).
    Location,
    /// `segment` (a reference).
    Segment,
    /// `type` (a reference).
    ContactType,
}

impl FieldKind {
    /// Every kind, in the contract's order: the field kinds, then the references.
    pub const ALL: [FieldKind; 18] = [
        FieldKind::Text,
        FieldKind::LongText,
        FieldKind::Number,
        FieldKind::Integer,
        FieldKind::Money,
        FieldKind::Date,
        FieldKind::Datetime,
        FieldKind::Boolean,
        FieldKind::Select,
        FieldKind::Multiselect,
        FieldKind::Email,
        FieldKind::Phone,
        FieldKind::Url,
        FieldKind::Geo,
        FieldKind::Activity,
        FieldKind::Location,
        FieldKind::Segment,
        FieldKind::ContactType,
    ];

    /// The kinds an extra field may have, in the order pickers show them: the first
    /// fourteen of [`FieldKind::ALL`], every kind but the references.
    pub const FIELDS: [FieldKind; 14] = match FieldKind::ALL.first_chunk::<14>() {
        Some(fields) => *fields,
        None => panic!("ALL starts with the field kinds"),
    };

    /// The stored and API name (`long_text`, `contact_type`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::LongText => "long_text",
            FieldKind::Number => "number",
            FieldKind::Integer => "integer",
            FieldKind::Money => "money",
            FieldKind::Date => "date",
            FieldKind::Datetime => "datetime",
            FieldKind::Boolean => "boolean",
            FieldKind::Select => "select",
            FieldKind::Multiselect => "multiselect",
            FieldKind::Email => "email",
            FieldKind::Phone => "phone",
            FieldKind::Url => "url",
            FieldKind::Geo => "geo",
            FieldKind::Activity => "activity",
            FieldKind::Location => "location",
            FieldKind::Segment => "segment",
            FieldKind::ContactType => "contact_type",
        }
    }

    /// Any kind named `s` (`long_text` or the contract's `long-text`).
    pub fn parse(s: &str) -> Option<FieldKind> {
        let s = s.replace('-', "_");
        FieldKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The field kind stored or given as exactly `s`; `None` for a reference kind.
    pub fn parse_field(s: &str) -> Option<FieldKind> {
        FieldKind::FIELDS.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether it is a reference (`activity`, `location`, `segment`, `contact_type`),
    /// which filters use and no field definition has.
    pub fn is_reference(self) -> bool {
        matches!(
            self,
            FieldKind::Activity | FieldKind::Location | FieldKind::Segment | FieldKind::ContactType
        )
    }

    /// Whether the kind takes a list of options.
    pub fn has_options(self) -> bool {
        matches!(self, FieldKind::Select | FieldKind::Multiselect)
    }

    /// Whether the kind holds free text (stored as a string that people type): these are
    /// the fields whose folded form is kept in `contacts.fields_folded`.
    pub fn holds_text(self) -> bool {
        matches!(
            self,
            FieldKind::Text | FieldKind::LongText | FieldKind::Email | FieldKind::Phone | FieldKind::Url
        )
    }
}

impl std::fmt::Display for FieldKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    PageVisit,
    LinkClick,
    Purchase,
    EmailSent,
    EmailOpen,
    EmailClick,
    Sms,
    Call,
    Meeting,
    SupportRequest,
    Note,
}

impl ActivityKind {
    /// Every kind, in the order pickers show them.
    pub const ALL: [ActivityKind; 11] = [
        ActivityKind::PageVisit,
        ActivityKind::LinkClick,
        ActivityKind::Purchase,
        ActivityKind::EmailSent,
        ActivityKind::EmailOpen,
        ActivityKind::EmailClick,
        ActivityKind::Sms,
        ActivityKind::Call,
        ActivityKind::Meeting,
        ActivityKind::SupportRequest,
        ActivityKind::Note,
    ];

    /// The stored names of [`ActivityKind::ALL`], in the same order.
    #[allow(clippy::indexing_slicing)] // evaluated at compile time: a bad index fails the build
    pub const NAMES: [&'static str; 11] = {
        let mut names = [""; 11];
        let mut i = 0;
        while i < names.len() {
            names[i] = ActivityKind::ALL[i].as_str();
            i += 1;
        }
        names
    };

    /// The kinds that count as being in touch with the contact ("last contact date").
    pub const CONTACT: [ActivityKind; 4] = [
        ActivityKind::EmailSent,
        ActivityKind::Sms,
        ActivityKind::Call,
        ActivityKind::Meeting,
    ];

    /// The stored and API name (`page_visit`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ActivityKind::PageVisit => "page_visit",
            ActivityKind::LinkClick => "link_click",
            ActivityKind::Purchase => "purchase",
            ActivityKind::EmailSent => "email_sent",
            ActivityKind::EmailOpen => "email_open",
            ActivityKind::EmailClick => "email_click",
            ActivityKind::Sms => "sms",
            ActivityKind::Call => "call",
            ActivityKind::Meeting => "meeting",
            ActivityKind::SupportRequest => "support_request",
            ActivityKind::Note => "note",
        }
    }

    /// The kind stored as `s`.
    pub fn parse(s: &str) -> Option<ActivityKind> {
        ActivityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind as people read it ("Page visit").
    pub fn label(self) -> &'static str {
        match self {
            ActivityKind::PageVisit => "Page visit",
            ActivityKind::LinkClick => "Link click",
            ActivityKind::Purchase => "Purchase",
            ActivityKind::EmailSent => "Email sent",
            ActivityKind::EmailOpen => "Email opened",
            ActivityKind::EmailClick => "Email link clicked",
            ActivityKind::Sms => "SMS",
            ActivityKind::Call => "Call",
            ActivityKind::Meeting => "Meeting",
            ActivityKind::SupportRequest => "Support request",
            ActivityKind::Note => "Note",
        }
    }
}

impl std::fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored activity kind as people read it ("Page visit" for `page_visit`); a kind the
/// list doesn't hold reads as its words.
pub fn activity_label(kind: &str) -> String {
    if let Some(known) = ActivityKind::parse(kind) {
        return known.label().to_owned();
    }
    let words = kind.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_kinds_parse_both_spellings() {
        assert_eq!(FieldKind::parse("long-text"), Some(FieldKind::LongText));
        assert_eq!(FieldKind::parse("contact_type"), Some(FieldKind::ContactType));
        assert_eq!(FieldKind::parse("nope"), None);
    }

    #[test]
    fn a_field_is_never_of_a_reference_kind() {
        for kind in FieldKind::ALL {
            assert_eq!(FieldKind::parse(kind.as_str()), Some(kind));
            let as_field = FieldKind::parse_field(kind.as_str());
            assert_eq!(as_field.is_some(), !kind.is_reference(), "{kind}");
        }
        assert_eq!(FieldKind::parse_field("long-text"), None);
        assert_eq!(FieldKind::FIELDS.len() + 4, FieldKind::ALL.len());
    }

    #[test]
    fn activity_kinds_read_as_words() {
        assert_eq!(ActivityKind::NAMES[0], "page_visit");
        assert_eq!(activity_label("email_open"), "Email opened");
        assert_eq!(activity_label("webinar_signup"), "Webinar signup");
        for kind in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(kind.as_str()), Some(kind));
        }
    }
}
