//! What saving a dynamic segment's filter would do: its count, and who would join and
//! who would leave compared with the saved members.
