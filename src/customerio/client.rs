//! The App API client.

#[derive(Clone)]
pub struct CioClient {}
