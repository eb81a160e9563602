//! Pictures of real pages for the documentation: `make pictures` runs the tests that show them with
//! `GATEWAY_TEST_PICTURES` naming the folder (docs/pictures); other runs take none.

use super::browser::Browser;

/// Saves what `browser` shows as `<name>.png` when pictures are asked for.
pub async fn take(browser: &Browser, name: &str) {
    let Some(dir) = std::env::var_os("GATEWAY_TEST_PICTURES") else {
        return;
    };
    let path = std::path::Path::new(&dir).join(format!("{name}.png"));
    std::fs::write(&path, browser.screenshot().await).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
}

/// Whether pictures are asked for.
pub fn wanted() -> bool {
    std::env::var_os("GATEWAY_TEST_PICTURES").is_some()
}
