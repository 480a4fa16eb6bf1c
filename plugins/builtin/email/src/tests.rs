use super::{Email, MAX_SUBJECT, text};
use kartoteka_plugin_sdk::prelude::*;
use kartoteka_plugin_sdk::serde_json::{self, Value as Json};
use kartoteka_plugin_sdk::testing::{self, contact, json};

/// A company owned by user 7, with an e-mail, a phone and extra fields.
fn acme() -> Contact {
    Contact {
        kind: "company".to_owned(),
        email: Some("office@acme.example".to_owned()),
        phone: Some("+48 22 123 45 67".to_owned()),
        owner: Some(7),
        fields_json: r#"{"city": "Łódź", "vip": true, "plan": "Gold", "note": null}"#.to_owned(),
        ..contact(1, "Acme Works")
    }
}

/// A person with an e-mail and nothing else.
fn ada() -> Contact {
    Contact {
        email: Some("ada@example.com".to_owned()),
        ..contact(2, "Ada Lovelace")
    }
}

fn run(params: Json, contacts: &[Contact]) -> Result<Vec<(i64, SendEmail)>, PluginError> {
    let effects = testing::run::<Email>("send_email", params, contacts)?;
    Ok(effects
        .into_iter()
        .map(|effect| match effect.effect {
            EffectKind::SendEmail(email) => (effect.contact_id, email),
            other => panic!("not an e-mail: {other:?}"),
        })
        .collect())
}

fn emails(params: Json, contacts: &[Contact]) -> Vec<SendEmail> {
    run(params, contacts)
        .unwrap()
        .into_iter()
        .map(|(_, email)| email)
        .collect()
}

fn one(params: Json, contact: Contact) -> SendEmail {
    let mut emails = emails(params, &[contact]);
    assert_eq!(emails.len(), 1);
    emails.remove(0)
}

/// The error of a call on an empty batch: how the host checks the parameters of a job.
fn refused(params: Json) -> String {
    run(params, &[]).unwrap_err().to_text()
}

#[test]
fn describes_itself_and_asks_for_send_email() {
    let description = testing::describe_bulk_action::<Email>();
    assert_eq!(description.manifest.name, "email");
    assert_eq!(description.manifest.capabilities, [Capability::SendEmail]);
    assert_eq!(description.entries.len(), 1);
    assert_eq!(description.entries[0].name, "send_email");
    assert_eq!(description.entries[0].label, "Send an e-mail");
    let schema: Json = serde_json::from_str(&description.entries[0].schema).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], json!(["subject", "html"]));
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["properties"]["subject"]["minLength"], 1);
    for field in ["subject", "html", "text", "sender_name"] {
        let help = schema["properties"][field]["description"].as_str();
        assert!(
            help.is_some_and(|help| !help.is_empty()),
            "{field} has no help text: {schema}"
        );
    }
}

