//! A real browser (Debian's chromium, headless, through chromedriver) signs in and creates
//! a contact through the pages, then finds it on its card; and builds a nested filter with
//! the contacts page's filter builder, watching its live count, its errors and the table.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use kartoteka_tests::*;

const CHROMIUM: &str = "/usr/bin/chromium";

/// `/usr/bin/chromedriver`, or `chromedriver` on the PATH.
fn chromedriver() -> Option<PathBuf> {
    let standard = PathBuf::from("/usr/bin/chromedriver");
    if standard.is_file() {
        return Some(standard);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromedriver"))
            .find(|p| p.is_file())
    })
}

/// A chromedriver process on a free port, killed when dropped.
struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    async fn start(binary: &Path, log: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let http = client_builder().timeout(Duration::from_secs(2)).build().unwrap();
        for _ in 0..100 {
            if let Ok(response) = http.get(format!("{}/status", driver.url)).send().await
                && let Ok(status) = response.json::<Value>().await
                && status["value"]["ready"] == true
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not answer on {} within 10 s", driver.url);
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn open_browser(driver: &ChromeDriver, profile: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a chromium session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_create_a_contact_in_a_browser() {
    let Some(driver_binary) = chromedriver() else {
        skip("chromedriver is not installed (apt-get install chromium chromium-driver)");
        return;
    };
    if !Path::new(CHROMIUM).is_file() {
        skip("chromium is not installed at /usr/bin/chromium (apt-get install chromium)");
        return;
    }
    let app = TestApp::start(Backend::Sqlite).await.expect("a server on SQLite");
    let (user, token) = app.admin().await;
    let scratch = tempfile::tempdir().unwrap();
    let profile = scratch.path().join("profile");
    std::fs::create_dir(&profile).unwrap();
    let driver = ChromeDriver::start(&driver_binary, &scratch.path().join("chromedriver.log")).await;
    let browser = open_browser(&driver, &profile).await;
    let outcome = scenario(&browser, &app, &user.email).await;
    // Quit chromium before anything else, whatever happened.
    let _ = browser.close().await;
    drop(driver);
    let contact_id = outcome.unwrap_or_else(|e| panic!("in the browser: {e}"));

    let (status, contact) = app.get(&token, &format!("/api/v1/contacts/{contact_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(contact["name"], "Zuzanna Brzęczyszczykiewicz");
    assert_eq!(contact["type"], "hot");
    assert_eq!(contact["email"], "zuzanna@example.com");
    assert_eq!(contact["owner"], user.id);
}

/// How long a step may take to show its result.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// A fantoccini error as a message saying what was being done.
pub(crate) fn err(what: &str) -> impl Fn(fantoccini::error::CmdError) -> String {
    let what = what.to_owned();
    move |e| format!("{what}: {e}")
}

/// Opens the contacts page, which sends the browser to sign in first, and signs in as
/// `email`; the browser is then back on the contacts page.
pub(crate) async fn sign_in(browser: &Client, app: &TestApp, email: &str) -> Result<(), String> {
    let wait = WAIT;
    browser
        .goto(&app.url("/contacts"))
        .await
        .map_err(err("opening /contacts"))?;
    let url = browser.current_url().await.map_err(err("reading the URL"))?;
    if url.path() != "/login" {
        return Err(format!("expected the sign-in page, got {url}"));
    }
    let form = browser
        .wait()
        .at_most(wait)
        .for_element(Locator::Id("login-form"))
        .await
        .map_err(err("the sign-in form"))?;
    form.find(Locator::Css("input[name='email']"))
        .await
        .map_err(err("the email input"))?
        .send_keys(email)
        .await
        .map_err(err("typing the email"))?;
    form.find(Locator::Css("input[name='password']"))
        .await
        .map_err(err("the password input"))?
        .send_keys(PASSWORD)
        .await
        .map_err(err("typing the password"))?;
    form.find(Locator::Css("button[type='submit']"))
        .await
        .map_err(err("the sign-in button"))?
        .click()
        .await
        .map_err(err("signing in"))?;
    Ok(())
}

/// Signs in, creates a contact with the form and reads its card; returns its id.
async fn scenario(browser: &Client, app: &TestApp, email: &str) -> Result<i64, String> {
    let wait = WAIT;
    sign_in(browser, app, email).await?;

    // Back where we wanted to go: the contacts table, with its "New contact" button.
    browser
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("a.button[href='/contacts/new']"))
        .await
        .map_err(err("the contacts page after signing in"))?
        .click()
        .await
        .map_err(err("following New contact"))?;
    let form = browser
        .wait()
        .at_most(wait)
        .for_element(Locator::Id("contact-form"))
        .await
        .map_err(err("the new-contact form"))?;
    form.find(Locator::Css("select[name='type']"))
        .await
        .map_err(err("the type select"))?
        .select_by_value("hot")
        .await
        .map_err(err("choosing the type"))?;
    form.find(Locator::Css("input[name='name']"))
        .await
        .map_err(err("the name input"))?
        .send_keys("Zuzanna Brzęczyszczykiewicz")
        .await
        .map_err(err("typing the name"))?;
    form.find(Locator::Css("input[name='email']"))
        .await
        .map_err(err("the email input"))?
        .send_keys("zuzanna@example.com")
        .await
        .map_err(err("typing the email"))?;
    form.find(Locator::Css("button[type='submit']"))
        .await
        .map_err(err("the save button"))?
        .click()
        .await
        .map_err(err("saving"))?;

    // The card.
    let heading = browser
        .wait()
        .at_most(wait)
        .for_element(Locator::Id("contact-name"))
        .await
        .map_err(err("the card"))?;
    let name = heading.text().await.map_err(err("the card's heading"))?;
    if name != "Zuzanna Brzęczyszczykiewicz" {
        return Err(format!("the card says {name:?}"));
    }
    let url = browser.current_url().await.map_err(err("reading the URL"))?;
    let id = url
        .path()
        .strip_prefix("/contacts/")
        .and_then(|id| id.parse::<i64>().ok())
        .ok_or_else(|| format!("the card is at {url}"))?;

    // And the table lists it.
    browser
        .goto(&app.url("/contacts"))
        .await
        .map_err(err("opening /contacts"))?;
    let link = browser
        .wait()
        .at_most(wait)
        .for_element(Locator::Css(&format!("tr[data-id='{id}'] a")))
        .await
        .map_err(err("the new row"))?;
    let text = link.text().await.map_err(err("the row's link"))?;
    if text != "Zuzanna Brzęczyszczykiewicz" {
        return Err(format!("the row says {text:?}"));
    }
    Ok(id)
}

/// Chromium through chromedriver in a profile of its own, for one test; `None` (after
/// saying the test is skipped) when either is not installed.
pub(crate) struct Browser {
    pub(crate) client: Client,
    // Field order is drop order: the driver (and its chromium) goes before the profile.
    _driver: ChromeDriver,
    _scratch: tempfile::TempDir,
}

impl Browser {
    pub(crate) async fn open() -> Option<Self> {
        let Some(driver_binary) = chromedriver() else {
            skip("chromedriver is not installed (apt-get install chromium chromium-driver)");
            return None;
        };
        if !Path::new(CHROMIUM).is_file() {
            skip("chromium is not installed at /usr/bin/chromium (apt-get install chromium)");
            return None;
        }
        let scratch = tempfile::tempdir().unwrap();
        let profile = scratch.path().join("profile");
        std::fs::create_dir(&profile).unwrap();
        let driver = ChromeDriver::start(&driver_binary, &scratch.path().join("chromedriver.log")).await;
        let client = open_browser(&driver, &profile).await;
        Some(Browser {
            client,
            _driver: driver,
            _scratch: scratch,
        })
    }

    /// Quits chromium, then stops chromedriver.
    pub(crate) async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// Waits until the text of the first element matching `css` satisfies `ok`; returns it.
pub(crate) async fn wait_for_text(browser: &Client, css: &str, ok: impl Fn(&str) -> bool) -> Result<String, String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last = String::from("(no such element)");
    while tokio::time::Instant::now() < deadline {
        if let Ok(el) = browser.find(Locator::Css(css)).await
            && let Ok(text) = el.text().await
        {
            if ok(&text) {
                return Ok(text);
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("`{css}` still says {last:?} after {WAIT:?}"))
}

/// The `index`th element matching `css` (found anew: the builder re-renders its tree).
pub(crate) async fn nth(browser: &Client, css: &str, index: usize) -> Result<fantoccini::elements::Element, String> {
    let all = browser
        .find_all(Locator::Css(css))
        .await
        .map_err(err(&format!("finding `{css}`")))?;
    let count = all.len();
    all.into_iter()
        .nth(index)
        .ok_or_else(|| format!("`{css}`: no element {index}, {count} found"))
}

/// The first element matching `css` in condition `index` (in page order).
pub(crate) async fn part(browser: &Client, index: usize, css: &str) -> Result<fantoccini::elements::Element, String> {
    nth(browser, ".fb-cond", index)
        .await?
        .find(Locator::Css(css))
        .await
        .map_err(err(&format!("`{css}` of condition {index}")))
}

/// Sets condition `index` (in page order) to `field`, `op` and, when given, types `value`
/// into its first value input.
pub(crate) async fn set_condition(
    browser: &Client,
    index: usize,
    field: &str,
    op: &str,
    value: Option<&str>,
) -> Result<(), String> {
    part(browser, index, ".fb-field")
        .await?
        .select_by_value(field)
        .await
        .map_err(err(&format!("choosing field {field}")))?;
    part(browser, index, ".fb-op")
        .await?
        .select_by_value(op)
        .await
        .map_err(err(&format!("choosing operator {op}")))?;
    if let Some(value) = value {
        let input = part(browser, index, ".fb-value-input").await?;
        input.clear().await.map_err(err("clearing the value"))?;
        input.send_keys(value).await.map_err(err("typing the value"))?;
    }
    Ok(())
}

/// Clicks the first element matching `css`.
pub(crate) async fn click(browser: &Client, css: &str) -> Result<(), String> {
    browser
        .find(Locator::Css(css))
        .await
        .map_err(err(&format!("finding `{css}`")))?
        .click()
        .await
        .map_err(err(&format!("clicking `{css}`")))
}

/// The ids of the table's rows.
pub(crate) async fn table_ids(browser: &Client) -> Result<Vec<i64>, String> {
    let mut out = Vec::new();
    for row in browser
        .find_all(Locator::Css("table.contacts tr[data-id]"))
        .await
        .map_err(err("the table's rows"))?
    {
        let id = row.attr("data-id").await.map_err(err("a row's id"))?;
        out.push(id.and_then(|id| id.parse().ok()).ok_or("a row without an id")?);
    }
    Ok(out)
}

both!(filter_builder_in_a_browser: filter_builder_in_a_browser_sqlite, filter_builder_in_a_browser_postgres);
async fn filter_builder_in_a_browser(app: TestApp) {
    let (user, token) = app.admin().await;
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "revenue", "label": "Revenue", "kind": "number"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut ids = Vec::new();
    for (name, city, revenue) in [
        ("Anna Nowak", "Kraków", 1000),
        ("Bogdan Zając", "Kraków", 50),
        ("Celina Lis", "Kraków", 10),
        ("Dariusz Król", "Gdańsk", 5000),
        ("Ewa Wróbel", "Warszawa", 2000),
    ] {
        let contact = app
            .create_contact(
                &token,
                &json!({"type": "client", "name": name, "city": city, "fields": {"revenue": revenue}}),
            )
            .await;
        ids.push(id(&contact));
    }
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/activities",
            &json!([
                {"contact_id": ids[1], "kind": "purchase", "amount": 99.0},
                {"contact_id": ids[4], "kind": "purchase", "amount": 10.0}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let Some(browser) = Browser::open().await else {
        return;
    };
    let outcome = filter_scenario(&browser.client, &app, &user.email).await;
    browser.close().await;
    // In Kraków, and (revenue over 500, or not a single purchase): Anna (1000) and
    // Celina (no purchase); Bogdan bought something and earns 50.
    let mut expected = vec![ids[0], ids[2]];
    expected.sort_unstable();
    let mut shown = outcome.unwrap_or_else(|e| panic!("in the browser: {e}"));
    shown.sort_unstable();
    assert_eq!(shown, expected);
}

/// Builds `city = Kraków AND (revenue > 500 OR NOT (purchase happened))` with the builder,
/// checks the live count, applies it and returns the ids the table shows; then types
/// letters for the revenue and checks that the error lands on that condition.
async fn filter_scenario(browser: &Client, app: &TestApp, email: &str) -> Result<Vec<i64>, String> {
    sign_in(browser, app, email).await?;
    let count = "#filter-count";
    wait_for_text(browser, count, |t| t == "5 contacts match").await?;

    // city = Kraków
    click(browser, ".fb-root > .fb-actions .fb-add-cond").await?;
    set_condition(browser, 0, "city", "std.eq", Some("Kraków")).await?;
    wait_for_text(browser, count, |t| t == "3 contacts match").await?;

    // AND an OR group: revenue > 500 ...
    click(browser, ".fb-root > .fb-actions .fb-add-group").await?;
    let group = ".fb-root > .fb-children > .fb-group";
    click(browser, &format!("{group} > .fb-head .fb-or")).await?;
    set_condition(browser, 1, "fields.revenue", "std.gt", Some("500")).await?;
    wait_for_text(browser, count, |t| t == "1 contact matches").await?;
    // ... OR NOT (a purchase happened), in a group of its own.
    click(browser, &format!("{group} > .fb-actions .fb-add-group")).await?;
    let inner = format!("{group} > .fb-children > .fb-group");
    click(browser, &format!("{inner} > .fb-head .fb-not")).await?;
    part(browser, 2, ".fb-field")
        .await?
        .select_by_value("activity.purchase")
        .await
        .map_err(err("choosing the purchase activity"))?;
    let op = part(browser, 2, ".fb-op")
        .await?
        .prop("value")
        .await
        .map_err(err("the activity's operator"))?;
    if op.as_deref() != Some("behaviour.happened") {
        return Err(format!("an activity offers `happened` first, got {op:?}"));
    }
    wait_for_text(browser, count, |t| t == "2 contacts match").await?;
    let caption = wait_for_text(browser, &format!("{inner} > .fb-head .fb-caption"), |t| !t.is_empty()).await?;
    if caption != "Not all of these are true" {
        return Err(format!("the negated group says {caption:?}"));
    }

    click(browser, "#filter-apply").await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let url = browser.current_url().await.map_err(err("reading the URL"))?;
        if url.query().is_some_and(|q| q.contains("filter=")) {
            let filter = url
                .query_pairs()
                .find(|(k, _)| k == "filter")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let json: Value = serde_json::from_str(&filter).map_err(|e| format!("the URL's filter {filter}: {e}"))?;
            let expected = json!({"and": [
                {"field": "city", "op": "std.eq", "value": "Kraków"},
                {"or": [
                    {"field": "fields.revenue", "op": "std.gt", "value": 500},
                    {"not": {"and": [{"field": "activity.purchase", "op": "behaviour.happened"}]}}
                ]}
            ]});
            if json != expected {
                return Err(format!("the URL's filter is {json}"));
            }
            break;
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("Apply did not navigate; the URL is {url}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The page rendered the table filtered, and rebuilt the builder from its URL.
    wait_for_text(browser, "#contacts-total", |t| t.contains("2 found")).await?;
    let shown = table_ids(browser).await?;
    wait_for_text(browser, count, |t| t == "2 contacts match").await?;
    let conditions = browser
        .find_all(Locator::Css(".fb-cond"))
        .await
        .map_err(err("the conditions"))?
        .len();
    if conditions != 3 {
        return Err(format!("rebuilt {conditions} conditions from the URL, not 3"));
    }
    let revenue = part(browser, 1, ".fb-value-input").await?;
    let typed = revenue.prop("value").await.map_err(err("the revenue's value"))?;
    if typed.as_deref() != Some("500") {
        return Err(format!("the revenue input holds {typed:?}"));
    }

    // Letters for a number: the server's error, next to that condition only.
    revenue.clear().await.map_err(err("clearing the revenue"))?;
    revenue.send_keys("abc").await.map_err(err("typing letters"))?;
    let error = wait_for_text(browser, ".fb-cond.has-error > .fb-error", |t| !t.is_empty()).await?;
    if !error.contains("expected a number") {
        return Err(format!("the error says {error:?}"));
    }
    let bad = browser
        .find(Locator::Css(".fb-cond.has-error .fb-field"))
        .await
        .map_err(err("the condition with the error"))?
        .prop("value")
        .await
        .map_err(err("its field"))?;
    if bad.as_deref() != Some("fields.revenue") {
        return Err(format!("the error is on the condition of {bad:?}"));
    }
    let flagged = browser
        .find_all(Locator::Css(".fb-cond.has-error"))
        .await
        .map_err(err("the conditions with errors"))?
        .len();
    if flagged != 1 {
        return Err(format!("{flagged} conditions show an error"));
    }
    wait_for_text(browser, count, |t| t.starts_with("Can't count")).await?;
    Ok(shown)
}
