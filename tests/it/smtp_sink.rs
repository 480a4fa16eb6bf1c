//! The SMTP sink the mail tests deliver to (`tests/smtp/sink.py`), spoken to by hand over
//! TCP: it records what it accepts with the headers as sent, and fails on cue (a 4xx on
//! MAIL after some messages, 421 closing the connection; a connection dropped without an
//! answer; 550 for a recipient that doesn't exist).

use std::time::Duration;

use kartoteka_tests::smtp::{Received, SinkOptions, SmtpSink};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

const WAIT: Duration = Duration::from_secs(5);

/// One SMTP client connection, after the greeting and EHLO.
struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

/// A reply: its code and its lines' text joined with newlines.
type Reply = (u16, String);

impl Client {
    async fn connect(sink: &SmtpSink) -> Client {
        let stream = tokio::time::timeout(WAIT, TcpStream::connect(sink.addr()))
            .await
            .expect("connecting in time")
            .expect("connecting to the sink");
        let (read, writer) = stream.into_split();
        let mut client = Client {
            reader: BufReader::new(read),
            writer,
        };
        let greeting = client.reply().await.expect("a greeting");
        assert_eq!(greeting.0, 220, "{greeting:?}");
        let ehlo = client
            .command("EHLO client.example.com")
            .await
            .expect("an answer to EHLO");
        assert_eq!(ehlo.0, 250, "{ehlo:?}");
        client
    }

    /// The next reply; `None` when the server closed the connection instead.
    async fn reply(&mut self) -> Option<Reply> {
        let mut text = Vec::new();
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(WAIT, self.reader.read_line(&mut line))
                .await
                .expect("an answer in time");
            if read.unwrap_or(0) == 0 {
                assert!(
                    text.is_empty(),
                    "the connection closed in the middle of a reply: {text:?}"
                );
                return None;
            }
            let line = line.trim_end();
            let code = line.get(..3).and_then(|c| c.parse().ok()).expect("a reply code");
            text.push(line.get(4..).unwrap_or_default().to_owned());
            if line.as_bytes().get(3) != Some(&b'-') {
                return Some((code, text.join("\n")));
            }
        }
    }

    async fn write(&mut self, text: &str) {
        self.writer
            .write_all(text.as_bytes())
            .await
            .expect("writing to the sink");
    }

    async fn command(&mut self, line: &str) -> Option<Reply> {
        self.write(&format!("{line}\r\n")).await;
        self.reply().await
    }

    /// A whole transaction; the first reply that isn't a go-ahead (`None`: the connection
    /// closed), else the answer to the message.
    async fn send(&mut self, from: &str, to: &[&str], message: &str) -> Option<Reply> {
        let mail = self.command(&format!("MAIL FROM:<{from}>")).await?;
        if mail.0 != 250 {
            return Some(mail);
        }
        for rcpt in to {
            let answer = self.command(&format!("RCPT TO:<{rcpt}>")).await?;
            if answer.0 != 250 {
                return Some(answer);
            }
        }
        self.data(message).await
    }

    /// DATA and the message, dot-stuffed.
    async fn data(&mut self, message: &str) -> Option<Reply> {
        let go = self.command("DATA").await?;
        if go.0 != 354 {
            return Some(go);
        }
        let mut stuffed = String::new();
        for line in message.split_terminator("\r\n") {
            if line.starts_with('.') {
                stuffed.push('.');
            }
            stuffed.push_str(line);
            stuffed.push_str("\r\n");
        }
        stuffed.push_str(".\r\n");
        self.write(&stuffed).await;
        self.reply().await
    }

    async fn quit(mut self) {
        let bye = self.command("QUIT").await.expect("an answer to QUIT");
        assert_eq!(bye.0, 221, "{bye:?}");
    }

    /// Fails unless the server has closed the connection.
    async fn assert_closed(&mut self) {
        let mut rest = String::new();
        let read = tokio::time::timeout(WAIT, self.reader.read_line(&mut rest))
            .await
            .expect("the connection closed in time");
        assert!(read.unwrap_or(0) == 0, "the connection is still open: {rest:?}");
    }
}

