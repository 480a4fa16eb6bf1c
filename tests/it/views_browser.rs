//! Views and card layouts in a real browser: switch the contacts between list, table and
//! tiles, save the page as a view and find its tab, then edit a type's card layout
//! (add a section, place a field, move it, save) and see the card follow.

use fantoccini::{Client, Locator};
use kartoteka_tests::*;
use serde_json::json;

use crate::browser::{Browser, click, err, sign_in, wait_for_text};

both!(views_and_a_layout_in_a_browser: views_and_a_layout_in_a_browser_sqlite, views_and_a_layout_in_a_browser_postgres);
async fn views_and_a_layout_in_a_browser(app: TestApp) {
    let (user, token) = app.admin().await;
    for field in [
        json!({"key": "nps", "label": "NPS", "kind": "integer"}),
        json!({"key": "source", "label": "Source", "kind": "text"}),
    ] {
        let (status, body) = app.post_json(&token, "/api/v1/fields", &field).await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    }
    let anna = app
        .create_contact(
            &token,
            &json!({"type": "hot", "name": "Anna Hot", "city": "Kraków", "fields": {"nps": 9, "source": "fair"}}),
        )
        .await;
    app.create_contact(
        &token,
        &json!({"type": "client", "name": "Bogdan Client", "city": "Gdańsk"}),
    )
    .await;
    let Some(browser) = Browser::open().await else {
        return;
    };
    let outcome = scenario(&browser.client, &app, &user.email, id(&anna)).await;
    browser.close().await;
    outcome.unwrap_or_else(|e| panic!("in the browser: {e}"));
    let (_, views) = app.get(&token, "/api/v1/views").await;
    assert_eq!(views["items"][0]["name"], "Kraków tiles");
    assert_eq!(views["items"][0]["mode"], "tiles");
    let (_, layout) = app.get(&token, "/api/v1/contact-types/hot/layout").await;
    assert_eq!(layout["source"], "own");
    assert_eq!(
        layout["sections"],
        json!([{"title": "Fields", "fields": ["nps", "source"]}, {"title": "Origin", "fields": []}])
    );
}

async fn scenario(browser: &Client, app: &TestApp, email: &str, anna: i64) -> Result<(), String> {
    sign_in(browser, app, email).await?;
    browser
        .goto(&app.url("/contacts?q=krakow"))
        .await
        .map_err(err("opening the contacts"))?;
    wait_for_text(browser, "#view-table", |t| {
        t.contains("Anna Hot") && !t.contains("Bogdan")
    })
    .await?;
    // List, tiles, back to the table: each keeps the search.
    click(browser, "#mode-list").await?;
    wait_for_text(browser, "#contact-lines", |t| {
        t.contains("Anna Hot") && t.contains("Kraków")
    })
    .await?;
    click(browser, "#mode-tiles").await?;
    wait_for_text(browser, "#contact-tiles", |t| {
        t.contains("Anna Hot") && t.contains("NPS")
    })
    .await?;
    // Save the tiles as a view; its tab appears, current, with its count.
    click(browser, "#save-view summary").await?;
    browser
        .find(Locator::Id("view-name"))
        .await
        .map_err(err("the view name"))?
        .send_keys("Kraków tiles")
        .await
        .map_err(err("typing the name"))?;
    click(browser, "#save-view-button").await?;
    wait_for_text(browser, "#view-tabs", |t| t.contains("Kraków tiles 1")).await?;
    wait_for_text(browser, "#contact-tiles", |t| t.contains("Anna Hot")).await?;
    click(browser, "#mode-table").await?;
    wait_for_text(browser, "#view-table", |t| t.contains("Anna Hot")).await?;

    // The card layout of Hot: a new section, a field moved down into it and back, saved.
    browser
        .goto(&app.url("/contact-types/hot/layout"))
        .await
        .map_err(err("opening the layout editor"))?;
    wait_for_text(browser, "#layout-preview", |t| {
        t.contains("Anna Hot") && t.contains("fair")
    })
    .await?;
    browser
        .find(Locator::Id("new-section-title"))
        .await
        .map_err(err("the section title"))?
        .send_keys("Origin")
        .await
        .map_err(err("typing the title"))?;
    click(browser, "#add-section").await?;
    wait_for_text(browser, "#layout-editor", |t| t.contains("No fields yet")).await?;
    // Source is the last field of the first section: down moves it into Origin.
    click(browser, "li[data-field='source'] button[value^='down:']").await?;
    wait_for_text(browser, "#layout-preview", |t| t.contains("Origin")).await?;
    click(browser, "li[data-field='source'] button[value^='up:']").await?;
    wait_for_text(browser, "#layout-preview", |t| !t.contains("Origin")).await?;
    click(browser, "#save-layout").await?;
    wait_for_text(browser, "#notice", |t| t.contains("Saved the layout")).await?;
    browser
        .goto(&app.url(&format!("/contacts/{anna}")))
        .await
        .map_err(err("opening the card"))?;
    wait_for_text(browser, "#extra-fields", |t| t.contains("NPS") && t.contains("fair")).await?;
    Ok(())
}
