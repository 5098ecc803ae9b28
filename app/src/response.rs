//! Setting the HTTP status of a server-rendered page. On the server this reaches the
//! response; in the browser (after hydration) there is no response to set.

#[cfg(feature = "ssr")]
mod imp {
    use http::StatusCode;
    use leptos::prelude::use_context;
    use leptos_axum::ResponseOptions;

    pub fn set_status(code: u16) {
        if let (Some(response), Ok(status)) =
            (use_context::<ResponseOptions>(), StatusCode::from_u16(code))
        {
            response.set_status(status);
        }
    }
}

#[cfg(not(feature = "ssr"))]
mod imp {
    pub fn set_status(_code: u16) {}
}

pub use imp::set_status;
