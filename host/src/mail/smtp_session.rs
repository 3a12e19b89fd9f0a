//! The SMTP server protocol (RFC 5321) for one connection, with no IO.
//!
//! The driver feeds it one received line at a time with
//! [`SmtpSession::handle_line`] and writes out what it returns. Two steps
//! need the outside world, so they come back as requests instead of replies:
//! a recipient to look up ([`Step::CheckRecipient`], answered with
//! [`SmtpSession::recipient_checked`]) and a finished message to store
//! ([`Step::Deliver`], answered with [`SmtpSession::delivered`]). So the
//! `250` after `DATA` is whatever the driver says once the message is
//! committed (RFC 5321 §6.1), never before.
//!
//! Commands: EHLO/HELO, MAIL (with `SIZE=`), RCPT, DATA (dot-stuffing,
//! §4.5.2), RSET, NOOP, VRFY, HELP, QUIT. No AUTH or STARTTLS: the listener
//! is for a relay or MX in front of it.

/// Most recipients one message may have (RFC 5321 §4.5.3.1.8 asks for at least 100).
pub const MAX_RECIPIENTS: usize = 100;

/// One SMTP reply, possibly over several lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply.
    pub fn new(code: u16, text: impl Into<String>) -> Reply {
        Reply {
            code,
            lines: vec![text.into()],
        }
    }

    /// The reply as sent on the wire: `250-...` continuation lines, `250 ...` last.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            out.extend_from_slice(format!("{}{sep}{line}\r\n", self.code).as_bytes());
        }
        out
    }
}

/// A message ready to store: the envelope and the raw RFC 5322 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The reverse-path without angle brackets; empty for the null sender (bounces).
    pub mail_from: String,
    /// The accepted recipients, in order.
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

/// What the driver does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this reply and read on.
    Reply(Reply),
    /// Send this reply and close the connection.
    Close(Reply),
    /// Nothing to send (a line of message text); read on.
    Continue,
    /// Look this recipient up, then call [`SmtpSession::recipient_checked`].
    CheckRecipient(String),
    /// Store this message, then call [`SmtpSession::delivered`].
    Deliver(Envelope),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Before HELO/EHLO.
    Greeted,
    /// Ready for MAIL.
    Ready,
    /// Inside a transaction: MAIL given, maybe some RCPTs.
    Mail,
    /// Reading the message text after `354`.
    Data,
    /// A delivery or recipient check is outstanding.
    Waiting,
}

/// One SMTP connection's state.
#[derive(Debug)]
pub struct SmtpSession {
    hostname: String,
    max_size: usize,
    phase: Phase,
    mail_from: String,
    rcpt_to: Vec<String>,
    data: Vec<u8>,
    /// The message grew past `max_size`; the rest is read and dropped.
    oversized: bool,
    pending_rcpt: Option<String>,
}

/// The address inside `<...>` after a `FROM:`/`TO:` prefix, and the rest (parameters).
fn path_and_params(arg: &str, prefix: &str) -> Option<(String, String)> {
    let arg = arg.trim_start();
    if arg.len() < prefix.len() || !arg[..prefix.len()].eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg[prefix.len()..].trim_start();
    let (path, params) = match rest.strip_prefix('<') {
        Some(inner) => {
            let end = inner.find('>')?;
            (&inner[..end], &inner[end + 1..])
        }
        // Lenient: some clients omit the brackets.
        None => rest.split_once(' ').unwrap_or((rest, "")),
    };
    // A source route (`@a,@b:user@c`) is to be ignored (RFC 5321 §4.1.2).
    let path = path.rsplit_once(':').map_or(path, |(_, addr)| addr);
    Some((path.trim().to_string(), params.trim().to_string()))
}

impl SmtpSession {
    /// A new connection; send [`SmtpSession::greeting`] first.
    pub fn new(hostname: impl Into<String>, max_size: usize) -> SmtpSession {
        SmtpSession {
            hostname: hostname.into(),
            max_size,
            phase: Phase::Greeted,
            mail_from: String::new(),
            rcpt_to: Vec::new(),
            data: Vec::new(),
            oversized: false,
            pending_rcpt: None,
        }
    }

    /// The `220` banner.
    pub fn greeting(&self) -> Reply {
        Reply::new(220, format!("{} ESMTP frontdesk ready", self.hostname))
    }

    /// Whether the session is reading message text (the driver may allow longer lines).
    pub fn in_data(&self) -> bool {
        self.phase == Phase::Data
    }

    fn reset(&mut self) {
        self.mail_from.clear();
        self.rcpt_to.clear();
        self.data.clear();
        self.oversized = false;
        self.pending_rcpt = None;
        if self.phase != Phase::Greeted {
            self.phase = Phase::Ready;
        }
    }

    /// One line as received, with or without its CRLF.
    pub fn handle_line(&mut self, line: &[u8]) -> Step {
        match self.phase {
            Phase::Data => self.data_line(line),
            Phase::Waiting => Step::Reply(Reply::new(
                503,
                "5.5.1 wait for the previous reply before sending more",
            )),
            _ => self.command(line),
        }
    }

    fn data_line(&mut self, line: &[u8]) -> Step {
        let content = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(line);
        if content == b"." {
            if self.oversized {
                self.reset();
                return Step::Reply(Reply::new(
                    552,
                    format!(
                        "5.3.4 message too big: this server takes at most {} bytes",
                        self.max_size
                    ),
                ));
            }
            self.phase = Phase::Waiting;
            return Step::Deliver(Envelope {
                mail_from: self.mail_from.clone(),
                rcpt_to: self.rcpt_to.clone(),
                data: std::mem::take(&mut self.data),
            });
        }
        // Dot-stuffing: a leading dot was doubled by the client.
        let content = content.strip_prefix(b".").unwrap_or(content);
        if self.data.len() + content.len() + 2 > self.max_size {
            self.oversized = true;
            self.data = Vec::new();
        }
        if !self.oversized {
            self.data.extend_from_slice(content);
            self.data.extend_from_slice(b"\r\n");
        }
        Step::Continue
    }

