//! The vocabulary scripts get: the read-only views of the event and the
//! functions that build actions.
//!
//! | name | what |
//! |---|---|
//! | `now` | the engine's clock, Unix ms (a constant) |
//! | `session.id`, `.state`, `.started_at`, `.last_message_at`, `.last_customer_message_at`, `.previous_customer_message_at`, `.last_agent_message_at`, `.customer_messages`, `.agent_messages`, `.last_author`, `.unanswered`, `.agent_name` | the session; missing values are `()` |
//! | `contact.name`, `.email`, `.phone`, `.consent`, `.known` | the customer |
//! | `channel.name`, `.language`, `.mode`, `.close_delay`, `.timeout`, `.close_on_rating`, `.time_zone` | the channel |
//! | `channel.is_open()`, `.is_open_at(t)`, `.next_open()`, `.next_open_after(t)`, `.local_time(t)`, `.local_time(t, strftime)` | working hours (W1) |
//! | `channel.text(id)`, `.text(id, #{arg: value})` | a customer text from the language catalogues (O3), in the channel's language |
//! | `message` | the triggering customer message, or `()` |
//! | `rating.score`, `rating.comment` | Q2's rating, or `rating` is `()` |
//! | `reply(text)`, `back_to_queue()`, `close()`, `close(text)`, `close_after(ms)`, `ask_rating(text)` | actions |
//! | `seconds(n)`, `minutes(n)`, `hours(n)`, `days(n)` | durations in ms |

use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, INT, ImmutableString, Scope};

use crate::action::Action;
use crate::event::{HookEvent, RatingInfo};
use frontdesk_routing::{Mode, Timestamp};

/// `session` in scripts. All views share one copy of the event.
#[derive(Clone)]
struct SessionView(Arc<HookEvent>);
/// `contact` in scripts.
#[derive(Clone)]
struct ContactView(Arc<HookEvent>);
/// `channel` in scripts.
#[derive(Clone)]
struct ChannelView(Arc<HookEvent>);

/// The names scripts may use as variables, for strict-variable compiling: a
/// typo like `sesion` is a compile error at save time, not a failure at 3 am.
pub(crate) fn template_scope() -> Scope<'static> {
    let mut scope = Scope::with_capacity(6);
    // Not a constant here: the optimizer would fold the placeholder value
    // into the AST. The run-time scope makes `now` a constant.
    for name in ["now", "session", "contact", "channel", "message", "rating"] {
        scope.push_dynamic(name, Dynamic::UNIT);
    }
    scope
}

/// The variables for one run.
pub(crate) fn event_scope(event: &HookEvent) -> Scope<'static> {
    let shared = Arc::new(event.clone());
    let mut scope = Scope::with_capacity(6);
    scope.push_constant("now", event.now.as_millis());
    scope.push("session", SessionView(shared.clone()));
    scope.push("contact", ContactView(shared.clone()));
    scope.push("channel", ChannelView(shared));
    scope.push_dynamic("message", opt_str(event.message.as_deref()));
    scope.push_dynamic(
        "rating",
        event.rating.clone().map_or(Dynamic::UNIT, Dynamic::from),
    );
    scope
}

fn opt_str(s: Option<&str>) -> Dynamic {
    s.map_or(Dynamic::UNIT, |s| Dynamic::from(ImmutableString::from(s)))
}

fn opt_time(t: Option<Timestamp>) -> Dynamic {
    t.map_or(Dynamic::UNIT, |t| Dynamic::from_int(t.as_millis()))
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Evenly => "evenly",
        Mode::Strict => "strict",
        Mode::Everybody => "everybody",
    }
}

/// Registers the views and action builders on `engine`.
pub(crate) fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<Action>("Action")
        .register_fn("to_string", |a: &mut Action| format!("{a:?}"))
        .register_fn("reply", |text: ImmutableString| Action::Reply {
            text: text.to_string(),
        })
        .register_fn("back_to_queue", || Action::BackToQueue)
        .register_fn("close", || Action::Close { message: None })
        .register_fn("close", |text: ImmutableString| Action::Close {
            message: Some(text.to_string()),
        })
        .register_fn("close_after", |delay_ms: INT| Action::CloseAfter {
            delay_ms,
        })
        .register_fn("ask_rating", |text: ImmutableString| Action::AskRating {
            text: text.to_string(),
        })
        .register_fn("seconds", |n: INT| n.saturating_mul(1_000))
        .register_fn("minutes", |n: INT| n.saturating_mul(60_000))
        .register_fn("hours", |n: INT| n.saturating_mul(3_600_000))
        .register_fn("days", |n: INT| n.saturating_mul(86_400_000));

    engine
        .register_type_with_name::<SessionView>("Session")
        .register_get("id", |s: &mut SessionView| s.0.session.id.0)
        .register_get("state", |s: &mut SessionView| s.0.session.state.to_string())
        .register_get("started_at", |s: &mut SessionView| {
            s.0.session.started_at.as_millis()
        })
        .register_get("last_message_at", |s: &mut SessionView| {
            s.0.session.last_message_at.as_millis()
        })
        .register_get("last_customer_message_at", |s: &mut SessionView| {
            opt_time(s.0.session.last_customer_message_at)
        })
        .register_get("previous_customer_message_at", |s: &mut SessionView| {
            opt_time(s.0.session.previous_customer_message_at)
        })
        .register_get("last_agent_message_at", |s: &mut SessionView| {
            opt_time(s.0.session.last_agent_message_at)
        })
        .register_get("customer_messages", |s: &mut SessionView| {
            INT::from(s.0.session.customer_messages)
        })
        .register_get("agent_messages", |s: &mut SessionView| {
            INT::from(s.0.session.agent_messages)
        })
        .register_get("last_author", |s: &mut SessionView| {
            opt_str(s.0.session.last_author.map(|a| a.name()))
        })
        .register_get("unanswered", |s: &mut SessionView| s.0.session.unanswered)
        .register_get("agent_name", |s: &mut SessionView| {
            opt_str(s.0.session.agent_name.as_deref())
        });

    engine
        .register_type_with_name::<ContactView>("Contact")
        .register_get("name", |c: &mut ContactView| {
            opt_str(c.0.contact.name.as_deref())
        })
        .register_get("email", |c: &mut ContactView| {
            opt_str(c.0.contact.email.as_deref())
        })
        .register_get("phone", |c: &mut ContactView| {
            opt_str(c.0.contact.phone.as_deref())
        })
        .register_get("consent", |c: &mut ContactView| {
            ImmutableString::from(c.0.contact.consent.name())
        })
        .register_get("known", |c: &mut ContactView| c.0.contact.known);

    engine
        .register_type_with_name::<RatingInfo>("Rating")
        .register_get("score", |r: &mut RatingInfo| INT::from(r.score))
        .register_get("comment", |r: &mut RatingInfo| {
            opt_str(r.comment.as_deref())
        });

    register_channel(engine);
}

