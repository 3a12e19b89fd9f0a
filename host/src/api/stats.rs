//! Statistics (O6): per channel and per agent over a time range, as JSON and CSV.
//!
//! Access (P1): admins see every channel; supervisors (and agents) only the
//! channels they belong to; agents only their own row, without the totals.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiQuery, AppState, Caller, ErrorBody};
use crate::store::{Millis, Role, StatsQuery, StatsRow};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stats_json))
        .routes(routes!(stats_csv))
}

/// Which statistics: a channel and a range of session creation times.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// The channel id.
    pub channel: i64,
    /// Start of the range (inclusive), RFC 3339, e.g. `2026-11-01T00:00:00Z`.
    pub from: String,
    /// End of the range (exclusive), RFC 3339; after `from`.
    pub to: String,
    /// Only this agent's row. Agents may only name themselves.
    pub agent: Option<i64>,
}

/// One row as the API shows it: the figures and the agent's name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgentStats {
    /// `None` for the sessions no agent held.
    pub agent_name: Option<String>,
    #[serde(flatten)]
    pub stats: StatsRow,
}

/// Statistics of one channel over `[from, to)`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatsReport {
    pub channel_id: i64,
    pub channel_name: String,
    /// Unix milliseconds, as parsed from the query.
    pub from: Millis,
    pub to: Millis,
    /// Every session of the channel; `null` for agents, who see their own row only.
    pub totals: Option<StatsRow>,
    /// One row per agent (by id; sessions no agent held last), or just the
    /// requested agent's.
    pub agents: Vec<AgentStats>,
}

/// A time in RFC 3339, or a 400 naming the field.
fn parse_time(field: &str, value: &str) -> Result<Millis, ApiError> {
    value
        .trim()
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| {
            ApiError::invalid(format!(
                "{field}: {value:?} is not an RFC 3339 time; use e.g. 2026-11-01T00:00:00Z"
            ))
        })
}

async fn report(
    state: &AppState,
    caller: &Caller,
    params: &StatsParams,
) -> Result<StatsReport, ApiError> {
    let from = parse_time("from", &params.from)?;
    let to = parse_time("to", &params.to)?;
    if from >= to {
        return Err(ApiError::invalid(format!(
            "from must be before to (from {:?}, to {:?})",
            params.from, params.to
        )));
    }
    let agent_role = caller.0.role == Role::Agent;
    let agent = match (agent_role, params.agent) {
        (true, Some(id)) if id != caller.0.id => {
            return Err(ApiError::Forbidden(
                "agents see only their own statistics; leave out agent or give your own id".into(),
            ));
        }
        (true, _) => Some(caller.0.id),
        (false, agent) => agent,
    };
    let channel = state
        .store
        .visible_channel(caller.viewer(), params.channel)
        .await?
        .ok_or_else(|| ApiError::not_found("channel", params.channel))?;
    let query = StatsQuery {
        channel_id: channel.id,
        from,
        to,
        agent_id: agent,
    };
    let stats = state.store.channel_stats(&query).await?;
    let names: HashMap<i64, String> = state
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let agents = stats
        .agents
        .into_iter()
        .map(|row| AgentStats {
            agent_name: row.agent_id.and_then(|id| names.get(&id).cloned()),
            stats: row,
        })
        .collect();
    Ok(StatsReport {
        channel_id: channel.id,
        channel_name: channel.name,
        from,
        to,
        totals: (!agent_role).then_some(stats.totals),
        agents,
    })
}

/// Sessions, first-response and resolution times (median, p90), unanswered
/// count and ratings of a channel, in total and per agent (O6).
#[utoipa::path(get, path = "/stats", tag = "statistics", params(StatsParams),
    responses((status = 200, body = StatsReport), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn stats_json(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<StatsParams>,
) -> Result<Json<StatsReport>, ApiError> {
    Ok(Json(report(&state, &caller, &params).await?))
}

/// The same figures as `/stats`, as CSV with a header row: the channel
/// totals first (scope `channel`), then one row per agent (scope `agent`).
#[utoipa::path(get, path = "/stats.csv", tag = "statistics", params(StatsParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn stats_csv(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<StatsParams>,
) -> Result<Response, ApiError> {
    let report = report(&state, &caller, &params).await?;
    let body = to_csv(&report).map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
    let file = format!(
        "attachment; filename=\"stats-channel-{}.csv\"",
        report.channel_id
    );
    let headers = [
        (
            CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        ),
        (
            CONTENT_DISPOSITION,
            HeaderValue::from_str(&file).unwrap_or(HeaderValue::from_static("attachment")),
        ),
        (CACHE_CONTROL, HeaderValue::from_static("private, no-cache")),
    ];
    Ok((headers, body).into_response())
}

/// One CSV line; the columns are documented in `docs/statistics.md`.
#[derive(Serialize)]
struct CsvRow<'a> {
    scope: &'static str,
    channel_id: i64,
    from: &'a str,
    to: &'a str,
    agent_id: Option<i64>,
    agent_name: Option<&'a str>,
    sessions: i64,
    unanswered: i64,
    first_response_count: i64,
    first_response_median_ms: Option<f64>,
    first_response_p90_ms: Option<i64>,
    resolution_count: i64,
    resolution_median_ms: Option<f64>,
    resolution_p90_ms: Option<i64>,
    customer_ratings: i64,
    customer_rating_average: Option<f64>,
    supervisor_ratings: i64,
    supervisor_rating_average: Option<f64>,
}

fn rfc3339(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}

fn csv_row<'a>(
    scope: &'static str,
    report: &StatsReport,
    (from, to): (&'a str, &'a str),
    s: &'a StatsRow,
    agent_name: Option<&'a str>,
) -> CsvRow<'a> {
    CsvRow {
        scope,
        channel_id: report.channel_id,
        from,
        to,
        agent_id: s.agent_id,
        agent_name,
        sessions: s.sessions,
        unanswered: s.unanswered,
        first_response_count: s.first_response.count,
        first_response_median_ms: s.first_response.median_ms,
        first_response_p90_ms: s.first_response.p90_ms,
        resolution_count: s.resolution.count,
        resolution_median_ms: s.resolution.median_ms,
        resolution_p90_ms: s.resolution.p90_ms,
        customer_ratings: s.customer_rating.count,
        customer_rating_average: s.customer_rating.average,
        supervisor_ratings: s.supervisor_rating.count,
        supervisor_rating_average: s.supervisor_rating.average,
    }
}

fn to_csv(report: &StatsReport) -> Result<String, csv::Error> {
    let (from, to) = (rfc3339(report.from), rfc3339(report.to));
    let range = (from.as_str(), to.as_str());
    let mut out = csv::Writer::from_writer(Vec::new());
    if let Some(totals) = &report.totals {
        out.serialize(csv_row("channel", report, range, totals, None))?;
    }
    for a in &report.agents {
        out.serialize(csv_row(
            "agent",
            report,
            range,
            &a.stats,
            a.agent_name.as_deref(),
        ))?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
