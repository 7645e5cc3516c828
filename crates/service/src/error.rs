//! The service's errors, each with the HTTP status and Wyoming error code it maps to.

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request is malformed (bad field, unreadable audio, empty text).
    #[error("{0}")]
    BadRequest(String),
    /// The request names a model, voice or person this service does not have.
    #[error("{0}")]
    NotFound(String),
    /// The request is over a size or length limit.
    #[error("{0}")]
    TooLarge(String),
    /// All job slots are taken and the queue is full; try again later.
    #[error("busy: {0} jobs are running and the queue of {1} is full; try again shortly")]
    Busy(usize, usize),
    /// Inference failed.
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            ServiceError::BadRequest(_) => 400,
            ServiceError::NotFound(_) => 404,
            ServiceError::TooLarge(_) => 413,
            ServiceError::Busy(..) => 503,
            ServiceError::Internal(_) => 500,
        }
    }

    /// A short machine-readable code (Wyoming `error` events, OpenAI error `code`).
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::BadRequest(_) => "bad_request",
            ServiceError::NotFound(_) => "not_found",
            ServiceError::TooLarge(_) => "too_large",
            ServiceError::Busy(..) => "busy",
            ServiceError::Internal(_) => "internal",
        }
    }
}

impl From<ownvoice_asr::transcribe::AsrError> for ServiceError {
    fn from(e: ownvoice_asr::transcribe::AsrError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

impl From<ownvoice_tts::TtsError> for ServiceError {
    fn from(e: ownvoice_tts::TtsError) -> Self {
        match e {
            ownvoice_tts::TtsError::EmptyText => ServiceError::BadRequest(e.to_string()),
            e => ServiceError::Internal(e.to_string()),
        }
    }
}

impl From<ownvoice_audio::AudioError> for ServiceError {
    fn from(e: ownvoice_audio::AudioError) -> Self {
        ServiceError::BadRequest(e.to_string())
    }
}
