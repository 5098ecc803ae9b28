#![recursion_limit = "256"]
//! Browser entry point: hydrates the HTML the server rendered.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy: every page is a lazy route (its own WASM chunk), so hydration first waits
    // for the current page's chunk; `hydrate_body` would panic on a route not loaded.
    leptos::mount::hydrate_lazy(steward_app::App);
}
