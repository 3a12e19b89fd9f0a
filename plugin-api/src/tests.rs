//! The SDK's defaults, run natively.

use crate::{ChannelContext, Connector, ConnectorError, InboundOutcome, InboundRequest};

/// A connector whose author forgot `verify`.
struct Forgetful;

impl Connector for Forgetful {
    fn parse(
        _ctx: &ChannelContext,
        _req: InboundRequest,
    ) -> Result<InboundOutcome, ConnectorError> {
        unreachable!("never reached without verify")
    }
}

#[test]
fn p3_a_connector_that_does_not_verify_refuses_every_request() {
    let ctx = ChannelContext {
        channel_id: "1".into(),
        config_json: "{}".into(),
        secrets: vec![("token".into(), "s3cret".into())],
    };
    let req = InboundRequest {
        method: "POST".into(),
        path: String::new(),
        query: String::new(),
        headers: vec![("x-token".into(), "s3cret".into())],
        body: b"{}".to_vec(),
    };
    match Forgetful::verify(&ctx, &req) {
        Err(ConnectorError::Unauthorized(why)) => assert!(why.contains("verify"), "{why}"),
        other => panic!("the default verify let a request through: {other:?}"),
    }
}

#[test]
fn secrets_match_only_on_equal_strings() {
    assert!(crate::secrets_match("s3cret", "s3cret"));
    assert!(!crate::secrets_match("s3cret", "s3creT"));
    assert!(!crate::secrets_match("s3cret", "s3cre"));
    assert!(!crate::secrets_match("s3cret", ""));
}
