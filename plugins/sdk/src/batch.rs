//! Reading and making batches: the columns a residual (`matches`) or a criterion
//! (`score`) receives, read in place without copying.

use crate::{Batch, Column, PluginError, TextColumn};

impl Batch {
    /// The number of values (rows) in the batch.
    pub fn len(&self) -> usize {
        match &self.values {
            Column::Numbers(values) => values.len(),
            Column::Integers(values) => values.len(),
            Column::Booleans(values) => values.len(),
            Column::Texts(texts) => texts.ends.len(),
            Column::Points(values) => values.len() / 2,
        }
    }

    /// Whether the batch has no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether row `row` is null.
    pub fn is_null(&self, row: usize) -> bool {
        self.nulls.get(row).copied().unwrap_or(false)
    }

    fn wrong_column(&self, wanted: &str) -> PluginError {
        let found = match &self.values {
            Column::Numbers(_) => "numbers",
            Column::Integers(_) => "integers",
            Column::Booleans(_) => "booleans",
            Column::Texts(_) => "texts",
            Column::Points(_) => "points",
        };
        PluginError::new(format!("expected a column of {wanted}, got {found}"))
    }

    /// The texts, `None` for null rows, borrowed from the column's buffer. Checks once
    /// that the buffer is UTF-8 and the offsets are in order, then reads in place.
    pub fn texts(&self) -> Result<Texts<'_>, PluginError> {
        let Column::Texts(column) = &self.values else {
            return Err(self.wrong_column("texts"));
        };
        let text =
            std::str::from_utf8(&column.bytes).map_err(|_| PluginError::new("text column: the buffer is not UTF-8"))?;
        let mut previous = 0usize;
        for &end in &column.ends {
            let end = end as usize;
            if end < previous || !text.is_char_boundary(end) {
                return Err(PluginError::new("text column: offsets out of order or off a character"));
            }
            previous = end;
        }
        Ok(Texts {
            text,
            ends: &column.ends,
            nulls: &self.nulls,
            row: 0,
            start: 0,
        })
    }

    /// The numbers, `None` for null rows; a column of integers is read as numbers too.
    pub fn numbers(&self) -> Result<impl ExactSizeIterator<Item = Option<f64>> + '_, PluginError> {
        #[allow(clippy::cast_precision_loss)]
        let values: Box<dyn ExactSizeIterator<Item = f64> + '_> = match &self.values {
            Column::Numbers(values) => Box::new(values.iter().copied()),
            Column::Integers(values) => Box::new(values.iter().map(|&v| v as f64)),
            _ => return Err(self.wrong_column("numbers")),
        };
        Ok(values.enumerate().map(|(row, v)| (!self.is_null(row)).then_some(v)))
    }

    /// The integers, `None` for null rows.
    pub fn integers(&self) -> Result<impl ExactSizeIterator<Item = Option<i64>> + '_, PluginError> {
        let Column::Integers(values) = &self.values else {
            return Err(self.wrong_column("integers"));
        };
        Ok(values
            .iter()
            .enumerate()
            .map(|(row, &v)| (!self.is_null(row)).then_some(v)))
    }

    /// The booleans, `None` for null rows.
    pub fn booleans(&self) -> Result<impl ExactSizeIterator<Item = Option<bool>> + '_, PluginError> {
        let Column::Booleans(values) = &self.values else {
            return Err(self.wrong_column("booleans"));
        };
        Ok(values
            .iter()
            .enumerate()
            .map(|(row, &v)| (!self.is_null(row)).then_some(v)))
    }

    /// The points as `(latitude, longitude)`, `None` for null rows.
    pub fn points(&self) -> Result<impl ExactSizeIterator<Item = Option<(f64, f64)>> + '_, PluginError> {
        let Column::Points(values) = &self.values else {
            return Err(self.wrong_column("points"));
        };
        let (pairs, _odd) = values.as_chunks::<2>();
        Ok(pairs
            .iter()
            .enumerate()
            .map(|(row, &[lat, lon])| (!self.is_null(row)).then_some((lat, lon))))
    }

    /// A batch of texts (`None` is a null row), laid out as the host sends them.
    pub fn from_texts<'s>(values: impl IntoIterator<Item = Option<&'s str>>) -> Self {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        let mut nulls = Vec::new();
        for value in values {
            bytes.extend_from_slice(value.unwrap_or("").as_bytes());
            ends.push(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
            nulls.push(value.is_none());
        }
        Self {
            values: Column::Texts(TextColumn { bytes, ends }),
            nulls,
        }
    }

    /// A batch of numbers (`None` is a null row).
    pub fn from_numbers(values: impl IntoIterator<Item = Option<f64>>) -> Self {
        let (values, nulls): (Vec<f64>, Vec<bool>) =
            values.into_iter().map(|v| (v.unwrap_or(0.0), v.is_none())).unzip();
        Self {
            values: Column::Numbers(values),
            nulls,
        }
    }

    /// A batch of integers (`None` is a null row).
    pub fn from_integers(values: impl IntoIterator<Item = Option<i64>>) -> Self {
        let (values, nulls): (Vec<i64>, Vec<bool>) = values.into_iter().map(|v| (v.unwrap_or(0), v.is_none())).unzip();
        Self {
            values: Column::Integers(values),
            nulls,
        }
    }

    /// A batch of booleans (`None` is a null row).
    pub fn from_booleans(values: impl IntoIterator<Item = Option<bool>>) -> Self {
        let (values, nulls): (Vec<bool>, Vec<bool>) =
            values.into_iter().map(|v| (v.unwrap_or(false), v.is_none())).unzip();
        Self {
            values: Column::Booleans(values),
            nulls,
        }
    }

    /// A batch of `(latitude, longitude)` points (`None` is a null row).
    pub fn from_points(values: impl IntoIterator<Item = Option<(f64, f64)>>) -> Self {
        let mut flat = Vec::new();
        let mut nulls = Vec::new();
        for value in values {
            let (lat, lon) = value.unwrap_or((0.0, 0.0));
            flat.extend_from_slice(&[lat, lon]);
            nulls.push(value.is_none());
        }
        Self {
            values: Column::Points(flat),
            nulls,
        }
    }
}

/// The texts of a batch, in row order: `Some(&str)` borrowed from the buffer, `None` for
/// a null row. Made by [`Batch::texts`].
#[derive(Clone, Debug)]
pub struct Texts<'a> {
    text: &'a str,
    ends: &'a [u32],
    nulls: &'a [bool],
    row: usize,
    start: usize,
}

impl<'a> Iterator for Texts<'a> {
    type Item = Option<&'a str>;

    fn next(&mut self) -> Option<Self::Item> {
        let end = *self.ends.get(self.row)? as usize;
        let value = self.text.get(self.start..end).unwrap_or("");
        let null = self.nulls.get(self.row).copied().unwrap_or(false);
        self.row += 1;
        self.start = end;
        Some((!null).then_some(value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.ends.len().saturating_sub(self.row);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Texts<'_> {}
