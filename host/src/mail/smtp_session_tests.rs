//! The SMTP state machine, line by line, with no sockets.

use super::*;

fn reply(step: Step) -> Reply {
    match step {
        Step::Reply(r) | Step::Close(r) => r,
        other => panic!("expected a reply, got {other:?}"),
    }
}

fn code(step: Step) -> u16 {
    reply(step).code
}

/// A session past EHLO and MAIL with one accepted recipient.
fn in_transaction(max: usize) -> SmtpSession {
    let mut s = SmtpSession::new("mx.test", max);
    assert_eq!(code(s.handle_line(b"EHLO client.test\r\n")), 250);
    assert_eq!(code(s.handle_line(b"MAIL FROM:<bob@example.org>\r\n")), 250);
    assert_eq!(
        s.handle_line(b"RCPT TO:<Help@Shop.test>\r\n"),
        Step::CheckRecipient("Help@Shop.test".into())
    );
    assert_eq!(s.recipient_checked(Ok(())).code, 250);
    s
}

#[test]
fn a_whole_transaction_with_dot_stuffing() {
    let mut s = in_transaction(1000);
    assert_eq!(code(s.handle_line(b"DATA\r\n")), 354);
    assert!(s.in_data());
    assert_eq!(s.handle_line(b"Subject: hi\r\n"), Step::Continue);
    assert_eq!(s.handle_line(b"\r\n"), Step::Continue);
    assert_eq!(s.handle_line(b"..leading dot\r\n"), Step::Continue);
    assert_eq!(s.handle_line(b"bare lf line\n"), Step::Continue);
    let Step::Deliver(envelope) = s.handle_line(b".\r\n") else {
        panic!("expected a delivery")
    };
    assert_eq!(envelope.mail_from, "bob@example.org");
    assert_eq!(envelope.rcpt_to, vec!["Help@Shop.test".to_string()]);
    assert_eq!(
        envelope.data,
        b"Subject: hi\r\n\r\n.leading dot\r\nbare lf line\r\n".to_vec()
    );
    // Nothing else is accepted until the driver says how the delivery went.
    assert_eq!(code(s.handle_line(b"NOOP\r\n")), 503);
    assert_eq!(s.delivered(Reply::new(250, "stored")).code, 250);
    // A new transaction may follow on the same connection.
    assert_eq!(code(s.handle_line(b"MAIL FROM:<>\r\n")), 250);
}

#[test]
fn the_null_sender_is_kept_empty() {
    let mut s = SmtpSession::new("mx.test", 1000);
    s.handle_line(b"HELO x\r\n");
    assert_eq!(code(s.handle_line(b"MAIL FROM:<>\r\n")), 250);
    s.handle_line(b"RCPT TO:<a@b.c>\r\n");
    s.recipient_checked(Ok(()));
    s.handle_line(b"DATA\r\n");
    let Step::Deliver(envelope) = s.handle_line(b".\r\n") else {
        panic!()
    };
    assert_eq!(envelope.mail_from, "");
}

#[test]
fn order_is_enforced() {
    let mut s = SmtpSession::new("mx.test", 1000);
    assert_eq!(code(s.handle_line(b"MAIL FROM:<a@b.c>\r\n")), 503);
    assert_eq!(code(s.handle_line(b"EHLO\r\n")), 501);
    s.handle_line(b"EHLO c\r\n");
    assert_eq!(code(s.handle_line(b"RCPT TO:<a@b.c>\r\n")), 503);
    assert_eq!(code(s.handle_line(b"DATA\r\n")), 503);
    s.handle_line(b"MAIL FROM:<a@b.c>\r\n");
    assert_eq!(code(s.handle_line(b"MAIL FROM:<a@b.c>\r\n")), 503);
    assert_eq!(code(s.handle_line(b"DATA\r\n")), 503);
    assert_eq!(code(s.handle_line(b"RCPT TO:<nobody>\r\n")), 501);
    assert_eq!(code(s.handle_line(b"RSET\r\n")), 250);
    assert_eq!(code(s.handle_line(b"RCPT TO:<a@b.c>\r\n")), 503);
    assert_eq!(code(s.handle_line(b"FOO\r\n")), 500);
    assert_eq!(code(s.handle_line(b"STARTTLS\r\n")), 502);
    assert_eq!(code(s.handle_line(b"NOOP\r\n")), 250);
    assert!(matches!(s.handle_line(b"QUIT\r\n"), Step::Close(r) if r.code == 221));
}

#[test]
fn an_unknown_recipient_is_refused_and_not_kept() {
    let mut s = in_transaction(1000);
    assert!(matches!(
        s.handle_line(b"RCPT TO:<other@shop.test>\r\n"),
        Step::CheckRecipient(_)
    ));
    let refused = s.recipient_checked(Err(Reply::new(550, "no such channel")));
    assert_eq!(refused.code, 550);
    s.handle_line(b"DATA\r\n");
    let Step::Deliver(envelope) = s.handle_line(b".\r\n") else {
        panic!()
    };
    assert_eq!(envelope.rcpt_to, vec!["Help@Shop.test".to_string()]);
}

#[test]
fn size_limits_are_announced_and_enforced() {
    let mut s = SmtpSession::new("mx.test", 20);
    let ehlo = reply(s.handle_line(b"EHLO c\r\n"));
    assert!(ehlo.lines.contains(&"SIZE 20".to_string()));
    assert_eq!(
        String::from_utf8(ehlo.to_wire()).unwrap(),
        "250-mx.test greets c\r\n250-SIZE 20\r\n250-8BITMIME\r\n250 PIPELINING\r\n"
    );
    assert_eq!(code(s.handle_line(b"MAIL FROM:<a@b.c> SIZE=21\r\n")), 552);
    assert_eq!(code(s.handle_line(b"MAIL FROM:<a@b.c> SIZE=x\r\n")), 501);
    let mut s = in_transaction(20);
    s.handle_line(b"DATA\r\n");
    for _ in 0..5 {
        assert_eq!(s.handle_line(b"0123456789\r\n"), Step::Continue);
    }
    assert_eq!(code(s.handle_line(b".\r\n")), 552);
    // The transaction is over; the connection goes on.
    assert_eq!(code(s.handle_line(b"MAIL FROM:<a@b.c>\r\n")), 250);
}

#[test]
fn recipients_are_capped_and_deduplicated() {
    let mut s = in_transaction(1000);
    s.handle_line(b"RCPT TO:<help@shop.test>\r\n");
    s.recipient_checked(Ok(()));
    for i in 1..MAX_RECIPIENTS {
        let line = format!("RCPT TO:<r{i}@shop.test>\r\n");
        assert!(matches!(
            s.handle_line(line.as_bytes()),
            Step::CheckRecipient(_)
        ));
        s.recipient_checked(Ok(()));
    }
    assert_eq!(
        code(s.handle_line(b"RCPT TO:<one-more@shop.test>\r\n")),
        452
    );
}
