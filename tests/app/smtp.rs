//! A small SMTP server on loopback that accepts every message and keeps it, so tests see the
//! real SMTP conversation lettre has with a mail server. It can be stopped and started again on
//! the same port to play a mail server that is down.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Mail {
    /// The message decoded enough to search in: quoted-printable soft breaks and `=3D` undone.
    pub fn text(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }

    /// The subject line, unfolded (a long one comes over several header lines).
    pub fn subject(&self) -> String {
        let mut lines = self.data.lines().skip_while(|l| !l.starts_with("Subject: "));
        let Some(first) = lines.next() else { return String::new() };
        let mut out = first.trim_start_matches("Subject: ").trim().to_string();
        for more in lines.take_while(|l| l.starts_with(' ') || l.starts_with('\t')) {
            out.push(' ');
            out.push_str(more.trim());
        }
        out
    }

    /// The first link in the message that contains `needle`.
    pub fn link_containing(&self, needle: &str) -> Option<String> {
        self.text()
            .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
            .find(|w| w.starts_with("http://") && w.contains(needle))
            .map(String::from)
    }
}

/// How the sink answers: like a good server, or like the faulty ones operators meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Accept,
    /// Accepts the connection and never says a word.
    Silent,
    /// Takes this long before accepting each message's data.
    Slow(Duration),
    /// Refuses every message for good (550 after the data).
    Reject,
    /// Refuses every message for now (451 after the data); the data is still kept in `tries`.
    Defer,
}

pub struct SmtpSink {
    pub port: u16,
    pub mails: Arc<Mutex<Vec<Mail>>>,
    /// Every message the sink was handed, accepted or not.
    pub tries: Arc<Mutex<Vec<Mail>>>,
    pub behaviour: Arc<Mutex<Behaviour>>,
    task: Option<JoinHandle<()>>,
    /// Open conversations: a stopped server also drops the connections a client keeps pooled.
    conversations: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl SmtpSink {
    /// A port nobody listens on yet: the mail server is "down" until `start`.
    pub async fn down() -> SmtpSink {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        SmtpSink {
            port,
            mails: Arc::new(Mutex::new(vec![])),
            tries: Arc::new(Mutex::new(vec![])),
            behaviour: Arc::new(Mutex::new(Behaviour::Accept)),
            task: None,
            conversations: Arc::new(Mutex::new(vec![])),
        }
    }

    /// A running sink that answers as `behaviour` says.
    pub async fn behaving(behaviour: Behaviour) -> SmtpSink {
        let mut s = SmtpSink::down().await;
        s.set(behaviour);
        s.start().await;
        s
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    pub fn tries(&self) -> Vec<Mail> {
        self.tries.lock().unwrap().clone()
    }

    pub async fn running() -> SmtpSink {
        let mut s = SmtpSink::down().await;
        s.start().await;
        s
    }

    pub async fn start(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.expect("bind sink");
        let (mails, tries, behaviour) = (self.mails.clone(), self.tries.clone(), self.behaviour.clone());
        let conversations = self.conversations.clone();
        self.task = Some(tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { return };
                let (mails, tries, behaviour) = (mails.clone(), tries.clone(), behaviour.clone());
                let talk = tokio::spawn(async move {
                    let _ = converse(socket, mails, tries, behaviour).await;
                });
                conversations.lock().unwrap().push(talk);
            }
        }));
    }

    pub fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        for c in self.conversations.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn all(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits (up to 15 s) until a mail to `to` arrived whose text contains `needle`.
    pub async fn wait_for(&self, to: &str, needle: &str) -> Mail {
        for _ in 0..300 {
            if let Some(m) =
                self.all().into_iter().find(|m| m.to.iter().any(|t| t.contains(to)) && m.text().contains(needle))
            {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no mail to {to} containing {needle:?}; got {:#?}",
            self.all().iter().map(|m| (&m.to, m.subject())).collect::<Vec<_>>()
        );
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn converse(
    socket: tokio::net::TcpStream,
    mails: Arc<Mutex<Vec<Mail>>>,
    tries: Arc<Mutex<Vec<Mail>>>,
    behaviour: Arc<Mutex<Behaviour>>,
) -> std::io::Result<()> {
    let behaves = || *behaviour.lock().unwrap();
    if behaves() == Behaviour::Silent {
        // Hold the connection open, say nothing, until the client gives up.
        let mut socket = socket;
        let mut buf = [0u8; 1024];
        use tokio::io::AsyncReadExt;
        while socket.read(&mut buf).await? > 0 {}
        return Ok(());
    }
    let (r, mut w) = socket.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 sink.test ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), vec![]);
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            w.write_all(b"250-sink.test\r\n250 8BITMIME\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = cmd[10..].trim().to_string();
            to.clear();
            w.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(cmd[8..].trim().to_string());
            w.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            w.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
            }
            let mail = Mail { from: from.clone(), to: to.clone(), data };
            tries.lock().unwrap().push(mail.clone());
            match behaves() {
                Behaviour::Reject => w.write_all(b"550 5.7.1 refused for good\r\n").await?,
                Behaviour::Defer => w.write_all(b"451 4.3.0 try again later\r\n").await?,
                b => {
                    if let Behaviour::Slow(d) = b {
                        tokio::time::sleep(d).await;
                    }
                    mails.lock().unwrap().push(mail);
                    w.write_all(b"250 queued\r\n").await?;
                }
            }
        } else if upper == "QUIT" {
            w.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            // RSET, NOOP and anything else
            w.write_all(b"250 OK\r\n").await?;
        }
    }
}
