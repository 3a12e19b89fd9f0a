//! Working hours for the settings console (W1): the time zones an admin can
//! pick, and whether a channel is open now by the same code the engine's
//! auto-actions use, so the console and the engine never disagree.

use axum::Json;
use axum::extract::State;
use frontdesk_routing::Timestamp;
use frontdesk_rules::WorkingHours;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiPath, AppState, Caller, ErrorBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(time_zones))
        .routes(routes!(hours_preview))
}

/// Every IANA time zone name the server knows, sorted: the bundled tz
/// database working hours are checked against.
#[utoipa::path(get, path = "/time-zones", tag = "channels",
    responses((status = 200, body = Vec<String>), (status = 401, body = ErrorBody)))]
async fn time_zones(_caller: Caller) -> Json<Vec<String>> {
    Json(zone_names())
}

fn zone_names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_string())
        .collect();
    names.sort();
    names
}

/// Whether a channel is open now, by its saved working hours (W1).
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct HoursPreview {
    /// No working hours are set: the channel is always open.
    pub always_open: bool,
    pub open: bool,
    /// The channel's time zone (`UTC` when it has no working hours).
    pub time_zone: String,
    /// Now on the channel's wall clock, e.g. `Monday 30 March, 09:00`.
    pub now_local: String,
    /// When it opens next, in milliseconds, while it is closed; null when
    /// open, or closed for more than a year.
    pub next_open: Option<i64>,
    /// `next_open` on the channel's wall clock.
    pub next_open_local: Option<String>,
}

/// The preview for `config` (a channel's config JSON) at `now`.
fn preview(config: &serde_json::Value, now: Timestamp) -> Result<HoursPreview, ApiError> {
    let Some(value) = config.get("working_hours") else {
        let now_local = jiff::Timestamp::from_millisecond(now.as_millis())
            .map(|t| t.strftime("%A %-d %B, %H:%M").to_string())
            .unwrap_or_default();
        return Ok(HoursPreview {
            always_open: true,
            open: true,
            time_zone: "UTC".into(),
            now_local,
            next_open: None,
            next_open_local: None,
        });
    };
    let hours = serde_json::from_value::<WorkingHours>(value.clone())
        .map_err(|e| ApiError::invalid(format!("config.working_hours: {e}")))?;
    let open = hours.is_open(now);
    let next = if open { None } else { hours.next_open(now) };
    Ok(HoursPreview {
        always_open: false,
        open,
        time_zone: hours.time_zone().to_string(),
        now_local: hours.local_time(now),
        next_open: next.map(Timestamp::as_millis),
        next_open_local: next.map(|t| hours.local_time(t)),
    })
}

/// Whether the channel is open now and, if not, when it opens, computed by
/// the engine's own working-hours code from the saved settings.
#[utoipa::path(get, path = "/channels/{id}/hours/preview", tag = "channels", params(("id" = i64, Path)),
    responses((status = 200, body = HoursPreview), (status = 404, body = ErrorBody)))]
async fn hours_preview(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<HoursPreview>, ApiError> {
    let channel = state
        .store
        .visible_channel(caller.viewer(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("channel", id))?;
    Ok(Json(preview(
        channel.config.value(),
        Timestamp::from_millis(state.clock.now()),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn w1_the_zone_list_holds_the_iana_names() {
        let names = zone_names();
        assert!(names.iter().any(|n| n == "Europe/Berlin"), "{names:?}");
        assert!(names.len() > 300);
    }

    #[test]
    fn w1_preview_says_open_or_when_it_opens() {
        let config = json!({"working_hours": {"time_zone": "Europe/Berlin",
            "days": {"mon": ["09:00-12:00", "13:00-17:00"]}, "holidays": ["2026-01-12"]}});
        // Monday 5 January 2026, 12:30 in Berlin (11:30 UTC): the lunch gap.
        let lunch = Timestamp::from_millis(1_767_612_600_000);
        let p = preview(&config, lunch).unwrap();
        assert!(!p.open && !p.always_open);
        assert_eq!(p.now_local, "Monday 5 January, 12:30");
        assert_eq!(
            p.next_open_local.as_deref(),
            Some("Monday 5 January, 13:00")
        );
        // An hour later it is open.
        let p = preview(&config, Timestamp::from_millis(1_767_616_200_000)).unwrap();
        assert!(p.open && p.next_open.is_none());
        // Evening: the next Monday is a holiday, so the one after.
        let evening = Timestamp::from_millis(1_767_632_400_000);
        let p = preview(&config, evening).unwrap();
        assert_eq!(
            p.next_open_local.as_deref(),
            Some("Monday 19 January, 09:00")
        );
        // No hours: always open.
        assert!(preview(&json!({}), lunch).unwrap().always_open);
    }
}
