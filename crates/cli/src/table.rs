//! Column layouts of Consul's CLI output: `columnize` (two-space gutters) and Go's
//! `tabwriter` (a fixed padding after the widest cell).

/// Lays out `rows` like Go's `columnize.SimpleFormat`: each column padded to its widest
/// cell, columns separated by two spaces, the last column unpadded. Lines carry no trailing
/// spaces and end with `\n`.
pub(crate) fn columnize(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Lays out two-column `rows` like Go's `tabwriter.NewWriter(w, 0, 2, 6, ' ', 0)` followed
/// by `strings.TrimSpace`: the first column padded to its widest cell plus six spaces (kept
/// even when the second cell is empty, except at the very end of the output).
pub(crate) fn tabwrite_pairs(rows: &[(String, String)]) -> String {
    let width = rows
        .iter()
        .map(|(first, _)| first.chars().count())
        .max()
        .unwrap_or(0)
        + 6;
    let mut out = String::new();
    for (first, second) in rows {
        out.push_str(&format!("{first:<width$}{second}\n"));
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn columnize_pads_all_but_the_last_column() {
        let text = columnize(&[
            row(&["Node", "ID", "Address", "DC"]),
            row(&["node1", "1b662d97", "10.4.5.31", "dc1"]),
        ]);
        assert_eq!(
            text,
            "Node   ID        Address    DC\nnode1  1b662d97  10.4.5.31  dc1\n"
        );
    }

    #[test]
    fn columnize_drops_trailing_spaces_of_empty_last_cells() {
        let text = columnize(&[row(&["a", "b"]), row(&["ccc", ""])]);
        assert_eq!(text, "a    b\nccc\n");
    }

    #[test]
    fn tabwriter_pads_six_past_the_widest_name() {
        let rows = vec![
            ("consul".to_owned(), String::new()),
            ("redis".to_owned(), "v1".to_owned()),
            ("web".to_owned(), "rails,v2".to_owned()),
        ];
        assert_eq!(
            tabwrite_pairs(&rows),
            "consul      \nredis       v1\nweb         rails,v2\n"
        );
        let last_empty = vec![
            ("a".to_owned(), "x".to_owned()),
            ("b".to_owned(), String::new()),
        ];
        assert_eq!(tabwrite_pairs(&last_empty), "a      x\nb\n");
    }
}
