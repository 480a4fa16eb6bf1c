//! Bulk e-mail through a real SMTP server (`tests/smtp/sink.py`, aiosmtpd), on both
//! databases: every recipient gets exactly one message with its personalisation and the
//! headers every message carries; do-not-contact, address-less and unsubscribed contacts
//! get none; a GET of the unsubscribe link changes nothing, the one-click POST
//! unsubscribes at once, also during a send; clicks and opens come back as activities;
//! a 421 and a dropped connection are retried, not restarted; without a secret nothing is
//! sent and the start says why.

use std::time::Duration;

use kartoteka_core::mail::MailConfig;
use kartoteka_core::mail::links::{self, Purpose};
use kartoteka_tests::smtp::{Received, SinkOptions, SmtpSink};
use kartoteka_tests::*;

const SECRET: &str = "a test secret, long enough";

/// Sends through `sink` with short retries.
fn configure(app: &TestApp, sink: &SmtpSink, rate: Option<f64>) {
    app.core().mail().configure(MailConfig {
        smtp_url: Some(sink.url()),
        from: "Acme News <news@acme.example>".into(),
        secret: Some(SECRET.into()),
        base_url: app.base_url.clone(),
        retry_after: Duration::from_millis(300),
        rate,
        ..MailConfig::default()
    });
}

async fn person(app: &TestApp, token: &str, name: &str, email: Option<&str>, dnc: bool) -> i64 {
    let contact = app
        .create_contact(
            token,
            &json!({"type": "client", "name": name, "email": email, "do_not_contact": dnc, "fields": {}}),
        )
        .await;
    id(&contact)
}

fn send_body(ids: &[i64]) -> Value {
    json!({
        "action": "email.send_email",
        "params": {
            "subject": "Hello {{ first_name }}",
            "html": "<p>Dear {{ name }}, see <a href=\"https://shop.example/offer?x=1&amp;y=2\">the offer</a>.</p>",
            "sender_name": "Acme"
        },
        "dry_run": false,
        "contact_ids": ids,
    })
}

async fn start(app: &TestApp, token: &str, body: &Value) -> i64 {
    let (status, job) = app.post_json(token, "/api/v1/contacts/actions", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}: {job}");
    id(&job)
}

