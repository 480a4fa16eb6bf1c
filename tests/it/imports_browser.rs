//! An import through the pages in a real browser: the file chosen in the upload form, the
//! mapping page with its suggestions and a type chosen, a dry run, then the import.

use fantoccini::{Client, Locator};
use kartoteka_tests::*;

use crate::browser::{Browser, err, sign_in, wait_for_text};

both!(a_small_file_imports_through_the_mapping_page_in_a_browser: import_in_a_browser_sqlite, import_in_a_browser_postgres);
async fn a_small_file_imports_through_the_mapping_page_in_a_browser(app: TestApp) {
    let (user, token) = app.admin().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kontakty.csv");
    std::fs::write(
        &file,
        "Imię;Nazwisko;E-mail;Miasto;Uwagi\nJan;Kowalski;jan@example.com;Łódź;stały klient\nAnna;Nowak;anna@@example;Kraków;\n",
    )
    .unwrap();
    let Some(browser) = Browser::open().await else {
        return;
    };
    let outcome = scenario(&browser.client, &app, &user.email, &file).await;
    browser.close().await;
    outcome.unwrap_or_else(|e| panic!("in the browser: {e}"));
    let (contacts, _) = app.all_contacts(&token, "name", 10).await;
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!(contacts[0]["name"], "Jan Kowalski");
    assert_eq!(contacts[0]["city"], "Łódź");
    assert_eq!(contacts[0]["type"], "hot");
}

async fn scenario(browser: &Client, app: &TestApp, email: &str, file: &std::path::Path) -> Result<(), String> {
    sign_in(browser, app, email).await?;
    browser
        .goto(&app.url("/imports"))
        .await
        .map_err(err("opening /imports"))?;
    browser
        .find(Locator::Css("#upload input[type='file']"))
        .await
        .map_err(err("the file input"))?
        .send_keys(&file.display().to_string())
        .await
        .map_err(err("choosing the file"))?;
    browser
        .find(Locator::Css("#upload button[type='submit']"))
        .await
        .map_err(err("the upload button"))?
        .click()
        .await
        .map_err(err("uploading"))?;
    // The mapping page, with the Polish headers read.
    wait_for_text(browser, "#columns", |t| t.contains("Nazwisko") && t.contains("Łódź")).await?;
    let chosen = |css: &str| {
        let css = css.to_owned();
        async move {
            browser
                .find(Locator::Css(&css))
                .await
                .map_err(err(&format!("finding `{css}`")))?
                .prop("value")
                .await
                .map_err(err("reading a select"))
        }
    };
    if chosen("select[name='col.0']").await?.as_deref() != Some("first_name")
        || chosen("select[name='col.2']").await?.as_deref() != Some("email")
    {
        return Err("the suggested mapping is not selected".into());
    }
    browser
        .find(Locator::Css("select[name='type'] option[value='hot']"))
        .await
        .map_err(err("the type option"))?
        .click()
        .await
        .map_err(err("choosing the type"))?;
    browser
        .find(Locator::Id("dry-run"))
        .await
        .map_err(err("the dry run button"))?
        .click()
        .await
        .map_err(err("starting the dry run"))?;
    wait_for_text(browser, "#report-summary", |t| {
        t.starts_with("Dry run: 2 rows: 1 created, 0 updated, 0 unchanged, 0 skipped, 1 refused")
    })
    .await?;
    // The form keeps the choices of the dry run.
    if chosen("select[name='type']").await?.as_deref() != Some("hot") {
        return Err("the type chosen for the dry run is not kept".into());
    }
    browser
        .find(Locator::Id("run-import"))
        .await
        .map_err(err("the import button"))?
        .click()
        .await
        .map_err(err("starting the import"))?;
    wait_for_text(browser, "#report-summary", |t| {
        t.starts_with("2 rows: 1 created, 0 updated, 0 unchanged, 0 skipped, 1 refused")
    })
    .await?;
    Ok(())
}
