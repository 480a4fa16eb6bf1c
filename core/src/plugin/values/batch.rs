//! Batches: the values of many contacts for one field, as one column (numbers, integers,
//! booleans, texts end to end, points) and a null mask, so `matches` and `score` are one
//! call per thousands of values, never one per row.

use serde_json::Value as Json;

use super::FieldKind;
use crate::plugin::bindings::types;

/// A column of values for a batch call.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Numbers(Vec<f64>),
    Integers(Vec<i64>),
    Booleans(Vec<bool>),
    /// UTF-8 strings end to end; string `i` ends at `ends[i]`.
    Texts {
        bytes: Vec<u8>,
        ends: Vec<u32>,
    },
    /// Latitude and longitude interleaved.
    Points(Vec<f64>),
}

/// A batch of values (and which are null) for `matches` or `score`.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    column: Column,
    nulls: Vec<bool>,
}

impl Batch {
    /// Texts; `None` is null (sent as an empty string).
    pub fn texts<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> Batch {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        let mut nulls = Vec::new();
        for v in values {
            bytes.extend_from_slice(v.unwrap_or_default().as_bytes());
            ends.push(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
            nulls.push(v.is_none());
        }
        Batch {
            column: Column::Texts { bytes, ends },
            nulls,
        }
    }

    /// Numbers; `None` is null.
    pub fn numbers(values: impl IntoIterator<Item = Option<f64>>) -> Batch {
        let (column, nulls) = values.into_iter().map(|v| (v.unwrap_or(0.0), v.is_none())).unzip();
        Batch {
            column: Column::Numbers(column),
            nulls,
        }
    }

    /// Integers; `None` is null.
    pub fn integers(values: impl IntoIterator<Item = Option<i64>>) -> Batch {
        let (column, nulls) = values.into_iter().map(|v| (v.unwrap_or(0), v.is_none())).unzip();
        Batch {
            column: Column::Integers(column),
            nulls,
        }
    }

    /// Booleans; `None` is null.
    pub fn booleans(values: impl IntoIterator<Item = Option<bool>>) -> Batch {
        let (column, nulls) = values.into_iter().map(|v| (v.unwrap_or(false), v.is_none())).unzip();
        Batch {
            column: Column::Booleans(column),
            nulls,
        }
    }

    /// Points `(lat, lon)`; `None` is null.
    pub fn points(values: impl IntoIterator<Item = Option<(f64, f64)>>) -> Batch {
        let mut column = Vec::new();
        let mut nulls = Vec::new();
        for v in values {
            let (lat, lon) = v.unwrap_or((0.0, 0.0));
            column.push(lat);
            column.push(lon);
            nulls.push(v.is_none());
        }
        Batch {
            column: Column::Points(column),
            nulls,
        }
    }

    /// How many values.
    pub fn len(&self) -> usize {
        self.nulls.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.nulls.is_empty()
    }

    /// The column.
    pub fn column(&self) -> &Column {
        &self.column
    }

    /// Splits the batch into batches of at most `max` values, in order.
    pub fn chunks(self, max: usize) -> Vec<Batch> {
        let max = max.max(1);
        if self.len() <= max {
            return vec![self];
        }
        let Batch { column, nulls } = self;
        let nulls: Vec<Vec<bool>> = nulls.chunks(max).map(<[bool]>::to_vec).collect();
        let columns: Vec<Column> = match column {
            Column::Numbers(v) => v.chunks(max).map(|c| Column::Numbers(c.to_vec())).collect(),
            Column::Integers(v) => v.chunks(max).map(|c| Column::Integers(c.to_vec())).collect(),
            Column::Booleans(v) => v.chunks(max).map(|c| Column::Booleans(c.to_vec())).collect(),
            Column::Points(v) => v.chunks(max * 2).map(|c| Column::Points(c.to_vec())).collect(),
            Column::Texts { bytes, ends } => {
                let mut out = Vec::new();
                let mut start = 0u32;
                for chunk in ends.chunks(max) {
                    let end = chunk.last().copied().unwrap_or(start);
                    let slice = bytes
                        .get(start as usize..end as usize)
                        .map(<[u8]>::to_vec)
                        .unwrap_or_default();
                    out.push(Column::Texts {
                        bytes: slice,
                        ends: chunk.iter().map(|e| e.saturating_sub(start)).collect(),
                    });
                    start = end;
                }
                out
            }
        };
        columns
            .into_iter()
            .zip(nulls)
            .map(|(column, nulls)| Batch { column, nulls })
            .collect()
    }

    /// The WIT shape (moves the buffers, copies nothing).
    pub(crate) fn into_wit(self) -> types::Batch {
        types::Batch {
            values: match self.column {
                Column::Numbers(v) => types::Column::Numbers(v),
                Column::Integers(v) => types::Column::Integers(v),
                Column::Booleans(v) => types::Column::Booleans(v),
                Column::Texts { bytes, ends } => types::Column::Texts(types::TextColumn { bytes, ends }),
                Column::Points(v) => types::Column::Points(v),
            },
            nulls: self.nulls,
        }
    }

    /// A batch of `kind` values from JSON (for trying an operator by hand): texts for text
    /// kinds and dates, numbers, integers (datetimes as Unix seconds), booleans, points
    /// (`[lat, lon]`). `null` is null.
    pub fn from_json(kind: FieldKind, values: &[Json]) -> Result<Batch, String> {
        let bad = |i: usize, what: &str| format!("values[{i}]: expected {what} or null");
        Ok(match kind {
            FieldKind::Number | FieldKind::Money => Batch::numbers(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Json::Null => Ok(None),
                        v => v.as_f64().map(Some).ok_or_else(|| bad(i, "a number")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            FieldKind::Integer | FieldKind::Datetime => Batch::integers(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Json::Null => Ok(None),
                        v => v.as_i64().map(Some).ok_or_else(|| bad(i, "an integer")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            FieldKind::Boolean => Batch::booleans(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Json::Null => Ok(None),
                        v => v.as_bool().map(Some).ok_or_else(|| bad(i, "true or false")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            FieldKind::Geo | FieldKind::Location => Batch::points(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Json::Null => Ok(None),
                        Json::Array(p) => match (p.first().and_then(Json::as_f64), p.get(1).and_then(Json::as_f64)) {
                            (Some(lat), Some(lon)) if p.len() == 2 => Ok(Some((lat, lon))),
                            _ => Err(bad(i, "[lat, lon]")),
                        },
                        _ => Err(bad(i, "[lat, lon]")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            _ => {
                let texts = values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Json::Null => Ok(None),
                        Json::String(s) => Ok(Some(s.as_str())),
                        _ => Err(bad(i, "a string")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Batch::texts(texts)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_batches_split_on_value_boundaries() {
        let values: Vec<String> = (0..10).map(|i| "x".repeat(i)).collect();
        let batch = Batch::texts(values.iter().map(|s| Some(s.as_str())));
        let chunks = batch.chunks(4);
        assert_eq!(chunks.len(), 3);
        let mut seen = Vec::new();
        for chunk in chunks {
            let Column::Texts { bytes, ends } = chunk.column() else {
                panic!("texts")
            };
            let mut start = 0usize;
            for &end in ends {
                seen.push(String::from_utf8(bytes[start..end as usize].to_vec()).unwrap());
                start = end as usize;
            }
        }
        assert_eq!(seen, values);
    }
}
