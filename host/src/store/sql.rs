//! SQL fragments the shared store code splices into its statements at
//! compile time (`concat!`): who may see a channel, a contact's possible
//! match. They hold no values: everything user-supplied is bound as a
//! parameter; no value is ever spliced into SQL text.

/// Which channels a non-admin viewer belongs to; `$V` is the viewer's id.
macro_rules! visible_channels {
    ($v:literal) => {
        concat!(
            "(SELECT channel_id FROM queue_agents WHERE user_id = ",
            $v,
            " UNION SELECT channel_id FROM channel_supervisors WHERE user_id = ",
            $v,
            ")"
        )
    };
}
pub(super) use visible_channels;

/// C1: an unverified contact's `possible_match_id`, the oldest verified
/// contact with its email or phone among those viewer `$all`/`$user` may
/// see (P2: a match the caller may not see stays unnamed).
macro_rules! possible_match {
    ($all:literal, $user:literal) => {
        concat!(
            "CASE WHEN c.unverified THEN (SELECT MIN(o.id) FROM contacts o WHERE o.id <> c.id \
             AND NOT o.unverified AND ((c.email IS NOT NULL AND o.email = c.email) \
             OR (c.phone IS NOT NULL AND o.phone = c.phone)) AND (",
            $all,
            " OR o.responsible_user_id = ",
            $user,
            " OR EXISTS (SELECT 1 FROM contact_identities oi WHERE oi.contact_id = o.id AND oi.channel_id IN ",
            visible_channels!($user),
            "))) END AS possible_match_id"
        )
    };
}
pub(super) use possible_match;

/// Turns a search term into a LIKE pattern that matches it as a plain substring.
pub(super) fn like_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
