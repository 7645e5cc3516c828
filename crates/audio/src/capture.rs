//! Audio capture: an [`InputSource`] yields mono chunks at its native rate. Two sources exist:
//! [`CpalInput`], a real input device (any rate, channel count and sample format cpal offers), and
//! [`WavInput`], an audio file played in at real-time pace — the documented test seam behind
//! `OWNVOICE_INPUT_WAV`, so the recorder and interactive enrollment can be tested without a
//! microphone.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SizedSample};

use crate::AudioError;

/// What a source produced when asked for the next chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum Chunk {
    /// Mono samples at the source's rate (may be empty when the wait timed out).
    Samples(Vec<f32>),
    /// The stream ended (a file source reached its end).
    End,
}

/// A source of mono audio at a fixed native sample rate.
pub trait InputSource {
    /// Native sample rate, Hz.
    fn sample_rate(&self) -> u32;
    /// Human-readable name (device name or file path).
    fn name(&self) -> String;
    /// Waits up to `timeout` for the next chunk.
    ///
    /// # Errors
    /// [`AudioError::Capture`] when the device fails mid-stream.
    fn next_chunk(&mut self, timeout: Duration) -> Result<Chunk, AudioError>;
}

/// One input or output device and the stream configurations it supports.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    /// Device name, as `--device` takes it.
    pub name: String,
    /// True for the host's default device of its direction.
    pub is_default: bool,
    /// Supported configurations, e.g. `2 ch, 44100-48000 Hz, f32`.
    pub configs: Vec<String>,
}

/// Input and output devices of the default host.
///
/// # Errors
/// [`AudioError::Capture`] when the host cannot enumerate devices.
pub fn list_devices() -> Result<(Vec<DeviceInfo>, Vec<DeviceInfo>), AudioError> {
    quiet_alsa(list_devices_inner)
}

/// Runs `f` with the process's stderr sent to /dev/null: ALSA prints a dozen lines of
/// configuration errors on machines without a sound card, and cpal cannot turn them off. Our own
/// clear error ("no audio input device found") is reported after `f` returns.
pub(crate) fn quiet_alsa<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(unix)]
    {
        if std::env::var_os("OWNVOICE_ALSA_DEBUG").is_some() {
            return f();
        }
        // SAFETY: plain POSIX fd calls on fd 2 and a fresh fd; restored before returning.
        unsafe {
            let saved = libc::dup(2);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if saved < 0 || null < 0 {
                return f();
            }
            libc::dup2(null, 2);
            libc::close(null);
            let out = f();
            libc::dup2(saved, 2);
            libc::close(saved);
            out
        }
    }
    #[cfg(not(unix))]
    f()
}

fn list_devices_inner() -> Result<(Vec<DeviceInfo>, Vec<DeviceInfo>), AudioError> {
    let host = cpal::default_host();
    let err = |e: &dyn std::fmt::Display| AudioError::Capture(e.to_string());
    let default_in = host.default_input_device().and_then(|d| d.name().ok());
    let default_out = host.default_output_device().and_then(|d| d.name().ok());
    let inputs = host.input_devices().map_err(|e| err(&e))?;
    let inputs = describe_all(inputs, default_in, |d| {
        d.supported_input_configs()
            .map(|cs| cs.map(|c| describe(&c)).collect())
    });
    let outputs = host.output_devices().map_err(|e| err(&e))?;
    let outputs = describe_all(outputs, default_out, |d| {
        d.supported_output_configs()
            .map(|cs| cs.map(|c| describe(&c)).collect())
    });
    Ok((inputs, outputs))
}

fn describe_all<E>(
    devices: impl Iterator<Item = cpal::Device>,
    default: Option<String>,
    configs: impl Fn(&cpal::Device) -> Result<Vec<String>, E>,
) -> Vec<DeviceInfo> {
    devices
        .map(|d| {
            let name = d.name().unwrap_or_else(|_| "?".into());
            DeviceInfo {
                is_default: default.as_deref() == Some(name.as_str()),
                configs: configs(&d).unwrap_or_default(),
                name,
            }
        })
        .collect()
}

fn describe(c: &cpal::SupportedStreamConfigRange) -> String {
    format!(
        "{} ch, {}-{} Hz, {}",
        c.channels(),
        c.min_sample_rate().0,
        c.max_sample_rate().0,
        c.sample_format()
    )
}

/// A live input device through cpal, down-mixed to mono `f32`.
pub struct CpalInput {
    name: String,
    sample_rate: u32,
    rx: Receiver<Result<Vec<f32>, String>>,
    _stream: cpal::Stream,
}

impl CpalInput {
    /// Opens the input device called `name` (or the default one) in its default configuration
    /// and starts capturing.
    ///
    /// # Errors
    /// [`AudioError::NoInputDevice`] when there is none (or none of that name);
    /// [`AudioError::Capture`] when the device refuses the stream.
    pub fn open(name: Option<&str>) -> Result<CpalInput, AudioError> {
        quiet_alsa(|| Self::open_inner(name))
    }

