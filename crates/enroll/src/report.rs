//! The enrollment report: one self-contained HTML page (inline CSS and SVG, no scripts, no
//! external resources) showing what a person recorded, which takes were kept and why the others
//! were rejected — with each take's waveform envelope and level drawn from its [`LevelTrace`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::profile::{PersonProfile, TakeRecord};
use crate::trace::LevelTrace;

/// Plot width and height of a take's level plot, SVG px (a 14 px time axis band lies below).
const PLOT_W: f64 = 600.0;
const PLOT_H: f64 = 80.0;
/// Lowest level on the plot's dB axis, dBFS.
const DB_AXIS_MIN: f64 = -60.0;
/// A block whose peak reaches this level, dBFS, is marked as clipping.
const CLIP_DBFS: f64 = -0.1;

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}\
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}\
tr.accepted td{background:#eef7ee}tr.rejected td{background:#fdecea}\
tr.rejected td.verdict{color:#a00;font-weight:bold}.muted{color:#666;font-size:90%}";
/// Styles of the plots' parts, as SVG presentation attributes (so an SVG copied out keeps them).
const GRID: &str = "class=\"grid\" stroke=\"#bbb\" stroke-width=\".5\"";
const CLIP: &str =
    "class=\"clip\" fill=\"#d00\" fill-opacity=\".15\" stroke=\"#d00\" stroke-dasharray=\"3 2\"";

/// Renders `profile` as the enrollment report, a complete HTML document (UTF-8 text starting
/// with `<!DOCTYPE html>`): header (person, created/updated in UTC, ASR model, writer), totals
/// and rejection reasons, challenge phrases, and one table row per take (`<tr id="take-<id>">`,
/// class `accepted` or `rejected`) followed by a row with its level plot as inline SVG.
pub fn render_html(profile: &PersonProfile) -> String {
    let person = escape(&profile.person);
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Enrollment report: {person}</title><style>{CSS}</style></head><body>\n\
         <h1>Enrollment report: {person}</h1>\n<p>Created {} · updated {} · ASR model {} · \
         written by {}</p>\n",
        utc_datetime(profile.created_at),
        utc_datetime(profile.updated_at),
        escape(&profile.asr_model),
        escape(&profile.written_by),
    );
    totals(&mut s, profile);
    if !profile.challenges.is_empty() {
        s.push_str(
            "<h2>Challenge phrases</h2>\n<table><tr><th>Phrase</th><th>Heard</th>\
             <th>WER %</th><th>Matched</th><th>At</th></tr>\n",
        );
        for c in &profile.challenges {
            let _ = writeln!(
                s,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td class=\"n\">{:.0}</td>\
                 <td>{}</td><td>{}</td></tr>",
                if c.matched { "accepted" } else { "rejected" },
                escape(&c.phrase),
                escape(&c.asr_text),
                c.wer * 100.0,
                if c.matched { "✓" } else { "✗" },
                utc_datetime(c.at),
            );
        }
        s.push_str("</table>\n");
    }
    take_table(&mut s, &profile.takes);
    s.push_str("</body></html>\n");
    s
}

/// The totals table and the tally of rejection reasons.
fn totals(s: &mut String, p: &PersonProfile) {
    let accepted: Vec<&TakeRecord> = p.accepted().collect();
    let secs = p.accepted_seconds();
    let tenths = (secs * 10.0).round() as u64;
    let mean_wer = if accepted.is_empty() {
        "—".to_string()
    } else {
        let w: f64 = accepted.iter().map(|t| t.quality.wer).sum();
        format!("{:.1} %", w / accepted.len() as f64 * 100.0)
    };
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in p.takes.iter().flat_map(|t| &t.quality.reasons) {
        *reasons.entry(reason_category(r)).or_default() += 1;
    }
    let _ = write!(
        s,
        "<h2>Totals</h2>\n<table class=\"totals\">\n\
         <tr><th>Takes offered</th><td>{}</td></tr>\n<tr><th>Accepted</th><td>{}</td></tr>\n\
         <tr><th>Rejected</th><td>{}</td></tr>\n\
         <tr><th>Accepted speech</th><td>{} min {:.1} s ({secs:.1} s)</td></tr>\n\
         <tr><th>Mean WER (accepted)</th><td>{mean_wer}</td></tr>\n",
        p.takes.len(),
        accepted.len(),
        p.takes.len() - accepted.len(),
        tenths / 600,
        (tenths % 600) as f64 / 10.0,
    );
    if !p.skipped_prompts.is_empty() {
        let _ = writeln!(
            s,
            "<tr><th>Prompts skipped</th><td>{}</td></tr>",
            p.skipped_prompts.len()
        );
    }
    s.push_str("</table>\n");
    if !reasons.is_empty() {
        let mut tally: Vec<(&str, usize)> = reasons.into_iter().collect();
        tally.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        s.push_str("<h3>Rejection reasons</h3>\n<table class=\"reasons\">\n");
        for (reason, n) in tally {
            let _ = writeln!(s, "<tr><th>{}</th><td>{n}</td></tr>", escape(reason));
        }
        s.push_str("</table>\n");
    }
}

/// The category of a rejection reason: its text up to the first `" ("` or `":"`
/// (`"words missing: a b (WER 50 %)"` → `"words missing"`).
fn reason_category(reason: &str) -> &str {
    let end = [reason.find(" ("), reason.find(':')]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(reason.len());
    reason[..end].trim()
}

/// The per-take quality table: a data row and a plot row per take.
fn take_table(s: &mut String, takes: &[TakeRecord]) {
    s.push_str(
        "<h2>Takes</h2>\n<p class=\"muted\">Plots: blue, the waveform envelope (peak per 20 ms); \
         orange, the RMS level on a −60…0 dBFS axis; red dashed boxes, clipping \
         (peak ≥ −0.1 dBFS).</p>\n<table class=\"takes\">\n<tr><th>Id</th><th>Source</th>\
         <th>Prompt</th><th>Text</th><th>Duration s</th><th>Peak dBFS</th><th>RMS dBFS</th>\
         <th>Clipped %</th><th>SNR dB</th><th>Speech %</th><th>WER %</th><th>Verdict</th></tr>\n",
    );
    let opt = |x: Option<f32>| x.map_or("—".to_string(), |v| format!("{v:.1}"));
    for t in takes {
        let q = &t.quality;
        let class = if q.accepted { "accepted" } else { "rejected" };
        let verdict = if q.accepted {
            "accepted".to_string()
        } else {
            format!("rejected: {}", escape(&q.reasons.join("; ")))
        };
        let heard = if q.asr_text.trim().is_empty() || q.asr_text.trim() == t.text.trim() {
            String::new()
        } else {
            format!(
                "<br><span class=\"muted\">heard: {}</span>",
                escape(&q.asr_text)
            )
        };
        let id = escape(&t.id);
        let _ = writeln!(
            s,
            "<tr id=\"take-{id}\" class=\"{class}\"><td>{id}</td><td>{}</td><td>{}</td>\
             <td>{}{heard}</td><td class=\"n\">{:.2}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{:.2}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{:.0}</td><td class=\"n\">{:.0}</td><td class=\"verdict\">{verdict}</td></tr>",
            escape(&t.source),
            escape(t.prompt_id.as_deref().unwrap_or("")),
            escape(&t.text),
            q.duration_s,
            opt(q.peak_dbfs),
            opt(q.rms_dbfs),
            q.clipped_fraction * 100.0,
            opt(q.snr_db),
            q.speech_ratio * 100.0,
            q.wer * 100.0,
        );
        let plot = match &q.levels {
            Some(l) => level_svg(l, &t.id),
            None => "<span class=\"muted\">no level trace recorded</span>".to_string(),
        };
        let _ = writeln!(
            s,
            "<tr class=\"{class} plot\"><td colspan=\"12\">{plot}</td></tr>"
        );
    }
    s.push_str("</table>\n");
}

/// A take's level plot, 600×94 px: the mirrored peak envelope (linear amplitude), the RMS level
/// as a line on a −60…0 dBFS axis, dashed red boxes where the peak reaches −0.1 dBFS, and a
/// time axis in seconds. Long traces are binned to at most one column per pixel (max of each bin).
fn level_svg(l: &LevelTrace, id: &str) -> String {
    let n = l.peak_dbfs.len().min(l.rms_dbfs.len());
    if n == 0 {
        return "<span class=\"muted\">empty level trace</span>".to_string();
    }
    let cols = n.min(PLOT_W as usize);
    let mid = PLOT_H / 2.0;
    let db_y = |db: f64| PLOT_H * db.clamp(DB_AXIS_MIN, 0.0) / DB_AXIS_MIN;
    let (mut top, mut bottom, mut rms, mut clipped) =
        (String::new(), Vec::new(), String::new(), Vec::new());
    for c in 0..cols {
        let range = c * n / cols..((c + 1) * n / cols).max(c * n / cols + 1);
        let peak = f64::from(*l.peak_dbfs[range.clone()].iter().max().unwrap_or(&-100));
        let level = f64::from(*l.rms_dbfs[range].iter().max().unwrap_or(&-100));
        let x = (c as f64 + 0.5) * PLOT_W / cols as f64;
        let a = 10f64.powf(peak / 20.0).min(1.0) * (mid - 1.0);
        let _ = write!(top, "{x:.1},{:.1} ", mid - a);
        bottom.push(format!("{x:.1},{:.1}", mid + a));
        let _ = write!(rms, "{x:.1},{:.1} ", db_y(level));
        clipped.push(peak >= CLIP_DBFS);
    }
    bottom.reverse();
    // One dashed red box per run of clipping columns.
    let (mut clips, mut c0, w) = (String::new(), 0, PLOT_W / cols as f64);
    for run in clipped.chunk_by(|a, b| a == b) {
        if run[0] {
            let (x, rw) = (c0 as f64 * w, run.len() as f64 * w);
            let _ = write!(
                clips,
                "<rect {CLIP} x=\"{x:.1}\" width=\"{rw:.1}\" height=\"{PLOT_H}\"/>"
            );
        }
        c0 += run.len();
    }
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{PLOT_W}\" height=\"{}\" \
         viewBox=\"0 0 {PLOT_W} {}\" role=\"img\" font-family=\"sans-serif\" font-size=\"10\" \
         fill=\"#555\"><title>take {}: waveform envelope, RMS level, \
         clipping</title><rect width=\"{PLOT_W}\" height=\"{PLOT_H}\" fill=\"#fafafa\"/>",
        PLOT_H + 14.0,
        PLOT_H + 14.0,
        escape(id),
    );
    for db in [-20.0, -40.0] {
        let y = db_y(db);
        let _ = write!(
            s,
            "<line {GRID} x1=\"0\" y1=\"{y:.1}\" x2=\"{PLOT_W}\" y2=\"{y:.1}\"/>\
             <text x=\"2\" y=\"{:.1}\">{db} dB</text>",
            y - 2.0
        );
    }
    let _ = write!(
        s,
        "<polygon class=\"env\" fill=\"#4a7bd0\" fill-opacity=\".55\" points=\"{top}{}\"/>\
         <polyline class=\"rms\" fill=\"none\" stroke=\"#e08a00\" points=\"{}\"/>{clips}",
        bottom.join(" "),
        rms.trim_end()
    );
    let dur = n as f64 * f64::from(l.block_ms) / 1000.0;
    let step = [0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0]
        .into_iter()
        .find(|st| dur / st <= 10.0)
        .unwrap_or(120.0);
    let mut k = 0.0;
    while k * step <= dur + 1e-9 {
        let t = k * step;
        let x = t / dur * PLOT_W;
        let anchor = match x {
            x if x < 10.0 => "start",
            x if x > PLOT_W - 20.0 => "end",
            _ => "middle",
        };
        let label = format!("{t:.*}", usize::from(step < 1.0));
        let _ = write!(
            s,
            "<line {GRID} x1=\"{x:.1}\" y1=\"{PLOT_H}\" x2=\"{x:.1}\" y2=\"{}\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{label} s</text>",
            PLOT_H + 3.0,
            PLOT_H + 13.0
        );
        k += 1.0;
    }
    s.push_str("</svg>");
    s
}