#[test]
fn one_email_per_contact_with_an_address() {
    let contacts = [
        acme(),
        contact(3, "No Address"),
        Contact {
            email: Some("  ".to_owned()),
            ..contact(4, "Blank Address")
        },
        Contact {
            email: Some("Grace.Hopper@Example.com".to_owned()),
            ..contact(5, "Grace")
        },
        ada(),
    ];
    let sent = run(json!({"subject": "Hi", "html": "<p>Hello</p>"}), &contacts).unwrap();
    let to: Vec<(i64, &str)> = sent.iter().map(|(id, email)| (*id, email.to.as_str())).collect();
    assert_eq!(
        to,
        [
            (1, "office@acme.example"),
            (5, "Grace.Hopper@Example.com"),
            (2, "ada@example.com")
        ]
    );
    assert!(
        sent.iter()
            .all(|(_, email)| email.subject == "Hi" && email.html == "<p>Hello</p>" && email.text == "Hello")
    );
    // Nobody to write to: no effects, and no error.
    assert!(
        run(json!({"subject": "Hi", "html": "x"}), &[contact(3, "No Address")])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn templates_are_personalised_from_the_contact_and_its_fields() {
    let params = json!({
        "subject": "{{ first_name }}, your {{ fields.plan | default(\"free\") }} plan",
        "html": "<p>Dear {{ name }} ({{ kind }}, #{{ id }}),</p>{% if fields.vip %}<p>As a VIP in {{ fields.city }}: call {{ phone }}.</p>{% endif %}<p>{{ sender.name }}</p>",
        "sender_name": " The Kartoteka team ",
    });
    let sent = emails(params, &[acme(), ada()]);
    assert_eq!(sent[0].subject, "Acme, your Gold plan");
    assert_eq!(
        sent[0].html,
        "<p>Dear Acme Works (company, #1),</p><p>As a VIP in Łódź: call +48 22 123 45 67.</p><p>The Kartoteka team</p>"
    );
    assert_eq!(sent[1].subject, "Ada, your free plan");
    assert_eq!(
        sent[1].html,
        "<p>Dear Ada Lovelace (person, #2),</p><p>The Kartoteka team</p>"
    );
    let text = "{{ email }} {{ owner }} {{ sender.name | default(\"us\") }}";
    let sent = emails(json!({"subject": "s", "html": "h", "text": text}), &[acme(), ada()]);
    assert_eq!(sent[0].text, "office@acme.example 7 us");
    assert_eq!(sent[1].text, "ada@example.com  us");
}

#[test]
fn contact_values_are_escaped_in_the_html_only() {
    let rogue = Contact {
        email: Some("rogue@example.com".to_owned()),
        fields_json: r#"{"site": "https://example.com/a?b=1&c=2"}"#.to_owned(),
        ..contact(9, "Bob <script>alert('x')</script> & Co")
    };
    let params = json!({
        "subject": "For {{ name }}",
        "html": "<p>Hi {{ name }}</p><a href=\"{{ fields.site }}\">site</a>{{ '<b>kept</b>' | safe }}",
        "text": "Hi {{ name }}",
    });
    let email = one(params, rogue.clone());
    assert_eq!(
        email.html,
        "<p>Hi Bob &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co</p>\
         <a href=\"https://example.com/a?b=1&amp;c=2\">site</a><b>kept</b>"
    );
    assert_eq!(email.subject, "For Bob <script>alert('x')</script> & Co");
    assert_eq!(email.text, "Hi Bob <script>alert('x')</script> & Co");
    // The text made from the HTML reads the name as it is, and the link's real address.
    let email = one(
        json!({"subject": "s", "html": "<p>Hi {{ name }}</p><a href=\"{{ fields.site }}\">site</a>"}),
        rogue,
    );
    assert_eq!(
        email.text,
        "Hi Bob <script>alert('x')</script> & Co\n\nsite (https://example.com/a?b=1&c=2)"
    );
}

#[test]
fn the_text_is_made_from_the_html_when_absent_or_blank() {
    let html = r##"<!DOCTYPE html><html><head><title>News</title><style>p { color: red }</style></head>
<body><table width="100%"><tr><td><h1>Hello {{ first_name }}</h1>
<p>Our   <b>new</b> offer is
here: <a href="https://example.com/offer?id=1&amp;u={{ id }}">see the offer</a>.<br>Write to
<a href="mailto:{{ sender.name }}@example.com">{{ sender.name }}@example.com</a> or visit
<a href="https://example.com/">https://example.com/</a>.</p>
<ul><li>One</li><li>Two</li></ul>
<ol><li>First</li></ol>
<blockquote>Quoted</blockquote>
</td><td><img src="logo.png" alt="Kartoteka"></td></tr></table>
<p>&copy; 2025 Caf&eacute; &amp; Co &#8212; <a href="#top">top</a></p>
<script>document.write("no")</script></body></html>"##;
    // Paragraphs and headings are apart, list items and table cells one to a line.
    let expected = "Hello Ada\n\n\
                    Our new offer is here: see the offer (https://example.com/offer?id=1&u=2).\n\
                    Write to sales@example.com or visit https://example.com/.\n\
                    - One\n- Two\n\
                    1. First\n\n\
                    > Quoted\n\
                    Kartoteka\n\n\
                    © 2025 Café & Co — top";
    for text in [None, Some(""), Some(" \n ")] {
        let mut params = json!({"subject": "News", "html": html, "sender_name": "sales"});
        if let Some(text) = text {
            params["text"] = json!(text);
        }
        assert_eq!(one(params, ada()).text, expected);
    }
}

#[test]
fn html_to_text_keeps_every_link_address() {
    assert_eq!(
        text::from_html("<p><a href=\"https://a.example/1\">one</a> and <a href=\"https://a.example/2\"><img alt=\"two\" src=\"x.png\"></a></p>").unwrap(),
        "one (https://a.example/1) and two (https://a.example/2)"
    );
    // A link over two lines gets its address once, after its last word.
    assert_eq!(
        text::from_html("<a href=\"https://a.example/\">first<br>second </a>after").unwrap(),
        "first\nsecond (https://a.example/) after"
    );
    assert_eq!(
        text::from_html("<a href=\"tel:+48221234567\">+48221234567</a>, <a href=\"javascript:void(0)\">js</a>")
            .unwrap(),
        "+48221234567, js"
    );
    assert_eq!(text::from_html("").unwrap(), "");
    assert_eq!(
        text::from_html("<p>a</p>\n\n\n<p></p><div></div><p>b</p>").unwrap(),
        "a\n\nb"
    );
    assert_eq!(
        text::from_html("plain &lt;text&gt; 5 < 6").unwrap(),
        "plain <text> 5 < 6"
    );
}

#[test]
fn what_a_contact_lacks_renders_empty() {
    let template = "[{{ fields.missing }}|{{ fields.missing.deeper.still }}|{{ phone }}|{{ owner }}|{{ fields.note }}|{{ sender.name }}|{{ nothing }}]";
    let params = json!({"subject": template, "html": template, "text": template});
    let email = one(params, ada());
    assert_eq!(email.subject, "[||||||]");
    assert_eq!(email.html, "[||||||]");
    assert_eq!(email.text, "[||||||]");
    let nameless = Contact {
        email: Some("x@example.com".to_owned()),
        ..contact(6, "")
    };
    let params = json!({"subject": "Hello {{ first_name | default(\"friend\") }}", "html": "<p>{{ fields.note | default(\"-\") }}</p>"});
    let email = one(params, nameless);
    assert_eq!(email.subject, "Hello friend");
    assert_eq!(email.html, "<p>-</p>");
}

#[test]
fn the_subject_is_one_trimmed_line() {
    let params =
        json!({"subject": "  {% if fields.vip %}VIP:{% endif %}\n Hello\r\n\t{{ name }}\u{7}  \n", "html": "x"});
    let sent = emails(params, &[acme(), ada()]);
    assert_eq!(sent[0].subject, "VIP: Hello Acme Works");
    assert_eq!(sent[1].subject, "Hello Ada Lovelace");
    // A subject that renders empty for a contact is sent empty: the template wasn't blank.
    let email = one(json!({"subject": "{{ fields.plan }}", "html": "x"}), ada());
    assert_eq!(email.subject, "");
    let long = Contact {
        name: "ł".repeat(600),
        ..ada()
    };
    let subject = one(json!({"subject": "x{{ name }}", "html": "x"}), long).subject;
    assert_eq!(subject.len(), MAX_SUBJECT - 1);
    assert!(subject.starts_with("xł") && subject.ends_with('ł'));
}

#[test]
fn a_bad_template_is_refused_with_its_path_on_an_empty_batch() {
    let subject = refused(json!({"subject": "Hi {{ name", "html": "x"}));
    assert!(subject.starts_with("params.subject: syntax error: "), "{subject}");
    assert!(subject.ends_with("(line 1)"), "{subject}");
    let html = refused(json!({"subject": "Hi", "html": "<p>\n{% if name %}no end</p>"}));
    assert!(html.starts_with("params.html: syntax error: "), "{html}");
    assert!(html.contains("(line 2)"), "{html}");
    let text = refused(json!({"subject": "Hi", "html": "x", "text": "{{ name | }}"}));
    assert!(text.starts_with("params.text: syntax error: "), "{text}");
    assert_eq!(
        refused(json!({"subject": " \n", "html": "x"})),
        "params.subject: may not be blank"
    );
    assert_eq!(
        refused(json!({"subject": "Hi", "html": ""})),
        "params.html: may not be blank"
    );
}

#[test]
fn a_render_error_names_the_path_and_the_contact() {
    let unknown = run(json!({"subject": "Hi", "html": "{{ name | shout }}"}), &[ada()])
        .unwrap_err()
        .to_text();
    assert!(unknown.starts_with("params.html: "), "{unknown}");
    assert!(unknown.contains("shout"), "{unknown}");
    assert!(unknown.ends_with("for contact 2"), "{unknown}");
}

#[test]
fn refuses_bad_params() {
    assert_eq!(refused(json!({"html": "x"})), "params: missing field `subject`");
    assert_eq!(refused(json!({"subject": "x"})), "params: missing field `html`");
    assert_eq!(
        refused(json!({"subject": "s", "html": "h", "from": "me"})),
        "params.from: unknown field `from`, expected one of `subject`, `html`, `text`, `sender_name`"
    );
    assert_eq!(
        refused(json!({"subject": "s", "html": "h", "sender_name": 3})),
        "params.sender_name: invalid type: integer `3`, expected a string"
    );
    assert!(testing::run::<Email>("nope", json!({"subject": "s", "html": "h"}), &[ada()]).is_err());
}

#[test]
fn refuses_extra_fields_that_are_not_an_object() {
    let broken = Contact {
        fields_json: "[1]".to_owned(),
        ..ada()
    };
    let error = run(json!({"subject": "s", "html": "h"}), &[broken]).unwrap_err();
    assert_eq!(error.path, None);
    assert!(
        error
            .message
            .starts_with("contact 2: the extra fields are not a JSON object"),
        "{error}"
    );
}

#[test]
fn html_to_text_survives_any_markup() {
    let html = r#"<table border=1><tr><td rowspan=2 colspan=3>a<table><tr><td>nested</td><th>head</th></tr></table></td><td>b</td></tr><tr><td>c</td></tr></table>
<hr><pre>  pre
    formatted</pre><dl><dt>term</dt><dd>definition</dd></dl>x<sup>2</sup> <code>code</code> <s>old</s> <i>it</i>
<p>unclosed <b>bold <a href="https://a.example/">link <p>para</a> &bogus; &#xZZ; <<>> </div></span>"#;
    let text = text::from_html(html).unwrap();
    assert!(text.len() < 400, "{text}");
    for part in [
        "nested",
        "head",
        "  pre\n    formatted",
        "term",
        "definition",
        "x² code old it",
        "bold",
        "para",
    ] {
        assert!(text.contains(part), "{part:?} missing from {text:?}");
    }
    assert!(text.contains("(https://a.example/)"), "{text}");
}

#[test]
fn values_in_html_attributes_stay_quoted_and_links_stay_readable() {
    let contact = Contact {
        fields_json: r#"{"site": "https://shop.example/o'brien?x=\"1\"&y=<2>", "visits": 3}"#.to_owned(),
        ..ada()
    };
    let params = json!({
        "subject": "s",
        "html": "<a href='{{ fields.site }}' title=\"{{ fields.site }}\">{{ fields.visits }}</a>",
    });
    let html = one(params, contact).html;
    let quoted = "https://shop.example/o&#39;brien?x=&quot;1&quot;&amp;y=&lt;2&gt;";
    assert_eq!(html, format!("<a href='{quoted}' title=\"{quoted}\">3</a>"));
}
