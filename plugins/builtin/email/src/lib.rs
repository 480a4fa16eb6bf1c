//! `email`: the built-in bulk action `email.send_email`, an e-mail to every contact of the
//! batch that has an address.
//!
//! The subject, the HTML and the plain text are templates rendered for each contact, in
//! [minijinja](https://docs.rs/minijinja) (Jinja2's syntax), as in the built-in `tasks`:
//! conditionals (`{% if fields.vip %}...{% endif %}`), filters (`{{ name | title }}`,
//! `{{ fields.city | default("your city") }}`), and a template with a syntax error
//! refused with its parameter and line (`params.html: syntax error: ... (line 3)`) when
//! the job is checked, before any e-mail is made.
//!
//! A template sees the contact: `id`, `name`, `first_name` (the first word of the name),
//! `kind` (the contact type's key), `email`, `phone`, `owner` (the owning user's id),
//! `fields` (its extra fields, `fields.city`), and `sender.name` (the `sender_name`
//! parameter). Whatever a contact lacks renders empty, however deep it is read (an absent
//! phone, a null extra field, `fields.address.city` of a contact without an address), so
//! one incomplete contact never stops a send, and `default(..)` fills the gap.
//!
//! What the HTML template inserts is HTML-escaped (minijinja's auto-escaping, with the
//! five entities the host's link rewriting reads, [`escape`]): a contact named `Ada <3` is
//! `Ada &lt;3` in the HTML, never markup, while `| safe` inserts a value as it is. The
//! subject and the text are not HTML, so nothing is escaped in them.
//!
//! The subject is rendered, every run of spaces and line breaks made one space (a subject
//! is one header line), trimmed and cut to [`MAX_SUBJECT`] bytes. A subject template that
//! is blank is refused; one that renders empty for a contact is kept empty (and the host
//! fails that contact alone, saying why). The plain text is the `text` template's;
//! without one (or with a blank one) it is made from the rendered HTML ([`text`]), links
//! written with their addresses, so both versions carry every link.
//!
//! A contact without an address, or with a blank one, gets no e-mail (the host leaves such
//! contacts out already; this is the plugin's own guard). The e-mail goes to the address
//! exactly as the contact has it. The templates are compiled once per batch.

use kartoteka_plugin_sdk::prelude::*;
use kartoteka_plugin_sdk::templates::{contact_context, describe, render, truncate};
use minijinja::{AutoEscape, Environment, Template, UndefinedBehavior, Value as Jinja};

pub mod text;

/// The longest subject, in bytes: a header line, not a page (a plugin's answer may carry
/// strings of up to 64 KiB, but a longer subject only gets cut by mail clients).
pub const MAX_SUBJECT: usize = 1000;

/// The longest HTML or text body, in bytes: the host refuses an e-mail with a longer one
/// (`MAX_BODY` in `core/src/plugin/values/effects.rs`).
pub const MAX_BODY: usize = 1 << 20;

/// The parameters of `send_email`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The subject line, a template rendered for each contact: `Hello {{ first_name }}`.
    /// Line breaks become spaces; it may not be blank.
    #[schemars(length(min = 1))]
    pub subject: String,
    /// The message as HTML, a template rendered for each contact: `<p>Dear {{ name }},</p>`.
    /// What it inserts is HTML-escaped (`| safe` inserts a value as it is). It may not be
    /// blank.
    #[schemars(length(min = 1))]
    pub html: String,
    /// The plain-text version, a template rendered for each contact, nothing escaped. When
    /// absent or blank, it is made from the rendered HTML, links followed by their
    /// addresses: `the offer (https://example.com/offer)`.
    #[serde(default)]
    pub text: Option<String>,
    /// The sender's name as the templates see it, `{{ sender.name }}`: plain text, not a
    /// template. Only the templates see it; who the e-mail is from is the server's setting.
    #[serde(default)]
    pub sender_name: Option<String>,
}

/// `email.send_email`: one e-mail per contact of the batch with an address.
#[derive(Default)]
pub struct SendEmailAction;

impl Action for SendEmailAction {
    const NAME: &'static str = "send_email";
    const LABEL: &'static str = "Send an e-mail";
    const CAPABILITIES: &'static [Capability] = &[Capability::SendEmail];
    type Params = Params;

    fn run(&mut self, params: &Params, contacts: &[Contact]) -> Result<Vec<Effect>, PluginError> {
        let env = environment();
        let templates = Templates::compile(&env, params)?;
        let mut effects = Vec::with_capacity(contacts.len());
        for contact in contacts {
            let Some(to) = contact.email.as_deref().filter(|to| !to.trim().is_empty()) else {
                continue;
            };
            let context = context(contact, params.sender_name.as_deref())?;
            let email = templates.render(contact, &context, to)?;
            effects.push(Effect::send_email(contact, email));
        }
        Ok(effects)
    }
}

/// The plugin.
pub struct Email;

plugin!(Email {
    name: "email",
    description: "Sends e-mails to contacts, written as templates.",
    actions: [SendEmailAction],
});

