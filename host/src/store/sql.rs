//! SQL fragments the shared store code splices into its statements, each
//! built once into a `LazyLock<String>`: who may see a channel, a contact's
//! possible match. They hold no values: everything user-supplied is bound as
//! a parameter; no value is ever spliced into SQL text, only parameter names
//! like `$3`.

/// Which channels a non-admin viewer belongs to (P2); `viewer` is the
/// parameter holding the viewer's id, `"$3"` say.
pub(super) fn visible_channels(viewer: &str) -> String {
    format!(
        "(SELECT channel_id FROM queue_agents WHERE user_id = {viewer} \
         UNION SELECT channel_id FROM channel_supervisors WHERE user_id = {viewer})"
    )
}

/// C1: an unverified contact's `possible_match_id`, the oldest verified
/// contact with its email or phone among those the viewer may see, where
/// parameter `all` says whether they see everything and `user` is their id
/// (P2: a match the caller may not see stays unnamed).
pub(super) fn possible_match(all: &str, user: &str) -> String {
    let visible = visible_channels(user);
    format!(
        "CASE WHEN c.unverified THEN (SELECT MIN(o.id) FROM contacts o WHERE o.id <> c.id \
         AND NOT o.unverified AND ((c.email IS NOT NULL AND o.email = c.email) \
         OR (c.phone IS NOT NULL AND o.phone = c.phone)) \
         AND ({all} OR o.responsible_user_id = {user} \
         OR EXISTS (SELECT 1 FROM contact_identities oi WHERE oi.contact_id = o.id \
         AND oi.channel_id IN {visible}))) END AS possible_match_id"
    )
}

/// Turns a search term into a LIKE pattern that matches it as a plain substring.
pub(super) fn like_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
