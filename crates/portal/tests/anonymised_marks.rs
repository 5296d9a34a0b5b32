//! An anonymised address shown beside the AS and country of the real address says so: the
//! overview's DoS victims (public, CLEAR data: anonymised) are marked and the table explains
//! the mark.

mod common;

use common::*;

#[tokio::test]
async fn anonymised_dos_victims_are_marked_and_explained() {
    let f = fixture();
    let page = get(&f.app, "/").await.body;
    let dos = &page[page
        .find("<h2>Recent DoS attacks</h2>")
        .expect("a DoS table")..];
    assert!(
        dos.contains("<td class=\"mono\">"),
        "the fixture has attacks: {dos}"
    );
    let marked = dos.matches("<abbr class=\"anonymised\" title=\"").count();
    let rows = dos[..dos.find("</tbody>").unwrap()]
        .matches("<td class=\"mono\">")
        .count();
    assert_eq!(
        marked, rows,
        "every victim the public sees is anonymised and marked"
    );
    assert!(
        dos.contains("the country and network shown are those of the real address"),
        "{dos}"
    );
    assert!(dos.contains("Crypto-PAn"), "{dos}");
}
