//! Imports of contacts from files, through the API, the pages and the command line: a
//! messy file (`;`, lines in UTF-8, Windows-1250 and Windows-1251, a bad e-mail, a row
//! twice, an unknown select option, a name too long) gives the exact report and loses no
//! row; the same file again with "update" changes nothing; segments follow the import;
//! an Excel workbook reads as its CSV would.

use std::time::Duration;

use kartoteka_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::kartoteka_binary;

/// The header of the messy file.
const HEADER: &str = "Imię;Nazwisko;E-mail;Telefon;Firma;Miasto;Źródło";

/// The messy file: each line in the encoding its comment names.
fn messy_file() -> Vec<u8> {
    let long = "X".repeat(250);
    let mut out = Vec::new();
    let utf8 = |out: &mut Vec<u8>, line: &str| {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    };
    utf8(&mut out, HEADER);
    // line 2: created
    utf8(&mut out, "Jan;Kowalski;jan@example.com;+48 600 100 200;Acme;Łódź;web");
    // line 3: a bad e-mail
    utf8(&mut out, "Anna;Nowak;anna@@example;;Acme;Kraków;web");
    // line 4: line 2 again
    utf8(&mut out, "Jan;Kowalski;jan@example.com;+48 600 100 200;Acme;Łódź;web");
    // line 5: Windows-1250
    out.extend_from_slice(&windows(1250, "Zofia;Wójcik;zofia@example.pl;;Acme;Wrocław;fair\n"));
    // line 6: Windows-1251
    out.extend_from_slice(&windows(
        1251,
        "Петро;Іваненко;petro@example.ua;+380 44 123 4567;Київ Трейд;Київ;web\n",
    ));
    // line 7: an option the select doesn't have
    utf8(&mut out, "Ewa;Lis;ewa@example.com;;;Gdańsk;tv");
    // line 8: a name too long
    utf8(&mut out, &format!("{long};Long;long@example.com;;;;"));
    // line 9: created, with a company of its own
    utf8(&mut out, "Maria;Zięba;maria@example.com;;Beta;Łódź;");
    out
}

/// `text` in Windows code page `page` (1250 or 1251).
fn windows(page: u16, text: &str) -> Vec<u8> {
    let encoding = if page == 1250 {
        encoding_rs::WINDOWS_1250
    } else {
        encoding_rs::WINDOWS_1251
    };
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "{text} has letters code page {page} lacks");
    bytes.into_owned()
}

