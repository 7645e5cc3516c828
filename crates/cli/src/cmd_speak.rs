//! `ownvoice speak TEXT|- -o OUT.wav`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use ownvoice_tts::{PiperVoice, SynthOptions};

use crate::context;

/// Speak text: phonemes from espeak-ng, sentence by sentence, written as a 16-bit WAV at the
/// voice's rate and/or played on the speakers.
///
/// Voices: joe (Piper, 22 050 Hz, the fast default); kokoro or a Kokoro stock style
/// (jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, jm_kumo; 24 kHz); or the name of a person
/// whose voice was fitted with `ownvoice voice train` (their profile is opened to read it).
#[derive(Args)]
pub struct SpeakArgs {
    /// The text to speak, or `-` to read it from standard input.
    text: String,
    /// Write the speech to this WAV file.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Voice: joe (Piper), kokoro or a Kokoro style name, or a person with a fitted voice.
    #[arg(long, default_value = "joe")]
    voice: String,
    /// Speaking rate: 1.0 normal, 1.25 a quarter faster (0.25–4).
    #[arg(long, default_value_t = 1.0)]
    speed: f32,
    /// Piper only: speaking slowness: 1.0 is the voice's pace, 1.2 is 20 % slower.
    #[arg(long)]
    length_scale: Option<f32>,
    /// Piper only: variation of timbre and intonation (voice default 0.667).
    #[arg(long)]
    noise_scale: Option<f32>,
    /// Piper only: variation of rhythm (voice default 0.8).
    #[arg(long)]
    noise_w: Option<f32>,
    /// Play the speech on the default output device.
    #[arg(long)]
    play: bool,
    /// CPU threads for synthesis (default: available cores, at most 8).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(a: SpeakArgs) -> Result<ExitCode> {
    if a.output.is_none() && !a.play {
        bail!("say where the speech goes: -o OUT.wav and/or --play");
    }
    let text = if a.text == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading text from standard input")?;
        s
    } else {
        a.text.clone()
    };
    if text.trim().is_empty() {
        bail!("nothing to say: the text is empty");
    }
    if let Some(why) = ownvoice_tts::speed_out_of_range(a.speed) {
        bail!("--speed {why}");
    }
    let threads = a.threads.unwrap_or_else(context::default_threads);
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("speaking sentence {pos}/{len} {wide_bar}")
            .expect("valid template"),
    );
    let mut audio = Vec::new();
    let is_piper = ownvoice_models::catalog::find(&a.voice)
        .is_some_and(|s| s.kind == ownvoice_models::catalog::Kind::PiperVoice);
    let rate = if is_piper {
        context::init_onnx()?;
        let cache = context::models();
        let model = cache
            .file(&a.voice, "voice.onnx")
            .with_context(|| format!("voice {:?} (fetched voices: joe)", a.voice))?;
        let config = cache.file(&a.voice, "voice.onnx.json")?;
        let mut voice = PiperVoice::load(&model, &config, threads)?;
        let opts = SynthOptions {
            length_scale: a.length_scale.or((a.speed != 1.0).then(|| 1.0 / a.speed)),
            noise_scale: a.noise_scale,
            noise_w: a.noise_w,
        };
        voice.synthesize_streaming(&text, &opts, |i, n, chunk| {
            bar.set_length(n as u64);
            bar.set_position(i as u64 + 1);
            audio.extend_from_slice(chunk);
        })?;
        voice.sample_rate()
    } else {
        if a.length_scale.is_some() || a.noise_scale.is_some() || a.noise_w.is_some() {
            bail!("--length-scale, --noise-scale and --noise-w are for Piper voices; use --speed");
        }
        let mut loaded = crate::voices::VoiceLoader::new(threads).load(&a.voice)?;
        let units = loaded.synth.sentences(&text)?;
        if units.is_empty() {
            bail!("nothing to say: the text has no speakable words");
        }
        bar.set_length(units.len() as u64);
        for (i, u) in units.iter().enumerate() {
            audio.extend(loaded.synth.synthesize_unit(u, a.speed)?);
            bar.set_position(i as u64 + 1);
        }
        loaded.synth.sample_rate()
    };
    if let Some(out) = &a.output {
        ownvoice_audio::write::write_wav_atomic(out, &audio, rate)?;
        eprintln!(
            "wrote {} ({:.2} s at {rate} Hz)",
            out.display(),
            audio.len() as f64 / rate as f64
        );
    }
    if a.play {
        if let Err(e) = ownvoice_audio::playback::play(&audio, rate) {
            if a.output.is_some() {
                eprintln!("warning: not played: {e}");
            } else {
                bail!("cannot play: {e}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