/// Message `n`: a folded Subject, and a body line that needs dot-stuffing.
fn message(n: usize) -> String {
    format!(
        "From: Sender <sender@example.com>\r\nTo: rcpt{n}@example.com\r\nSubject: Message {n}\r\n of the test\r\n\
         Message-ID: <{n}@example.com>\r\n\r\nHello {n},\r\n.a line starting with a dot\r\n"
    )
}

fn subjects(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|m| m.header("subject").unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn records_each_accepted_message_with_its_headers() {
    let Some(sink) = SmtpSink::start(SinkOptions::default()).await else {
        return;
    };
    assert_eq!(sink.url(), format!("smtp://{}", sink.addr()));
    let mut a = Client::connect(&sink).await;
    let mut b = Client::connect(&sink).await;
    for n in 1..=3 {
        let client = if n == 2 { &mut b } else { &mut a };
        let rcpt = format!("rcpt{n}@example.com");
        let answer = client.send("sender@example.com", &[&rcpt], &message(n)).await;
        assert_eq!(answer.map(|a| a.0), Some(250), "message {n}");
    }
    a.quit().await;
    b.quit().await;

    let received = sink.wait_for(3, WAIT).await;
    assert_eq!(received.len(), 3, "{received:#?}");
    for (i, m) in received.iter().enumerate() {
        let n = i + 1;
        assert_eq!(m.mail_from, "sender@example.com");
        assert_eq!(m.rcpt_tos, [format!("rcpt{n}@example.com")]);
        assert_eq!(m.header("SUBJECT"), Some(format!("Message {n} of the test")));
        assert_eq!(m.header("message-id"), Some(format!("<{n}@example.com>")));
        assert_eq!(m.header("from").as_deref(), Some("Sender <sender@example.com>"));
        assert_eq!(m.header("cc"), None);
        assert_eq!(m.body(), format!("Hello {n},\r\n.a line starting with a dot\r\n"));
        assert_eq!(m.data, message(n));
    }
    assert!(received.windows(2).all(|w| w[0].at <= w[1].at), "{received:#?}");
    assert_eq!(sink.messages(), received);
}

#[tokio::test]
async fn a_421_after_n_messages_refuses_the_next_and_closes_the_connection() {
    let options = SinkOptions {
        fail_after: Some((1, 421, 1)),
        ..SinkOptions::default()
    };
    let Some(sink) = SmtpSink::start(options).await else {
        return;
    };
    let mut client = Client::connect(&sink).await;
    let first = client.send("s@example.com", &["r@example.com"], &message(1)).await;
    assert_eq!(first.map(|a| a.0), Some(250));
    let second = client.send("s@example.com", &["r@example.com"], &message(2)).await;
    assert_eq!(second, Some((421, "Try again later".to_owned())));
    client.assert_closed().await;

    // K = 1: the next attempt goes through.
    let mut again = Client::connect(&sink).await;
    let retried = again.send("s@example.com", &["r@example.com"], &message(2)).await;
    assert_eq!(retried.map(|a| a.0), Some(250));
    again.quit().await;
    let received = sink.wait_for(2, WAIT).await;
    assert_eq!(subjects(&received), ["Message 1 of the test", "Message 2 of the test"]);
}

#[tokio::test]
async fn another_4xx_refuses_k_messages_and_keeps_the_connection() {
    let options = SinkOptions {
        fail_after: Some((0, 451, 2)),
        ..SinkOptions::default()
    };
    let Some(sink) = SmtpSink::start(options).await else {
        return;
    };
    let mut client = Client::connect(&sink).await;
    for _ in 0..2 {
        let refused = client.send("s@example.com", &["r@example.com"], &message(1)).await;
        assert_eq!(refused.map(|a| a.0), Some(451));
    }
    let accepted = client.send("s@example.com", &["r@example.com"], &message(1)).await;
    assert_eq!(accepted.map(|a| a.0), Some(250));
    client.quit().await;
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);
}

