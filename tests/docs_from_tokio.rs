//! `docs/from-tokio.md` names only ember paths that exist: every `ember::`
//! path in its tables must appear in the `rust` block at its end, which
//! `cargo test --doc` compiles (see `FromTokioDoctests` in `src/lib.rs`).

#[test]
fn every_ember_path_in_the_tables_is_in_the_compiled_block() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/from-tokio.md"))
        .expect("docs/from-tokio.md");
    // The compiled block, and the one after it for the opt-in features
    // (compiled by their own tests: `io_futures_io`, `hyper_http`).
    let start = page.find("```rust\n").expect("the compiled block");
    let block = &page[start..];
    let words: std::collections::HashSet<&str> = block
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .collect();
    let mut missing = Vec::new();
    for line in page[..start].lines().filter(|l| l.starts_with('|')) {
        // The ember column: backticked paths starting with `ember::`.
        for path in line.split('`').skip(1).step_by(2) {
            let Some(rest) = path.strip_prefix("ember::") else {
                continue;
            };
            // `ember::join!`, `ember::block_on(async { .. })`, `Builder::x()`.
            let rest = rest.split(['(', '!', ' ']).next().unwrap_or(rest);
            let last = rest.rsplit("::").next().unwrap_or(rest);
            if !last.is_empty() && !words.contains(last) {
                missing.push(path.to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "named in the tables but not compiled: {missing:?}"
    );
}
