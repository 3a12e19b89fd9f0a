//! Customer-facing texts (O3): one [Fluent](https://projectfluent.org)
//! catalogue per language, embedded in the binary, chosen per channel.
//!
//! A channel's `language` picks the catalogue; a language without one, or a
//! message missing from it, falls back to English, so a customer always gets
//! a sentence and never a message id. Adding a language is adding
//! `locales/LANG.ftl` and a line in [`CATALOGUES`].

use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// The embedded catalogues: (language code, Fluent source).
pub const CATALOGUES: &[(&str, &str)] = &[
    ("en", include_str!("../locales/en.ftl")),
    ("de", include_str!("../locales/de.ftl")),
];

/// The language used when a channel's has no catalogue or message.
pub const FALLBACK: &str = "en";

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static HashMap<&'static str, Bundle> {
    static BUNDLES: OnceLock<HashMap<&'static str, Bundle>> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        CATALOGUES
            .iter()
            .map(|(code, source)| (*code, bundle(code, source)))
            .collect()
    })
}

/// Parses one embedded catalogue. The catalogues ship inside the binary and
/// a test parses them all, so an error here is a build defect, not input.
fn bundle(code: &str, source: &str) -> Bundle {
    let lang: LanguageIdentifier = code
        .parse()
        .expect("catalogue codes are valid language ids");
    let resource = FluentResource::try_new(source.to_string())
        .unwrap_or_else(|(_, errors)| panic!("locales/{code}.ftl does not parse: {errors:?}"));
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    // Texts go to chat apps and mail as plain text: Unicode isolation marks
    // around arguments would show up as stray characters there.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("locales/{code}.ftl repeats a message: {errors:?}"));
    bundle
}

/// The languages with a catalogue.
pub fn languages() -> impl Iterator<Item = &'static str> {
    CATALOGUES.iter().map(|(code, _)| *code)
}

/// Whether `language` has its own catalogue.
pub fn has_language(language: &str) -> bool {
    bundles().contains_key(language)
}

/// The message `id` in `language` (English if that has none) with `args`
/// filled in. An id no catalogue knows comes back as itself, so a typo in a
/// script shows up in the chat instead of failing the customer's reply.
pub fn text(language: &str, id: &str, args: &[(&str, &str)]) -> String {
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, FluentValue::from(*value));
    }
    [language, FALLBACK]
        .into_iter()
        .filter_map(|code| bundles().get(code))
        .find_map(|bundle| {
            let pattern = bundle.get_message(id)?.value()?;
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
            Some(text.into_owned())
        })
        .unwrap_or_else(|| id.to_string())
}

/// Whether any catalogue has the message `id`.
pub fn knows(id: &str) -> bool {
    bundles().values().any(|b| b.has_message(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(source: &str) -> Vec<String> {
        let resource = FluentResource::try_new(source.to_string()).unwrap();
        resource
            .entries()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn o3_every_language_has_every_message() {
        let english = ids(CATALOGUES[0].1);
        assert!(english.len() > 10);
        for (code, source) in CATALOGUES {
            let mut theirs = ids(source);
            let mut ours = english.clone();
            theirs.sort();
            ours.sort();
            assert_eq!(theirs, ours, "locales/{code}.ftl and locales/en.ftl differ");
        }
    }

    #[test]
    fn o3_texts_come_in_the_channels_language_with_arguments_filled() {
        assert_eq!(
            text("de", "transcript-subject", &[("channel", "Shop")]),
            "Ihr Gespräch mit Shop"
        );
        assert_eq!(
            text("en", "transcript-subject", &[("channel", "Shop")]),
            "Your conversation with Shop"
        );
    }

    #[test]
    fn o3_an_unknown_language_falls_back_to_english_and_an_unknown_id_shows_itself() {
        assert_eq!(
            text("fr", "rating-thanks", &[]),
            "Thank you for your rating!"
        );
        assert!(!has_language("fr"));
        assert_eq!(text("de", "no-such-message", &[]), "no-such-message");
        assert!(knows("rating-thanks") && !knows("no-such-message"));
    }
}
