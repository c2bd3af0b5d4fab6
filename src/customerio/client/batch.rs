//! Batch answers: pairing each requested id with its profile, and what
//! absence means.

use super::*;

pub(super) enum Matched {
    Found(Profile),
    Refetch,
    Failed(ApiError),
}

/// Pairs each requested id with its profile from a batch answer.
pub(super) fn match_batch(
    chunk: Vec<String>,
    id_type: IdType,
    result: Result<Vec<Result<Profile, ApiError>>, ApiError>,
) -> Vec<(String, Matched)> {
    let items = match result {
        Ok(items) => items,
        // One person's profile may be what spoils (or swells) the whole
        // answer: each is asked for alone, so only that one fails.
        Err(e)
            if matches!(
                e.kind,
                ApiErrorKind::BadBody { .. } | ApiErrorKind::TooLarge
            ) =>
        {
            return chunk.into_iter().map(|id| (id, Matched::Refetch)).collect();
        }
        Err(e) => {
            return chunk
                .into_iter()
                .map(|id| (id, Matched::Failed(e.clone())))
                .collect();
        }
    };
    let mut any_bad = false;
    let mut by_key: HashMap<String, Profile> = HashMap::new();
    for item in items {
        match item {
            Ok(p) => {
                let key = match id_type {
                    IdType::Id => p.id.clone(),
                    IdType::Email => p.email.as_ref().map(|e| e.to_lowercase()),
                    IdType::CioId => Some(p.cio_id.clone()),
                };
                if let Some(key) = key {
                    by_key.entry(key).or_insert(p);
                }
            }
            Err(_) => any_bad = true,
        }
    }
    let key_of = |id: &str| match id_type {
        IdType::Email => id.to_lowercase(),
        IdType::CioId => id.strip_prefix("cio_").unwrap_or(id).to_string(),
        IdType::Id => id.to_string(),
    };
    // How many asked ids each answered profile serves: the last one takes
    // it, the others get copies (one profile is usually asked for once).
    let mut wanted: HashMap<String, usize> = HashMap::new();
    let keys: Vec<Option<String>> = chunk
        .iter()
        .map(|id| {
            let key = key_of(id);
            let found = [key, id.clone()]
                .into_iter()
                .find(|k| by_key.contains_key(k));
            if let Some(k) = &found {
                *wanted.entry(k.clone()).or_default() += 1;
            }
            found
        })
        .collect();
    chunk
        .into_iter()
        .zip(keys)
        .map(|(id, key)| {
            let found = key.and_then(|k| {
                let left = wanted.get_mut(&k)?;
                *left -= 1;
                if *left == 0 {
                    by_key.remove(&k)
                } else {
                    by_key.get(&k).cloned()
                }
            });
            let outcome = match found {
                Some(p) => Matched::Found(p),
                // It may be the unreadable item: find out on its own.
                None if any_bad => Matched::Refetch,
                None => Matched::Failed(not_in_workspace(Endpoint::PeopleBatch, &id, id_type)),
            };
            (id, outcome)
        })
        .collect()
}

fn not_in_workspace(ep: Endpoint, id: &str, id_type: IdType) -> ApiError {
    ApiError {
        endpoint: ep.label().to_string(),
        status: None,
        kind: ApiErrorKind::NotFound,
        message: format!(
            "no person with {} {:?} in Customer.io",
            id_type.as_str(),
            id
        ),
    }
}

pub(super) fn empty_when_not_found<T>(e: ApiError) -> Result<Vec<T>, ApiError> {
    if e.kind == ApiErrorKind::NotFound {
        Ok(Vec::new())
    } else {
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_answers_are_matched_to_requested_ids() {
        let p = |id: &str, email: &str, cio: &str| Profile {
            id: Some(id.into()),
            email: Some(email.into()),
            cio_id: cio.into(),
            ..Default::default()
        };
        let out = match_batch(
            vec!["Jane@X.com".into(), "nobody@x.com".into()],
            IdType::Email,
            Ok(vec![Ok(p("1", "jane@x.com", "c1"))]),
        );
        assert!(matches!(out[0].1, Matched::Found(_)));
        assert!(matches!(&out[1].1, Matched::Failed(e) if e.kind == ApiErrorKind::NotFound));
    }

    #[test]
    fn one_profile_asked_for_twice_answers_both() {
        let jane = Profile {
            email: Some("jane@x.com".into()),
            cio_id: "c1".into(),
            ..Default::default()
        };
        let out = match_batch(
            vec!["Jane@X.com".into(), "jane@x.com".into()],
            IdType::Email,
            Ok(vec![Ok(jane)]),
        );
        for (_, m) in &out {
            assert!(matches!(m, Matched::Found(p) if p.cio_id == "c1"));
        }
    }
}
