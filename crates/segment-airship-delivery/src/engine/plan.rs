//! Coalescing: the requests of many messages merged into fewer Airship requests with the same
//! final state.
//!
//! Each request a message maps to becomes a [`Unit`] that remembers the message. A flush sends
//! three [`Phase`]s in order (tags, attributes, custom events), so a user's tags and attributes
//! reach Airship before that user's custom events. Within a phase:
//! - tag changes of one user merge in message order (the last `add` or `remove` of a tag wins),
//!   and users with identical changes share a request of up to 1000 named users;
//! - attribute operations of one user merge into one request, the later operation on a key
//!   replacing the earlier one;
//! - custom events keep their order, at most 100 per request.
//!
//! Every [`Planned`] request keeps its units, so a failure is charged to exactly the messages it
//! carries, and a rejected request can be planned again from a subset of its units.

use std::collections::{BTreeMap, HashMap};

use airship_client::AirshipRequest;
use airship_mapping::Endpoint;
use serde_json::{json, Map, Value};

/// Custom events per request; Airship accepts arrays of 1 to 100.
pub(crate) const MAX_EVENTS_PER_REQUEST: usize = 100;
/// Named users per tags request; Airship accepts 1 to 1000.
pub(crate) const MAX_USERS_PER_TAG_REQUEST: usize = 1_000;
/// Tags per group array; Airship accepts 0 to 100.
pub(crate) const MAX_TAGS_PER_ARRAY: usize = 100;

/// The three groups of requests of one flush, sent in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Phase {
    Tags,
    Attributes,
    Events,
}

/// One request of one message, in a form that can be merged with others.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unit {
    /// Index of the message in its flush.
    pub(crate) message: usize,
    pub(crate) part: Part,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    /// Tag changes for one named user, in the order the request listed them.
    Tags {
        user: String,
        changes: Vec<TagChange>,
    },
    /// Attribute operations for the named user of `path`, in order.
    Attributes {
        path: String,
        operations: Vec<Value>,
    },
    /// One custom event.
    Event(Value),
    /// A request whose shape the merging does not know; sent alone and unchanged.
    Other(AirshipRequest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TagChange {
    pub(crate) group: String,
    pub(crate) tag: String,
    /// `true` adds the tag, `false` removes it.
    pub(crate) add: bool,
}

/// A request ready to send, with the units it carries.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Planned {
    pub(crate) request: AirshipRequest,
    pub(crate) units: Vec<Unit>,
}

impl Unit {
    /// Reads a mapped request into a unit of the message at index `message`.
    pub(crate) fn from_request(message: usize, request: AirshipRequest) -> Unit {
        let part = match request.endpoint() {
            Some(Endpoint::NamedUserTags) => tag_part(&request.body).ok_or(request),
            Some(Endpoint::NamedUserAttributes) => attribute_part(request),
            Some(Endpoint::CustomEvents) => event_part(request),
            None => Err(request),
        };
        Unit {
            message,
            part: part.unwrap_or_else(Part::Other),
        }
    }

    /// Returns the phase the unit is sent in.
    pub(crate) fn phase(&self) -> Phase {
        match &self.part {
            Part::Tags { .. } => Phase::Tags,
            Part::Attributes { .. } => Phase::Attributes,
            Part::Event(_) => Phase::Events,
            Part::Other(request) => match request.endpoint() {
                Some(Endpoint::NamedUserTags) => Phase::Tags,
                Some(Endpoint::NamedUserAttributes) => Phase::Attributes,
                Some(Endpoint::CustomEvents) | None => Phase::Events,
            },
        }
    }
}

/// Reads `{"audience":{"named_user_id":[id]},"add":{group:[tags]},"remove":{group:[tags]}}`
/// with one id.
fn tag_part(body: &Value) -> Option<Part> {
    let object = body.as_object()?;
    if object
        .keys()
        .any(|key| !matches!(key.as_str(), "audience" | "add" | "remove"))
    {
        return None;
    }
    let audience = object.get("audience")?.as_object()?;
    if audience.len() != 1 {
        return None;
    }
    let [Value::String(user)] = audience.get("named_user_id")?.as_array()?.as_slice() else {
        return None;
    };

    let mut changes = Vec::new();
    for (action, add) in [("add", true), ("remove", false)] {
        let Some(groups) = object.get(action) else {
            continue;
        };
        for (group, tags) in groups.as_object()? {
            for tag in tags.as_array()? {
                changes.push(TagChange {
                    group: group.clone(),
                    tag: tag.as_str()?.to_owned(),
                    add,
                });
            }
        }
    }
    Some(Part::Tags {
        user: user.clone(),
        changes,
    })
}

