//! The CSV export of a segment's members.
