//! The live-chat widget's connector (issue 7).
//!
//! Unlike other connectors, the customer is connected to the host itself: the
//! widget talks to `/chat/{channel}/ws`, the host checks the visitor's token
//! and hands each client frame to `handle-inbound` with the visitor's id in
//! trusted headers (the host strips `x-frontdesk-visitor*` from outside requests, so
//! a plain webhook call cannot pose as a visitor). `send` renders a reply as
//! the widget's JSON frame and returns it as `push`; the host delivers it to
//! the visitor's open sockets.
//!
//! - `frame.rs`: client frame → inbound message, outbound message → frame (pure).
//! - this file: the glue to the host, built only for Wasm.

pub mod frame;

#[cfg(target_arch = "wasm32")]
mod glue {
    use frontdesk_plugin_api::{
        ChannelContext, Connector, ConnectorError, InboundOutcome, InboundRequest, OutboundMessage,
        SendReceipt, export_connector,
    };

    struct Webchat;

    impl Connector for Webchat {
        fn verify(_ctx: &ChannelContext, req: &InboundRequest) -> Result<(), ConnectorError> {
            crate::frame::visitor(req).map(|_| ())
        }

        fn parse(
            _ctx: &ChannelContext,
            req: InboundRequest,
        ) -> Result<InboundOutcome, ConnectorError> {
            crate::frame::parse(&req).map(|m| InboundOutcome::messages(vec![m]))
        }

        fn send(
            _ctx: &ChannelContext,
            msg: OutboundMessage,
        ) -> Result<SendReceipt, ConnectorError> {
            Ok(SendReceipt {
                external_message_id: None,
                push: Some(crate::frame::render(&msg)),
            })
        }
    }

    export_connector!(Webchat);
}
