//! Strips the quoted history mail clients append to a reply, so the agent
//! sees what the customer wrote this time, not the whole thread again.
//!
//! Recognised: `>`-quoted lines, attribution lines ("On ... wrote:", also
//! wrapped over two lines, and the German and French forms), Outlook's
//! "-----Original Message-----" and its `From:`/`Sent:` header block after a
//! rule, and the `-- ` signature delimiter (RFC 3676 §4.3). Everything from
//! the first history marker on is dropped; `>` lines elsewhere (interleaved
//! replies) are dropped one by one, so the customer's answers between them stay.

/// Whether `line` is an attribution line, alone or joined with the next one.
fn attribution(line: &str, next: Option<&str>) -> bool {
    let line = line.trim();
    let joined = match next {
        Some(next) => format!("{line} {}", next.trim()),
        None => line.to_string(),
    };
    // "On DATE, NAME <ADDR> wrote:", "Am DATE schrieb NAME <ADDR>:",
    // "Le DATE, NAME <ADDR> a écrit :".
    let ends = |text: &str| {
        text.ends_with("wrote:")
            || (text.ends_with(':') && (text.contains(" schrieb ") || text.contains(" a écrit")))
    };
    let starts = line.starts_with("On ") || line.starts_with("Am ") || line.starts_with("Le ");
    starts && (ends(line) || (next.is_some() && ends(&joined)))
}

/// Whether the lines from `index` on start an Outlook-style header block:
/// `From:` followed within a few lines by `Sent:` or `Date:`.
fn header_block(lines: &[&str], index: usize) -> bool {
    let first = lines[index].trim_start();
    if !(first.starts_with("From:") || first.starts_with("Von:")) {
        return false;
    }
    lines[index + 1..].iter().take(4).any(|l| {
        ["Sent:", "Date:", "Gesendet:", "Datum:"]
            .iter()
            .any(|p| l.trim_start().starts_with(p))
    })
}

/// Where the quoted history starts, as a line index.
fn history_start(lines: &[&str]) -> Option<usize> {
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        // Some clients trim the delimiter's trailing space.
        if line.trim_end() == "--" {
            return Some(i);
        }
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with("-----original message-----")
            || lower.starts_with("----- original message -----")
            || lower.starts_with("-------- original message --------")
            || lower.starts_with("---------- forwarded message")
            || lower.starts_with("-----ursprüngliche nachricht-----")
        {
            return Some(i);
        }
        if attribution(line, lines.get(i + 1).copied()) {
            return Some(i);
        }
        // Outlook puts a rule of underscores, then a header block.
        if trimmed.len() >= 20 && trimmed.chars().all(|c| c == '_') {
            let next = (i + 1..lines.len()).find(|&j| !lines[j].trim().is_empty());
            if next.is_some_and(|j| header_block(lines, j)) {
                return Some(i);
            }
        }
        if header_block(lines, i) && i > 0 && lines[i - 1].trim().is_empty() {
            return Some(i);
        }
    }
    None
}

/// The new part of a reply. Returns the text unchanged (trimmed) when
/// stripping would leave nothing, so a message that is only a quote is
/// still shown rather than stored empty.
pub fn strip_history(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n");
    let lines: Vec<&str> = normalized.split('\n').collect();
    let end = history_start(&lines).unwrap_or(lines.len());
    let kept: Vec<&str> = lines[..end]
        .iter()
        .copied()
        .filter(|line| !line.trim_start().starts_with('>'))
        .collect();
    let stripped = kept.join("\n").trim().to_string();
    if stripped.is_empty() {
        normalized.trim().to_string()
    } else {
        stripped
    }
}

#[cfg(test)]
mod tests {
    use super::strip_history;

    #[test]
    fn gmail_attribution_and_quotes_are_dropped() {
        let text = "Thanks, that worked!\n\nOn Mon, 30 Nov 2026 at 10:02, Shop Support <help@shop.test> wrote:\n> Try turning it off and on.\n>\n> > Hello, it is broken.\n";
        assert_eq!(strip_history(text), "Thanks, that worked!");
    }

    #[test]
    fn a_wrapped_attribution_is_found() {
        let text = "Yes please.\r\n\r\nOn Mon, 30 Nov 2026 at 10:02, Shop Support\r\n<help@shop.test> wrote:\r\n> Shall we send a new one?\r\n";
        assert_eq!(strip_history(text), "Yes please.");
    }

    #[test]
    fn outlook_original_message_and_header_blocks_are_dropped() {
        let text = "See attached.\n\n-----Original Message-----\nFrom: Shop <help@shop.test>\nSent: Monday\nSubject: Re: order\n\nold text\n";
        assert_eq!(strip_history(text), "See attached.");
        let text = "New answer\n\n________________________________\nFrom: Shop <help@shop.test>\nSent: Monday, 30 November 2026 10:02\nTo: Bob\nSubject: Re: order\n\nold\n";
        assert_eq!(strip_history(text), "New answer");
        let text = "Kurze Antwort\n\nVon: Shop <help@shop.test>\nGesendet: Montag\nBetreff: order\n\nalt\n";
        assert_eq!(strip_history(text), "Kurze Antwort");
    }

    #[test]
    fn german_attribution_and_signature() {
        let text = "Danke!\n\nAm 30.11.2026 um 10:02 schrieb Shop <help@shop.test>:\n> alt\n";
        assert_eq!(strip_history(text), "Danke!");
        let text =
            "Merci\n\nLe lun. 30 nov. 2026 à 10:02, Shop <help@shop.test> a écrit :\n> vieux\n";
        assert_eq!(strip_history(text), "Merci");
        let text = "Danke!\n-- \nBob Example\nExample GmbH\n\nAm 30.11.2026 um 10:02 schrieb Shop <help@shop.test>:\n> alt\n";
        assert_eq!(strip_history(text), "Danke!");
    }

    #[test]
    fn interleaved_answers_are_kept() {
        let text = "> What is your order number?\n12345\n> Which colour?\nRed\n";
        assert_eq!(strip_history(text), "12345\nRed");
    }

    #[test]
    fn a_message_that_is_only_a_quote_is_kept_whole() {
        let text = "> just the old text\n";
        assert_eq!(strip_history(text), "> just the old text");
    }

    #[test]
    fn plain_text_is_untouched() {
        let text = "Hello,\n\nmy parcel did not arrive. On Monday I wrote to you already.\n\nBob";
        assert_eq!(strip_history(text), text);
    }
}
