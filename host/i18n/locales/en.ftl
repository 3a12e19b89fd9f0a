# Customer-facing texts in English (O3). Every message here must exist in
# every other catalogue: `every_language_has_every_message` checks it.

## Routing notices (R11)
nobody-available = All our agents are busy right now. Your message is saved and we will answer as soon as someone is free.

## Consent (G1)
consent-how-to-answer = Please reply YES to accept or NO to decline.

## Default auto-action scripts (A1–A3, W2, Q1, Q2)
first-message = Hello{ $name }! Thanks for writing to { $channel }. An agent will be with you shortly.
no-answer = Sorry for the wait: all our agents are busy right now. We'll answer as soon as we can.
closed = Thanks for contacting { $channel }. This conversation is now closed; just write again if you need anything else.
off-hours-until = Thanks for your message! We're closed right now and will be back { $opens }. We'll answer you then.
off-hours = Thanks for your message! We're closed right now and will answer as soon as we're back.
# How `off-hours-until` writes the opening time (strftime).
off-hours-time-format = %A %-d %B, %H:%M
ask-rating-agent = How did { $agent } do? Please rate this conversation from 1 (poor) to 5 (excellent).
ask-rating-team = How did our team do? Please rate this conversation from 1 (poor) to 5 (excellent).
rating-thanks = Thank you for your rating!
rating-sorry = Thank you for your rating. We're sorry we let you down; a supervisor will look at this conversation.

## Transcript by email (O3)
transcript-subject = Your conversation with { $channel }
transcript-intro = Hello, here is the transcript of your conversation with { $channel }, as you asked.
transcript-outro = Just reply to { $channel } if you need anything else.
# How the customer reads the transcript: their own lines, the team's.
transcript-customer = You
transcript-team = { $channel }
# The transcript's header and markers (see host/src/transcript.rs).
transcript-title = Transcript of conversation
transcript-channel = With
transcript-customer-label = Customer
transcript-started = Started
transcript-closed = Closed
transcript-still-open = still open
transcript-times-in = Times are in
transcript-attachment = attachment
