//! The contact form in a real browser: the extra fields follow the type select (a field
//! with a value for another type stays, marked, rather than vanishing with its value), and
//! the company picker fills its list from the search as the user types.

use std::time::Duration;

use fantoccini::{Client, Locator};
use kartoteka_tests::*;

use crate::browser::{Browser, WAIT, err, sign_in};

both!(extra_fields_switch_with_the_type_in_a_browser: extra_fields_switch_sqlite, extra_fields_switch_postgres);
async fn extra_fields_switch_with_the_type_in_a_browser(app: TestApp) {
    let (user, token) = app.admin().await;
    for field in [
        json!({"key": "industry", "label": "Industry", "kind": "select", "options": ["IT", "Retail"], "applies_to": ["client"]}),
        json!({"key": "nps", "label": "NPS", "kind": "integer", "applies_to": ["client"]}),
    ] {
        let (status, body) = app.post_json(&token, "/api/v1/fields", &field).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for city in ["Kraków", "Gdańsk"] {
        app.create_contact(
            &token,
            &json!({"kind": "company", "type": "client", "name": "Acme", "city": city}),
        )
        .await;
    }
    let Some(browser) = Browser::open().await else {
        return;
    };
    let outcome = scenario(&browser.client, &app, &user.email).await;
    browser.close().await;
    outcome.unwrap_or_else(|e| panic!("in the browser: {e}"));
}

/// Whether the box of `name` is shown, and whether it is marked "does not apply".
async fn field_box(browser: &Client, name: &str) -> Result<(bool, bool), String> {
    let b = browser
        .find(Locator::Css(&format!("fieldset[data-field='{name}']")))
        .await
        .map_err(err(&format!("the box of {name}")))?;
    let shown = b.is_displayed().await.map_err(err("its visibility"))?;
    let marked = b.attr("data-na").await.map_err(err("its mark"))?.is_some();
    Ok((shown, marked))
}

/// Waits until the box of `name` is `(shown, marked)`.
async fn expect_box(browser: &Client, name: &str, want: (bool, bool)) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = field_box(browser, name).await?;
        if now == want {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "the box of {name} is (shown, marked) {now:?}, expected {want:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn choose(browser: &Client, select: &str, value: &str) -> Result<(), String> {
    browser
        .find(Locator::Css(&format!("select[name='{select}']")))
        .await
        .map_err(err(&format!("the select {select}")))?
        .select_by_value(value)
        .await
        .map_err(err(&format!("choosing {value:?} in {select}")))
}

async fn scenario(browser: &Client, app: &TestApp, email: &str) -> Result<(), String> {
    sign_in(browser, app, email).await?;
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("a.button[href='/contacts/new']"))
        .await
        .map_err(err("the contacts page after signing in"))?;
    browser
        .goto(&app.url("/contacts/new"))
        .await
        .map_err(err("opening the form"))?;
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("contact-form"))
        .await
        .map_err(err("the new-contact form"))?;

    // No type: a client's fields are hidden; a client: shown; a lead: hidden again.
    expect_box(browser, "f.industry", (false, false)).await?;
    choose(browser, "type", "client").await?;
    expect_box(browser, "f.industry", (true, false)).await?;
    expect_box(browser, "f.nps", (true, false)).await?;
    choose(browser, "type", "cold").await?;
    expect_box(browser, "f.nps", (false, false)).await?;

    // A value typed for a client stays when the type changes, marked; cleared, it goes.
    choose(browser, "type", "client").await?;
    expect_box(browser, "f.industry", (true, false)).await?;
    browser
        .find(Locator::Css("select[name='f.industry']"))
        .await
        .map_err(err("the industry select"))?
        .select_by_label("IT")
        .await
        .map_err(err("choosing IT"))?;
    choose(browser, "type", "cold").await?;
    expect_box(browser, "f.industry", (true, true)).await?;
    expect_box(browser, "f.nps", (false, false)).await?;
    choose(browser, "f.industry", "").await?;
    expect_box(browser, "f.industry", (false, false)).await?;

    // The company picker offers both Acmes, told apart by city.
    browser
        .find(Locator::Css("input[name='company']"))
        .await
        .map_err(err("the company input"))?
        .send_keys("acm")
        .await
        .map_err(err("typing a company"))?;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let options = browser
            .find_all(Locator::Css("#company-options option"))
            .await
            .map_err(err("the picker's options"))?;
        let mut values = Vec::new();
        for option in &options {
            values.push(
                option
                    .attr("value")
                    .await
                    .map_err(err("an option"))?
                    .unwrap_or_default(),
            );
        }
        if values.iter().any(|v| v.starts_with("Acme (Kraków) #"))
            && values.iter().any(|v| v.starts_with("Acme (Gdańsk) #"))
        {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("the picker offers {values:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