#[tokio::test]
async fn a_dropped_connection_leaves_the_message_unanswered_and_unrecorded_once() {
    let options = SinkOptions {
        drop_after: Some(1),
        ..SinkOptions::default()
    };
    let Some(sink) = SmtpSink::start(options).await else {
        return;
    };
    let mut client = Client::connect(&sink).await;
    let first = client.send("s@example.com", &["r@example.com"], &message(1)).await;
    assert_eq!(first.map(|a| a.0), Some(250));
    let dropped = client.send("s@example.com", &["r@example.com"], &message(2)).await;
    assert_eq!(dropped, None, "no answer to the message after the first");
    assert_eq!(subjects(&sink.messages()), ["Message 1 of the test"]);

    let mut again = Client::connect(&sink).await;
    for n in [2, 3] {
        let answer = again.send("s@example.com", &["r@example.com"], &message(n)).await;
        assert_eq!(answer.map(|a| a.0), Some(250), "message {n}");
    }
    again.quit().await;
    let received = sink.wait_for(3, WAIT).await;
    assert_eq!(
        subjects(&received),
        [
            "Message 1 of the test",
            "Message 2 of the test",
            "Message 3 of the test"
        ]
    );
}

#[tokio::test]
async fn a_permanent_recipient_is_refused_with_550() {
    let options = SinkOptions {
        permanent: vec!["gone@example.com".into()],
        ..SinkOptions::default()
    };
    let Some(sink) = SmtpSink::start(options).await else {
        return;
    };
    let mut client = Client::connect(&sink).await;
    let mail = client.command("MAIL FROM:<s@example.com>").await;
    assert_eq!(mail.map(|a| a.0), Some(250));
    let gone = client.command("RCPT TO:<Gone@Example.com>").await;
    assert_eq!(gone, Some((550, "5.1.1 No such user".to_owned())));
    let kept = client.command("RCPT TO:<here@example.com>").await;
    assert_eq!(kept.map(|a| a.0), Some(250));
    let answer = client.data(&message(1)).await;
    assert_eq!(answer.map(|a| a.0), Some(250));
    // With only the refused recipient there is nothing to deliver.
    let alone = client.send("s@example.com", &["gone@example.com"], &message(2)).await;
    assert_eq!(alone.map(|a| a.0), Some(550));
    assert_eq!(client.command("RSET").await.map(|a| a.0), Some(250));
    client.quit().await;

    let received = sink.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1, "{received:#?}");
    assert_eq!(received[0].rcpt_tos, ["here@example.com"]);
}

fn received(data: &str) -> Received {
    Received {
        mail_from: "a@example.com".into(),
        rcpt_tos: vec!["b@example.com".into()],
        data: data.into(),
        at: 0.0,
    }
}

#[test]
fn headers_are_found_in_any_case_unfolded_and_only_in_the_header_block() {
    let m = received("From: a@example.com\r\nSubject: a long\r\n\tsubject\r\nX-Empty:\r\n\r\nTo: not a header\r\n");
    assert_eq!(m.header("subject").as_deref(), Some("a long\tsubject"));
    assert_eq!(m.header("FROM").as_deref(), Some("a@example.com"));
    assert_eq!(m.header("x-empty").as_deref(), Some(""));
    assert_eq!(m.header("to"), None);
    assert_eq!(m.body(), "To: not a header\r\n");
}

#[test]
fn the_body_is_what_follows_the_blank_line() {
    assert_eq!(received("Subject: x\r\n").body(), "");
    assert_eq!(received("Subject: x\r\n").header("subject").as_deref(), Some("x"));
    assert_eq!(received("\r\nbody").body(), "body");
    assert_eq!(received("A: 1\n\nbody\n").body(), "body\n");
    assert_eq!(received("A: 1\r\n\r\n\r\nbody\r\n").body(), "\r\nbody\r\n");
}
