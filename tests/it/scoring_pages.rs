//! The scoring pages: the models' list (admins only), the editor without JavaScript (a
//! model made through the form, its problems next to their inputs with what was typed
//! kept), the what-if on a draft, and a contact's card with its score, band, explanation
//! and band changes.

use kartoteka_tests::*;

/// The id in a `Location: /scoring/{id}`.
fn model_location(reply: &Reply) -> i64 {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    reply
        .location()
        .and_then(|l| l.strip_prefix("/scoring/").and_then(|id| id.parse().ok()))
        .unwrap_or_else(|| panic!("a model's editor, got {:?}", reply.location()))
}

/// The form of a one-parameter model on `city` (`scoring.presence`) with `bands`.
fn model_form(csrf: &str, weight: &str, params: &str, bands: &[(&str, &str, &str)]) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = vec![
        ("csrf_token".into(), csrf.into()),
        ("key".into(), "fit".into()),
        ("name".into(), "Fit".into()),
        ("kind".into(), "person".into()),
        ("p0.label".into(), "Has a city".into()),
        ("p0.source".into(), "city".into()),
        ("p0.measure".into(), "count".into()),
        ("p0.criterion".into(), "scoring.presence".into()),
        ("p0.params".into(), params.into()),
        ("p0.weight".into(), weight.into()),
        ("p0.enabled".into(), "on".into()),
        // The empty row the form always offers.
        ("p1.label".into(), String::new()),
        ("p1.source".into(), String::new()),
        ("p1.measure".into(), "count".into()),
        ("p1.criterion".into(), String::new()),
        ("p1.params".into(), String::new()),
        ("p1.weight".into(), String::new()),
        ("p1.enabled".into(), "on".into()),
    ];
    for (i, (name, from, to)) in bands.iter().enumerate() {
        form.push((format!("b{i}.name"), (*name).into()));
        form.push((format!("b{i}.from"), (*from).into()));
        form.push((format!("b{i}.to"), (*to).into()));
    }
    let i = bands.len();
    form.push((format!("b{i}.name"), String::new()));
    form.push((format!("b{i}.from"), String::new()));
    form.push((format!("b{i}.to"), String::new()));
    form
}

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(String, String)]) -> Reply {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.submit(client, path, &pairs).await
}