/// `s` with `& < > " '` replaced by HTML character references (safe in text and attributes).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC` (proleptic Gregorian; days to civil date after
/// Howard Hinnant's `civil_from_days`).
fn utc_datetime(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ChallengeRecord;
    use crate::quality::TakeQuality;

    /// A 2 s take, accepted when `reasons` is empty.
    fn take(id: &str, text: &str, reasons: &[&str], levels: Option<LevelTrace>) -> TakeRecord {
        let accepted = reasons.is_empty();
        TakeRecord {
            id: id.into(),
            source: format!("{id}.wav"),
            text: text.into(),
            quality: TakeQuality {
                duration_s: 2.0,
                source_sample_rate: 16_000,
                peak_dbfs: Some(-3.0),
                rms_dbfs: Some(-20.0),
                clipped_fraction: 0.0,
                speech_ratio: 0.8,
                asr_text: text.into(),
                wer: if accepted { 0.1 } else { 0.6 },
                accepted,
                reasons: reasons.iter().map(|r| r.to_string()).collect(),
                snr_db: Some(30.0),
                levels,
            },
            audio_blob: accepted.then(|| format!("takes/{id}.pcm")),
            prompt_id: None,
            dvector: None,
            speaker_score: None,
            speaker_confirmed: false,
        }
    }

    fn sample_profile() -> PersonProfile {
        let mut p = PersonProfile::new("Ada & <Bob>", "base.en", 1_700_000_000);
        // 2 s: 0.5 s of silence, 1 s of a 220 Hz tone at 0.3, 0.5 s of silence.
        let mut tone = vec![0.0f32; 32_000];
        for (i, s) in tone[8_000..24_000].iter_mut().enumerate() {
            *s = 0.3 * (i as f32 * 0.0864).sin();
        }
        let tone = Some(LevelTrace::measure(&tone, 16_000));
        p.takes.push(take("0001", "hello there", &[], tone));
        // 1 s of a full-scale square wave.
        let square: Vec<f32> = (0..16_000).map(|i| [1.0, -1.0][i / 20 % 2]).collect();
        let square = Some(LevelTrace::measure(&square, 16_000));
        let mut t2 = take(
            "0002",
            "loud one",
            &["clipped (5.00 % at full scale)"],
            square,
        );
        t2.prompt_id = Some("p-07".into());
        p.takes.push(t2);
        let reasons = [
            "words missing: alert (WER 60 %)",
            "too quiet (RMS -50 dBFS)",
        ];
        p.takes
            .push(take("0003", "<script>alert(1)</script>", &reasons, None));
        p.challenges.push(ChallengeRecord {
            phrase: "blue \"river\" seven".into(),
            asr_text: "blue river seven".into(),
            wer: 0.0,
            matched: true,
            at: 1_700_000_100,
        });
        p
    }

    #[test]
    fn report_lists_every_take_with_plots_and_totals() {
        let p = sample_profile();
        let html = render_html(&p);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.trim_end().ends_with("</html>"));
        for t in &p.takes {
            let row = format!("<tr id=\"take-{}\"", t.id);
            assert_eq!(html.matches(&row).count(), 1, "{}", t.id);
        }
        assert!(html.contains("<tr id=\"take-0001\" class=\"accepted\">"));
        assert!(html.contains("<tr id=\"take-0002\" class=\"rejected\">"));
        assert!(html.contains("<tr id=\"take-0003\" class=\"rejected\">"));
        assert_eq!(html.matches("<svg").count(), 2);
        assert_eq!(html.matches("no level trace recorded").count(), 1);
        // Only the clipped take reaches 0 dBFS, all through: one box over the whole plot.
        let (t1, rest) = html.split_once("id=\"take-0002\"").unwrap();
        let (t2, _) = rest.split_once("id=\"take-0003\"").unwrap();
        assert!(!t1.contains("class=\"clip\""));
        assert_eq!(t2.matches("class=\"clip\"").count(), 1);
        assert!(t2.contains("x=\"0.0\" width=\"600.0\""));
        assert!(html.contains("<tr><th>Takes offered</th><td>3</td></tr>"));
        assert!(html.contains("<tr><th>Accepted</th><td>1</td></tr>"));
        assert!(html.contains("<tr><th>Rejected</th><td>2</td></tr>"));
        assert!(html.contains("<td>0 min 2.0 s (2.0 s)</td>"));
        assert!(html.contains("<td>10.0 %</td>"));
        for cat in ["clipped", "words missing", "too quiet"] {
            let row = format!("<tr><th>{cat}</th><td>1</td></tr>");
            assert!(html.contains(&row), "{cat}");
        }
        assert!(html.contains("Created 2023-11-14 22:13:20 UTC"));
        assert!(html.contains("<td>p-07</td>"));
        assert!(html.contains("blue &quot;river&quot; seven</td>") && html.contains("✓"));
    }

    #[test]
    fn report_escapes_user_text() {
        let html = render_html(&sample_profile());
        assert!(!html.contains("<script"));
        assert!(!html.contains("<Bob>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("Ada &amp; &lt;Bob&gt;"));
        assert_eq!(escape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
    }

    #[test]
    fn report_reason_categories_and_dates() {
        let cat = reason_category("words missing: a b (WER 50 %)");
        assert_eq!(cat, "words missing");
        assert_eq!(reason_category("too quiet (RMS -50 dBFS)"), "too quiet");
        assert_eq!(reason_category("odd"), "odd");
        assert_eq!(utc_datetime(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_datetime(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_datetime(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc_datetime(4_102_444_799), "2099-12-31 23:59:59 UTC");
    }

    #[test]
    fn report_level_plot_shape() {
        let peak_dbfs = vec![0, -6, 0, 0, -100];
        let rms_dbfs = vec![-3, -12, -3, -3, -100];
        let l = LevelTrace {
            block_ms: 20,
            peak_dbfs,
            rms_dbfs,
        };
        let svg = level_svg(&l, "x");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // Two runs of clipping: block 0, blocks 2-3.
        assert_eq!(svg.matches("class=\"clip\"").count(), 2);
        assert!(
            svg.contains("x=\"0.0\" width=\"120.0\"")
                && svg.contains("x=\"240.0\" width=\"240.0\"")
        );
        // 0 dBFS spans the full half height, -6 dBFS about half of it; RMS -12 dBFS at 1/5.
        assert!(
            svg.contains("300.0,1.0 ") && svg.contains("300.0,79.0"),
            "{svg}"
        );
        assert!(
            svg.contains("180.0,20.5 ") && svg.contains("180.0,16.0 "),
            "{svg}"
        );
        // 100 ms: ticks every 0.5 s, so only "0.0 s".
        assert!(svg.contains(">0.0 s</text>") && !svg.contains(">0.5 s<"));
        assert!(!level_svg(&LevelTrace::measure(&[], 16_000), "e").contains("<svg"));
    }
}