    fn open_inner(name: Option<&str>) -> Result<CpalInput, AudioError> {
        let host = cpal::default_host();
        let device = match name {
            None => host.default_input_device(),
            Some(want) => host
                .input_devices()
                .ok()
                .and_then(|mut ds| ds.find(|d| d.name().is_ok_and(|n| n == want))),
        }
        .ok_or_else(|| AudioError::NoInputDevice(name.map(str::to_string)))?;
        // A host may name a default device that cannot open (ALSA's "default" with no card).
        let config = device
            .default_input_config()
            .map_err(|_| AudioError::NoInputDevice(name.map(str::to_string)))?;
        let (tx, rx) = mpsc::channel();
        let channels = config.channels() as usize;
        let stream_config: cpal::StreamConfig = config.clone().into();
        use cpal::SampleFormat as F;
        let stream = match config.sample_format() {
            F::F32 => build::<f32>(&device, &stream_config, channels, tx),
            F::F64 => build::<f64>(&device, &stream_config, channels, tx),
            F::I8 => build::<i8>(&device, &stream_config, channels, tx),
            F::I16 => build::<i16>(&device, &stream_config, channels, tx),
            F::I32 => build::<i32>(&device, &stream_config, channels, tx),
            F::U8 => build::<u8>(&device, &stream_config, channels, tx),
            F::U16 => build::<u16>(&device, &stream_config, channels, tx),
            F::U32 => build::<u32>(&device, &stream_config, channels, tx),
            other => {
                return Err(AudioError::Capture(format!(
                    "sample format {other} is not supported"
                )))
            }
        }?;
        stream
            .play()
            .map_err(|e| AudioError::Capture(e.to_string()))?;
        Ok(CpalInput {
            name: device.name().unwrap_or_else(|_| "input".into()),
            sample_rate: config.sample_rate().0,
            rx,
            _stream: stream,
        })
    }
}

fn build<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    channels: usize,
    tx: mpsc::Sender<Result<Vec<f32>, String>>,
) -> Result<cpal::Stream, AudioError>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let err_tx = tx.clone();
    device
        .build_input_stream(
            config,
            move |data: &[T], _| {
                let mono = data
                    .chunks(channels.max(1))
                    .map(|f| {
                        f.iter()
                            .map(|&s| <f32 as FromSample<T>>::from_sample_(s))
                            .sum::<f32>()
                            / f.len() as f32
                    })
                    .collect();
                let _ = tx.send(Ok(mono));
            },
            move |e| {
                let _ = err_tx.send(Err(e.to_string()));
            },
            None,
        )
        .map_err(|e| AudioError::Capture(e.to_string()))
}

impl InputSource for CpalInput {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
    fn name(&self) -> String {
        self.name.clone()
    }
    fn next_chunk(&mut self, timeout: Duration) -> Result<Chunk, AudioError> {
        match self.rx.recv_timeout(timeout) {
            Ok(Ok(s)) => Ok(Chunk::Samples(s)),
            Ok(Err(e)) => Err(AudioError::Capture(e)),
            Err(RecvTimeoutError::Timeout) => Ok(Chunk::Samples(Vec::new())),
            Err(RecvTimeoutError::Disconnected) => Ok(Chunk::End),
        }
    }
}

/// An audio file delivered in 20 ms chunks at real-time pace, as a microphone would.
pub struct WavInput {
    name: String,
    audio: crate::Audio,
    pos: usize,
    started: Option<Instant>,
}

/// Chunk length of [`WavInput`], ms.
const FILE_CHUNK_MS: usize = 20;

impl WavInput {
    /// Opens any audio file [`crate::read_audio`] reads.
    ///
    /// # Errors
    /// As [`crate::read_audio`].
    pub fn open(path: &std::path::Path) -> Result<WavInput, AudioError> {
        Ok(WavInput {
            name: path.display().to_string(),
            audio: crate::read_audio(path)?,
            pos: 0,
            started: None,
        })
    }
}

impl InputSource for WavInput {
    fn sample_rate(&self) -> u32 {
        self.audio.sample_rate
    }
    fn name(&self) -> String {
        self.name.clone()
    }
    fn next_chunk(&mut self, timeout: Duration) -> Result<Chunk, AudioError> {
        let n = self.audio.samples.len();
        if self.pos >= n {
            return Ok(Chunk::End);
        }
        let started = *self.started.get_or_insert_with(Instant::now);
        let rate = self.audio.sample_rate as usize;
        let end = (self.pos + rate * FILE_CHUNK_MS / 1000).min(n);
        // The chunk is "recorded" once real time has reached its last sample.
        let due = started + Duration::from_secs_f64(end as f64 / rate as f64);
        let now = Instant::now();
        if due > now {
            if due - now > timeout {
                std::thread::sleep(timeout);
                return Ok(Chunk::Samples(Vec::new()));
            }
            std::thread::sleep(due - now);
        }
        let chunk = self.audio.samples[self.pos..end].to_vec();
        self.pos = end;
        Ok(Chunk::Samples(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_input_paces_in_real_time_and_ends() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.wav");
        let x = vec![0.25f32; 8000]; // 0.5 s at 16 kHz
        crate::write::write_wav_atomic(&p, &x, 16_000).unwrap();
        let mut src = WavInput::open(&p).unwrap();
        assert_eq!(src.sample_rate(), 16_000);
        let t0 = Instant::now();
        let mut got = 0;
        while let Chunk::Samples(s) = src.next_chunk(Duration::from_millis(100)).unwrap() {
            got += s.len();
        }
        assert_eq!(got, 8000);
        assert!(
            t0.elapsed() >= Duration::from_millis(480),
            "{:?}",
            t0.elapsed()
        );
    }
}