both!(scoring_pages_model_card_and_what_if: scoring_pages_model_card_and_what_if_sqlite, scoring_pages_model_card_and_what_if_postgres);
async fn scoring_pages_model_card_and_what_if(app: TestApp) {
    let (admin, token) = app.admin().await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;

    let empty = app.page(&client, "/scoring").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert!(empty.text.contains("id=\"no-models\""));
    assert!(
        empty
            .text
            .contains("<a href=\"/scoring\" aria-current=\"page\">Scoring</a>"),
        "the navigation leads here"
    );
    let new = app.page(&client, "/scoring/new").await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.text);
    assert!(new.text.contains("<option value=\"city\""), "core columns to score");
    assert!(
        !new.text.contains("<option value=\"segment\""),
        "no segments as a source"
    );
    assert!(new.text.contains("<option value=\"scoring.presence\""), "the criteria");
    assert!(new.text.contains("formaction=\"/scoring/what-if\""));

    // No token, no model.
    let mut forged = model_form(
        "",
        "5",
        r#"{"present": 100}"#,
        &[("Low", "0", "50"), ("High", "50", "100")],
    );
    forged.remove(0);
    assert_eq!(
        post(&app, &client, "/scoring", &forged).await.status,
        StatusCode::FORBIDDEN
    );

    // Every problem next to its input, with what was typed kept.
    let bad = model_form(
        &csrf,
        "11",
        r#"{"present": 100}"#,
        &[("Low", "0", "40"), ("High", "50", "100")],
    );
    let refused = post(&app, &client, "/scoring", &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        element_text(&refused.text, "p0-weight-error").is_some_and(|t| t.contains("from 1 to 10")),
        "{}",
        refused.text
    );
    assert!(
        element_text(&refused.text, "b1-from-error").is_some_and(|t| t.contains("a gap")),
        "{}",
        refused.text
    );
    assert_eq!(hidden_input(&refused.text, "p0.weight").as_deref(), Some("11"));
    assert_eq!(hidden_input(&refused.text, "b0.to").as_deref(), Some("40"));
    assert_eq!(hidden_input(&refused.text, "p0.label").as_deref(), Some("Has a city"));
    assert_eq!(hidden_input(&refused.text, "key").as_deref(), Some("fit"));
    // Params that are no JSON: a problem at the row, not a failure.
    let no_json = model_form(
        &csrf,
        "5",
        "{present: 100",
        &[("Low", "0", "50"), ("High", "50", "100")],
    );
    let refused = post(&app, &client, "/scoring", &no_json).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(element_text(&refused.text, "p0-params-error").is_some_and(|t| t.contains("not valid JSON")));
    assert!(unescape_html(&refused.text).contains("{present: 100</textarea>"));

    // "Add parameter" shows the form again with one more empty row, saving nothing.
    let mut more = model_form(
        &csrf,
        "5",
        r#"{"present": 100}"#,
        &[("Low", "0", "50"), ("High", "50", "100")],
    );
    more.push(("op".into(), "add_parameter".into()));
    let more = post(&app, &client, "/scoring", &more).await;
    assert_eq!(more.status, StatusCode::OK, "{}", more.text);
    assert!(more.text.contains("name=\"p2.label\"") && !more.text.contains("name=\"p3.label\""));
    assert!(app.core().scoring().list_models().await.unwrap().is_empty());

    // Two people, one with a city.
    let anna = id(&app
        .create_contact(&token, &json!({"type": "client", "name": "Anna", "city": "Kraków"}))
        .await);
    let bartek = id(&app
        .create_contact(&token, &json!({"type": "client", "name": "Bartek"}))
        .await);

    // A draft tried before saving: every person scored, nothing saved.
    let good = model_form(
        &csrf,
        "5",
        r#"{"present": 100}"#,
        &[("Low", "0", "50"), ("High", "50", "100")],
    );
    let tried = post(&app, &client, "/scoring/what-if", &good).await;
    assert_eq!(tried.status, StatusCode::OK, "{}", tried.text);
    assert_eq!(element_text(&tried.text, "what-if-total").as_deref(), Some("2"));
    let bands = element_html(&tried.text, "what-if-bands").expect("the bands table");
    assert!(
        bands.contains("<td>Low</td><td class=\"num saved\">0</td><td class=\"num draft\">1</td>"),
        "{bands}"
    );
    assert!(
        bands.contains("<td>High</td><td class=\"num saved\">0</td><td class=\"num draft\">1</td>"),
        "{bands}"
    );
    assert_eq!(
        hidden_input(&tried.text, "p0.weight").as_deref(),
        Some("5"),
        "the form as typed"
    );
    assert!(app.core().scoring().list_models().await.unwrap().is_empty());

    // A what-if that outlasts the page's wait: its progress at an address of its own, which
    // shows the same answer with the same draft once done.
    app.core()
        .scoring()
        .scoring_state()
        .set_what_if_wait(std::time::Duration::ZERO);
    let started = post(&app, &client, "/scoring/what-if", &good).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text);
    let run = started.location().expect("the run's address").to_owned();
    assert!(run.starts_with("/scoring/what-ifs/"), "{run}");
    let mut shown = app.page(&client, &run).await;
    for _ in 0..200 {
        assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
        if !shown.text.contains("id=\"what-if-progress\"") {
            break;
        }
        assert!(shown.text.contains("http-equiv=\"refresh\""), "it reloads itself");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        shown = app.page(&client, &run).await;
    }
    assert_eq!(
        element_text(&shown.text, "what-if-total").as_deref(),
        Some("2"),
        "{}",
        shown.text
    );
    assert_eq!(
        element_html(&shown.text, "what-if-bands"),
        element_html(&tried.text, "what-if-bands")
    );
    assert_eq!(hidden_input(&shown.text, "p0.weight").as_deref(), Some("5"));
    assert_eq!(hidden_input(&shown.text, "key").as_deref(), Some("fit"));
    assert_eq!(
        app.page(&client, "/scoring/what-ifs/999999").await.status,
        StatusCode::NOT_FOUND
    );
    app.core()
        .scoring()
        .scoring_state()
        .set_what_if_wait(std::time::Duration::from_secs(2));

    let created = post(&app, &client, "/scoring", &good).await;
    let model = model_location(&created);
    let editor = app.page(&client, &format!("/scoring/{model}")).await;
    assert_eq!(editor.status, StatusCode::OK, "{}", editor.text);
    assert!(editor.text.contains("Created the scoring model"));
    assert_eq!(hidden_input(&editor.text, "p0.source"), None, "a select, not an input");
    assert!(editor.text.contains("<option value=\"city\" selected>"));
    assert_eq!(hidden_input(&editor.text, "p0.weight").as_deref(), Some("5"));
    assert_eq!(hidden_input(&editor.text, "b1.name").as_deref(), Some("High"));
    assert!(editor.text.contains(&format!("action=\"/scoring/{model}/rescore\"")));
    assert!(editor.text.contains(&format!("action=\"/scoring/{model}/delete\"")));

    let list = app.page(&client, "/scoring").await;
    let counts = element_html(&list.text, "bands-fit").expect("the counts per band");
    assert!(counts.contains("Low</span>: <span class=\"num\">1</span>"), "{counts}");
    assert!(counts.contains("High</span>: <span class=\"num\">1</span>"), "{counts}");
    assert_eq!(
        element_text(&list.text, "status-fit")
            .map(|s| s.trim().to_owned())
            .as_deref(),
        Some("ready")
    );

    // The card: the score, its band, and why.
    let card = app.page(&client, &format!("/contacts/{anna}")).await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.text);
    assert_eq!(element_text(&card.text, "score-fit").as_deref(), Some("100.0"));
    assert_eq!(element_text(&card.text, "band-fit").as_deref(), Some("High"));
    let why = element_html(&card.text, "explain-fit").expect("the explanation");
    assert!(why.contains("Has a city"), "{why}");
    assert!(why.contains("<td>Kraków</td><td class=\"num\">100.0</td><td class=\"num\">5</td><td class=\"num\">100.0 %</td><td class=\"num\">100.00</td>"), "{why}");
    let card = app.page(&client, &format!("/contacts/{bartek}")).await;
    assert_eq!(element_text(&card.text, "score-fit").as_deref(), Some("0.0"));
    assert_eq!(element_text(&card.text, "band-fit").as_deref(), Some("Low"));

    // A band change is in the contact's change log.
    let (status, patched) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{bartek}"),
            &json!({"version": 1, "city": "Gdańsk"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let card = app.page(&client, &format!("/contacts/{bartek}")).await;
    assert_eq!(element_text(&card.text, "band-fit").as_deref(), Some("High"));
    let changes = unescape_html(&element_html(&card.text, "changes").expect("the change log"));
    assert!(changes.contains("Fit: Low → High (score 100.0)"), "{changes}");

    // The what-if of a change, against the saved scores: both would fall to Low.
    let lower = model_form(
        &csrf,
        "5",
        r#"{"present": 40}"#,
        &[("Low", "0", "50"), ("High", "50", "100")],
    );
    let tried = post(&app, &client, &format!("/scoring/{model}/what-if"), &lower).await;
    assert_eq!(tried.status, StatusCode::OK, "{}", tried.text);
    assert_eq!(element_text(&tried.text, "what-if-total").as_deref(), Some("2"));
    let bands = element_html(&tried.text, "what-if-bands").expect("the bands table");
    assert!(
        bands.contains("<td>Low</td><td class=\"num saved\">0</td><td class=\"num draft\">2</td>"),
        "{bands}"
    );
    assert!(
        bands.contains("<td>High</td><td class=\"num saved\">2</td><td class=\"num draft\">0</td>"),
        "{bands}"
    );
    let moves = element_html(&tried.text, "what-if-moves").expect("the moves");
    assert!(moves.contains("data-from=\"High\" data-to=\"Low\""), "{moves}");
    assert!(
        moves.contains(&format!("<a href=\"/contacts/{anna}\">Anna</a>")),
        "{moves}"
    );
    assert_eq!(hidden_input(&tried.text, "p0.params"), None, "a textarea");
    assert!(
        unescape_html(&tried.text).contains(r#"{"present": 40}</textarea>"#),
        "the draft as typed"
    );
    let card = app.page(&client, &format!("/contacts/{anna}")).await;
    assert_eq!(
        element_text(&card.text, "band-fit").as_deref(),
        Some("High"),
        "nothing saved"
    );

    // Rescore now, then delete (once confirmed).
    let rescored = app
        .submit(&client, &format!("/scoring/{model}/rescore"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(rescored.status, StatusCode::SEE_OTHER, "{}", rescored.text);
    let unconfirmed = app
        .submit(&client, &format!("/scoring/{model}/delete"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(element_text(&unconfirmed.text, "delete-error").is_some_and(|t| t.contains("confirm")));
    let deleted = app
        .submit(
            &client,
            &format!("/scoring/{model}/delete"),
            &[("csrf_token", &csrf), ("confirm", "on")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.text);
    assert!(app.core().scoring().list_models().await.unwrap().is_empty());

    // Other roles get the forbidden page, and no entry in the navigation.
    let (agent, _) = app.agent().await;
    let (agent_client, _) = app.signed_in_client(&agent.email, PASSWORD).await;
    let forbidden = app.page(&agent_client, "/scoring").await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.page(&agent_client, "/scoring/new").await.status,
        StatusCode::FORBIDDEN
    );
    let home = app.page(&agent_client, "/").await;
    assert!(!home.text.contains("href=\"/scoring\""));
}
