use super::{MAX_TITLE, Tasks};
use kartoteka_plugin_sdk::calendar::DAY;
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
        fields_json: r#"{"city": "Łódź", "vip": true, "employees": 120, "note": null}"#.to_owned(),
        ..contact(1, "Acme")
    }
}

/// A person with no owner, no e-mail, no phone and no extra fields.
fn ada() -> Contact {
    contact(2, "Ada")
}

fn run(params: Json, contacts: &[Contact]) -> Result<Vec<(i64, CreateTask)>, PluginError> {
    let effects = testing::run::<Tasks>("create_task", params, contacts)?;
    Ok(effects
        .into_iter()
        .map(|effect| match effect.effect {
            EffectKind::CreateTask(task) => (effect.contact_id, task),
            other => panic!("not a task: {other:?}"),
        })
        .collect())
}

fn titles(params: Json, contacts: &[Contact]) -> Vec<String> {
    run(params, contacts)
        .unwrap()
        .into_iter()
        .map(|(_, task)| task.title)
        .collect()
}

fn error(params: Json) -> String {
    run(params, &[acme(), ada()]).unwrap_err().to_text()
}

#[test]
fn describes_itself_and_asks_for_create_task() {
    let description = testing::describe_bulk_action::<Tasks>();
    assert_eq!(description.manifest.name, "tasks");
    assert_eq!(
        description.manifest.description,
        "Creates follow-up tasks for contacts."
    );
    assert_eq!(description.manifest.capabilities, [Capability::CreateTask]);
    assert_eq!(description.entries.len(), 1);
    assert_eq!(description.entries[0].name, "create_task");
    assert_eq!(description.entries[0].label, "Create a task");
    let schema: Json = serde_json::from_str(&description.entries[0].schema).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], json!(["title"]));
    assert_eq!(schema["additionalProperties"], false);
    for field in ["title", "body", "assignee", "due"] {
        let help = schema["properties"][field]["description"].as_str();
        assert!(
            help.is_some_and(|help| !help.is_empty()),
            "{field} has no help text: {schema}"
        );
    }
    let schema = schema.to_string();
    assert!(schema.contains(r#""maximum":3650"#), "{schema}");
    assert!(schema.contains(r#""format":"date""#), "{schema}");
}

#[test]
fn one_task_per_contact() {
    let contacts = [acme(), ada(), contact(3, "Grace")];
    let tasks = run(json!({"title": "Call {{ name }}"}), &contacts).unwrap();
    let ids: Vec<i64> = tasks.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(tasks[0].1.title, "Call Acme");
    assert_eq!(tasks[1].1.title, "Call Ada");
    assert_eq!(tasks[2].1.title, "Call Grace");
    assert!(tasks.iter().all(|(_, task)| task.body.is_empty() && task.due.is_none()));
    assert!(run(json!({"title": "Call {{ name }}"}), &[]).unwrap().is_empty());
}

#[test]
fn templates_see_the_contact_and_its_fields() {
    let title =
        "{{ id }} {{ kind }} {{ name }} {{ email }} {{ phone }} {{ owner }} {{ fields.city }} {{ fields.employees }}";
    assert_eq!(
        titles(json!({ "title": title }), &[acme()]),
        ["1 company Acme office@acme.example +48 22 123 45 67 7 Łódź 120"]
    );
    let body = "Dear {{ name }},\n{% if fields.vip %}as a VIP, {% endif %}you are in {{ fields.city | default(\"your city\") }}.\n";
    let tasks = run(json!({"title": "x", "body": body}), &[acme(), ada()]).unwrap();
    assert_eq!(tasks[0].1.body, "Dear Acme,\nas a VIP, you are in Łódź.\n");
    assert_eq!(tasks[1].1.body, "Dear Ada,\nyou are in your city.\n");
}

#[test]
fn templates_have_filters() {
    let title = r#"{{ name | upper }} / {{ fields.city | lower }} / {{ fields.city | default("?") | length }} / {{ name | replace("a", "4") }}"#;
    assert_eq!(
        titles(json!({ "title": title }), &[acme(), ada()]),
        ["ACME / łódź / 4 / Acme", "ADA /  / 1 / Ad4"]
    );
}

#[test]
fn what_a_contact_lacks_renders_empty() {
    let title = "[{{ fields.missing }}|{{ fields.missing.deeper.still }}|{{ email }}|{{ phone }}|{{ owner }}|{{ fields.note }}]";
    assert_eq!(titles(json!({ "title": title }), &[ada()]), ["[|||||]"]);
    assert_eq!(
        titles(json!({ "title": title }), &[acme()])[0],
        "[||office@acme.example|+48 22 123 45 67|7|]"
    );
    // A null extra field is absent too: `default` fills it.
    let title = r#"{{ fields.note | default("no note") }}, {{ email | default("no e-mail") }}"#;
    assert_eq!(
        titles(json!({ "title": title }), &[acme(), ada()]),
        ["no note, office@acme.example", "no note, no e-mail"]
    );
}

#[test]
fn a_syntax_error_is_refused_with_the_path_and_the_line() {
    let title = error(json!({"title": "Call {{ name"}));
    assert!(title.starts_with("params.title: syntax error: "), "{title}");
    assert!(title.ends_with("(line 1)"), "{title}");
    let body = error(json!({"title": "Call", "body": "Hello,\n{% if name %}no end"}));
    assert!(body.starts_with("params.body: syntax error: "), "{body}");
    assert!(body.contains("(line 2)"), "{body}");
    let unclosed = error(json!({"title": "{{ name | }}"}));
    assert!(unclosed.starts_with("params.title: syntax error: "), "{unclosed}");
}

#[test]
fn a_render_error_names_the_path_and_the_contact() {
    let unknown = error(json!({"title": "{{ name | shout }}"}));
    assert!(unknown.starts_with("params.title: "), "{unknown}");
    assert!(unknown.contains("shout"), "{unknown}");
    assert!(unknown.ends_with("for contact 1"), "{unknown}");
    let bad_sum = error(json!({"title": "ok", "body": "{{ fields.employees + name }}"}));
    assert!(bad_sum.starts_with("params.body: "), "{bad_sum}");
    assert!(bad_sum.ends_with("for contact 1"), "{bad_sum}");
}

#[test]
fn the_title_is_trimmed_and_cut_at_a_character_boundary() {
    assert_eq!(
        titles(
            json!({"title": "  {% if fields.vip %} VIP {% endif %}\n"}),
            &[acme(), ada()]
        ),
        ["VIP", ""]
    );
    let long = Contact {
        name: "ł".repeat(600),
        ..ada()
    };
    let title = &titles(json!({"title": "x{{ name }}"}), &[long])[0];
    assert_eq!(title.len(), MAX_TITLE - 1);
    assert!(title.starts_with("xłł") && title.ends_with('ł'), "{title}");
    let exact = Contact {
        name: "a".repeat(MAX_TITLE + 5),
        ..ada()
    };
    assert_eq!(titles(json!({"title": "{{ name }}"}), &[exact])[0].len(), MAX_TITLE);
}

#[test]
fn the_assignee_is_the_owner_or_a_user() {
    let assignees = |params: Json| -> Vec<Option<i64>> {
        run(params, &[acme(), ada()])
            .unwrap()
            .into_iter()
            .map(|(_, task)| task.assignee)
            .collect()
    };
    assert_eq!(assignees(json!({"title": "t"})), [Some(7), None]);
    assert_eq!(assignees(json!({"title": "t", "assignee": "owner"})), [Some(7), None]);
    assert_eq!(
        assignees(json!({"title": "t", "assignee": {"user": 12}})),
        [Some(12), Some(12)]
    );
    let boss = error(json!({"title": "t", "assignee": "boss"}));
    assert!(boss.starts_with("params.assignee: unknown variant `boss`"), "{boss}");
    let named = error(json!({"title": "t", "assignee": {"user": "ada"}}));
    assert!(
        named.starts_with("params.assignee.user: invalid type: string"),
        "{named}"
    );
}

#[test]
fn due_in_days_counts_from_the_jobs_time() {
    let before = now();
    let tasks = run(json!({"title": "t", "due": {"in_days": 3}}), &[acme(), ada()]).unwrap();
    let after = now();
    let due = tasks[0].1.due.unwrap();
    assert!(
        before + 3 * DAY <= due && due <= after + 3 * DAY,
        "{before} {due} {after}"
    );
    assert_eq!(tasks[1].1.due, Some(due), "one time for the whole batch");
    let today = run(json!({"title": "t", "due": {"in_days": 0}}), &[ada()]).unwrap()[0]
        .1
        .due
        .unwrap();
    assert!(before <= today && today <= now(), "{today}");
    let ten_years = run(json!({"title": "t", "due": {"in_days": 3650}}), &[ada()]).unwrap()[0]
        .1
        .due;
    assert!(ten_years.is_some_and(|due| due >= before + 3650 * DAY));
}

#[test]
fn due_in_days_is_bounded() {
    assert_eq!(
        error(json!({"title": "t", "due": {"in_days": 3651}})),
        "params.due.in_days: expected a number of days from 0 to 3650, found 3651"
    );
    assert_eq!(
        error(json!({"title": "t", "due": {"in_days": -1}})),
        "params.due.in_days: expected a number of days from 0 to 3650, found -1"
    );
    let fraction = error(json!({"title": "t", "due": {"in_days": 1.5}}));
    assert!(fraction.starts_with("params.due.in_days: invalid type"), "{fraction}");
}

#[test]
fn due_on_a_date_is_its_midnight_utc() {
    let due = |on: &str| {
        run(json!({"title": "t", "due": {"on": on}}), &[ada()]).unwrap()[0]
            .1
            .due
    };
    assert_eq!(due("1970-01-01"), Some(0));
    assert_eq!(due("2025-03-01"), Some(1_740_787_200));
    assert_eq!(due("2024-02-29"), Some(1_709_164_800));
    for bad in [
        "2023-02-29",
        "2025-13-01",
        "2025-1-1",
        "01/03/2025",
        "2025-03-01T10:00:00Z",
        "",
    ] {
        assert_eq!(
            error(json!({"title": "t", "due": {"on": bad}})),
            format!("params.due.on: expected a date as YYYY-MM-DD, found {bad:?}")
        );
    }
    let both = error(json!({"title": "t", "due": {"on": "2025-03-01", "in_days": 3}}));
    assert!(both.starts_with("params.due"), "{both}");
    let unknown = error(json!({"title": "t", "due": {"in_weeks": 3}}));
    assert!(
        unknown.starts_with("params.due: unknown variant `in_weeks`"),
        "{unknown}"
    );
}

#[test]
fn refuses_bad_params() {
    assert_eq!(error(json!({})), "params: missing field `title`");
    assert_eq!(error(json!(null)), "params: invalid type: null, expected struct Params");
    assert_eq!(
        error(json!({"title": "t", "priority": 1})),
        "params.priority: unknown field `priority`, expected one of `title`, `body`, `assignee`, `due`"
    );
    let title = error(json!({"title": 3}));
    assert_eq!(title, "params.title: invalid type: integer `3`, expected a string");
    assert!(testing::run::<Tasks>("nope", json!({"title": "t"}), &[ada()]).is_err());
}

#[test]
fn refuses_extra_fields_that_are_not_an_object() {
    let broken = Contact {
        fields_json: "[1]".to_owned(),
        ..ada()
    };
    let error = run(json!({"title": "t"}), &[broken]).unwrap_err();
    assert_eq!(error.path, None);
    assert!(
        error
            .message
            .starts_with("contact 2: the extra fields are not a JSON object"),
        "{error}"
    );
}