/// The three templates of a send, compiled.
struct Templates<'env, 'source> {
    subject: Template<'env, 'source>,
    html: Template<'env, 'source>,
    /// `None`: the text is made from the HTML.
    text: Option<Template<'env, 'source>>,
}

impl<'env, 'source> Templates<'env, 'source> {
    /// The parameters' templates compiled, or the first one refused, at its path: blank
    /// where it may not be, or with a syntax error.
    fn compile(env: &'env Environment<'source>, params: &'source Params) -> Result<Self, PluginError> {
        let subject = compile(env, "subject", &params.subject)?;
        let html = compile(env, "html", &params.html)?;
        let text = match params.text.as_deref() {
            Some(source) if !source.trim().is_empty() => Some(compile(env, "text", source)?),
            _ => None,
        };
        Ok(Templates { subject, html, text })
    }

    /// The e-mail to `to`, rendered for `contact`.
    fn render(&self, contact: &Contact, context: &Jinja, to: &str) -> Result<SendEmail, PluginError> {
        let subject = render(&self.subject, "params.subject", contact, context)?;
        let mut subject = one_line(&subject);
        truncate(&mut subject, MAX_SUBJECT);
        let html = render(&self.html, "params.html", contact, context)?;
        limit(&html, "html", contact)?;
        let text = match &self.text {
            Some(template) => {
                let text = render(template, "params.text", contact, context)?;
                limit(&text, "text", contact)?;
                text
            }
            None => {
                let text = text::from_html(&html).map_err(|error| {
                    PluginError::at(
                        "params.html",
                        format!("can't make the plain text: {error}, for contact {}", contact.id),
                    )
                })?;
                limit(&text, "html", contact)?;
                text
            }
        };
        Ok(SendEmail {
            to: to.to_owned(),
            subject,
            html,
            text,
        })
    }
}

/// The templates' environment: Jinja2's filters and tests, undefined values that render
/// empty however deep they are read, `none` rendered empty, HTML escaping ([`escape`]) in
/// the template named `html` only, the text kept as written to its last newline.
fn environment<'source>() -> Environment<'source> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_auto_escape_callback(|name| match name {
        "html" => AutoEscape::Html,
        _ => AutoEscape::None,
    });
    env.set_keep_trailing_newline(true);
    env.set_formatter(|out, state, value| {
        if value.is_none() || value.is_undefined() {
            Ok(())
        } else if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() {
            escape(&value.to_string(), out)
                .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "can't write the HTML"))
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env
}

/// `text` written into HTML as text: `&`, `<`, `>`, `"` and `'` as `&amp;`, `&lt;`,
/// `&gt;`, `&quot;` and `&#39;`, safe between tags and in quoted attributes. minijinja's
/// own escaping writes `/` as `&#x2f;` too, which browsers read alike but which hides a
/// link inserted from a contact's field (`href="{{ fields.website }}"`) from the host,
/// whose click tracking looks for `href="https://..."` and undoes these five entities.
fn escape(text: &str, out: &mut impl std::fmt::Write) -> std::fmt::Result {
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
        out.write_str(&rest[..at])?;
        out.write_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        })?;
        rest = &rest[at + 1..];
    }
    out.write_str(rest)
}

/// `source` compiled as the template `name` (`subject`, `html` or `text`: the name
/// decides the escaping), or refused at `params.<name>`: the syntax error with its line,
/// or blank (only the text may be, and a blank text is never compiled).
fn compile<'env, 'source>(
    env: &'env Environment<'source>,
    name: &'static str,
    source: &'source str,
) -> Result<Template<'env, 'source>, PluginError> {
    if source.trim().is_empty() {
        return Err(PluginError::at(format!("params.{name}"), "may not be blank"));
    }
    env.template_from_named_str(name, source)
        .map_err(|error| PluginError::at(format!("params.{name}"), describe(&error)))
}

/// Refuses a body longer than [`MAX_BODY`], at `params.<name>`.
fn limit(body: &str, name: &str, contact: &Contact) -> Result<(), PluginError> {
    if body.len() > MAX_BODY {
        return Err(PluginError::at(
            format!("params.{name}"),
            format!(
                "renders to {} bytes for contact {}; at most {MAX_BODY}",
                body.len(),
                contact.id
            ),
        ));
    }
    Ok(())
}

/// What a template sees of `contact`, and `sender.name` (trimmed). The absent e-mail,
/// phone, owner and sender's name (or a blank one), an empty name's first word and the
/// null extra fields are left out, so they are undefined: empty, and filled by `default(..)`.
fn context(contact: &Contact, sender_name: Option<&str>) -> Result<Jinja, PluginError> {
    let sender: Jinja = sender_name
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| ("name", Jinja::from(name)))
        .into_iter()
        .collect();
    let mut context = contact_context(contact)?;
    context.push(("sender", sender));
    if let Some(first) = contact.name.split_whitespace().next() {
        context.push(("first_name", Jinja::from(first)));
    }
    Ok(Jinja::from_iter(context))
}

/// `text` on one line: every run of whitespace and control characters one space, trimmed.
fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    line
}

#[cfg(test)]
mod tests;
