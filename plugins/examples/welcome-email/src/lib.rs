//! `welcome.send_welcome`: a welcome email to every contact of the batch that has an
//! address. It returns `send-email` effects, so the manifest asks for that capability and
//! an admin must approve the plugin before it can be enabled.

use kartoteka_plugin_sdk::prelude::*;

/// The parameters: all optional.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Welcome {
    /// The subject line; "Welcome" when absent.
    subject: Option<String>,
}

/// `send_welcome`: "Hello <name>, welcome!" to each contact with an e-mail address.
#[derive(Default)]
pub struct SendWelcome;

impl Action for SendWelcome {
    const NAME: &'static str = "send_welcome";
    const LABEL: &'static str = "Send a welcome email";
    const CAPABILITIES: &'static [Capability] = &[Capability::SendEmail];
    /// No parameters at all reads as `None`.
    type Params = Option<Welcome>;

    fn run(&mut self, params: &Option<Welcome>, contacts: &[Contact]) -> Result<Vec<Effect>, PluginError> {
        let subject = params
            .as_ref()
            .and_then(|p| p.subject.clone())
            .unwrap_or_else(|| "Welcome".to_owned());
        Ok(contacts
            .iter()
            .filter_map(|contact| {
                let to = contact.email.as_deref().filter(|e| !e.is_empty())?;
                let email = SendEmail {
                    to: to.to_owned(),
                    subject: subject.clone(),
                    html: format!("<p>Hello {}, welcome!</p>", escape(&contact.name)),
                    text: format!("Hello {}, welcome!", contact.name),
                };
                Some(Effect::send_email(contact, email))
            })
            .collect())
    }
}

/// The plugin.
pub struct WelcomeEmail;

plugin!(WelcomeEmail {
    name: "welcome",
    description: "Sends a welcome email to contacts.",
    actions: [SendWelcome],
});

/// The name, safe inside HTML text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kartoteka_plugin_sdk::testing::{self, contact, json};

    fn with_email(id: i64, name: &str, email: &str) -> Contact {
        Contact {
            email: Some(email.to_owned()),
            ..contact(id, name)
        }
    }

    fn emails(effects: &[Effect]) -> Vec<(i64, &SendEmail)> {
        effects
            .iter()
            .map(|e| match &e.effect {
                EffectKind::SendEmail(email) => (e.contact_id, email),
                _ => panic!("not an email: {:?}", e.effect),
            })
            .collect()
    }

    #[test]
    fn describes_itself_and_asks_for_send_email() {
        let description = testing::describe_bulk_action::<WelcomeEmail>();
        assert_eq!(description.manifest.name, "welcome");
        assert_eq!(description.manifest.capabilities, [Capability::SendEmail]);
        assert_eq!(description.entries[0].name, "send_welcome");
        assert_eq!(description.entries[0].label, "Send a welcome email");
    }

    #[test]
    fn emails_each_contact_with_an_address() {
        let contacts = [
            with_email(1, "Ada <Lovelace>", "ada@example.com"),
            contact(2, "No Email"),
            with_email(3, "Grace", "grace@example.com"),
        ];
        let effects = testing::run::<WelcomeEmail>("send_welcome", json!({}), &contacts).unwrap();
        let emails = emails(&effects);
        assert_eq!(emails.len(), 2);
        assert_eq!(emails[0].0, 1);
        assert_eq!(emails[0].1.to, "ada@example.com");
        assert_eq!(emails[0].1.subject, "Welcome");
        assert_eq!(emails[0].1.text, "Hello Ada <Lovelace>, welcome!");
        assert_eq!(emails[0].1.html, "<p>Hello Ada &lt;Lovelace&gt;, welcome!</p>");
        assert_eq!(emails[1].0, 3);
        assert_eq!(emails[1].1.to, "grace@example.com");
    }

    #[test]
    fn takes_the_subject_from_the_params() {
        let contacts = [with_email(7, "Ada", "ada@example.com")];
        let effects = testing::run::<WelcomeEmail>("send_welcome", json!({"subject": "Hi there"}), &contacts).unwrap();
        assert_eq!(emails(&effects)[0].1.subject, "Hi there");
        let effects = testing::run::<WelcomeEmail>("send_welcome", Args::none(), &contacts).unwrap();
        assert_eq!(emails(&effects)[0].1.subject, "Welcome");
    }

    #[test]
    fn refuses_bad_params_and_unknown_actions() {
        let contacts = [with_email(1, "Ada", "ada@example.com")];
        let error = testing::run::<WelcomeEmail>("send_welcome", json!({"subject": 3}), &contacts).unwrap_err();
        assert_eq!(
            error.to_text(),
            "params.subject: invalid type: integer `3`, expected a string"
        );
        assert!(testing::run::<WelcomeEmail>("nope", json!({}), &contacts).is_err());
    }
}
