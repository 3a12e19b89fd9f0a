//! Contacts (C1): who is writing, matched across channels by their channel
//! identity, email address or phone number.

pub mod normalize;
