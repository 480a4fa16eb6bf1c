//! A real browser (Debian's chromium, headless, through chromedriver) signs in and creates
//! a contact through the pages, then finds it on its card.

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

/// Signs in, creates a contact with the form and reads its card; returns its id.
async fn scenario(browser: &Client, app: &TestApp, email: &str) -> Result<i64, String> {
    let wait = Duration::from_secs(20);
    let err = |what: &str| {
        let what = what.to_owned();
        move |e: fantoccini::error::CmdError| format!("{what}: {e}")
    };
    // The contacts page sends us to sign in first.
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
