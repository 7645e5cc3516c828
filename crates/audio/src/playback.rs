//! Playback on the default output device (cpal).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use crate::{resample::resample, AudioError};

/// Plays mono samples at `sample_rate` Hz on the default output device and blocks until done.
///
/// The signal is resampled to the device's rate and copied to every channel.
///
/// # Errors
/// [`AudioError::NoOutputDevice`] when the host has no output device (a headless server, say);
/// [`AudioError::Playback`] when the device refuses the stream.
pub fn play(samples: &[f32], sample_rate: u32) -> Result<(), AudioError> {
    let (device, config) = crate::capture::quiet_alsa(|| {
        let device = cpal::default_host()
            .default_output_device()
            .ok_or(AudioError::NoOutputDevice)?;
        let config = device
            .default_output_config()
            .map_err(|_| AudioError::NoOutputDevice)?;
        Ok::<_, AudioError>((device, config))
    })?;
    let device_rate = config.sample_rate().0;
    let channels = config.channels() as usize;
    let signal = resample(samples, sample_rate, device_rate)?;
    let total = signal.len();
    let state = Arc::new(Mutex::new((signal, 0usize)));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let cb_state = Arc::clone(&state);
    let stream = device
        .build_output_stream(
            &config.into(),
            move |out: &mut [f32], _| {
                let mut guard = cb_state.lock().expect("playback state");
                let (sig, pos) = &mut *guard;
                for frame in out.chunks_mut(channels) {
                    let v = sig.get(*pos).copied().unwrap_or(0.0);
                    frame.iter_mut().for_each(|s| *s = v);
                    *pos += 1;
                }
                if *pos >= sig.len() {
                    let _ = done_tx.send(());
                }
            },
            |e| eprintln!("playback error: {e}"),
            None,
        )
        .map_err(|e| AudioError::Playback(e.to_string()))?;
    stream
        .play()
        .map_err(|e| AudioError::Playback(e.to_string()))?;
    let secs = total as f64 / device_rate as f64;
    let _ = done_rx.recv_timeout(std::time::Duration::from_secs_f64(secs + 2.0));
    Ok(())
}
