//! Long replies cut into the parts a provider accepts, at a line break or a
//! space, counting in the provider's own units.
//!
//! Connectors call this on the text they send, after [`text_with_author`]
//! added the agent's name line (I1), so the parts with the name line still
//! fit and the name line's own break is not mistaken for a place to cut.
//!
//! [`text_with_author`]: crate::text_with_author

/// One unit per Unicode scalar value: Messenger's "characters".
pub fn chars(_: char) -> usize {
    1
}

/// UTF-16 code units: Telegram's count (an emoji outside the BMP is two).
pub fn utf16_units(c: char) -> usize {
    c.len_utf16()
}

/// Cuts `text` into parts of at most `limit` units, each char weighing
/// `units(c)`. A part ends at the last line break in its second half, else at
/// its last space or line break; the break itself is dropped, as the parts
/// arrive as separate messages. A word longer than `limit` is cut hard.
pub fn split_text(text: &str, limit: usize, units: fn(char) -> usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        let fit = fitting_prefix(rest, limit, units);
        if fit == rest.len() {
            if !rest.is_empty() {
                parts.push(rest.to_string());
            }
            return parts;
        }
        // A break right after the fitting prefix is as good as one inside it.
        let searched = if rest[fit..].starts_with([' ', '\n']) {
            &rest[..fit + 1]
        } else {
            &rest[..fit]
        };
        let newline = searched.rfind('\n').filter(|&at| at > 0 && at >= fit / 2);
        let space = searched.rfind([' ', '\n']).filter(|&at| at > 0);
        match newline.or(space) {
            Some(at) => {
                parts.push(rest[..at].to_string());
                rest = &rest[at + 1..];
            }
            None => {
                // At least one char, even one heavier than the limit.
                let cut = if fit == 0 {
                    rest.chars().next().map_or(rest.len(), char::len_utf8)
                } else {
                    fit
                };
                parts.push(rest[..cut].to_string());
                rest = &rest[cut..];
            }
        }
    }
}

/// The byte length of the longest prefix of `text` within `limit` units.
fn fitting_prefix(text: &str, limit: usize, units: fn(char) -> usize) -> usize {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        used += units(c);
        if used > limit {
            return i;
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(n: usize) -> String {
        (1..=n)
            .map(|i| format!("wort{i:05}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_name_line_does_not_stop_cuts_at_spaces() {
        // Issue 14 item 11: the name line's break was the only line break, in
        // the first half, so every part was cut hard mid-word.
        let text = format!("Ada L.:\n{}", words(1000));
        let parts = split_text(&text, 4096, utf16_units);
        assert!(parts.len() > 2, "{}", parts.len());
        for part in &parts {
            assert!(part.encode_utf16().count() <= 4096);
            assert!(!part.starts_with(' ') && !part.ends_with(' '), "{part:?}");
            let last = part.rsplit([' ', '\n']).next().unwrap();
            assert_eq!(last.len(), 9, "ends on a whole word: {last:?}");
        }
        assert_eq!(parts.join(" "), text);
    }

    #[test]
    fn a_late_line_break_wins_over_a_later_space() {
        let text = format!("{}\n{} tail", "a ".repeat(30), "b".repeat(20));
        let parts = split_text(&text, 70, chars);
        assert_eq!(parts[0], "a ".repeat(30));
        assert_eq!(parts[1], format!("{} tail", "b".repeat(20)));
    }

    #[test]
    fn counting_is_in_the_providers_units() {
        // 3000 emoji are 6000 UTF-16 units but 3000 chars.
        let emoji = "😀".repeat(3000);
        let parts = split_text(&emoji, 4096, utf16_units);
        assert_eq!(
            parts
                .iter()
                .map(|p| p.encode_utf16().count())
                .collect::<Vec<_>>(),
            [4096, 1904]
        );
        assert_eq!(split_text(&emoji, 4096, chars), [emoji]);
        // A space exactly at the limit is a clean cut.
        let exact = format!("{} {}", "x".repeat(10), "y".repeat(5));
        assert_eq!(
            split_text(&exact, 10, chars),
            ["x".repeat(10), "y".repeat(5)]
        );
    }

    #[test]
    fn words_longer_than_the_limit_are_cut_hard() {
        let text = format!("Ada:\n{}", "z".repeat(25));
        assert_eq!(
            split_text(&text, 10, chars),
            ["Ada:", "zzzzzzzzzz", "zzzzzzzzzz", "zzzzz"]
        );
        assert_eq!(split_text("", 10, chars), Vec::<String>::new());
        assert_eq!(split_text("short", 10, chars), ["short"]);
    }
}