/// Reads `{"attributes":[...]}` where every operation has a string `key`, or returns the request
/// unchanged.
fn attribute_part(request: AirshipRequest) -> Result<Part, AirshipRequest> {
    let known = request.body.as_object().is_some_and(|object| {
        object.len() == 1
            && object
                .get("attributes")
                .and_then(Value::as_array)
                .is_some_and(|operations| {
                    operations
                        .iter()
                        .all(|operation| operation.get("key").is_some_and(Value::is_string))
                })
    });
    if !known {
        return Err(request);
    }
    let AirshipRequest { path, body, .. } = request;
    let operations = match body {
        Value::Object(mut object) => match object.remove("attributes") {
            Some(Value::Array(operations)) => operations,
            _ => unreachable!("checked above"),
        },
        _ => unreachable!("checked above"),
    };
    Ok(Part::Attributes { path, operations })
}

/// Reads a custom-events array with exactly one event, or returns the request unchanged.
fn event_part(request: AirshipRequest) -> Result<Part, AirshipRequest> {
    if request
        .body
        .as_array()
        .is_none_or(|events| events.len() != 1)
    {
        return Err(request);
    }
    match request.body {
        Value::Array(mut events) => Ok(Part::Event(events.remove(0))),
        _ => unreachable!("checked above"),
    }
}

/// Splits `units` by phase, keeping their order within each phase.
pub(crate) fn by_phase(units: Vec<Unit>) -> BTreeMap<Phase, Vec<Unit>> {
    let mut phases: BTreeMap<Phase, Vec<Unit>> = BTreeMap::new();
    for unit in units {
        phases.entry(unit.phase()).or_default().push(unit);
    }
    phases
}

/// Merges the units of one phase into requests. The requests of the tags and attributes phases
/// are independent of each other; those of the events phase must be sent in order.
pub(crate) fn plan(units: Vec<Unit>) -> Vec<Planned> {
    let mut tags = Vec::new();
    let mut attributes = Vec::new();
    let mut events = Vec::new();
    let mut planned = Vec::new();
    for unit in units {
        match &unit.part {
            Part::Tags { .. } => tags.push(unit),
            Part::Attributes { .. } => attributes.push(unit),
            Part::Event(_) => events.push(unit),
            Part::Other(request) => planned.push(Planned {
                request: request.clone(),
                units: vec![unit],
            }),
        }
    }
    planned.extend(plan_tags(tags));
    planned.extend(plan_attributes(attributes));
    planned.extend(plan_events(events));
    planned
}

/// The final tag changes of one user: group → tag → added (`true`) or removed (`false`), in the
/// order each group and tag first appeared.
type TagState = Map<String, Value>;

fn plan_tags(units: Vec<Unit>) -> Vec<Planned> {
    // Fold each user's changes in message order; the last action on a tag is its final state.
    let mut users: Vec<(String, TagState, Vec<Unit>)> = Vec::new();
    let mut user_index: HashMap<String, usize> = HashMap::new();
    for unit in units {
        let Part::Tags { user, changes } = &unit.part else {
            unreachable!("plan() passes tag units only");
        };
        let index = *user_index.entry(user.clone()).or_insert_with(|| {
            users.push((user.clone(), TagState::new(), Vec::new()));
            users.len() - 1
        });
        let state = &mut users[index].1;
        for change in changes {
            state
                .entry(change.group.clone())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("inserted as an object")
                .insert(change.tag.clone(), Value::Bool(change.add));
        }
        users[index].2.push(unit);
    }

    // Users whose final changes are identical share requests.
    let mut shared: Vec<(TagState, Vec<String>, Vec<Vec<Unit>>)> = Vec::new();
    let mut shared_index: HashMap<String, usize> = HashMap::new();
    for (user, state, units) in users {
        let index = *shared_index
            .entry(canonical_key(&state))
            .or_insert_with(|| {
                shared.push((state, Vec::new(), Vec::new()));
                shared.len() - 1
            });
        shared[index].1.push(user);
        shared[index].2.push(units);
    }

    let mut planned = Vec::new();
    for (state, users, units) in shared {
        let bodies = tag_bodies(&state);
        let mut units = units.into_iter();
        for chunk in users.chunks(MAX_USERS_PER_TAG_REQUEST) {
            let chunk_units: Vec<Unit> = units.by_ref().take(chunk.len()).flatten().collect();
            for body in &bodies {
                let mut body = body.clone();
                body.insert("audience".into(), json!({ "named_user_id": chunk }));
                planned.push(Planned {
                    request: AirshipRequest::named_user_tags(reorder_audience(body)),
                    units: chunk_units.clone(),
                });
            }
        }
    }
    planned
}