/// The select field the file's last column goes to.
async fn source_field(app: &TestApp, token: &str) {
    let (status, body) = app
        .post_json(
            token,
            "/api/v1/fields",
            &json!({"key": "source", "label": "Źródło", "kind": "select", "options": ["web", "fair"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Uploads `file` through the API; answers the upload's answer.
async fn upload(app: &TestApp, token: &str, name: &str, file: Vec<u8>) -> Value {
    let reply = app
        .http_client()
        .post(app.url(&format!("/api/v1/imports?file_name={name}")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(file)
        .send()
        .await
        .unwrap();
    let reply = Reply::read(reply).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()
}

/// Starts a run of import `id` and waits for it to end; answers the import.
async fn run(app: &TestApp, token: &str, id: i64, body: &Value) -> Value {
    let (status, started) = app.post_json(token, &format!("/api/v1/imports/{id}/runs"), body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    for _ in 0..600 {
        let (status, import) = app.get(token, &format!("/api/v1/imports/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        match import["state"].as_str() {
            Some("running") => tokio::time::sleep(Duration::from_millis(50)).await,
            Some("done") => return import,
            other => panic!("the run ended {other:?}: {import}"),
        }
    }
    panic!("the run of import {id} did not end");
}

/// The rows of an outcomes CSV (after its byte order mark), header first.
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').expect("a byte order mark for Excel");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

async fn outcomes(app: &TestApp, token: &str, id: i64) -> Vec<Vec<String>> {
    let reply = app
        .send(
            reqwest::Method::GET,
            Some(token),
            &format!("/api/v1/imports/{id}/outcomes"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    csv_rows(reply.text.as_bytes())
}

/// The last three cells (line, outcome, reason) of each outcome row.
fn verdicts(rows: &[Vec<String>]) -> Vec<(String, String, String)> {
    rows.iter()
        .skip(1)
        .map(|r| {
            let n = r.len();
            (r[n - 3].clone(), r[n - 2].clone(), r[n - 1].clone())
        })
        .collect()
}

fn report(import: &Value) -> Value {
    import["report"].clone()
}

both!(a_messy_file_gives_the_exact_report_and_loses_no_row: a_messy_file_gives_the_exact_report_and_loses_no_row_sqlite, a_messy_file_gives_the_exact_report_and_loses_no_row_postgres);
async fn a_messy_file_gives_the_exact_report_and_loses_no_row(app: TestApp) {
    let (_, token) = app.admin().await;
    source_field(&app, &token).await;
    // A segment that the import's people join as they are written.
    let (status, segment) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Łódź", "kind": "dynamic", "filter": {"field": "city", "op": "eq", "value": "Łódź"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{segment}");

    let uploaded = upload(&app, &token, "messy.csv", messy_file()).await;
    assert_eq!(uploaded["format"], "CSV");
    assert_eq!(uploaded["delimiter"], "semicolon");
    assert_eq!(
        uploaded["suggested_mapping"]["columns"],
        json!({"Imię": "first_name", "Nazwisko": "last_name", "E-mail": "email", "Telefon": "phone",
               "Firma": "company", "Miasto": "city", "Źródło": "fields.source"})
    );
    // The sample shows the Windows lines decoded.
    assert_eq!(uploaded["sample"][3][1], "Wójcik");
    assert_eq!(uploaded["sample"][4][0], "Петро");
    let id = uploaded["import"]["id"].as_i64().unwrap();

    let expected_verdicts = |dry: bool| {
        let long = "X".repeat(250);
        let created = "created";
        let mut all = vec![
            ("2", created, String::new()),
            (
                "3",
                "refused",
                "E-mail `anna@@example`: `anna@@example` is not an email address".to_owned(),
            ),
            (
                "4",
                "skipped",
                "E-mail `jan@example.com`: the same e-mail as line 2; the file has it twice".to_owned(),
            ),
            ("5", created, String::new()),
            ("6", created, String::new()),
            (
                "7",
                "refused",
                "Źródło `tv`: `tv` is not one of the options: web, fair".to_owned(),
            ),
            ("8", "refused", format!("Imię `{long}`: must be at most 200 characters")),
            ("9", created, String::new()),
        ];
        if !dry {
            all.retain(|(_, outcome, _)| *outcome != "created");
        }
        all.into_iter()
            .map(|(l, o, r)| (l.to_owned(), o.to_owned(), r))
            .collect::<Vec<_>>()
    };

    // The dry run: every row with what would happen, nothing written.
    let dry = run(&app, &token, id, &json!({"dry_run": true})).await;
    assert_eq!(
        report(&dry),
        json!({"dry_run": true, "rows": 8, "created": 4, "updated": 0, "unchanged": 0, "skipped": 1, "refused": 3,
               "companies_created": 3, "legacy_cells": 6})
    );
    assert_eq!(verdicts(&outcomes(&app, &token, id).await), expected_verdicts(true));
    let (_, count) = app.get(&token, "/api/v1/contacts/count").await;
    assert_eq!(count["count"], 0, "a dry run writes nothing");

    // The import.
    let done = run(&app, &token, id, &json!({})).await;
    assert_eq!(
        report(&done),
        json!({"dry_run": false, "rows": 8, "created": 4, "updated": 0, "unchanged": 0, "skipped": 1, "refused": 3,
               "companies_created": 3, "legacy_cells": 6})
    );
    let rejected = outcomes(&app, &token, id).await;
    assert_eq!(verdicts(&rejected), expected_verdicts(false));
    // Nothing lost: the refused and skipped rows come back whole, in the file's columns.
    assert_eq!(rejected[0][..7].join(";"), HEADER);
    assert_eq!(
        rejected[1][..7],
        ["Anna", "Nowak", "anna@@example", "", "Acme", "Kraków", "web"]
    );
    assert_eq!(rejected[4][0].len(), 250);

    let (contacts, _) = app.all_contacts(&token, "name", 100).await;
    let names: Vec<&str> = contacts.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Acme",
            "Beta",
            "Jan Kowalski",
            "Maria Zięba",
            "Zofia Wójcik",
            "Київ Трейд",
            "Петро Іваненко"
        ]
    );
    let by_name = |n: &str| contacts.iter().find(|c| c["name"] == n).unwrap().clone();
    let acme = id_of(&by_name("Acme"));
    assert_eq!(by_name("Jan Kowalski")["company_id"], acme);
    assert_eq!(by_name("Zofia Wójcik")["company_id"], acme);
    assert_eq!(by_name("Zofia Wójcik")["city"], "Wrocław");
    assert_eq!(by_name("Петро Іваненко")["company_id"], id_of(&by_name("Київ Трейд")));
    assert_eq!(by_name("Петро Іваненко")["fields"]["source"], "web");
    assert_eq!(by_name("Acme")["kind"], "company");
    // The segment followed the import.
    let members = app
        .item_names(&token, &format!("/api/v1/segments/{}/members", segment["id"]))
        .await;
    let mut members: Vec<&str> = members.iter().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(members, ["Jan Kowalski", "Maria Zięba"]);

    // The same file again, updating what it matches: nothing changes a second time.
    let again = upload(&app, &token, "messy.csv", messy_file()).await;
    let again_id = again["import"]["id"].as_i64().unwrap();
    let twice = run(&app, &token, again_id, &json!({"mapping": again["suggested_mapping"]})).await;
    assert_eq!(
        report(&twice),
        json!({"dry_run": false, "rows": 8, "created": 0, "updated": 0, "unchanged": 4, "skipped": 1, "refused": 3,
               "companies_created": 0, "legacy_cells": 6})
    );
    let (after, _) = app.all_contacts(&token, "name", 100).await;
    assert_eq!(after.len(), 7);
    assert!(
        after.iter().all(|c| c["version"] == 1),
        "no contact was written again: {after:?}"
    );
}

fn id_of(contact: &Value) -> Value {
    contact["id"].clone()
}

both!(an_import_updates_skips_or_creates_what_it_matches: an_import_updates_skips_or_creates_what_it_matches_sqlite, an_import_updates_skips_or_creates_what_it_matches_postgres);
async fn an_import_updates_skips_or_creates_what_it_matches(app: TestApp) {
    let (_, token) = app.admin().await;
    app.create_contact(
        &token,
        &json!({"type": "client", "name": "Ola Stara", "email": "ola@example.com", "city": "Lublin"}),
    )
    .await;
    let file = "Name,Email,City,Phone\nOla Nowa,OLA@example.com,,\nPiotr,piotr@example.com,Opole,\n"
        .as_bytes()
        .to_vec();
    let mapping = |on_match: &str| {
        json!({"mapping": {"columns": {"Name": "name", "Email": "email", "City": "city"}, "match_by": "email",
                            "on_match": on_match, "type": "client"}})
    };
    let skip = upload(&app, &token, "a.csv", file.clone()).await;
    let skipped = run(&app, &token, skip["import"]["id"].as_i64().unwrap(), &mapping("skip")).await;
    assert_eq!(report(&skipped)["skipped"], 1);
    assert_eq!(report(&skipped)["created"], 1);
    let update = upload(&app, &token, "a.csv", file.clone()).await;
    let updated = run(
        &app,
        &token,
        update["import"]["id"].as_i64().unwrap(),
        &mapping("update"),
    )
    .await;
    assert_eq!(report(&updated)["updated"], 1, "{updated}");
    assert_eq!(report(&updated)["unchanged"], 1);
    let (contacts, _) = app.all_contacts(&token, "name", 100).await;
    let ola = contacts.iter().find(|c| c["email"] == "ola@example.com").unwrap();
    // The name changed; the empty city cell left the city alone.
    assert_eq!(ola["name"], "Ola Nowa");
    assert_eq!(ola["city"], "Lublin");
    assert_eq!(ola["version"], 2);
    let create = upload(&app, &token, "a.csv", file).await;
    let created = run(
        &app,
        &token,
        create["import"]["id"].as_i64().unwrap(),
        &mapping("create"),
    )
    .await;
    assert_eq!(report(&created)["created"], 2);
    let (contacts, _) = app.all_contacts(&token, "name", 100).await;
    assert_eq!(contacts.len(), 4);
}

both!(a_bad_mapping_or_file_is_refused_with_every_problem: a_bad_mapping_or_file_is_refused_with_every_problem_sqlite, a_bad_mapping_or_file_is_refused_with_every_problem_postgres);
async fn a_bad_mapping_or_file_is_refused_with_every_problem(app: TestApp) {
    let (_, token) = app.admin().await;
    let (_, other) = app.agent().await;
    let uploaded = upload(
        &app,
        &token,
        "b.csv",
        b"Name\tEmail\tEmail 2\nAda\tada@example.com\tx\n".to_vec(),
    )
    .await;
    assert_eq!(uploaded["delimiter"], "tab");
    let id = uploaded["import"]["id"].as_i64().unwrap();
    let reply = app
        .post_json(
            &token,
            &format!("/api/v1/imports/{id}/runs"),
            &json!({"mapping": {"columns": {"Email": "email", "Email 2": "email", "Nope": "city", "Name": "fields.nope"},
                                 "on_match": "merge", "kind": "robot"}}),
        )
        .await;
    assert_eq!(reply.0, StatusCode::BAD_REQUEST, "{}", reply.1);
    let mut paths = error_paths(&reply.1);
    paths.sort();
    assert_eq!(
        paths,
        [
            "mapping.columns",
            "mapping.columns.Email 2",
            "mapping.columns.Name",
            "mapping.columns.Nope",
            "mapping.kind",
            "mapping.on_match"
        ]
    );
    // Not a CSV or workbook, and an empty body.
    let zeros = app
        .http_client()
        .post(app.url("/api/v1/imports"))
        .bearer_auth(&token)
        .body(vec![0u8, 1, 2, 0, 0])
        .send()
        .await
        .unwrap();
    assert_eq!(zeros.status(), StatusCode::BAD_REQUEST);
    let empty = app
        .http_client()
        .post(app.url("/api/v1/imports"))
        .bearer_auth(&token)
        .body(Vec::new())
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    // Another user's import is not there for an agent.
    let (status, _) = app.get(&other, &format!("/api/v1/imports/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get(&other, &format!("/api/v1/imports/{id}/outcomes")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

both!(an_excel_workbook_imports_like_its_csv: an_excel_workbook_imports_like_its_csv_sqlite, an_excel_workbook_imports_like_its_csv_postgres);
async fn an_excel_workbook_imports_like_its_csv(app: TestApp) {
    let (_, token) = app.admin().await;
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "joined", "label": "Joined", "kind": "date"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, header) in ["Prenume", "Nume", "Email", "Joined", "Kod"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    sheet.write_string(1, 0, "Ștefan").unwrap();
    sheet.write_string(1, 1, "Popescu").unwrap();
    sheet.write_string(1, 2, "stefan@example.ro").unwrap();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 3, 14).unwrap();
    let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    sheet.write_datetime_with_format(1, 3, &date, &format).unwrap();
    sheet.write_number(1, 4, 1234.0).unwrap();
    // A blank row, then a row with a bad e-mail.
    sheet.write_string(3, 0, "Ion").unwrap();
    sheet.write_string(3, 2, "not-an-email").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let uploaded = upload(&app, &token, "people.xlsx", bytes).await;
    assert_eq!(uploaded["format"], "Excel (.xlsx)");
    assert_eq!(
        uploaded["sample"][0],
        json!(["Ștefan", "Popescu", "stefan@example.ro", "2025-03-14", "1234"])
    );
    let id = uploaded["import"]["id"].as_i64().unwrap();
    let done = run(&app, &token, id, &json!({"mapping": uploaded["suggested_mapping"]})).await;
    assert_eq!(report(&done)["created"], 1, "{done}");
    assert_eq!(report(&done)["refused"], 1);
    let rows = outcomes(&app, &token, id).await;
    assert_eq!(verdicts(&rows)[0].0, "4", "Excel's row number");
    let (contacts, _) = app.all_contacts(&token, "name", 10).await;
    assert_eq!(contacts[0]["name"], "Ștefan Popescu");
    assert_eq!(contacts[0]["fields"]["joined"], "2025-03-14");
}

both!(the_command_line_imports_with_a_dry_run_first: the_command_line_imports_with_a_dry_run_first_sqlite, the_command_line_imports_with_a_dry_run_first_postgres);
async fn the_command_line_imports_with_a_dry_run_first(app: TestApp) {
    let (_, token) = app.admin().await;
    source_field(&app, &token).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("messy.csv");
    std::fs::write(&file, messy_file()).unwrap();
    let import = |dry: bool| {
        let mut command = tokio::process::Command::new(kartoteka_binary());
        command
            .args(["import", "contacts"])
            .arg(&file)
            .env("KARTOTEKA_DATABASE_URL", &app.database_url)
            .env("RUST_LOG", "warn");
        if dry {
            command.arg("--dry-run");
        }
        command.output()
    };
    let dry = import(true).await.unwrap();
    let stdout = String::from_utf8_lossy(&dry.stdout);
    assert!(dry.status.success(), "{stdout}{}", String::from_utf8_lossy(&dry.stderr));
    assert!(
        stdout.contains("Dry run: 8 rows in ")
            && stdout
                .contains("4 created, 0 updated, 0 unchanged, 1 skipped, 3 refused; 3 companies would be created."),
        "{stdout}"
    );
    let (_, count) = app.get(&token, "/api/v1/contacts/count").await;
    assert_eq!(count["count"], 0);
    let done = import(false).await.unwrap();
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        stdout.contains("4 created, 0 updated, 0 unchanged, 1 skipped, 3 refused; 3 companies created."),
        "{stdout}"
    );
    let rejected = std::fs::read(dir.path().join("messy.rejected.csv")).unwrap();
    assert_eq!(verdicts(&csv_rows(&rejected)).len(), 4);
    let (_, count) = app.get(&token, "/api/v1/contacts/count").await;
    assert_eq!(count["count"], 7);
    // A mapping that can't be used says why, and writes nothing.
    let bad = tokio::process::Command::new(kartoteka_binary())
        .args(["import", "contacts"])
        .arg(&file)
        .args(["--mapping", r#"{"columns": {"E-mail": "emial"}}"#])
        .env("KARTOTEKA_DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("mapping.columns.E-mail: `emial` is not a column"),
        "{stderr}"
    );
}

both!(the_mapping_page_runs_a_dry_run_and_the_import: the_mapping_page_runs_a_dry_run_and_the_import_sqlite, the_mapping_page_runs_a_dry_run_and_the_import_postgres);
async fn the_mapping_page_runs_a_dry_run_and_the_import(app: TestApp) {
    let (user, token) = app.agent().await;
    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;
    let boundary = "kartoteka-import-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"team.csv\"\r\nContent-Type: text/csv\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice("Imię;Nazwisko;E-mail\nJan;Nowak;jan@example.com\nAda;Lis;ada@\n".as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let uploaded = client
        .post(app.url("/imports"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
    let page_url = uploaded.headers()["location"].to_str().unwrap().to_owned();
    let page = app.page(&client, &page_url).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("semicolon separated"), "{}", page.text);
    assert!(
        page.text.contains(r#"<option value="first_name" selected>"#),
        "{}",
        page.text
    );
    // Two columns to the e-mail: the form comes back with the problem at the column.
    let bad = app
        .submit(
            &client,
            &page_url,
            &[
                ("csrf_token", &csrf),
                ("col.0", "name"),
                ("col.1", "email"),
                ("col.2", "email"),
                ("match_by", "email"),
                ("on_match", "update"),
                ("kind", "person"),
                ("type", ""),
                ("run", "dry_run"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        element_text(&bad.text, "error-col-2").is_some_and(|e| e.contains("already the target of")),
        "{}",
        bad.text
    );
    let form = [
        ("csrf_token", csrf.as_str()),
        ("col.0", "first_name"),
        ("col.1", "last_name"),
        ("col.2", "email"),
        ("match_by", "email"),
        ("on_match", "update"),
        ("kind", "person"),
        ("type", "lead"),
    ];
    for (run, summary) in [
        (
            "dry_run",
            "Dry run: 2 rows: 1 created, 0 updated, 0 unchanged, 0 skipped, 1 refused",
        ),
        (
            "import",
            "2 rows: 1 created, 0 updated, 0 unchanged, 0 skipped, 1 refused",
        ),
    ] {
        let mut sent = form.to_vec();
        sent.push(("run", run));
        let started = app.submit(&client, &page_url, &sent).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.text);
        let mut shown = String::new();
        for _ in 0..200 {
            let page = app.page(&client, &page_url).await;
            if let Some(text) = element_text(&page.text, "report-summary") {
                shown = text;
                if !page.text.contains("import-progress") {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(shown.trim_end_matches('.'), summary);
    }
    let page = app.page(&client, &page_url).await;
    let download = element_html(&page.text, "outcomes")
        .map(|_| format!("{page_url}/outcomes.csv"))
        .unwrap();
    let csv = app.page(&client, &download).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.text.contains("ada@,3,refused"), "{}", csv.text);
    // The contact is the agent's own, of the type the form chose.
    let (contacts, _) = app.all_contacts(&token, "name", 10).await;
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!(contacts[0]["name"], "Jan Nowak");
    assert_eq!(contacts[0]["owner"], user.id);
    assert_eq!(contacts[0]["type"], "lead");
}

both!(companies_in_the_file_are_the_ones_its_people_name: companies_in_the_file_sqlite, companies_in_the_file_postgres);
async fn companies_in_the_file_are_the_ones_its_people_name(app: TestApp) {
    let (_, token) = app.admin().await;
    // The people come before their company in the file, and one names a company the file
    // doesn't have.
    let file = "Name;Kind;Company\nJan Nowak;osoba;Acme\nAcme;firma;\nOla Lis;person;Beta\n"
        .as_bytes()
        .to_vec();
    let uploaded = upload(&app, &token, "c.csv", file).await;
    assert_eq!(uploaded["suggested_mapping"]["columns"]["Kind"], "kind");
    let id = uploaded["import"]["id"].as_i64().unwrap();
    let mapping = json!({"columns": {"Name": "name", "Kind": "kind", "Company": "company"}, "match_by": "none"});
    for dry_run in [true, false] {
        let done = run(&app, &token, id, &json!({"mapping": mapping, "dry_run": dry_run})).await;
        assert_eq!(
            report(&done),
            json!({"dry_run": dry_run, "rows": 3, "created": 3, "updated": 0, "unchanged": 0, "skipped": 0,
                   "refused": 0, "companies_created": 1, "legacy_cells": 0}),
            "dry run {dry_run}"
        );
    }
    let (contacts, _) = app.all_contacts(&token, "name", 10).await;
    let names: Vec<&str> = contacts.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Acme", "Beta", "Jan Nowak", "Ola Lis"]);
    let acme = contacts.iter().find(|c| c["name"] == "Acme").unwrap();
    let jan = contacts.iter().find(|c| c["name"] == "Jan Nowak").unwrap();
    assert_eq!(jan["company_id"], acme["id"]);
}
