//! Why a contact is or isn't in a segment: each condition of the segment's filter, whether
//! it matched, and the contact's value it was compared with.
