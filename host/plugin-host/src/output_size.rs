//! Approximate sizes of call results, to cap what one call may hand the host.
//!
//! Counts the bytes of strings and lists, which dominate; fixed-size fields
//! are ignored. The guest's memory limit already bounds the copy itself; this
//! keeps a single call from pushing megabytes into the store and the outbox.

use crate::types::{
    Attachment, BotAction, ConnectorError, FetchedFile, HttpResponse, InboundMessage,
    InboundOutcome, SendReceipt, Sender,
};

/// Something a call returns.
pub(crate) trait OutputSize {
    fn output_size(&self) -> usize;
}

impl<T: OutputSize, E: OutputSize> OutputSize for Result<T, E> {
    fn output_size(&self) -> usize {
        match self {
            Ok(value) => value.output_size(),
            Err(error) => error.output_size(),
        }
    }
}

impl OutputSize for String {
    fn output_size(&self) -> usize {
        self.len()
    }
}

impl<T: OutputSize> OutputSize for Option<T> {
    fn output_size(&self) -> usize {
        self.as_ref().map_or(0, OutputSize::output_size)
    }
}

impl<T: OutputSize> OutputSize for Vec<T> {
    fn output_size(&self) -> usize {
        self.iter().map(OutputSize::output_size).sum()
    }
}

impl OutputSize for (String, String) {
    fn output_size(&self) -> usize {
        self.0.len() + self.1.len()
    }
}

impl OutputSize for ConnectorError {
    fn output_size(&self) -> usize {
        match self {
            ConnectorError::Unauthorized(s)
            | ConnectorError::Malformed(s)
            | ConnectorError::Transient(s)
            | ConnectorError::Permanent(s)
            | ConnectorError::Unprocessable(s) => s.len(),
            ConnectorError::RateLimited(limit) => limit.message.len(),
        }
    }
}

impl OutputSize for SendReceipt {
    fn output_size(&self) -> usize {
        self.external_message_id.output_size() + self.push.as_ref().map_or(0, Vec::len)
    }
}

impl OutputSize for () {
    fn output_size(&self) -> usize {
        0
    }
}

impl OutputSize for FetchedFile {
    fn output_size(&self) -> usize {
        self.mime_type.output_size() + self.body.len()
    }
}

impl OutputSize for InboundOutcome {
    fn output_size(&self) -> usize {
        self.messages.output_size() + self.reply.output_size()
    }
}

impl OutputSize for HttpResponse {
    fn output_size(&self) -> usize {
        self.headers.output_size() + self.body.len()
    }
}

impl OutputSize for Sender {
    fn output_size(&self) -> usize {
        self.external_id.len()
            + self.name.output_size()
            + self.handle.output_size()
            + self.email.output_size()
            + self.phone.output_size()
    }
}

impl OutputSize for Attachment {
    fn output_size(&self) -> usize {
        self.url.output_size()
            + self.provider_file_id.output_size()
            + self.file_name.output_size()
            + self.mime_type.output_size()
            + self.data.as_ref().map_or(0, Vec::len)
    }
}

impl OutputSize for InboundMessage {
    fn output_size(&self) -> usize {
        self.external_chat_id.len()
            + self.external_message_id.len()
            + self.sender.output_size()
            + self.text.output_size()
            + self.attachments.output_size()
            + self.in_reply_to.output_size()
            + self.edit_of.output_size()
    }
}

impl OutputSize for BotAction {
    fn output_size(&self) -> usize {
        match self {
            BotAction::Reply(reply) => reply.text.len() + reply.quick_replies.output_size(),
            BotAction::Ask(question) => {
                question.field.len() + question.text.len() + question.options.output_size()
            }
            BotAction::SetData(pair) => pair.output_size(),
            BotAction::HandOver(note) | BotAction::Close(note) => note.output_size(),
            BotAction::Transfer(target) => target.queue.output_size() + target.agent.output_size(),
            BotAction::SetTimer(timer) => timer.name.len(),
        }
    }
}
