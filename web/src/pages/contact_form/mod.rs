//! The contact forms: new, edit and delete.
//!
//! - **Every problem at once, every value kept.** A submit is read whole: inputs the form
//!   can't read (a latitude `north`, an unknown company) become problems at their input,
//!   and the rest is still checked by `core` (`contacts::ContactReader::check_new_contact`,
//!   `contacts::ContactReader::check_contact_patch`), so the answer (400) shows each message next to its
//!   input. The form is re-rendered from what was submitted, never from a half-read draft:
//!   a bad latitude keeps the city and the owner as typed.
//! - **Extra fields by type.** Each field's box says which types it applies to
//!   (`data-types`); the server shows the boxes of the chosen type, and
//!   `assets/contact-form.js` switches them when the type select changes. A hidden box is
//!   also disabled, so its inputs are not sent. A box that holds a value stays visible
//!   whatever the type, marked "does not apply": its value is sent, and `core` refuses it
//!   with a message at the field rather than dropping it. Without the script the server
//!   still refuses a value that doesn't apply, and shows the right boxes again after a
//!   submit.
//! - **Numbers** are text inputs (`inputmode="decimal"`), not `type="number"`: a browser
//!   reads `1,5` in a number input by its own locale (some as 15); the server reads it
//!   with [`parse_decimal`](kartoteka_core::fields::value::parse_decimal), which takes `1,5` as 1.5 and refuses `1,500` as ambiguous.
//! - **Multiselects** are a group of checkboxes (with an empty hidden input so that
//!   "nothing ticked" is sent and clears the value).
//! - **The company picker**: [`super::company_picker`].
//! - **After a save** the form redirects (POST, redirect, GET) to the card, or after a
//!   delete to the list, with a notice of what happened ([`super::flash`]).
//!
//! | module | what |
//! |---|---|
//! | `read` | a submitted form read into a draft, with the problems of what couldn't be read |
//! | `view` | the form page: its inputs, values and problems, from a stored contact or a submit |
//! | `handlers` | new, create, edit, update and delete |

mod handlers;
mod read;
mod view;

pub use handlers::{create, delete, edit_form, new_form, update};
pub use read::decimal_input;
pub(super) use read::together;
pub use view::{FieldInput, shown_value};