    fn command(&mut self, line: &[u8]) -> Step {
        let Ok(text) = std::str::from_utf8(line) else {
            return Step::Reply(Reply::new(500, "5.5.2 commands must be ASCII"));
        };
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" if arg.trim().is_empty() => Step::Reply(Reply::new(
                501,
                "5.5.4 say who you are: EHLO your.host.name",
            )),
            "EHLO" => {
                self.phase = Phase::Ready;
                self.reset();
                Step::Reply(Reply {
                    code: 250,
                    lines: vec![
                        format!("{} greets {}", self.hostname, arg.trim()),
                        format!("SIZE {}", self.max_size),
                        "8BITMIME".into(),
                        "PIPELINING".into(),
                    ],
                })
            }
            "HELO" => {
                self.phase = Phase::Ready;
                self.reset();
                Step::Reply(Reply::new(250, self.hostname.clone()))
            }
            "MAIL" => self.mail(arg),
            "RCPT" => self.rcpt(arg),
            "DATA" => match self.phase {
                Phase::Mail if !self.rcpt_to.is_empty() => {
                    self.phase = Phase::Data;
                    Step::Reply(Reply::new(354, "end the message with <CRLF>.<CRLF>"))
                }
                _ => Step::Reply(Reply::new(
                    503,
                    "5.5.1 DATA needs MAIL and at least one RCPT first",
                )),
            },
            "RSET" => {
                self.reset();
                Step::Reply(Reply::new(250, "2.0.0 reset"))
            }
            "NOOP" => Step::Reply(Reply::new(250, "2.0.0 OK")),
            "VRFY" => Step::Reply(Reply::new(
                252,
                "2.5.0 cannot verify; send the mail and see",
            )),
            "HELP" => Step::Reply(Reply::new(
                214,
                "2.0.0 commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY QUIT",
            )),
            "QUIT" => Step::Close(Reply::new(221, "2.0.0 bye")),
            "STARTTLS" | "AUTH" | "BDAT" | "ETRN" | "EXPN" | "TURN" => {
                Step::Reply(Reply::new(502, format!("5.5.1 {verb} is not offered here")))
            }
            _ => Step::Reply(Reply::new(500, format!("5.5.2 unknown command {verb:?}"))),
        }
    }

    fn mail(&mut self, arg: &str) -> Step {
        match self.phase {
            Phase::Greeted => {
                return Step::Reply(Reply::new(503, "5.5.1 say EHLO first"));
            }
            Phase::Mail => {
                return Step::Reply(Reply::new(503, "5.5.1 a transaction is open; RSET first"));
            }
            _ => {}
        }
        let Some((path, params)) = path_and_params(arg, "FROM:") else {
            return Step::Reply(Reply::new(501, "5.5.4 syntax: MAIL FROM:<address>"));
        };
        for param in params.split_whitespace() {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            if key.eq_ignore_ascii_case("SIZE") {
                match value.parse::<u64>() {
                    Ok(size) if size > self.max_size as u64 => {
                        return Step::Reply(Reply::new(
                            552,
                            format!(
                                "5.3.4 message too big: this server takes at most {} bytes",
                                self.max_size
                            ),
                        ));
                    }
                    Ok(_) => {}
                    Err(_) => {
                        return Step::Reply(Reply::new(501, "5.5.4 SIZE must be a number"));
                    }
                }
            }
        }
        self.reset();
        self.mail_from = path;
        self.phase = Phase::Mail;
        Step::Reply(Reply::new(250, "2.1.0 sender OK"))
    }

    fn rcpt(&mut self, arg: &str) -> Step {
        if self.phase != Phase::Mail {
            return Step::Reply(Reply::new(503, "5.5.1 RCPT needs MAIL first"));
        }
        let Some((path, _)) = path_and_params(arg, "TO:") else {
            return Step::Reply(Reply::new(501, "5.5.4 syntax: RCPT TO:<address>"));
        };
        if !path.contains('@') {
            return Step::Reply(Reply::new(501, format!("5.1.3 {path:?} is not an address")));
        }
        if self.rcpt_to.len() >= MAX_RECIPIENTS {
            return Step::Reply(Reply::new(
                452,
                "4.5.3 too many recipients; send the rest in another message",
            ));
        }
        self.phase = Phase::Waiting;
        self.pending_rcpt = Some(path.clone());
        Step::CheckRecipient(path)
    }

    /// The driver's answer to [`Step::CheckRecipient`]: `Ok` accepts the
    /// recipient; `Err` is the refusal to send (e.g. 550 unknown address).
    pub fn recipient_checked(&mut self, result: Result<(), Reply>) -> Reply {
        self.phase = Phase::Mail;
        let Some(rcpt) = self.pending_rcpt.take() else {
            return Reply::new(503, "5.5.1 no recipient was being checked");
        };
        match result {
            Ok(()) => {
                if !self.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(&rcpt)) {
                    self.rcpt_to.push(rcpt);
                }
                Reply::new(250, "2.1.5 recipient OK")
            }
            Err(reply) => reply,
        }
    }

    /// The driver's answer to [`Step::Deliver`]: the reply to the message
    /// (250 once committed, 451 or 554 otherwise). The transaction ends either way.
    pub fn delivered(&mut self, reply: Reply) -> Reply {
        self.phase = Phase::Ready;
        self.reset();
        reply
    }
}

#[cfg(test)]
#[path = "smtp_session_tests.rs"]
mod tests;