/// The job's campaign numbers once nothing of it is queued any more (60 s at most).
async fn delivered(app: &TestApp, token: &str, job: i64) -> Value {
    let job_body = crate::jobs::ended(app, token, job).await;
    assert_eq!(job_body["state"], "done", "{job_body}");
    for _ in 0..600 {
        let (status, body) = app.get(token, &format!("/api/v1/jobs/{job}/email")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["queued"] == 0 {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {job}'s messages were not all handed off within a minute");
}

/// The raw message's body with quoted-printable soft breaks and `=3D` undone.
fn body_text(m: &Received) -> String {
    m.body().replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
}

/// The first `prefix...` link in the message, up to a quote or whitespace.
fn link(m: &Received, prefix: &str) -> String {
    let body = body_text(m);
    let at = body
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in {body}"));
    body[at..]
        .split(['"', '\'', ' ', '\r', '\n', '>'])
        .next()
        .unwrap()
        .replace("&amp;", "&")
}

fn by_rcpt<'a>(messages: &'a [Received], to: &str) -> Vec<&'a Received> {
    messages.iter().filter(|m| m.rcpt_tos.iter().any(|r| r == to)).collect()
}

async fn activity_kinds(app: &TestApp, token: &str, contact: i64) -> Vec<String> {
    let (status, body) = app.get(token, &format!("/api/v1/contacts/{contact}/activities")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body.get("items").unwrap_or(&body).as_array().unwrap().clone();
    items.iter().map(|a| a["kind"].as_str().unwrap().to_owned()).collect()
}

async fn a_send_reaches_each_recipient_once(app: TestApp) {
    let Some(sink) = SmtpSink::start(SinkOptions::default()).await else {
        return;
    };
    let (_, token) = app.admin().await;
    let ada = person(&app, &token, "Ada Lovelace", Some("ada@example.com"), false).await;
    let grace = person(&app, &token, "Grace Hopper", Some("grace@example.com"), false).await;
    let hedy = person(&app, &token, "Hedy Lamarr", Some("hedy@example.com"), true).await;
    let nobody = person(&app, &token, "No Address", None, false).await;
    let ids = [ada, grace, hedy, nobody];

    // Without a secret the start is refused, and says why.
    app.core().mail().configure(MailConfig {
        smtp_url: Some(sink.url()),
        ..MailConfig::default()
    });
    let refused = app
        .post_json(&token, "/api/v1/contacts/actions", &send_body(&ids))
        .await;
    assert_invalid(&refused, "dry_run");
    assert!(refused.1.to_string().contains("KARTOTEKA_SECRET"), "{}", refused.1);

    configure(&app, &sink, None);
    let job = start(&app, &token, &send_body(&ids)).await;
    let numbers = delivered(&app, &token, job).await;
    assert_eq!(numbers["sent"], 2, "{numbers}");
    assert_eq!(numbers["failed"], 0, "{numbers}");
    let finished = crate::jobs::ended(&app, &token, job).await;
    assert_eq!(
        (finished["done"].as_i64(), finished["skipped"].as_i64()),
        (Some(2), Some(2)),
        "{finished}"
    );
    let (_, outcomes) = app
        .get(&token, &format!("/api/v1/jobs/{job}/outcomes?outcome=skipped"))
        .await;
    let mut reasons: Vec<String> = outcomes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["reason"].as_str().unwrap().to_owned())
        .collect();
    reasons.sort();
    assert_eq!(reasons, ["do not contact", "no e-mail address"], "{outcomes}");

    let messages = sink.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(messages.len(), 2, "exactly two messages");
    for (contact, address, first) in [(ada, "ada@example.com", "Ada"), (grace, "grace@example.com", "Grace")] {
        let mine = by_rcpt(&messages, address);
        assert_eq!(mine.len(), 1, "one message to {address}");
        let m = mine[0];
        assert_eq!(m.header("Subject").as_deref(), Some(format!("Hello {first}").as_str()));
        assert_eq!(m.header("From").as_deref(), Some("\"Acme News\" <news@acme.example>"));
        assert_eq!(
            m.header("Message-ID").as_deref(),
            Some(format!("<{job}.{contact}.0@127.0.0.1>").as_str())
        );
        assert_eq!(
            m.header("List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        let unsubscribe = m.header("List-Unsubscribe").unwrap();
        assert!(
            unsubscribe.starts_with(&format!("<{}/m/u/", app.base_url)),
            "{unsubscribe}"
        );
        assert!(body_text(m).contains(&format!("Dear {first}")), "{}", m.data);
        assert!(
            activity_kinds(&app, &token, contact)
                .await
                .contains(&"email_sent".to_owned())
        );
    }
    for contact in [hedy, nobody] {
        assert!(
            !activity_kinds(&app, &token, contact)
                .await
                .contains(&"email_sent".to_owned())
        );
    }

    // A click goes to the URL the message had, and is an activity.
    let http = client_builder().build().unwrap();
    let ada_message = by_rcpt(&messages, "ada@example.com")[0];
    let click = link(ada_message, &format!("{}/m/c/", app.base_url));
    let answer = http.get(&click).send().await.unwrap();
    assert!(answer.status().is_redirection(), "{click}: {}", answer.status());
    assert_eq!(
        answer.headers()["location"].to_str().unwrap(),
        "https://shop.example/offer?x=1&y=2"
    );
    let tampered = click.replace("shop.example", "evil.example");
    assert_eq!(
        http.get(&tampered).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let pixel = link(ada_message, &format!("{}/m/o/", app.base_url));
    let answer = http.get(&pixel).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["content-type"], "image/gif");
    let kinds = activity_kinds(&app, &token, ada).await;
    assert!(
        kinds.contains(&"email_click".to_owned()) && kinds.contains(&"email_open".to_owned()),
        "{kinds:?}"
    );

    // A GET of the unsubscribe link asks and changes nothing; the POST unsubscribes.
    let header = ada_message.header("List-Unsubscribe").unwrap();
    let unsubscribe = header.trim_start_matches('<').trim_end_matches('>').to_owned();
    let page = Reply::read(http.get(&unsubscribe).send().await.unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("confirm-unsubscribe"), "{}", page.text);
    let numbers = app.get(&token, &format!("/api/v1/jobs/{job}/email")).await.1;
    assert_eq!(
        (
            numbers["unsubscribed"].as_i64(),
            numbers["opened"].as_i64(),
            numbers["clicked"].as_i64()
        ),
        (Some(0), Some(1), Some(1)),
        "{numbers}"
    );
    let forged = unsubscribe.replacen(&format!("/m/u/{}", sink_id(&unsubscribe)), "/m/u/999999", 1);
    assert_eq!(
        http.post(&forged)
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let done = Reply::read(
        http.post(&unsubscribe)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert!(done.text.contains("You are unsubscribed"), "{}", done.text);
    let numbers = app.get(&token, &format!("/api/v1/jobs/{job}/email")).await.1;
    assert_eq!(numbers["unsubscribed"], 1, "{numbers}");

    // The next send skips Ada: unsubscribed.
    let again = start(&app, &token, &send_body(&[ada, grace])).await;
    delivered(&app, &token, again).await;
    let messages = sink.wait_for(3, Duration::from_secs(30)).await;
    assert_eq!(
        by_rcpt(&messages, "ada@example.com").len(),
        1,
        "no second message to Ada"
    );
    assert_eq!(by_rcpt(&messages, "grace@example.com").len(), 2);
    let (_, outcomes) = app
        .get(&token, &format!("/api/v1/jobs/{again}/outcomes?outcome=skipped"))
        .await;
    assert_eq!(outcomes["items"][0]["reason"], "unsubscribed", "{outcomes}");

    // The outbox page shows the messages to an admin.
    let (client, _) = app.signed_in_client(&app.admin().await.0.email, PASSWORD).await;
    let page = app.page(&client, "/outbox").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("grace@example.com"), "{}", page.text);
}

/// The id part of an unsubscribe link's token.
fn sink_id(url: &str) -> String {
    url.rsplit("/m/u/")
        .next()
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_owned()
}

both!(a_send_reaches_each_recipient_once: a_send_reaches_each_recipient_once_sqlite, a_send_reaches_each_recipient_once_postgres);

async fn refusals_and_drops_are_retried(app: TestApp) {
    let Some(sink) = SmtpSink::start(SinkOptions {
        fail_after: Some((1, 421, 2)),
        drop_after: Some(3),
        permanent: vec!["gone@example.com".into()],
        ..SinkOptions::default()
    })
    .await
    else {
        return;
    };
    configure(&app, &sink, None);
    let (_, token) = app.admin().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            person(
                &app,
                &token,
                &format!("Person {i}"),
                Some(&format!("p{i}@example.com")),
                false,
            )
            .await,
        );
    }
    let gone = person(&app, &token, "Gone", Some("gone@example.com"), false).await;
    ids.push(gone);
    let job = start(&app, &token, &send_body(&ids)).await;
    let numbers = delivered(&app, &token, job).await;
    assert_eq!(
        (numbers["sent"].as_i64(), numbers["failed"].as_i64()),
        (Some(6), Some(1)),
        "{numbers}"
    );
    let messages = sink.messages();
    for i in 0..6 {
        assert_eq!(
            by_rcpt(&messages, &format!("p{i}@example.com")).len(),
            1,
            "one message to p{i}"
        );
    }
    assert!(by_rcpt(&messages, "gone@example.com").is_empty());
    let (_, outbox) = app.get(&token, &format!("/api/v1/outbox?job_id={job}&limit=50")).await;
    let items = outbox["items"].as_array().unwrap();
    assert!(
        items.iter().any(|m| m["attempts"].as_i64().unwrap() > 1),
        "some were retried: {outbox}"
    );
    let failed = items.iter().find(|m| m["recipient"] == "gone@example.com").unwrap();
    assert_eq!(failed["state"], "failed");
    assert!(failed["answer"].as_str().unwrap().contains("550"), "{failed}");
}

both!(refusals_and_drops_are_retried: refusals_and_drops_are_retried_sqlite, refusals_and_drops_are_retried_postgres);

async fn one_click_during_a_send_stops_further_mail(app: TestApp) {
    let Some(sink) = SmtpSink::start(SinkOptions::default()).await else {
        return;
    };
    configure(&app, &sink, Some(4.0));
    let (_, token) = app.admin().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(
            person(
                &app,
                &token,
                &format!("Reader {i}"),
                Some(&format!("r{i}@example.com")),
                false,
            )
            .await,
        );
    }
    let job = start(&app, &token, &send_body(&ids)).await;
    crate::jobs::ended(&app, &token, job).await;
    sink.wait_for(1, Duration::from_secs(30)).await;
    // The last contact's message is still queued: its recipient unsubscribes now.
    let (_, outbox) = app.get(&token, &format!("/api/v1/outbox?job_id={job}&limit=50")).await;
    let last = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["recipient"] == "r11@example.com")
        .unwrap()
        .clone();
    assert_eq!(last["state"], "queued", "{outbox}");
    let http = client_builder().build().unwrap();
    let token_u = links::token(SECRET, Purpose::Unsubscribe, id(&last), "");
    let answer = http
        .post(app.url(&format!("/m/u/{token_u}")))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    // And another becomes do-not-contact: checked again at the handoff too.
    let (_, r10) = app.get(&token, &format!("/api/v1/contacts/{}", ids[10])).await;
    let (status, patched) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", ids[10]),
            &json!({"do_not_contact": true, "version": r10["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let numbers = delivered(&app, &token, job).await;
    assert_eq!(
        (numbers["sent"].as_i64(), numbers["skipped"].as_i64()),
        (Some(10), Some(2)),
        "{numbers}"
    );
    let messages = sink.messages();
    assert!(by_rcpt(&messages, "r11@example.com").is_empty());
    assert!(by_rcpt(&messages, "r10@example.com").is_empty());
    assert_eq!(messages.len(), 10);
    let (_, outbox) = app
        .get(&token, &format!("/api/v1/outbox?job_id={job}&state=skipped"))
        .await;
    let mut reasons: Vec<&str> = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["answer"].as_str().unwrap())
        .collect();
    reasons.sort_unstable();
    assert_eq!(reasons, ["do not contact", "unsubscribed"], "{outbox}");
}

both!(one_click_during_a_send_stops_further_mail: one_click_during_a_send_stops_further_mail_sqlite, one_click_during_a_send_stops_further_mail_postgres);

async fn local_outbox_preview_and_test_message(app: TestApp) {
    // No SMTP server: mail goes to the local outbox, read in the pages.
    app.core().mail().configure(MailConfig {
        secret: Some(SECRET.into()),
        base_url: app.base_url.clone(),
        ..MailConfig::default()
    });
    let (admin, token) = app.admin().await;
    let ada = person(&app, &token, "Ada Lovelace", Some("ada@example.com"), false).await;
    let params = json!({"subject": "Hello {{ first_name }}", "html": "<p>Dear {{ name }}</p>"});

    let (status, preview) = app
        .post_json(
            &token,
            "/api/v1/actions/preview",
            &json!({"action": "email.send_email", "params": params, "contact_id": ada}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["effects"][0]["subject"], "Hello Ada", "{preview}");
    assert_eq!(preview["effects"][0]["to"], "ada@example.com", "{preview}");
    let bad = app
        .post_json(
            &token,
            "/api/v1/actions/preview",
            &json!({"action": "email.send_email", "params": {"subject": "{{ oops", "html": "x"}, "contact_id": ada}),
        )
        .await;
    assert_invalid(&bad, "params.subject");

    let (status, test) = app
        .post_json(
            &token,
            "/api/v1/actions/test-message",
            &json!({"action": "email.send_email", "params": params, "contact_id": ada}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{test}");
    assert_eq!(test["to"], admin.email);
    let message = id(&json!({"id": test["message_id"]}));
    let mut sent = Value::Null;
    for _ in 0..300 {
        sent = app.get(&token, &format!("/api/v1/outbox/{message}")).await.1;
        if sent["state"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sent["state"], "sent", "{sent}");
    assert_eq!(sent["transport"], "local", "{sent}");
    assert_eq!(sent["recipient"], admin.email, "{sent}");
    assert_eq!(sent["subject"], "[Test] Hello Ada", "{sent}");
    assert!(
        !activity_kinds(&app, &token, ada)
            .await
            .contains(&"email_sent".to_owned()),
        "a test message is no e-mail to the contact"
    );

    let job = start(&app, &token, &send_body(&[ada])).await;
    let numbers = delivered(&app, &token, job).await;
    assert_eq!(numbers["sent"], 1, "{numbers}");
    let (_, outbox) = app.get(&token, &format!("/api/v1/outbox?job_id={job}")).await;
    let item = &outbox["items"][0];
    assert_eq!(
        (item["transport"].as_str(), item["recipient"].as_str()),
        (Some("local"), Some("ada@example.com")),
        "{outbox}"
    );
    let (_, detail) = app.get(&token, &format!("/api/v1/outbox/{}", id(item))).await;
    let headers: Vec<(String, String)> = serde_json::from_value(detail["headers"].clone()).unwrap();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("Message-ID"), Some(format!("<{job}.{ada}.0@127.0.0.1>")));
    assert_eq!(
        header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(detail["html"].as_str().unwrap().contains("/m/o/"), "{detail}");

    // The pages: the Outbox, one message, and the action form's preview and test.
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;
    let page = app.page(&client, "/outbox").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("the local outbox"), "{}", page.text);
    let shown = app.page(&client, &format!("/outbox/{}", id(item))).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert!(shown.text.contains("List-Unsubscribe"), "{}", shown.text);
    let job_page = app.page(&client, &format!("/jobs/{job}")).await;
    let counts = element_html(&job_page.text, "campaign-counts").expect("the campaign's numbers");
    assert!(
        counts.contains("data-key=\"sent\"><td>Sent</td><td class=\"num\">1</td>"),
        "{counts}"
    );

    let ada_id = ada.to_string();
    let form = [
        ("csrf_token", csrf.as_str()),
        ("back", "/contacts"),
        ("scope", "selected"),
        ("contact_ids", ada_id.as_str()),
        ("action", "email.send_email"),
        ("params.subject", "Hi {{ first_name }}"),
        ("params.html", "<p>Dear {{ name }}</p>"),
        ("preview_contact", ada_id.as_str()),
        ("run", "preview"),
    ];
    let previewed = app.submit(&client, "/contacts/actions", &form).await;
    assert_eq!(previewed.status, StatusCode::OK, "{}", previewed.text);
    assert_eq!(
        element_text(&previewed.text, "preview-subject").as_deref(),
        Some("Hi Ada")
    );
    let mut test_form = form.to_vec();
    test_form.retain(|(k, _)| *k != "run");
    test_form.push(("run", "test"));
    let tested = app.submit(&client, "/contacts/actions", &test_form).await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.text);
    assert!(
        element_text(&tested.text, "message-notice")
            .unwrap_or_default()
            .contains(&admin.email),
        "{}",
        tested.text
    );
}

both!(local_outbox_preview_and_test_message: local_outbox_preview_and_test_message_sqlite, local_outbox_preview_and_test_message_postgres);

async fn cancelling_stops_the_messages_not_sent_yet(app: TestApp) {
    let Some(sink) = SmtpSink::start(SinkOptions::default()).await else {
        return;
    };
    configure(&app, &sink, Some(2.0));
    let (_, token) = app.admin().await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(
            person(
                &app,
                &token,
                &format!("Reader {i}"),
                Some(&format!("c{i}@example.com")),
                false,
            )
            .await,
        );
    }
    let job = start(&app, &token, &send_body(&ids)).await;
    let ended = crate::jobs::ended(&app, &token, job).await;
    assert_eq!(ended["state"], "done", "{ended}");
    sink.wait_for(1, Duration::from_secs(30)).await;
    // The job has queued every message; cancelling it stops those not handed off.
    let (status, body) = app
        .post_json(&token, &format!("/api/v1/jobs/{job}/cancel"), &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let numbers = delivered(&app, &token, job).await;
    let (sent, skipped) = (numbers["sent"].as_i64().unwrap(), numbers["skipped"].as_i64().unwrap());
    assert_eq!(sent + skipped, 10, "{numbers}");
    assert!(skipped >= 5, "most were not sent yet: {numbers}");
    // A message in the hands of SMTP at the cancel goes, and is recorded as sent.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let numbers = app.get(&token, &format!("/api/v1/jobs/{job}/email")).await.1;
    let sent = numbers["sent"].as_i64().unwrap();
    assert_eq!(
        sink.messages().len() as i64,
        sent,
        "the sink got exactly the messages recorded as sent: {numbers}"
    );
    let (_, outbox) = app
        .get(&token, &format!("/api/v1/outbox?job_id={job}&state=skipped&limit=1"))
        .await;
    assert!(
        outbox["items"][0]["answer"].as_str().unwrap().contains("cancelled"),
        "{outbox}"
    );
    let again = app
        .post_json(&token, &format!("/api/v1/jobs/{job}/cancel"), &json!({}))
        .await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");
}

both!(cancelling_stops_the_messages_not_sent_yet: cancelling_stops_the_messages_not_sent_yet_sqlite, cancelling_stops_the_messages_not_sent_yet_postgres);
