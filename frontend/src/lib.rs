#![recursion_limit = "256"]
//! Browser entry point: hydrates the HTML the server rendered.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Most pages are lazy routes whose code is split out of the main bundle: load the
    // current page's code first, then hydrate in one synchronous pass.
    wasm_bindgen_futures::spawn_local(async {
        let path = leptos::prelude::window()
            .location()
            .pathname()
            .unwrap_or_default();
        steward_app::load_page_code(&path).await;
        leptos::mount::hydrate_body(steward_app::App);
    });
}
