use super::Access;
use kartoteka_plugin_sdk::prelude::*;
use kartoteka_plugin_sdk::serde_json::{self, Value as Json};
use kartoteka_plugin_sdk::testing::{self, contact, json};

fn run(params: Json, contacts: &[Contact]) -> Result<Vec<(i64, GrantAccess)>, PluginError> {
    let effects = testing::run::<Access>("grant_access", params, contacts)?;
    Ok(effects
        .into_iter()
        .map(|effect| match effect.effect {
            EffectKind::GrantAccess(grant) => (effect.contact_id, grant),
            other => panic!("not a grant: {other:?}"),
        })
        .collect())
}

fn error(params: Json) -> String {
    run(params, &[contact(1, "Ada")]).unwrap_err().to_text()
}

#[test]
fn describes_itself_and_asks_for_grant_access() {
    let description = testing::describe_bulk_action::<Access>();
    assert_eq!(description.manifest.name, "access");
    assert_eq!(
        description.manifest.description,
        "Gives users or roles access to contacts."
    );
    assert_eq!(description.manifest.capabilities, [Capability::GrantAccess]);
    assert_eq!(description.entries.len(), 1);
    assert_eq!(description.entries[0].name, "grant_access");
    assert_eq!(description.entries[0].label, "Grant access");
    let schema: Json = serde_json::from_str(&description.entries[0].schema).unwrap();
    assert_eq!(schema["required"], json!(["principal", "level"]));
    assert_eq!(schema["additionalProperties"], false);
    for field in ["principal", "level"] {
        let help = schema["properties"][field]["description"].as_str();
        assert!(
            help.is_some_and(|help| !help.is_empty()),
            "{field} has no help text: {schema}"
        );
    }
    let schema = schema.to_string();
    assert!(schema.contains(r#"["admin","manager","agent"]"#), "{schema}");
}

#[test]
fn one_grant_per_contact() {
    let contacts = [contact(1, "Ada"), contact(2, "Grace"), contact(5, "Edsger")];
    let grants = run(json!({"principal": {"user": 9}, "level": "write"}), &contacts).unwrap();
    let expected = GrantAccess {
        principal: Principal::User(9),
        level: AccessLevel::Write,
    };
    assert_eq!(grants, [(1, expected.clone()), (2, expected.clone()), (5, expected)]);
    assert!(
        run(json!({"principal": {"user": 9}, "level": "read"}), &[])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn grants_to_every_role() {
    for role in ["admin", "manager", "agent"] {
        let grants = run(
            json!({"principal": {"role": role}, "level": "read"}),
            &[contact(3, "Ada")],
        )
        .unwrap();
        let expected = GrantAccess {
            principal: Principal::Role(role.to_owned()),
            level: AccessLevel::Read,
        };
        assert_eq!(grants, [(3, expected)]);
    }
}

#[test]
fn refuses_an_unknown_role() {
    assert_eq!(
        error(json!({"principal": {"role": "owner"}, "level": "read"})),
        "params.principal.role: unknown variant `owner`, expected one of `admin`, `manager`, `agent`"
    );
    assert_eq!(
        error(json!({"principal": {"role": "Admin"}, "level": "read"})),
        "params.principal.role: unknown variant `Admin`, expected one of `admin`, `manager`, `agent`"
    );
}

#[test]
fn refuses_bad_params() {
    assert_eq!(error(json!({"level": "read"})), "params: missing field `principal`");
    assert_eq!(
        error(json!({"principal": {"user": 1}})),
        "params: missing field `level`"
    );
    assert_eq!(
        error(json!({"principal": {"user": 1}, "level": "admin"})),
        "params.level: unknown variant `admin`, expected `read` or `write`"
    );
    let team = error(json!({"principal": {"team": 1}, "level": "read"}));
    assert!(team.starts_with("params.principal: unknown variant `team`"), "{team}");
    let user = error(json!({"principal": {"user": "ada"}, "level": "read"}));
    assert!(
        user.starts_with("params.principal.user: invalid type: string"),
        "{user}"
    );
    assert_eq!(
        error(json!({"principal": {"user": 1}, "level": "read", "until": 3})),
        "params.until: unknown field `until`, expected `principal` or `level`"
    );
    assert!(testing::run::<Access>("nope", json!({"principal": {"user": 1}, "level": "read"}), &[]).is_err());
}