/// Returns a key equal for two states with the same changes, whatever their order.
fn canonical_key(state: &TagState) -> String {
    let mut changes: Vec<(&str, &str, bool)> = state
        .iter()
        .flat_map(|(group, tags)| {
            tags.as_object()
                .into_iter()
                .flatten()
                .map(move |(tag, add)| (group.as_str(), tag.as_str(), add.as_bool() == Some(true)))
        })
        .collect();
    changes.sort_unstable();
    serde_json::to_string(&changes).expect("strings and booleans serialise")
}

/// Builds the `add`/`remove` maps of one tag state, split so no group array has more than 100
/// tags.
fn tag_bodies(state: &TagState) -> Vec<Map<String, Value>> {
    let mut bodies: Vec<Map<String, Value>> = Vec::new();
    for (action, add) in [("add", true), ("remove", false)] {
        for (group, tags) in state {
            let selected: Vec<&String> = tags
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, added)| added.as_bool() == Some(add))
                .map(|(tag, _)| tag)
                .collect();
            for (index, chunk) in selected.chunks(MAX_TAGS_PER_ARRAY).enumerate() {
                if bodies.len() == index {
                    bodies.push(Map::new());
                }
                let groups = bodies[index]
                    .entry(action)
                    .or_insert_with(|| Value::Object(Map::new()));
                groups
                    .as_object_mut()
                    .expect("inserted as an object")
                    .insert(group.clone(), json!(chunk));
            }
        }
    }
    bodies
}

/// Puts `audience` first, as Airship's examples do, so logs read naturally.
fn reorder_audience(mut body: Map<String, Value>) -> Value {
    let mut ordered = Map::new();
    if let Some(audience) = body.remove("audience") {
        ordered.insert("audience".into(), audience);
    }
    ordered.extend(body);
    Value::Object(ordered)
}

/// The attribute operations of one named user, one per key, with the units they came from.
struct UserAttributes {
    path: String,
    operations: Vec<Value>,
    /// Index in `operations` of each key's operation.
    positions: HashMap<String, usize>,
    units: Vec<Unit>,
}

fn plan_attributes(units: Vec<Unit>) -> Vec<Planned> {
    let mut users: Vec<UserAttributes> = Vec::new();
    let mut user_index: HashMap<String, usize> = HashMap::new();
    for unit in units {
        let Part::Attributes { path, operations } = &unit.part else {
            unreachable!("plan() passes attribute units only");
        };
        let index = *user_index.entry(path.clone()).or_insert_with(|| {
            users.push(UserAttributes {
                path: path.clone(),
                operations: Vec::new(),
                positions: HashMap::new(),
                units: Vec::new(),
            });
            users.len() - 1
        });
        let user = &mut users[index];
        for operation in operations {
            let key = operation["key"].as_str().unwrap_or_default().to_owned();
            match user.positions.get(&key) {
                Some(&position) => user.operations[position] = operation.clone(),
                None => {
                    user.positions.insert(key, user.operations.len());
                    user.operations.push(operation.clone());
                }
            }
        }
        user.units.push(unit);
    }

    users
        .into_iter()
        .map(|user| Planned {
            request: AirshipRequest {
                method: "POST".into(),
                path: user.path,
                body: json!({ "attributes": user.operations }),
            },
            units: user.units,
        })
        .collect()
}

fn plan_events(units: Vec<Unit>) -> Vec<Planned> {
    let mut planned = Vec::new();
    let mut units = units.into_iter().peekable();
    while units.peek().is_some() {
        let chunk: Vec<Unit> = units.by_ref().take(MAX_EVENTS_PER_REQUEST).collect();
        let events = chunk
            .iter()
            .map(|unit| match &unit.part {
                Part::Event(event) => event.clone(),
                Part::Tags { .. } | Part::Attributes { .. } | Part::Other(_) => {
                    unreachable!("plan() passes event units only")
                }
            })
            .collect();
        planned.push(Planned {
            request: AirshipRequest::custom_events(events),
            units: chunk,
        });
    }
    planned
}

/// Splits the units of a rejected request into two halves in order, or returns them whole when
/// there is only one.
pub(crate) fn halves(mut units: Vec<Unit>) -> Result<(Vec<Unit>, Vec<Unit>), Vec<Unit>> {
    if units.len() < 2 {
        return Err(units);
    }
    let second = units.split_off(units.len() / 2);
    Ok((units, second))
}

#[cfg(test)]
mod tests;
