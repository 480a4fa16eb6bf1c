use serde_json::json;

use super::*;

/// The schema `tasks.create_task` answers.
fn create_task() -> Json {
    json!({
        "type": "object", "additionalProperties": false, "required": ["title"],
        "properties": {
            "title": {"type": "string", "description": "The task's title."},
            "body": {"type": ["string", "null"], "default": null},
            "assignee": {"oneOf": [
                {"const": "owner", "type": "string", "description": "The contact's owner."},
                {"type": "object", "additionalProperties": false, "required": ["user"],
                 "properties": {"user": {"type": "integer", "format": "int64"}}}
            ]},
            "due": {"anyOf": [
                {"oneOf": [
                    {"type": "object", "required": ["in_days"],
                     "properties": {"in_days": {"type": "integer", "minimum": 0, "maximum": 3650}}},
                    {"type": "object", "required": ["on"],
                     "properties": {"on": {"type": "string", "format": "date"}}}
                ]},
                {"type": "null"}
            ]}
        }
    })
}

fn posted(pairs: &[(&str, &str)]) -> FormData {
    FormData::parse(serde_urlencoded::to_string(pairs).unwrap().as_bytes())
}

fn names(form: &ParamsForm) -> Vec<String> {
    form.fields
        .iter()
        .map(|f| match f {
            Field::Input(i) => format!("{}:{}", i.name, i.widget()),
            Field::Choice(c) => format!(
                "{}:choice({})",
                c.name,
                c.alternatives
                    .iter()
                    .map(|a| a.value.as_str())
                    .collect::<Vec<_>>()
                    .join("|")
            ),
        })
        .collect()
}

#[test]
fn a_schema_becomes_inputs_and_choices() {
    let form = ParamsForm::new(&create_task());
    assert_eq!(
        names(&form),
        [
            "params.title:text",
            "params.body:textarea",
            "params.assignee:choice(owner|user)",
            "params.due:choice(in_days|on)"
        ]
    );
    let grant = json!({"type": "object", "required": ["principal", "level"], "properties": {
        "level": {"oneOf": [{"const": "read", "type": "string"}, {"const": "write", "type": "string"}]},
        "principal": {"oneOf": [
            {"type": "object", "required": ["user"], "properties": {"user": {"type": "integer"}}},
            {"type": "object", "required": ["role"], "properties": {"role": {"type": "string", "enum": ["admin", "manager", "agent"]}}}
        ]}
    }});
    let form = ParamsForm::new(&grant);
    assert_eq!(
        names(&form),
        ["params.level:select", "params.principal:choice(user|role)"]
    );
}

#[test]
fn what_it_cant_show_is_json() {
    let form = ParamsForm::new(&json!({"type": "array"}));
    assert_eq!(names(&form), ["params:json"]);
    assert_eq!(form.fields[0].input().unwrap().value, "{}");
    let form = ParamsForm::new(&json!({"type": "object", "properties": {
        "tags": {"type": "array", "items": {"type": "string"}}
    }}));
    assert_eq!(names(&form), ["params.tags:json"]);
    let mut form = ParamsForm::new(&json!({"type": "array"}));
    form.fill(&posted(&[("params", "[1, ")]));
    let problems = form.params().unwrap_err();
    assert_eq!(problems[0].path, "params");
    form.fill(&posted(&[("params", "[1, 2]")]));
    assert_eq!(form.params().unwrap(), json!([1, 2]));
}

#[test]
fn the_posted_form_is_the_params() {
    let mut form = ParamsForm::new(&create_task());
    form.fill(&posted(&[
        ("params.title", "Call {{ name }}"),
        ("params.body", ""),
        ("params.assignee", "user"),
        ("params.assignee.user", "7"),
        ("params.due", ""),
        ("params.due.in_days", "3"),
    ]));
    assert_eq!(
        form.params().unwrap(),
        json!({"title": "Call {{ name }}", "assignee": {"user": 7}, "due": {"in_days": 3}}),
        "a value typed into one alternative picks it"
    );
    let mut form = ParamsForm::new(&create_task());
    form.fill(&posted(&[("params.title", "x"), ("params.assignee", "owner")]));
    assert_eq!(form.params().unwrap(), json!({"title": "x", "assignee": "owner"}));
}

#[test]
fn every_problem_at_once_next_to_its_input() {
    let mut form = ParamsForm::new(&create_task());
    form.fill(&posted(&[
        ("params.title", " "),
        ("params.assignee", "user"),
        ("params.assignee.user", "Ada"),
        ("params.due", "in_days"),
        ("params.due.in_days", "4000"),
    ]));
    let paths: Vec<String> = form.params().unwrap_err().into_iter().map(|p| p.path).collect();
    assert_eq!(paths, ["params.title", "params.assignee.user", "params.due.in_days"]);
    let title = form.fields[0].input().unwrap();
    assert_eq!(title.error.as_deref(), Some("is required"));
    let due = form.fields[3].choice().unwrap();
    assert_eq!(
        due.alternatives[0].inputs[0].error.as_deref(),
        Some("must be at most 3650, found 4000")
    );
    assert_eq!(due.alternatives[0].inputs[0].value, "4000", "the value is kept");

    let mut form = ParamsForm::new(&create_task());
    form.show(vec![
        Problem {
            path: "params.title".into(),
            message: "syntax error".into(),
        },
        Problem {
            path: "params.due".into(),
            message: "bad".into(),
        },
        Problem {
            path: "contact_ids[2]".into(),
            message: "no contact 9".into(),
        },
    ]);
    assert_eq!(form.fields[0].input().unwrap().error.as_deref(), Some("syntax error"));
    assert_eq!(form.fields[3].choice().unwrap().error.as_deref(), Some("bad"));
    assert_eq!(form.errors, ["contact_ids[2]: no contact 9"]);
}
