//! The echo example connector: the smallest real connector, and the one the
//! host's tests and benchmark run.
//!
//! Inbound: `POST /hooks/{channel}` with `x-echo-token` and a JSON body
//! `{"messages":[{"chat":"c1","id":"m1","from":{"id":"u1"},"text":"hi"}]}`.
//! Outbound: `POST {api_base_url}/send` with `{"chat","text","dedup"}`.

mod echo_connector;
mod payload;

use frontdesk_plugin_api::{
    ChannelContext, Connector, ConnectorError, InboundOutcome, InboundRequest, OutboundMessage,
    SendReceipt, export_connector, http,
};

struct Echo;

impl Connector for Echo {
    fn verify(ctx: &ChannelContext, req: &InboundRequest) -> Result<(), ConnectorError> {
        echo_connector::verify(ctx, req)
    }

    fn parse(ctx: &ChannelContext, req: InboundRequest) -> Result<InboundOutcome, ConnectorError> {
        echo_connector::parse(ctx, req, "")
    }

    fn render(
        ctx: &ChannelContext,
        msg: &OutboundMessage,
    ) -> Result<http::Request, ConnectorError> {
        echo_connector::render(ctx, msg)
    }

    fn receipt(
        ctx: &ChannelContext,
        response: &http::Response,
    ) -> Result<SendReceipt, ConnectorError> {
        echo_connector::receipt(ctx, response)
    }
}

export_connector!(Echo);
