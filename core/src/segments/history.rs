//! A segment's size over time (from its joined/left events) and the CSV export of its
//! members.