fn register_channel(engine: &mut Engine) {
    engine
        .register_type_with_name::<ChannelView>("Channel")
        .register_get("name", |c: &mut ChannelView| {
            ImmutableString::from(c.0.channel.name.as_str())
        })
        .register_get("language", |c: &mut ChannelView| {
            ImmutableString::from(c.0.channel.language.as_str())
        })
        .register_get("mode", |c: &mut ChannelView| {
            ImmutableString::from(mode_name(c.0.channel.mode))
        })
        .register_get("close_delay", |c: &mut ChannelView| {
            c.0.channel.close_delay_ms
        })
        .register_get("timeout", |c: &mut ChannelView| {
            c.0.channel
                .timeout_ms
                .map_or(Dynamic::UNIT, Dynamic::from_int)
        })
        .register_get("close_on_rating", |c: &mut ChannelView| {
            c.0.channel.close_on_rating
        })
        .register_get("off_hours_text", |c: &mut ChannelView| {
            opt_str(c.0.channel.off_hours_text.as_deref())
        })
        .register_get("time_zone", |c: &mut ChannelView| {
            let zone = c.0.channel.working_hours.as_ref().map(|h| h.time_zone());
            ImmutableString::from(zone.unwrap_or("UTC"))
        })
        // O3: texts from the language catalogues, in the channel's language.
        .register_fn("text", |c: &mut ChannelView, id: ImmutableString| {
            frontdesk_i18n::text(&c.0.channel.language, &id, &[])
        })
        .register_fn(
            "text",
            |c: &mut ChannelView, id: ImmutableString, args: rhai::Map| {
                let args: Vec<(String, String)> = args
                    .into_iter()
                    .map(|(name, value)| (name.to_string(), value.to_string()))
                    .collect();
                let args: Vec<(&str, &str)> =
                    args.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                frontdesk_i18n::text(&c.0.channel.language, &id, &args)
            },
        )
        .register_fn("is_open", |c: &mut ChannelView| {
            c.0.channel.is_open(c.0.now)
        })
        .register_fn("is_open_at", |c: &mut ChannelView, at: INT| {
            c.0.channel.is_open(Timestamp::from_millis(at))
        })
        .register_fn("next_open", |c: &mut ChannelView| next_open(c, c.0.now))
        .register_fn("next_open_after", |c: &mut ChannelView, at: INT| {
            next_open(c, Timestamp::from_millis(at))
        })
        .register_fn("local_time", |c: &mut ChannelView, at: INT| {
            let at = Timestamp::from_millis(at);
            match &c.0.channel.working_hours {
                Some(h) => h.local_time(at),
                None => jiff::Timestamp::from_millisecond(at.as_millis())
                    .map(|t| t.strftime("%A %-d %B, %H:%M UTC").to_string())
                    .unwrap_or_default(),
            }
        })
        .register_fn(
            "local_time",
            |c: &mut ChannelView,
             at: INT,
             format: ImmutableString|
             -> Result<String, Box<EvalAltResult>> {
                let tz =
                    c.0.channel
                        .working_hours
                        .as_ref()
                        .map_or(jiff::tz::TimeZone::UTC, |h| h.tz().clone());
                let ts = jiff::Timestamp::from_millisecond(at)
                    .map_err(|e| format!("local_time: {e}"))?;
                // Formatting can fail on a bad directive; `Display` would
                // panic then, so go through the fallible API.
                jiff::fmt::strtime::format(format.as_str(), &ts.to_zoned_datetime(tz))
                    .map_err(|e| format!("local_time: bad format {format:?}: {e}").into())
            },
        );
}

/// W1 for scripts: `()` when the channel stays closed for more than a year.
fn next_open(c: &ChannelView, at: Timestamp) -> Dynamic {
    match &c.0.channel.working_hours {
        None => Dynamic::from_int(at.as_millis()),
        Some(h) => opt_time(h.next_open(at)),
    }
}
