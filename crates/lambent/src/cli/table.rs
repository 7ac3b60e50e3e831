//! The client commands' tables (`function list`, `usage`, `events failed`, `bench`): a header
//! row, then one row per item, every column padded to its widest cell so the columns line up
//! in a terminal and split cleanly on whitespace in a script. Numeric columns are
//! right-aligned, so their digits and units line up too.

/// Where a column's cells sit in its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text: names, times, identifiers.
    Left,
    /// Numbers, with or without a unit.
    Right,
}

/// A table being filled row by row; [`Table::render`] lays it out.
#[derive(Debug)]
pub struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

/// Between two columns: wide enough to tell them apart when a cell is empty.
const GAP: &str = "  ";

impl Table {
    /// A table with these headers and alignments, and no rows yet.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(header, align)| (header.to_string(), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, cells beyond the headers are dropped.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).collect();
        row.resize(self.columns.len(), String::new());
        self.rows.push(row);
    }

    /// The header and the rows, one line each (with its newline), without trailing spaces.
    pub fn render(&self) -> String {
        // Characters, not bytes: `µs` is one column wide on screen.
        let width = |s: &str| s.chars().count();
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (header, _))| {
                self.rows
                    .iter()
                    .map(|r| width(&r[i]))
                    .chain([width(header)])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let header = self.columns.iter().map(|(h, _)| h.as_str());
        let mut out = String::new();
        for line in std::iter::once(header.collect::<Vec<_>>()).chain(
            self.rows
                .iter()
                .map(|r| r.iter().map(String::as_str).collect()),
        ) {
            let mut text = String::new();
            for (i, cell) in line.iter().enumerate() {
                if i > 0 {
                    text.push_str(GAP);
                }
                let pad = " ".repeat(widths[i] - width(cell));
                match self.columns[i].1 {
                    Align::Left => {
                        text.push_str(cell);
                        text.push_str(&pad);
                    }
                    Align::Right => {
                        text.push_str(&pad);
                        text.push_str(cell);
                    }
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints [`Table::render`] to stdout.
    pub fn print(&self) {
        print!("{}", self.render());
    }
}

#[cfg(test)]
mod tests {
    use super::{Align, Table};

    #[test]
    fn columns_are_padded_to_their_widest_cell_and_numbers_right_aligned() {
        let mut t = Table::new(&[("function", Align::Left), ("requests", Align::Right)]);
        t.row(["a-long-function-name", "7"]);
        t.row(["b", "12345678901"]);
        assert_eq!(
            t.render(),
            "function                 requests\n\
             a-long-function-name            7\n\
             b                     12345678901\n"
        );
    }

    #[test]
    fn widths_count_characters_and_lines_end_without_spaces() {
        let mut t = Table::new(&[
            ("scenario", Align::Left),
            ("p50", Align::Right),
            ("note", Align::Left),
        ]);
        t.row(["warm", "310 µs", ""]);
        t.row(["cold", "4.15 ms", "x"]);
        t.row(["short"]);
        assert_eq!(
            t.render(),
            "scenario      p50  note\n\
             warm       310 µs\n\
             cold      4.15 ms  x\n\
             short\n"
        );
    }
}
